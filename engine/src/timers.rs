//! Timers of a shard: `send_after` messages and call timeouts, in a deadline heap owned by the
//! shard's thread. Cancelling removes the action at once and leaves its heap entry to expire
//! (compacted when the dead entries outnumber the live ones); the shard loop fires what is due
//! once per iteration and parks no longer than the next deadline.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use ergo_edf::{Pid, Ref};

use crate::process::{Envelope, Kind};
use crate::shard::ShardCore;
use crate::{Error, Message, Priority, Target};

/// A timer's handle, for [`Context::cancel_timer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerRef {
    shard: u32,
    seq: u64,
}

pub(crate) enum TimerAction {
    Send {
        from: Pid,
        to: Target,
        msg: Message,
        prio: Priority,
    },
    CallTimeout {
        id: u64,
        r: Ref,
    },
}

#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    actions: HashMap<u64, TimerAction>,
    seq: u64,
}

impl Timers {
    /// Drops every pending action (the shard is going away).
    pub(crate) fn clear(&mut self) {
        self.actions.clear();
    }

    pub(crate) fn add(&mut self, at: Instant, a: TimerAction) -> u64 {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq)));
        self.actions.insert(self.seq, a);
        self.seq
    }

    /// Cancelled timers stay in the heap until their deadline; when they outnumber the live
    /// ones by far (every answered `call` cancels its timeout), rebuild the heap without them
    /// so memory stays proportional to the live timers.
    fn compact(&mut self) {
        if self.heap.len() > 1024 && self.heap.len() > 4 * self.actions.len() {
            let actions = &self.actions;
            self.heap
                .retain(|Reverse((_, seq))| actions.contains_key(seq));
        }
    }

    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, seq))) = self.heap.peek() {
            if self.actions.contains_key(seq) {
                return Some(*at);
            }
            self.heap.pop();
        }
        None
    }

    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<TimerAction> {
        while let Some(Reverse((at, seq))) = self.heap.peek().copied() {
            if at > now {
                return None;
            }
            self.heap.pop();
            if let Some(a) = self.actions.remove(&seq) {
                return Some(a);
            }
        }
        None
    }
}

impl ShardCore {
    pub(crate) fn add_timer(&self, after: Duration, a: TimerAction) -> TimerRef {
        let seq = self.timers.borrow_mut().add(Instant::now() + after, a);
        TimerRef {
            shard: self.index as u32,
            seq,
        }
    }

    pub(crate) fn cancel_timer(&self, t: TimerRef) -> bool {
        if t.shard as usize != self.index {
            return false;
        }
        let mut timers = self.timers.borrow_mut();
        let found = timers.actions.remove(&t.seq).is_some();
        timers.compact();
        found
    }

    pub(crate) fn fire_timers(&self) -> bool {
        if self.timers.borrow().heap.is_empty() {
            return false;
        }
        let now = Instant::now();
        let mut fired = false;
        loop {
            let a = self.timers.borrow_mut().pop_due(now);
            let Some(a) = a else { break };
            fired = true;
            match a {
                TimerAction::Send {
                    from,
                    to,
                    msg,
                    prio,
                } => {
                    let _ = self.send_env(
                        to,
                        Envelope {
                            from,
                            kind: Kind::Message(msg),
                        },
                        prio,
                    );
                }
                TimerAction::CallTimeout { id, r } => {
                    let cell = self.procs.borrow().get(&id).cloned();
                    if let Some(cell) = cell {
                        let mut e = cell.ext();
                        if e.awaiting == Some(r) && e.reply.is_none() {
                            e.reply = Some(Err(Error::Timeout));
                            drop(e);
                            cell.wake(&self.run_queue);
                        }
                    }
                }
            }
        }
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(id: u64) -> TimerAction {
        TimerAction::CallTimeout {
            id,
            r: Ref::default(),
        }
    }

    #[test]
    fn timers_fire_in_deadline_order_and_skip_cancelled_ones() {
        let mut t = Timers::default();
        let now = Instant::now();
        let a = t.add(now + Duration::from_millis(30), action(1));
        let _b = t.add(now + Duration::from_millis(10), action(2));
        let _c = t.add(now + Duration::from_millis(20), action(3));
        t.actions.remove(&a);
        assert_eq!(t.next_deadline(), Some(now + Duration::from_millis(10)));
        let fired: Vec<u64> = std::iter::from_fn(|| t.pop_due(now + Duration::from_secs(1)))
            .map(|a| match a {
                TimerAction::CallTimeout { id, .. } => id,
                TimerAction::Send { .. } => 0,
            })
            .collect();
        assert_eq!(fired, vec![2, 3]);
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn cancelled_timers_do_not_pile_up() {
        let mut t = Timers::default();
        let later = Instant::now() + Duration::from_secs(60);
        for i in 0..100_000 {
            let seq = t.add(later, action(i));
            t.actions.remove(&seq);
            t.compact();
        }
        assert!(
            t.heap.len() <= 1025,
            "heap kept {} cancelled entries",
            t.heap.len()
        );
    }
}
