//! The load driver: caller processes that issue calls or messages to a target at a fixed offered
//! rate (open loop) or back to back (closed loop), and record latencies into HdrHistograms, one
//! per second of the run.
//!
//! - `call`: each caller makes one call at a time, on its own schedule (rate / callers per
//!   second, the callers' schedules spread evenly). A call's latency counts from the slot it was
//!   due in. One slower than the interval delays the caller's next call to the next free slot of
//!   its schedule; the slots it missed are filled in by the coordinated-omission correction
//!   ([`crate::latency::record_corrected`]), so every slot of the schedule has one sample.
//! - `send`: each caller sends its due messages (a `u64`: the slot's time) to `echo`, which sends
//!   them back; the latency is from the slot's time to the return, so nothing waits and nothing
//!   is omitted.
//! - `sink`: one-way messages to `sink` on schedule; the driver only counts what it sent (the
//!   `load` command asks `sink` how many arrived).

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, RecvTimeoutError, Sender as Out};
use std::time::{Duration, Instant, SystemTime};

use ergo_engine::{
    Actor, Context, Error, HandleResult, Message, Node, Pid, Reason, SpawnOptions, Target,
};
use hdrhistogram::Histogram;

use crate::latency::{new_hist, record, record_corrected, Interval};
use crate::progress::Progress;

/// What the callers send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Calls, answered by `echo`.
    Call,
    /// Messages to `echo`, which returns them (round trip latency).
    Send,
    /// One-way messages to `sink` (no latency; counted by the sink).
    Sink,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Call => "call",
            Mode::Send => "send",
            Mode::Sink => "sink",
        }
    }
}

/// A load to drive.
#[derive(Clone, Debug)]
pub struct Spec {
    pub target: Target,
    pub mode: Mode,
    /// Concurrent callers (processes).
    pub callers: usize,
    /// Offered rate, calls or messages per second over all callers; `None`: closed loop (calls
    /// only: each caller calls again as soon as it has its answer).
    pub rate: Option<f64>,
    pub duration: Duration,
    /// How long one call may take; also how long `send` waits for messages still on their way
    /// back at the end.
    pub timeout: Duration,
}

/// What a driven load measured.
pub struct Run {
    /// When the run started (wall clock, for the histogram log).
    pub started: SystemTime,
    /// One histogram per second of the run, in order (empty seconds left out).
    pub intervals: Vec<Interval>,
    /// All of them added up.
    pub total: Histogram<u64>,
    pub sent: u64,
    pub completed: u64,
    pub errors: u64,
    /// From the start to the last completion.
    pub elapsed: Duration,
}

const INTERVAL: Duration = Duration::from_secs(1);

enum Report {
    Interval { idx: u64, hist: Histogram<u64> },
    Done(Counts),
}

#[derive(Default)]
struct Counts {
    sent: u64,
    completed: u64,
    errors: u64,
    last: Option<Instant>,
}

struct Tick;
struct Drain;

/// Per-second histograms of one caller, shipped to the driver as each second ends.
struct Recorder {
    t0: Instant,
    idx: u64,
    hist: Histogram<u64>,
    out: Out<Report>,
}

impl Recorder {
    fn at(&mut self, now: Instant) -> &mut Histogram<u64> {
        let idx = (now.saturating_duration_since(self.t0).as_nanos() / INTERVAL.as_nanos()) as u64;
        if idx != self.idx {
            self.flush();
            self.idx = idx;
        }
        &mut self.hist
    }

    fn flush(&mut self) {
        if !self.hist.is_empty() {
            let hist = std::mem::replace(&mut self.hist, new_hist());
            let _ = self.out.send(Report::Interval {
                idx: self.idx,
                hist,
            });
        }
    }

    fn done(&mut self, c: Counts) {
        self.flush();
        let _ = self.out.send(Report::Done(c));
    }
}

/// The next slot of a schedule of period `iv` after `done`, never one already past.
fn next_slot(next: Instant, iv: Duration, done: Instant) -> Instant {
    let next = next + iv;
    if next >= done {
        return next;
    }
    let behind = (done - next).as_nanos();
    let k = behind / iv.as_nanos().max(1) + 1;
    next + Duration::from_nanos((k * iv.as_nanos()).min(u128::from(u64::MAX)) as u64)
}

