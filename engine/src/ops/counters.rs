//! Shard-local counters: what a shard counts about itself, as plain `Cell`s owned by its thread.
//!
//! Nothing here is shared between threads and nothing here is atomic: the send and delivery
//! paths add to a `Cell` (one load and one store, no fence). A scrape asks each shard, through
//! its ordinary inbound queue, to copy its cells into a [`ShardMetrics`] value, and sums those
//! on the scraping thread ([`crate::ops::snapshot`]). So the loop pays nothing between scrapes,
//! and a scrape costs each shard one closure.
//!
//! This module must never hand out references to its cells to another thread.

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::Priority;

/// Upper bounds (seconds) of the network-call latency histogram's buckets (the last bucket,
/// `+Inf`, is implied).
pub const LATENCY_BUCKETS: [f64; 16] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// A latency histogram kept by one shard: counts per bucket of [`LATENCY_BUCKETS`] (plus one
/// for `+Inf`), the sum and the count.
#[derive(Default)]
pub(crate) struct LocalHistogram {
    buckets: [Cell<u64>; LATENCY_BUCKETS.len() + 1],
    sum_ns: Cell<u64>,
}

impl LocalHistogram {
    /// Records one observation.
    pub(crate) fn record(&self, d: Duration) {
        let s = d.as_secs_f64();
        let i = LATENCY_BUCKETS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(LATENCY_BUCKETS.len());
        add(&self.buckets[i], 1);
        add(&self.sum_ns, d.as_nanos().min(u128::from(u64::MAX)) as u64);
    }

    fn snapshot(&self) -> Histogram {
        Histogram {
            buckets: self.buckets.iter().map(Cell::get).collect(),
            sum_seconds: self.sum_ns.get() as f64 / 1e9,
        }
    }
}

/// A histogram's figures: counts per bucket of [`LATENCY_BUCKETS`] (not cumulative; the last
/// one is `+Inf`) and the sum of the observations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// Observations per bucket, `LATENCY_BUCKETS.len() + 1` of them.
    pub buckets: Vec<u64>,
    /// Sum of the observations, seconds.
    pub sum_seconds: f64,
}

impl Histogram {
    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// Adds `other`'s observations to this one.
    pub fn merge(&mut self, other: &Histogram) {
        if self.buckets.len() < other.buckets.len() {
            self.buckets.resize(other.buckets.len(), 0);
        }
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.sum_seconds += other.sum_seconds;
    }
}

#[inline]
fn add(c: &Cell<u64>, n: u64) {
    c.set(c.get().wrapping_add(n));
}

#[inline]
fn prio_index(p: Priority) -> usize {
    match p {
        Priority::Normal => 0,
        Priority::High => 1,
        Priority::Max => 2,
    }
}

/// The counters one shard keeps (owned by the shard's thread).
pub(crate) struct ShardCounters {
    started: Instant,
    iterations: Cell<u64>,
    parks: Cell<u64>,
    idle_ns: Cell<u64>,
    inbox_batches: Cell<u64>,
    inbox_items: Cell<u64>,
    ring_submits: Cell<u64>,
    ring_sqes: Cell<u64>,
    ring_completions: Cell<u64>,
    sent: [Cell<u64>; 3],
    received: [Cell<u64>; 3],
    mailbox_full: Cell<u64>,
    fallbacks: Cell<u64>,
    terminated: Cell<u64>,
    net_frames_in: Cell<u64>,
    net_frames_out: Cell<u64>,
    net_pauses: Cell<u64>,
    net_calls: LocalHistogram,
}

impl Default for ShardCounters {
    fn default() -> Self {
        ShardCounters {
            started: Instant::now(),
            iterations: Cell::new(0),
            parks: Cell::new(0),
            idle_ns: Cell::new(0),
            inbox_batches: Cell::new(0),
            inbox_items: Cell::new(0),
            ring_submits: Cell::new(0),
            ring_sqes: Cell::new(0),
            ring_completions: Cell::new(0),
            sent: Default::default(),
            received: Default::default(),
            mailbox_full: Cell::new(0),
            fallbacks: Cell::new(0),
            terminated: Cell::new(0),
            net_frames_in: Cell::new(0),
            net_frames_out: Cell::new(0),
            net_pauses: Cell::new(0),
            net_calls: LocalHistogram::default(),
        }
    }
}

impl ShardCounters {
    /// One turn of the shard loop.
    #[inline]
    pub(crate) fn iteration(&self) {
        add(&self.iterations, 1);
    }

    /// The shard parked after being idle since `idle_since` and is awake again now.
    pub(crate) fn parked(&self, idle_since: Instant) {
        add(&self.parks, 1);
        add(&self.idle_ns, idle_since.elapsed().as_nanos() as u64);
    }

    /// A batch of `items` came through the inbound queue.
    #[inline]
    pub(crate) fn inbox_batch(&self, items: usize) {
        add(&self.inbox_batches, 1);
        add(&self.inbox_items, items as u64);
    }

    /// One `io_uring_enter` with `sqes` new submission entries.
    #[inline]
    pub(crate) fn ring_submit(&self, sqes: usize) {
        add(&self.ring_submits, 1);
        add(&self.ring_sqes, sqes as u64);
    }

    /// Completions reaped.
    #[inline]
    pub(crate) fn ring_completions(&self, n: usize) {
        add(&self.ring_completions, n as u64);
    }

    /// An envelope routed by this shard (local or remote recipient).
    #[inline]
    pub(crate) fn sent(&self, p: Priority) {
        add(&self.sent[prio_index(p)], 1);
    }

    /// An envelope put into a mailbox of this shard.
    #[inline]
    pub(crate) fn received(&self, p: Priority) {
        add(&self.received[prio_index(p)], 1);
    }

