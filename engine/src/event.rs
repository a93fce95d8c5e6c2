//! Events: named streams a process publishes to, and other processes subscribe to.
//!
//! The registry is node-wide (a mutex-guarded map; events are registered, subscribed and
//! published far less often than messages are sent). Publishing delivers one shared value
//! (`Arc`) to every subscriber through the ordinary routes.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use ergo_edf::{Atom, Event, Pid, Ref};

use crate::message::{MessageDownEvent, MessageEventStart, MessageEventStop};
use crate::process::{Envelope, ExitVia, Kind};
use crate::shard::ShardCore;
use crate::{Error, Message, MessageEvent, Priority, Reason};

/// Options of [`crate::Context::register_event`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventOptions {
    /// Tell the producer when the first subscriber arrives and the last one leaves.
    pub notify: bool,
    /// Keep the last N published values and hand them to each new subscriber.
    pub buffer: usize,
}

struct Sub {
    pid: Pid,
    link: bool,
    r: Ref,
}

struct Entry {
    owner: Pid,
    token: Ref,
    options: EventOptions,
    buffer: VecDeque<MessageEvent>,
    /// Local subscribers.
    subs: Vec<Sub>,
    /// Subscribers on other nodes, and how many per node (a publication crosses to each node
    /// once, so publishing costs nothing per remote subscriber).
    remote_subs: Vec<Sub>,
    remote: HashMap<Atom, usize>,
}

/// The node's event registry.
#[derive(Default)]
pub(crate) struct Events {
    map: Mutex<HashMap<Atom, Entry>>,
}

fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl Events {
    fn lock(&self) -> MutexGuard<'_, HashMap<Atom, Entry>> {
        // A panic while holding this lock cannot leave the map inconsistent (every update is a
        // single insert/remove/push), so a poisoned lock is still usable.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn register(
        &self,
        name: Atom,
        owner: Pid,
        token: Ref,
        options: EventOptions,
    ) -> Result<(), Error> {
        let mut m = self.lock();
        if m.contains_key(&name) {
            return Err(Error::Taken(name));
        }
        m.insert(
            name,
            Entry {
                owner,
                token,
                options,
                buffer: VecDeque::new(),
                subs: Vec::new(),
                remote_subs: Vec::new(),
                remote: HashMap::new(),
            },
        );
        Ok(())
    }

    pub(crate) fn unregister(
        &self,
        shard: &ShardCore,
        name: Atom,
        owner: Pid,
        reason: Reason,
    ) -> Result<(), Error> {
        let entry = {
            let mut m = self.lock();
            match m.get(&name) {
                None => return Err(Error::EventUnknown(name)),
                Some(e) if e.owner != owner => return Err(Error::EventOwner(name)),
                Some(_) => {}
            }
            m.remove(&name)
        };
        if let Some(entry) = entry {
            let event = Event::new(name, shard.node.name);
            // Subscribers on other nodes: one terminate frame per node.
            if !entry.remote.is_empty() {
                let e = crate::net::remote::reason_error(&reason);
                for &n in entry.remote.keys() {
                    shard.net_terminate_out(
                        n,
                        ergo_proto::connection::RemoteTargetOf::Event(name),
                        &e,
                    );
                }
            }
            for s in entry.subs {
                let kind = if s.link {
                    Kind::Exit(Box::new((reason.clone(), ExitVia::Event(event))))
                } else {
                    Kind::System(Message::new(MessageDownEvent {
                        event,
                        r: s.r,
                        reason: reason.clone(),
                    }))
                };
                let prio = if s.link {
                    Priority::Max
                } else {
                    Priority::High
                };
                let _ = shard.send_pid(s.pid, Envelope { from: owner, kind }, prio);
            }
        }
        Ok(())
    }

    pub(crate) fn unregister_by_owner(
        &self,
        shard: &ShardCore,
        name: Atom,
        owner: Pid,
        reason: Reason,
    ) {
        let _ = self.unregister(shard, name, owner, reason);
    }

    pub(crate) fn publish(
        &self,
        shard: &ShardCore,
        name: Atom,
        token: Ref,
        from: Pid,
        value: Arc<dyn std::any::Any + Send + Sync>,
    ) -> Result<(), Error> {
        let ev = MessageEvent {
            event: Event::new(name, shard.node.name),
            timestamp: now_nanos(),
            message: value,
        };
        let mut nodes: Vec<Atom> = Vec::new();
        let subs: Vec<Pid> = {
            let mut m = self.lock();
            let e = m.get_mut(&name).ok_or(Error::EventUnknown(name))?;
            if e.token != token {
                return Err(Error::EventOwner(name));
            }
            if e.options.buffer > 0 {
                if e.buffer.len() == e.options.buffer {
                    e.buffer.pop_front();
                }
                e.buffer.push_back(ev.clone());
            }
            nodes.extend(e.remote.keys().copied());
            e.subs.iter().map(|s| s.pid).collect()
        };
        // One network message per subscribing node, fanned out there.
        for n in nodes {
            shard.net_event_out(n, from, name, ev.timestamp, &ev.message);
        }
        for pid in subs {
            let env = Envelope {
                from,
                kind: Kind::Event(Box::new(ev.clone())),
            };
            let _ = shard.send_pid(pid, env, Priority::Normal);
        }
        Ok(())
    }

    pub(crate) fn subscribe(
        &self,
        shard: &ShardCore,
        event: Event,
        pid: Pid,
        link: bool,
        r: Ref,
    ) -> Result<Vec<MessageEvent>, Error> {
        if event.node != shard.node.name {
            return Err(Error::NoConnection(event.node));
        }
        let (buf, notify_owner) = {
            let mut m = self.lock();
            let e = m
                .get_mut(&event.name)
                .ok_or(Error::EventUnknown(event.name))?;
            if pid.node != shard.node.name {
                e.remote_subs.push(Sub { pid, link, r });
                *e.remote.entry(pid.node).or_default() += 1;
            } else {
                e.subs.push(Sub { pid, link, r });
            }
            let total = e.subs.len() + e.remote_subs.len();
            let n = (e.options.notify && total == 1).then_some(e.owner);
            (e.buffer.iter().cloned().collect(), n)
        };
        if let Some(owner) = notify_owner {
            let m = Message::new(MessageEventStart { name: event.name });
            let _ = shard.send_pid(
                owner,
                Envelope {
                    from: pid,
                    kind: Kind::System(m),
                },
                Priority::High,
            );
        }
        Ok(buf)
    }

    pub(crate) fn unsubscribe(&self, shard: &ShardCore, name: Atom, pid: Pid) {
        let notify_owner = {
            let mut m = self.lock();
            let Some(e) = m.get_mut(&name) else { return };
            let before = e.subs.len() + e.remote_subs.len();
            if pid.node != shard.node.name {
                let n0 = e.remote_subs.len();
                e.remote_subs.retain(|s| s.pid != pid);
                let gone = n0 - e.remote_subs.len();
                if let Some(n) = e.remote.get_mut(&pid.node) {
                    *n -= gone.min(*n);
                    if *n == 0 {
                        e.remote.remove(&pid.node);
                    }
                }
            } else {
                e.subs.retain(|s| s.pid != pid);
            }
            let after = e.subs.len() + e.remote_subs.len();
            (e.options.notify && before > 0 && after == 0).then_some(e.owner)
        };
        if let Some(owner) = notify_owner {
            let m = Message::new(MessageEventStop { name });
            let _ = shard.send_pid(
                owner,
                Envelope {
                    from: pid,
                    kind: Kind::System(m),
                },
                Priority::High,
            );
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}
