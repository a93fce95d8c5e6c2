//! The one door to cross-thread synchronisation primitives.
//!
//! Everything the engine shares between threads (the cross-shard inbox, the sleep flag of a
//! shard) takes its atomics from here, so that under `--cfg loom` the same code runs against
//! loom's model checker (the tokio `loom` facade pattern). Shard-local state uses plain `Cell`s
//! and never comes through this module.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU8, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::Mutex;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU8, Ordering};

/// The batch queue between shards: crossbeam's lock-free segment queue normally, a loom mutex
/// around a `VecDeque` under the model checker (crossbeam's internals are not loom-instrumented).
#[cfg(not(loom))]
pub(crate) struct BatchQueue<T>(crossbeam_queue::SegQueue<T>);

#[cfg(not(loom))]
impl<T> BatchQueue<T> {
    pub(crate) fn new() -> Self {
        BatchQueue(crossbeam_queue::SegQueue::new())
    }
    #[inline]
    pub(crate) fn push(&self, v: T) {
        self.0.push(v)
    }
    #[inline]
    pub(crate) fn pop(&self) -> Option<T> {
        self.0.pop()
    }
    /// Batches waiting (for metrics; racy by nature).
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(loom)]
pub(crate) struct BatchQueue<T>(Mutex<std::collections::VecDeque<T>>);

#[cfg(loom)]
impl<T> BatchQueue<T> {
    pub(crate) fn new() -> Self {
        BatchQueue(Mutex::new(std::collections::VecDeque::new()))
    }
    pub(crate) fn push(&self, v: T) {
        self.0.lock().expect("loom mutex").push_back(v)
    }
    pub(crate) fn pop(&self) -> Option<T> {
        self.0.lock().expect("loom mutex").pop_front()
    }
    pub(crate) fn len(&self) -> usize {
        self.0.lock().expect("loom mutex").len()
    }
}
