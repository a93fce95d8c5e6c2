//! Control-plane counters of the network: handshakes per acceptor (ok, failed by cause) and
//! connections per peer (connects, so reconnects, and link closes).
//!
//! These are counted on the control threads (acceptor, handshake, dialer) and when a link
//! closes, never per message, so a mutex is fine here. The data-plane figures (bytes, frames)
//! are counted by the link's shard ([`crate::ops::counters`], `link_io`).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Mutex;

use ergo_edf::Atom;

use crate::net::handshake_io::LinkError;
use ergo_proto::handshake::HandshakeError;

/// Handshake outcomes of one acceptor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AcceptorMetrics {
    /// Where it listens.
    pub addr: String,
    /// Handshakes that produced a connection or a pool link.
    pub handshakes_ok: u64,
    /// Failed handshakes by cause (`io`, `timeout`, `cookie`, `tls`, `protocol`, `join`, `name`).
    pub handshakes_failed: BTreeMap<&'static str, u64>,
}

#[derive(Default, Clone, Copy)]
struct PeerCounts {
    connects: u64,
    link_closes: u64,
}

/// The network's control-plane counters.
#[derive(Default)]
pub(crate) struct NetCounters {
    acceptors: Mutex<Vec<AcceptorMetrics>>,
    peers: Mutex<HashMap<Atom, PeerCounts>>,
}

/// The cause label of a failed handshake.
pub(crate) fn cause_of(e: &LinkError) -> &'static str {
    match e {
        LinkError::Io(io) => match io.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => "timeout",
            _ => "io",
        },
        LinkError::Tls(_) => "tls",
        LinkError::JoinRefused(_) => "join",
        LinkError::Handshake(h) => match h {
            HandshakeError::Digest(_) => "cookie",
            HandshakeError::CertDigest => "tls",
            HandshakeError::SameName(_) => "name",
            _ => "protocol",
        },
    }
}

impl NetCounters {
    /// Makes the counters of the acceptors listening on `addrs` (in order).
    pub(crate) fn with_acceptors(addrs: &[SocketAddr]) -> NetCounters {
        NetCounters {
            acceptors: Mutex::new(
                addrs
                    .iter()
                    .map(|a| AcceptorMetrics {
                        addr: a.to_string(),
                        ..Default::default()
                    })
                    .collect(),
            ),
            peers: Mutex::default(),
        }
    }

    fn acceptor(&self, addr: SocketAddr, f: impl FnOnce(&mut AcceptorMetrics)) {
        let addr = addr.to_string();
        let mut a = self.acceptors.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = a.iter_mut().find(|m| m.addr == addr) {
            f(m);
        }
    }

    /// An acceptor's handshake succeeded.
    pub(crate) fn handshake_ok(&self, addr: SocketAddr) {
        self.acceptor(addr, |m| m.handshakes_ok += 1);
    }

    /// An acceptor's handshake failed.
    pub(crate) fn handshake_failed(&self, addr: SocketAddr, e: &LinkError) {
        let cause = cause_of(e);
        self.acceptor(addr, |m| {
            *m.handshakes_failed.entry(cause).or_default() += 1
        });
    }

    /// A connection with `peer` was established.
    pub(crate) fn connected(&self, peer: Atom) {
        let mut p = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        p.entry(peer).or_default().connects += 1;
    }

    /// A link of the connection with `peer` closed (taking the connection down).
    pub(crate) fn link_closed(&self, peer: Atom) {
        let mut p = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        p.entry(peer).or_default().link_closes += 1;
    }

    /// The acceptors' figures.
    pub(crate) fn acceptors(&self) -> Vec<AcceptorMetrics> {
        self.acceptors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Connects and link closes of `peer` so far.
    pub(crate) fn peer(&self, peer: Atom) -> (u64, u64) {
        let p = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        p.get(&peer).map_or((0, 0), |c| (c.connects, c.link_closes))
    }

    /// Every peer seen so far.
    pub(crate) fn peers(&self) -> Vec<Atom> {
        let p = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        p.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_handshakes_are_counted_by_cause() {
        let addr: SocketAddr = "127.0.0.1:15000".parse().unwrap();
        let c = NetCounters::with_acceptors(&[addr]);
        c.handshake_ok(addr);
        c.handshake_failed(addr, &LinkError::Handshake(HandshakeError::Digest("x")));
        c.handshake_failed(addr, &LinkError::Handshake(HandshakeError::Digest("y")));
        c.handshake_failed(addr, &LinkError::Io(std::io::ErrorKind::TimedOut.into()));
        let a = &c.acceptors()[0];
        assert_eq!(a.handshakes_ok, 1);
        assert_eq!(a.handshakes_failed.get("cookie"), Some(&2));
        assert_eq!(a.handshakes_failed.get("timeout"), Some(&1));
    }
}
