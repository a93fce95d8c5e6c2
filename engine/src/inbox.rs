//! The inbound queue of a shard and its sleep/wake handshake.
//!
//! Producers (other shards, outside threads) push whole *batches*; the owning shard pops them.
//! One atomic state word carries the handshake, and both sides change it only with
//! read-modify-write operations, which are totally ordered on that word (no store-buffer
//! reordering can hide one side from the other):
//! - a producer pushes its batch, then swaps the state to `NOTIFIED`; it wakes the shard only if
//!   the state it replaced was `SLEEPING` (so a busy shard costs its producers no wake-up);
//! - the shard, having found nothing to do, moves the state `AWAKE -> SLEEPING` with a
//!   compare-exchange and parks only if that succeeded. It fails when a producer published
//!   since the shard last woke (`NOTIFIED`): then the shard drains again instead of parking;
//! - after any wake-up (or failed attempt) the shard swaps the state back to `AWAKE` before it
//!   drains; that swap acquires every batch published before it.
//!
//! Loom checks this (`cargo test --cfg loom`, see the tests below): no interleaving loses a
//! wake-up, and batches from one producer stay in order.

use crate::sync::{AtomicU8, BatchQueue, Ordering};

const AWAKE: u8 = 0;
const SLEEPING: u8 = 1;
const NOTIFIED: u8 = 2;

/// One shard's inbound queue of batches plus its sleep state.
pub(crate) struct Inbox<T> {
    queue: BatchQueue<T>,
    state: AtomicU8,
}

impl<T> Inbox<T> {
    pub(crate) fn new() -> Self {
        Inbox {
            queue: BatchQueue::new(),
            state: AtomicU8::new(AWAKE),
        }
    }

    /// Publishes one batch. Returns `true` when the consumer was asleep and the caller must
    /// wake it (exactly one of the racing producers gets `true`).
    #[inline]
    pub(crate) fn publish(&self, batch: T) -> bool {
        self.queue.push(batch);
        self.state.swap(NOTIFIED, Ordering::AcqRel) == SLEEPING
    }

    /// Takes the oldest batch.
    #[inline]
    pub(crate) fn pop(&self) -> Option<T> {
        self.queue.pop()
    }

    /// Batches waiting to be popped (a metrics gauge; it may be stale when read).
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// The consumer found nothing to do and wants to park. Returns `true` if it may park: no
    /// batch was published since it last called [`Inbox::awake`].
    pub(crate) fn prepare_sleep(&self) -> bool {
        match self
            .state
            .compare_exchange(AWAKE, SLEEPING, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(_) => {
                self.awake();
                false
            }
        }
    }

    /// The consumer is awake (after parking, or after a failed `prepare_sleep`); it must drain
    /// the queue after this call.
    pub(crate) fn awake(&self) {
        self.state.swap(AWAKE, Ordering::AcqRel);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::Inbox;
    use loom::sync::Arc;
    use loom::thread;

    /// Runs a consumer that drains, and parks whenever it finds nothing, against `producers`
    /// threads that each publish `per` batches. Loom explores every interleaving: a lost
    /// wake-up would leave the consumer parked forever, which loom reports as a deadlock.
    fn run(producers: u32, per: u32) -> Vec<u32> {
        let inbox = Arc::new(Inbox::<u32>::new());
        let consumer = thread::current();
        let handles: Vec<_> = (0..producers)
            .map(|p| {
                let inbox = inbox.clone();
                let consumer = consumer.clone();
                thread::spawn(move || {
                    for i in 0..per {
                        if inbox.publish(p * 100 + i) {
                            consumer.unpark();
                        }
                    }
                })
            })
            .collect();
        let want = (producers * per) as usize;
        let mut got = Vec::new();
        while got.len() < want {
            while let Some(v) = inbox.pop() {
                got.push(v);
            }
            if got.len() < want && inbox.prepare_sleep() {
                thread::park();
            }
            inbox.awake();
        }
        for h in handles {
            h.join().unwrap();
        }
        got
    }

    #[test]
    fn no_lost_wakeup_between_publish_and_park() {
        loom::model(|| {
            let mut got = run(2, 1);
            got.sort_unstable();
            assert_eq!(got, vec![0, 100]);
        });
    }

    /// Two producers, two batches each: still no lost wake-up, each producer's order kept.
    #[test]
    fn two_producers_two_batches_each() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(|| {
            let got = run(2, 2);
            let of = |p: u32| {
                got.iter()
                    .copied()
                    .filter(|v| v / 100 == p)
                    .collect::<Vec<_>>()
            };
            assert_eq!(of(0), vec![0, 1]);
            assert_eq!(of(1), vec![100, 101]);
        });
    }

    /// Batches from one producer come out in the order they were published (per-sender order).
    #[test]
    fn batches_from_one_producer_keep_their_order() {
        loom::model(|| {
            assert_eq!(run(1, 3), vec![0, 1, 2]);
        });
    }
}
