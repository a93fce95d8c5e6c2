//! Links and monitors on whole nodes (Go's `LinkNode` / `MonitorNode`): a process hears when
//! this node's connection to a peer goes down, as `MessageExitNode` (a link; a process that does
//! not trap exits terminates with reason `no connection`) or `MessageDownNode` (a monitor).
//!
//! The table is node-wide and touched only on link, unlink and connection loss (never on the
//! message path). Each watching process also lists its peers, so its termination removes its
//! entries. One difference from Go, where `LinkNode` dials the node when it is not connected:
//! a shard never blocks on a dial, so here the node must be connected already
//! ([`crate::Error::NoConnection`] otherwise); any send or `Network::get_node` connects it.

use std::collections::HashMap;
use std::sync::Mutex;

use ergo_edf::{Atom, Pid};

use crate::process::{Envelope, ExitVia, Kind};
use crate::shard::ShardCore;
use crate::{Context, Error, Message, MessageDownNode, Priority};

/// Who watches which peer: `(watcher, link)`; `link` false is a monitor.
#[derive(Default)]
pub(crate) struct NodeWatch {
    table: Mutex<HashMap<Atom, Vec<(Pid, bool)>>>,
}

impl NodeWatch {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Atom, Vec<(Pid, bool)>>> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self, peer: Atom, pid: Pid, link: bool) -> Result<(), Error> {
        let mut t = self.lock();
        let v = t.entry(peer).or_default();
        if v.contains(&(pid, link)) {
            return Err(Error::TargetExists);
        }
        v.push((pid, link));
        Ok(())
    }

    fn remove(&self, peer: Atom, pid: Pid, link: bool) -> bool {
        let mut t = self.lock();
        let Some(v) = t.get_mut(&peer) else {
            return false;
        };
        let before = v.len();
        v.retain(|w| *w != (pid, link));
        let removed = v.len() != before;
        if v.is_empty() {
            t.remove(&peer);
        }
        removed
    }

    fn has(&self, peer: Atom, pid: Pid) -> bool {
        self.lock()
            .get(&peer)
            .is_some_and(|v| v.iter().any(|(p, _)| *p == pid))
    }

    /// Removes every entry of `pid` (it terminated) under `peers`.
    pub(crate) fn forget(&self, pid: Pid, peers: &[Atom]) {
        let mut t = self.lock();
        for peer in peers {
            if let Some(v) = t.get_mut(peer) {
                v.retain(|(p, _)| *p != pid);
                if v.is_empty() {
                    t.remove(peer);
                }
            }
        }
    }

    fn take(&self, peer: Atom) -> Vec<(Pid, bool)> {
        self.lock().remove(&peer).unwrap_or_default()
    }
}

impl ShardCore {
    /// The connection to `peer` is gone: every process linked to or monitoring it hears so.
    pub(crate) fn node_watchers_down(&self, peer: Atom) {
        let Some(net) = self.node.network.get() else {
            return;
        };
        for (pid, link) in net.node_watch.take(peer) {
            let env = if link {
                Envelope {
                    from: Pid::new(peer, 0, 0),
                    kind: Kind::Exit(Box::new((
                        crate::net::remote::no_connection(),
                        ExitVia::Node(peer),
                    ))),
                }
            } else {
                Envelope {
                    from: Pid::new(peer, 0, 0),
                    kind: Kind::System(Message::new(MessageDownNode { name: peer })),
                }
            };
            let prio = if link { Priority::Max } else { Priority::High };
            let _ = self.send_pid(pid, env, prio);
        }
    }
}

impl Context {
    fn node_watch(&mut self, peer: Atom, link: bool) -> Result<(), Error> {
        let net = self
            .shard
            .node
            .network
            .get()
            .ok_or(Error::NoConnection(peer))?
            .clone();
        if net.pool(peer).is_none() {
            return Err(Error::NoConnection(peer));
        }
        net.node_watch.add(peer, self.pid(), link)?;
        // The connection may have gone between the check and the entry: then nobody would fire
        // it, so take it back and say so.
        if net.pool(peer).is_none() {
            net.node_watch.remove(peer, self.pid(), link);
            return Err(Error::NoConnection(peer));
        }
        let mut e = self.cell.ext();
        if !e.node_watches.contains(&peer) {
            e.node_watches.push(peer);
        }
        Ok(())
    }

    fn node_unwatch(&mut self, peer: Atom, link: bool) -> Result<(), Error> {
        let net = self
            .shard
            .node
            .network
            .get()
            .ok_or(Error::TargetUnknown)?
            .clone();
        if !net.node_watch.remove(peer, self.pid(), link) {
            return Err(Error::TargetUnknown);
        }
        if !net.node_watch.has(peer, self.pid()) {
            self.cell.ext().node_watches.retain(|p| *p != peer);
        }
        Ok(())
    }

    /// Links this process to the node `name` (Go's `LinkNode`): when the connection to it goes
    /// down, this process gets an exit signal: `MessageExitNode` if it traps exits, else it
    /// terminates with reason `no connection`. The node must be connected
    /// ([`Error::NoConnection`] otherwise); linking twice is [`Error::TargetExists`].
    pub fn link_node(&mut self, name: impl Into<Atom>) -> Result<(), Error> {
        self.node_watch(name.into(), true)
    }

    /// Removes the link made by [`Context::link_node`] ([`Error::TargetUnknown`] if none).
    pub fn unlink_node(&mut self, name: impl Into<Atom>) -> Result<(), Error> {
        self.node_unwatch(name.into(), true)
    }

    /// Monitors the node `name` (Go's `MonitorNode`): when the connection to it goes down, this
    /// process gets `MessageDownNode`. The node must be connected ([`Error::NoConnection`]
    /// otherwise); monitoring twice is [`Error::TargetExists`].
    pub fn monitor_node(&mut self, name: impl Into<Atom>) -> Result<(), Error> {
        self.node_watch(name.into(), false)
    }

    /// Removes the monitor made by [`Context::monitor_node`] ([`Error::TargetUnknown`] if none).
    pub fn demonitor_node(&mut self, name: impl Into<Atom>) -> Result<(), Error> {
        self.node_unwatch(name.into(), false)
    }
}
