//! A node's figures at one moment ([`Node::metrics`]): each shard copies its own counters on
//! its own thread (asked through its inbound queue, like any `run_on`), and the caller sums
//! them. Nothing is published between scrapes, so the shard loop pays nothing for them.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ergo_edf::Atom;

use crate::ops::counters::{Histogram, ShardMetrics};
use crate::ops::net_counters::AcceptorMetrics;
use crate::Node;

/// One connection's figures (summed over its links).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionMetrics {
    /// The peer node.
    pub peer: Atom,
    /// Links of the connection that are up.
    pub links: usize,
    /// Bytes received (ciphertext on TLS links).
    pub bytes_in: u64,
    /// Bytes handed to the kernel.
    pub bytes_out: u64,
    /// Frames received.
    pub frames_in: u64,
    /// `send` operations submitted (`bytes_out / sends`: the batching achieved).
    pub sends: u64,
    /// Times senders paused on its links past the send-buffer high-water mark.
    pub pauses: u64,
    /// Times a connection with this peer was established (the first one included).
    pub connects: u64,
    /// Links to this peer that closed (each took its connection down).
    pub link_closes: u64,
}

/// A node's figures ([`Node::metrics`]).
#[derive(Clone, Debug, Default)]
pub struct NodeMetrics {
    /// `name@host`.
    pub node: Atom,
    /// Time since start.
    pub uptime: Duration,
    /// Resident memory of the OS process, bytes.
    pub rss_bytes: u64,
    /// Registered names.
    pub names: usize,
    /// Applications running.
    pub applications_running: usize,
    /// Per shard (a shard that did not answer within the timeout is missing).
    pub shards: Vec<ShardMetrics>,
    /// Shards that did not answer within the timeout (busy in a handler that does not return).
    pub shards_missing: usize,
    /// Per peer, for the peers connected now or seen before.
    pub connections: Vec<ConnectionMetrics>,
    /// Per acceptor.
    pub acceptors: Vec<AcceptorMetrics>,
}

impl NodeMetrics {
    /// Processes alive.
    pub fn processes(&self) -> usize {
        self.shards.iter().map(|s| s.processes).sum()
    }

    /// Envelopes sent by processes of this node, by priority (Normal, High, Max).
    pub fn sent(&self) -> [u64; 3] {
        self.sum3(|s| s.sent)
    }

    /// Envelopes put into mailboxes of this node, by priority (Normal, High, Max).
    pub fn received(&self) -> [u64; 3] {
        self.sum3(|s| s.received)
    }

    /// Latency of calls to other nodes, all shards together.
    pub fn net_calls(&self) -> Histogram {
        let mut h = Histogram::default();
        for s in &self.shards {
            h.merge(&s.net_calls);
        }
        h
    }

    fn sum3(&self, f: impl Fn(&ShardMetrics) -> [u64; 3]) -> [u64; 3] {
        self.shards.iter().fold([0; 3], |mut a, s| {
            let v = f(s);
            for i in 0..3 {
                a[i] += v[i];
            }
            a
        })
    }
}

/// What one shard reports about one of its links.
struct LinkFigures {
    peer: Atom,
    stats: crate::net::link_io::LinkStats,
    pauses: u64,
}

impl Node {
    /// The node's figures now: every shard copies its counters on its own thread, waiting at
    /// most `timeout` for each (see [`NodeMetrics::shards_missing`]).
    pub fn metrics(&self, timeout: Duration) -> NodeMetrics {
        let s = &self.0;
        let info = self.info();
        let mut m = NodeMetrics {
            node: s.name,
            uptime: info.uptime,
            rss_bytes: info.memory_rss,
            names: info.names,
            applications_running: self.applications_running().len(),
            ..Default::default()
        };
        let mut by_peer: BTreeMap<Atom, ConnectionMetrics> = BTreeMap::new();
        for (i, remote) in s.shards.iter().enumerate() {
            let answer = self.run_on_within(i, Some(timeout), move |core| {
                let mut sm = core.counters.snapshot(i);
                sm.run_queue = core.run_queue.borrow().len();
                let net = core.net.borrow();
                let links: Vec<LinkFigures> = core
                    .net_links
                    .borrow()
                    .values()
                    .filter_map(|c| {
                        Some(LinkFigures {
                            peer: c.codec.peer(),
                            stats: net.io.stats(c.link)?,
                            pauses: c.pauses.load(Ordering::Relaxed),
                        })
                    })
                    .collect();
                (sm, links)
            });
            let Ok((mut sm, links)) = answer else {
                m.shards_missing += 1;
                continue;
            };
            sm.wakeups = remote.wakeups.load(Ordering::Relaxed);
            sm.inbox_depth = remote.inbox.len();
            sm.processes = remote.processes.load(Ordering::Relaxed);
            sm.spawned = remote.spawned.load(Ordering::Relaxed) as u64;
            m.shards.push(sm);
            for l in links {
                let c = by_peer.entry(l.peer).or_insert_with(|| ConnectionMetrics {
                    peer: l.peer,
                    ..Default::default()
                });
                c.links += 1;
                c.bytes_in += l.stats.bytes_in;
                c.bytes_out += l.stats.bytes_out;
                c.frames_in += l.stats.frames_in;
                c.sends += l.stats.sends;
                c.pauses += l.pauses;
            }
        }
        if let Some(net) = s.network.get() {
            for peer in net.counters.peers() {
                by_peer.entry(peer).or_insert_with(|| ConnectionMetrics {
                    peer,
                    ..Default::default()
                });
            }
            for (peer, c) in by_peer.iter_mut() {
                (c.connects, c.link_closes) = net.counters.peer(*peer);
            }
            m.acceptors = net.counters.acceptors();
        }
        m.connections = by_peer.into_values().collect();
        m
    }
}