    /// A message refused by a full mailbox (`fallback`: it went to the fallback process).
    #[cold]
    pub(crate) fn mailbox_full(&self, fallback: bool) {
        add(
            if fallback {
                &self.fallbacks
            } else {
                &self.mailbox_full
            },
            1,
        );
    }

    /// A process of this shard terminated.
    pub(crate) fn terminated(&self) {
        add(&self.terminated, 1);
    }

    /// Frames cut from this shard's links.
    #[inline]
    pub(crate) fn net_frames_in(&self, n: usize) {
        add(&self.net_frames_in, n as u64);
    }

    /// A frame encoded by this shard for another node.
    #[inline]
    pub(crate) fn net_frame_out(&self) {
        add(&self.net_frames_out, 1);
    }

    /// A process paused because the connection it sent into was past its high-water mark.
    #[cold]
    pub(crate) fn net_pause(&self) {
        add(&self.net_pauses, 1);
    }

    /// A call to a process on another node took `d` (answer, error or timeout).
    pub(crate) fn net_call(&self, d: Duration) {
        self.net_calls.record(d);
    }

    /// Copies the cells (on the shard's thread).
    pub(crate) fn snapshot(&self, index: usize) -> ShardMetrics {
        let uptime = self.started.elapsed();
        let idle = Duration::from_nanos(self.idle_ns.get()).min(uptime);
        let get3 = |a: &[Cell<u64>; 3]| [a[0].get(), a[1].get(), a[2].get()];
        ShardMetrics {
            index,
            uptime,
            busy: uptime - idle,
            iterations: self.iterations.get(),
            parks: self.parks.get(),
            wakeups: 0,
            run_queue: 0,
            inbox_depth: 0,
            inbox_batches: self.inbox_batches.get(),
            inbox_items: self.inbox_items.get(),
            ring_submits: self.ring_submits.get(),
            ring_sqes: self.ring_sqes.get(),
            ring_completions: self.ring_completions.get(),
            processes: 0,
            spawned: 0,
            terminated: self.terminated.get(),
            sent: get3(&self.sent),
            received: get3(&self.received),
            mailbox_full: self.mailbox_full.get(),
            fallbacks: self.fallbacks.get(),
            net_frames_in: self.net_frames_in.get(),
            net_frames_out: self.net_frames_out.get(),
            net_pauses: self.net_pauses.get(),
            net_calls: self.net_calls.snapshot(),
        }
    }
}

/// One shard's figures at a scrape ([`crate::Node::metrics`]). Counters count from the
/// shard's start; the three `[u64; 3]` arrays are by priority: Normal, High, Max.
#[derive(Clone, Debug, Default)]
pub struct ShardMetrics {
    /// Shard index.
    pub index: usize,
    /// Time since the shard started.
    pub uptime: Duration,
    /// Time it was not idle (not spinning for work nor parked): `busy / uptime` is its busy
    /// fraction.
    pub busy: Duration,
    /// Turns of its loop.
    pub iterations: u64,
    /// Times it parked in its ring.
    pub parks: u64,
    /// Times another thread woke it (one eventfd write each).
    pub wakeups: u64,
    /// Processes ready to run, waiting in its run queue.
    pub run_queue: usize,
    /// Batches waiting in its inbound cross-shard queue.
    pub inbox_depth: usize,
    /// Batches taken from its inbound queue.
    pub inbox_batches: u64,
    /// Items in those batches.
    pub inbox_items: u64,
    /// `io_uring_enter` calls that submitted.
    pub ring_submits: u64,
    /// Submission entries handed to the kernel.
    pub ring_sqes: u64,
    /// Completions reaped.
    pub ring_completions: u64,
    /// Processes alive on it.
    pub processes: usize,
    /// Processes spawned on it.
    pub spawned: u64,
    /// Processes of it that terminated.
    pub terminated: u64,
    /// Envelopes its processes sent, by priority.
    pub sent: [u64; 3],
    /// Envelopes put into its mailboxes, by priority.
    pub received: [u64; 3],
    /// Messages refused because the recipient's mailbox was full (and it had no fallback).
    pub mailbox_full: u64,
    /// Messages redirected to a fallback process because the mailbox was full.
    pub fallbacks: u64,
    /// Frames received on its network links.
    pub net_frames_in: u64,
    /// Frames its processes encoded for other nodes.
    pub net_frames_out: u64,
    /// Times a process paused on a congested connection (send buffer past its high water).
    pub net_pauses: u64,
    /// Latency of calls its processes made to processes on other nodes.
    pub net_calls: Histogram,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_puts_observations_in_their_bucket() {
        let h = LocalHistogram::default();
        h.record(Duration::from_micros(50)); // <= 0.1 ms
        h.record(Duration::from_millis(3)); // <= 5 ms
        h.record(Duration::from_secs(60)); // +Inf
        let s = h.snapshot();
        assert_eq!(s.count(), 3);
        assert_eq!(s.buckets[0], 1);
        assert_eq!(s.buckets[5], 1);
        assert_eq!(s.buckets[LATENCY_BUCKETS.len()], 1);
        assert!((s.sum_seconds - 60.00305).abs() < 1e-6);
    }

    #[test]
    fn counters_by_priority_are_kept_apart() {
        let c = ShardCounters::default();
        c.sent(Priority::Normal);
        c.sent(Priority::Normal);
        c.sent(Priority::Max);
        c.received(Priority::High);
        let s = c.snapshot(3);
        assert_eq!(s.index, 3);
        assert_eq!(s.sent, [2, 0, 1]);
        assert_eq!(s.received, [0, 1, 0]);
    }
}
