//! The inbound queue of a shard and its sleep/wake handshake.
//!
//! Producers (other shards, outside threads) push whole *batches*; the owning shard pops them.
//! A shard that found nothing to do announces it is going to sleep ([`Inbox::prepare_sleep`])
//! and re-checks the queue before parking; a producer wakes it only when it saw that flag
//! ([`Inbox::publish`] returns `true`). Both sides put a `SeqCst` fence between their write and
//! their read (Dekker's pattern), so at least one of them sees the other: no lost wake-up, and
//! no wake-up at all while the shard is busy.

use crate::sync::{fence, AtomicBool, BatchQueue, Ordering};

/// One shard's inbound queue of batches plus its "asleep" flag.
pub(crate) struct Inbox<T> {
    queue: BatchQueue<T>,
    sleeping: AtomicBool,
}

impl<T> Inbox<T> {
    pub(crate) fn new() -> Self {
        Inbox {
            queue: BatchQueue::new(),
            sleeping: AtomicBool::new(false),
        }
    }

    /// Publishes one batch. Returns `true` when the consumer flagged itself asleep and the
    /// caller must wake it (exactly one of the racing producers gets `true`).
    #[inline]
    pub(crate) fn publish(&self, batch: T) -> bool {
        self.queue.push(batch);
        fence(Ordering::SeqCst);
        self.sleeping.load(Ordering::Relaxed) && self.sleeping.swap(false, Ordering::AcqRel)
    }

    /// Takes the oldest batch.
    #[inline]
    pub(crate) fn pop(&self) -> Option<T> {
        self.queue.pop()
    }

    /// The consumer is about to park. Returns `true` if it may park: the flag is set and no
    /// batch arrived in between. On `false` the flag is already cleared again.
    pub(crate) fn prepare_sleep(&self) -> bool {
        self.sleeping.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if self.queue.is_empty() {
            return true;
        }
        self.sleeping.store(false, Ordering::Relaxed);
        false
    }

    /// The consumer woke up (for any reason): clear the flag so producers stop waking it.
    pub(crate) fn awake(&self) {
        self.sleeping.store(false, Ordering::Relaxed);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::Inbox;
    use loom::sync::{Arc, Condvar, Mutex};

    /// A loom stand-in for the eventfd the ring waits on: a counter with a condition variable.
    struct Parker {
        count: Mutex<u32>,
        cv: Condvar,
    }

    impl Parker {
        fn unpark(&self) {
            *self.count.lock().unwrap() += 1;
            self.cv.notify_one();
        }
        fn park(&self) {
            let mut c = self.count.lock().unwrap();
            while *c == 0 {
                c = self.cv.wait(c).unwrap();
            }
            *c = 0;
        }
    }

    /// Two producers each publish one batch; the consumer drains and parks whenever it finds
    /// nothing. Loom explores every interleaving: a lost wake-up would be a deadlock (the
    /// consumer parked forever), which loom reports.
    #[test]
    fn no_lost_wakeup_between_publish_and_park() {
        loom::model(|| {
            let inbox = Arc::new(Inbox::<u32>::new());
            let parker = Arc::new(Parker {
                count: Mutex::new(0),
                cv: Condvar::new(),
            });
            let producers: Vec<_> = (0..2)
                .map(|i| {
                    let inbox = inbox.clone();
                    let parker = parker.clone();
                    loom::thread::spawn(move || {
                        if inbox.publish(i) {
                            parker.unpark();
                        }
                    })
                })
                .collect();
            let mut got = Vec::new();
            while got.len() < 2 {
                while let Some(v) = inbox.pop() {
                    got.push(v);
                }
                if got.len() == 2 {
                    break;
                }
                if inbox.prepare_sleep() {
                    parker.park();
                }
                inbox.awake();
            }
            got.sort_unstable();
            assert_eq!(got, vec![0, 1]);
            for p in producers {
                p.join().unwrap();
            }
        });
    }

    /// Batches from one producer come out in the order they were published (per-sender order).
    #[test]
    fn batches_from_one_producer_keep_their_order() {
        loom::model(|| {
            let inbox = Arc::new(Inbox::<u32>::new());
            let parker = Arc::new(Parker {
                count: Mutex::new(0),
                cv: Condvar::new(),
            });
            let p = {
                let inbox = inbox.clone();
                let parker = parker.clone();
                loom::thread::spawn(move || {
                    for i in 0..3 {
                        if inbox.publish(i) {
                            parker.unpark();
                        }
                    }
                })
            };
            let mut got = Vec::new();
            while got.len() < 3 {
                while let Some(v) = inbox.pop() {
                    got.push(v);
                }
                if got.len() < 3 && inbox.prepare_sleep() {
                    parker.park();
                }
                inbox.awake();
            }
            assert_eq!(got, vec![0, 1, 2]);
            p.join().unwrap();
        });
    }
}