/// One caller of `call` mode.
struct Caller {
    target: Target,
    timeout: Duration,
    interval: Option<Duration>,
    next: Instant,
    end: Instant,
    rec: Recorder,
    counts: Counts,
}

impl Actor for Caller {
    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if !msg.is::<Tick>() {
            return Ok(());
        }
        let me = ctx.pid();
        let now = Instant::now();
        if now >= self.end {
            self.rec.done(std::mem::take(&mut self.counts));
            return Err(Reason::Normal);
        }
        if self.interval.is_some() && now < self.next {
            ctx.send_after(me, Tick, self.next - now);
            return Ok(());
        }
        // Open loop: latency counts from the slot the call was due in, so a late start (this
        // shard busy, a timer fired late) is charged too, and the slots skipped below match the
        // ones the correction fills in.
        let start = match self.interval {
            Some(_) => self.next.min(now),
            None => now,
        };
        self.counts.sent += 1;
        let r = ctx
            .call_timeout(self.target, self.counts.sent, self.timeout)
            .await;
        let done = Instant::now();
        match r {
            Ok(_) => self.counts.completed += 1,
            Err(_) => self.counts.errors += 1,
        }
        self.counts.last = Some(done);
        let h = self.rec.at(done);
        match self.interval {
            Some(iv) => {
                record_corrected(h, done - start, iv);
                self.next = next_slot(self.next, iv, done);
            }
            None => record(h, done - start),
        }
        ctx.send(me, Tick)?;
        Ok(())
    }
}

/// One caller of `send` and `sink` modes.
struct MsgSender {
    target: Target,
    interval: Duration,
    /// Slot 0 of this sender's schedule; message payloads are nanoseconds since then.
    base: Instant,
    end: Instant,
    bounce: bool,
    drain: Duration,
    stopped: bool,
    rec: Recorder,
    counts: Counts,
}

impl MsgSender {
    fn finish(&mut self) -> HandleResult {
        let mut c = std::mem::take(&mut self.counts);
        if self.bounce {
            c.errors += c.sent.saturating_sub(c.completed + c.errors);
        }
        self.rec.done(c);
        Err(Reason::Normal)
    }
}

/// Most messages one tick sends before it yields to other processes.
const BURST: u64 = 512;

impl Actor for MsgSender {
    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if let Some(ns) = msg.downcast_ref::<u64>() {
            let now = Instant::now();
            let slot = self.base + Duration::from_nanos(*ns);
            record(self.rec.at(now), now.saturating_duration_since(slot));
            self.counts.completed += 1;
            self.counts.last = Some(now);
            if self.stopped && self.counts.completed >= self.counts.sent {
                return self.finish();
            }
            return Ok(());
        }
        if msg.is::<Drain>() {
            return self.finish();
        }
        if !msg.is::<Tick>() {
            return Ok(());
        }
        let me = ctx.pid();
        let now = Instant::now();
        if now >= self.end {
            self.stopped = true;
            if !self.bounce || self.counts.completed >= self.counts.sent {
                if !self.bounce {
                    self.counts.last = Some(now);
                }
                return self.finish();
            }
            ctx.send_after(me, Drain, self.drain);
            return Ok(());
        }
        let iv = self.interval.as_nanos().max(1);
        let due = (now.saturating_duration_since(self.base).as_nanos() / iv) as u64 + 1;
        let n = due.saturating_sub(self.counts.sent).min(BURST);
        for _ in 0..n {
            let slot_ns = (u128::from(self.counts.sent) * iv).min(u128::from(u64::MAX)) as u64;
            self.counts.sent += 1;
            if ctx.send(self.target, slot_ns).is_err() {
                self.counts.errors += 1;
            }
        }
        if due > self.counts.sent {
            ctx.send(me, Tick)?;
        } else {
            let next = self.base + Duration::from_nanos((u128::from(due) * iv) as u64);
            ctx.send_after(me, Tick, next.saturating_duration_since(Instant::now()));
        }
        Ok(())
    }
}

