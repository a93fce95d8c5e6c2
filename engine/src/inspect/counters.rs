//! Per-process counters for inspection (Go Ergo's `MessagesIn`, `MessagesOut`, `RunningTime`,
//! `Uptime`): plain cells on the process's shard-local record, bumped by the process's own task.
//!
//! Nothing here is atomic or shared: only the shard that owns the process writes or reads
//! them, and inspection reads them from that shard. The task's running time costs one clock
//! read per poll (a poll serves up to a batch of messages), not per message: the shard marks
//! the time when it starts running ready tasks, and each poll ends by taking the time, adding
//! the difference to its process and moving the mark.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use crate::process::ProcCell;

/// The counters of one process.
#[derive(Default)]
pub(crate) struct ProcStats {
    /// Envelopes the process took from its mailbox.
    pub(crate) messages_in: Cell<u64>,
    /// Envelopes its handlers routed (sends, calls, responses, exit signals).
    pub(crate) messages_out: Cell<u64>,
    /// Nanoseconds its task spent being polled.
    pub(crate) running_ns: Cell<u64>,
}

impl ProcStats {
    #[inline]
    pub(crate) fn took(&self) {
        self.messages_in.set(self.messages_in.get().wrapping_add(1));
    }

    #[inline]
    pub(crate) fn sent(&self, n: u64) {
        self.messages_out
            .set(self.messages_out.get().wrapping_add(n));
    }
}

/// Seconds since `born` (a [`coarse_secs`] reading).
pub(crate) fn uptime(born: u32) -> i64 {
    i64::from(coarse_secs().saturating_sub(born))
}

/// Seconds of the coarse monotonic clock (a few ns to read; ticks every few ms).
pub(crate) fn coarse_secs() -> u32 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the live value we pass.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec.clamp(0, i64::from(u32::MAX) as libc::time_t) as u32
}

thread_local! {
    /// When the poll now running on this shard thread began.
    static MARK: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The shard starts running ready tasks now.
#[inline]
pub(crate) fn mark_now() {
    MARK.with(|m| m.set(Some(Instant::now())));
}

/// A process task that adds the time of each of its polls to its cell's running time.
pub(crate) struct Timed<F> {
    pub(crate) fut: F,
    pub(crate) cell: Rc<ProcCell>,
}

impl<F: Future> Future for Timed<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of `fut`: it is never moved out of `self`.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: `this.fut` stays in place (see above).
        let r = unsafe { Pin::new_unchecked(&mut this.fut) }.poll(cx);
        let now = Instant::now();
        let start = MARK.with(|m| m.replace(Some(now))).unwrap_or(now);
        let dt = now.saturating_duration_since(start).as_nanos() as u64;
        let s = &this.cell.stats;
        s.running_ns.set(s.running_ns.get().wrapping_add(dt));
        r
    }
}
