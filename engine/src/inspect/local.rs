//! What a shard answers about its own processes: one process's short or full figures, and
//! one bounded slice of a paged process list. Everything here runs on the shard that owns
//! the processes and reads their cells directly; a slice probes at most [`SLICE_PROBES`] PID
//! ids, so a list over a million processes never holds a shard for long.

use std::collections::HashMap;
use std::time::Duration;

use ergo_edf::{Atom, Pid};

use super::{MailboxQueues, ProcessShortInfo};
use crate::process::{ExitVia, ProcCell};
use crate::shard::{ShardCore, SHARD_BITS};
use crate::{Error, LogLevel, ProcessInfo};

/// PID ids one slice of a process list probes at most.
pub(crate) const SLICE_PROBES: u64 = 16 * 1024;

/// The type names of a shard's actors, interned: a process keeps a 1-byte index (the first
/// 255 types a shard sees; later ones are reported without a name).
#[derive(Default)]
pub(crate) struct Behaviors {
    names: Vec<&'static str>,
    index: HashMap<usize, u8>,
    /// The last one interned (a run of spawns of one type skips the lookup).
    last: Option<(usize, u8)>,
}

/// The index of "no name recorded".
const UNNAMED: u8 = u8::MAX;

impl Behaviors {
    /// The index of `name` (interned on first use).
    pub(crate) fn intern(&mut self, name: &'static str) -> u8 {
        let key = name.as_ptr() as usize ^ name.len();
        if let Some((k, i)) = self.last {
            if k == key {
                return i;
            }
        }
        let i = match self.index.get(&key) {
            Some(i) => *i,
            None if self.names.len() < UNNAMED as usize => {
                let i = self.names.len() as u8;
                self.names.push(name);
                self.index.insert(key, i);
                i
            }
            None => UNNAMED,
        };
        self.last = Some((key, i));
        i
    }

    fn name(&self, i: u8) -> &'static str {
        self.names.get(i as usize).copied().unwrap_or("")
    }
}

impl ShardCore {
    /// The application of process `id` of this shard, if it runs under one.
    pub(crate) fn application_of(&self, id: u64) -> Option<Atom> {
        let procs = self.procs.borrow();
        let c = procs.get(&id)?;
        let ext = c.ext.borrow();
        ext.as_ref().and_then(|e| e.application)
    }

    /// Records the behavior (actor type) of a new process.
    pub(crate) fn set_behavior(&self, cell: &ProcCell, name: &'static str) {
        let i = self.behaviors.borrow_mut().intern(name);
        cell.behavior.set(i);
    }

    fn short_info(&self, c: &ProcCell) -> ProcessShortInfo {
        let ext = c.ext.borrow();
        let e = ext.as_deref();
        let s = &c.stats;
        ProcessShortInfo {
            pid: self.make_pid(c.id),
            name: e.and_then(|e| e.name),
            application: e.and_then(|e| e.application),
            behavior: self.behaviors.borrow().name(c.behavior.get()),
            messages_in: s.messages_in.get(),
            messages_out: s.messages_out.get(),
            mailbox: c.mailbox.borrow().len(),
            running_time: Duration::from_nanos(s.running_ns.get()),
            uptime: super::counters::uptime(c.born.get()),
            state: c.state.get(),
            parent: match c.parent.get() {
                0 => None,
                id => Some(self.make_pid(id)),
            },
            log_level: LogLevel::from_u8(c.log_level.get()),
        }
    }

    /// One slice of a process list: processes of this shard with id ≥ `from_seq`'s, in id
    /// order, at most `limit`, probing at most [`SLICE_PROBES`] ids. Returns the page and the
    /// sequence number to continue from (`None`: this shard has no more).
    pub(crate) fn list_slice(
        &self,
        from_seq: u64,
        limit: usize,
        application: Option<Atom>,
    ) -> (Vec<ProcessShortInfo>, Option<u64>) {
        let end = self.next_seq.get();
        let stop = end.min(from_seq.saturating_add(SLICE_PROBES));
        let procs = self.procs.borrow();
        let mut out = Vec::new();
        let mut seq = from_seq.max(1);
        while seq < stop && out.len() < limit {
            let id = (seq << SHARD_BITS) | self.index as u64;
            seq += 1;
            let Some(c) = procs.get(&id) else { continue };
            if let Some(app) = application {
                let ext = c.ext.borrow();
                if ext.as_ref().and_then(|e| e.application) != Some(app) {
                    continue;
                }
            }
            out.push(self.short_info(c));
        }
        let next = (seq < end && out.len() < limit).then_some(seq);
        (out, next)
    }

    /// The full figures of process `pid` of this shard.
    pub(crate) fn process_info_local(&self, pid: Pid) -> Result<ProcessInfo, Error> {
        let procs = self.procs.borrow();
        let c = procs.get(&pid.id).ok_or(Error::ProcessUnknown)?;
        let short = self.short_info(c);
        let mb = c.mailbox.borrow();
        let [main, system, urgent, log] = mb.queue_lens();
        let ext = c.ext.borrow();
        let e = ext.as_deref();
        let linked = e.map_or_else(Vec::new, |e| {
            e.links
                .iter()
                .filter(|(_, via)| matches!(via, ExitVia::Pid))
                .map(|(p, _)| *p)
                .collect()
        });
        Ok(ProcessInfo {
            pid,
            name: short.name,
            state: short.state,
            shard: self.index,
            parent: short.parent,
            mailbox: mb.len(),
            mailbox_limit: e.map_or(0, |e| e.limit),
            links: e.map_or(0, |e| e.links.len()),
            monitored_by: e.map_or(0, |e| e.monitors_in.len()),
            aliases: e.map_or(0, |e| e.aliases.len()),
            trap_exit: c.flag(crate::process::FLAG_TRAP_EXIT),
            log_level: short.log_level,
            application: short.application,
            behavior: short.behavior,
            messages_in: short.messages_in,
            messages_out: short.messages_out,
            running_time: short.running_time,
            uptime: short.uptime,
            mailbox_queues: MailboxQueues {
                main,
                system,
                urgent,
                log,
            },
            linked,
            alias_list: e.map_or_else(Vec::new, |e| e.aliases.clone()),
            events: e.map_or_else(Vec::new, |e| e.events_owned.clone()),
            events_monitored: e.map_or_else(Vec::new, |e| e.events_subscribed.clone()),
            fallback: e.and_then(|e| e.fallback),
            priority: c.priority(),
        })
    }
}

/// The sequence number of the first id ≥ `start` on shard `shard`.
pub(crate) fn first_seq(start: u64, shard: usize) -> u64 {
    let s = shard as u64;
    if start <= s {
        return 0;
    }
    (start - s).div_ceil(1 << SHARD_BITS)
}