/// Drives `spec` from processes on `node` and collects what they measured.
pub fn drive(node: &Node, spec: &Spec, progress: &Progress) -> Result<Run, Error> {
    let callers = spec.callers.max(1);
    if spec.mode != Mode::Call && spec.rate.is_none() {
        return Err(Error::Invalid("send and sink loads need a rate"));
    }
    let (tx, rx) = channel();
    let started = SystemTime::now();
    // A short lead so every caller starts on the same clock.
    let t0 = Instant::now() + Duration::from_millis(20);
    let end = t0 + spec.duration;
    if let Some(r) = spec.rate {
        // At most a million per second per caller (1 us apart): no caller gets near that, and
        // the coordinated-omission correction needs a sane interval.
        if r.is_nan() || r <= 0.0 || r / callers as f64 > 1e6 {
            return Err(Error::Invalid(
                "the rate must be above 0 and at most 1M per second per caller",
            ));
        }
    }
    let per_caller = spec
        .rate
        .map(|r| Duration::from_secs_f64(callers as f64 / r));
    let mut pids = Vec::with_capacity(callers);
    for i in 0..callers {
        let rec = Recorder {
            t0,
            idx: 0,
            hist: new_hist(),
            out: tx.clone(),
        };
        // Spread the callers' schedules evenly over one interval.
        let phase = per_caller.map_or(Duration::ZERO, |iv| iv * i as u32 / callers as u32);
        let pid = match spec.mode {
            Mode::Call => node.spawn(
                Caller {
                    target: spec.target,
                    timeout: spec.timeout,
                    interval: per_caller,
                    next: t0 + phase,
                    end,
                    rec,
                    counts: Counts::default(),
                },
                SpawnOptions::default(),
            )?,
            Mode::Send | Mode::Sink => node.spawn(
                MsgSender {
                    target: spec.target,
                    interval: per_caller.unwrap_or(Duration::from_micros(1)),
                    base: t0 + phase,
                    end,
                    bounce: spec.mode == Mode::Send,
                    drain: spec.timeout,
                    stopped: false,
                    rec,
                    counts: Counts::default(),
                },
                SpawnOptions::default(),
            )?,
        };
        pids.push(pid);
    }
    drop(tx);
    for p in &pids {
        node.send(*p, Tick)?;
    }
    let deadline = end + spec.timeout * 2 + Duration::from_secs(10);
    let mut by_second: BTreeMap<u64, Histogram<u64>> = BTreeMap::new();
    let mut total = Counts::default();
    let mut done = 0;
    while done < callers {
        let now = Instant::now();
        if now > deadline {
            for p in &pids {
                let _ = node.kill(*p);
            }
            return Err(Error::Timeout);
        }
        progress.set_elapsed(now.saturating_duration_since(t0));
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(Report::Interval { idx, hist }) => match by_second.get_mut(&idx) {
                Some(h) => {
                    // Same bounds on both sides: adding cannot fail.
                    let _ = h.add(&hist);
                }
                None => {
                    by_second.insert(idx, hist);
                }
            },
            Ok(Report::Done(c)) => {
                done += 1;
                total.sent += c.sent;
                total.completed += c.completed;
                total.errors += c.errors;
                total.last = total.last.max(c.last);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    // Reports sent before the last Done are already queued.
    while let Ok(r) = rx.try_recv() {
        if let Report::Interval { idx, hist } = r {
            by_second
                .entry(idx)
                .or_insert_with(new_hist)
                .add(&hist)
                .ok();
        }
    }
    let mut sum = new_hist();
    let mut intervals = Vec::with_capacity(by_second.len());
    for (idx, hist) in by_second {
        let _ = sum.add(&hist);
        intervals.push(Interval {
            start: INTERVAL * idx as u32 + Duration::from_millis(20),
            length: INTERVAL,
            hist,
        });
    }
    let elapsed = total
        .last
        .map_or(spec.duration, |l| l.saturating_duration_since(t0))
        .max(Duration::from_millis(1));
    Ok(Run {
        started,
        intervals,
        total: sum,
        sent: total.sent,
        completed: total.completed,
        errors: total.errors,
        elapsed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_slot_skips_the_slots_a_slow_answer_missed() {
        let t = Instant::now();
        let ms = Duration::from_millis(1);
        // On time: the next slot.
        assert_eq!(next_slot(t, ms, t + Duration::from_micros(10)), t + ms);
        // 3.5 ms late: slots 1, 2, 3 are gone; slot 4 is next.
        assert_eq!(
            next_slot(t, ms, t + Duration::from_micros(3500)),
            t + ms * 4
        );
    }
}
