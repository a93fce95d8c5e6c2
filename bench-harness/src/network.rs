//! The network scenarios: two nodes in one process talking over loopback TCP (the shape of Go
//! Ergo's `NETWORK 1-1` and `NETWORK N-N` ping benchmarks): senders on one node, receivers on
//! the other, small integers.

use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use ergo_engine::{Error, NetworkOptions, Node, NodeOptions, SpawnOptions};

use crate::local::{node_cpu, Go, Receiver, Sender, Stopping};
use crate::outcome::Outcome;

/// A one-shard node; the receiving node (no `peer`) and the sending node pin their shards to
/// different cores, as Go's benchmark runs its two nodes on all the cores it has.
pub(crate) fn net_node(name: &str, peer: Option<&Node>) -> Result<Node, Error> {
    let mut net = NetworkOptions::new("bench");
    if let Some(p) = peer {
        if let Some(addr) = p.network_address() {
            net.routes.insert(p.name(), addr.into());
        }
    }
    crate::metrics_switch::start(
        name,
        NodeOptions {
            shards: 1,
            first_core: usize::from(peer.is_none()),
            network: Some(net),
            ..Default::default()
        },
    )
}

/// `pairs` senders on one node, each sending `n` integers to its receiver on the other node.
pub fn run(pairs: usize, n: u64) -> Result<Outcome, Error> {
    let b = Stopping(net_node("bench-b@localhost", None)?);
    let a = Stopping(net_node("bench-a@localhost", Some(&b))?);
    let (tx, rx) = sync_channel(pairs);
    let mut senders = Vec::with_capacity(pairs);
    let mut receivers = Vec::with_capacity(pairs);
    for _ in 0..pairs {
        let r = b.spawn(
            Receiver {
                seen: 0,
                expect: n,
                done: tx.clone(),
            },
            SpawnOptions::default(),
        )?;
        receivers.push(r);
    }
    // Make the connection before the clock starts.
    a.send(receivers[0], "hello".to_string())?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !a.is_connected(b.name()) {
        if Instant::now() > deadline {
            return Err(Error::NoConnection(b.name()));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    for r in &receivers {
        senders.push(a.spawn(Sender { to: *r, left: n }, SpawnOptions::default())?);
    }
    let sends = || {
        a.network()
            .node(b.name())
            .and_then(|r| r.info().ok())
            .map_or(0, |i| i.sends)
    };
    let sends0 = sends();
    let cpu0 = node_cpu(&b, 0)?;
    let t0 = Instant::now();
    for s in &senders {
        a.send(*s, Go)?;
    }
    let mut end = t0;
    let mut cpu1 = cpu0;
    for _ in 0..pairs {
        let (t, c) = rx
            .recv_timeout(Duration::from_secs(300))
            .map_err(|_| Error::Timeout)?;
        end = end.max(t);
        cpu1 = cpu1.max(c);
    }
    let sent = sends().saturating_sub(sends0);
    Ok(Outcome::Throughput {
        frames_per_send: (sent > 0).then(|| (n * pairs as u64) as f64 / sent as f64),
        scenario: if pairs == 1 {
            "network-1-1"
        } else {
            "network-n-n"
        },
        messages: n * pairs as u64,
        elapsed_s: (end - t0).as_secs_f64(),
        cpu_s: cpu1.saturating_sub(cpu0).as_secs_f64(),
    })
}
