//! Three nodes on three hosts (network namespaces made by the test, joined by a bridge): each
//! node serves its host's registrar, nodes find each other by resolving over UDP at the peer's
//! host, messages and calls cross, and pulling one host's cable makes calls to it fail with
//! `NoConnection` while the others go on. Skipped, with the reason printed, where namespaces
//! cannot be made (not root, no iproute2).

#[path = "common/netns.rs"]
mod netns;

use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use ergo_engine::registrar::RegistrarOptions;
use ergo_engine::{
    Actor, Atom, Context, Error, Message, NetworkOptions, Node, NodeOptions, Pid, ProcessId,
    Reason, Ref, SpawnOptions,
};

struct Echo;

impl Actor for Echo {
    async fn handle_call(
        &mut self,
        ctx: &mut Context,
        _f: Pid,
        _r: Ref,
        req: Message,
    ) -> Result<Option<Message>, Reason> {
        let s = req.downcast::<String>().unwrap_or_default();
        Ok(Some(Message::new(format!("{} says {s}", ctx.node_name()))))
    }
}

/// Starts a node named `n<i>@<host address>` inside the host's namespace.
fn start_on(host: &netns::Host, i: usize) -> Node {
    let (tx, rx) = channel();
    let h = host.clone();
    std::thread::spawn(move || {
        let r = h.enter().map_err(|e| e.to_string()).and_then(|()| {
            let mut net = NetworkOptions::new("lab-cookie");
            net.acceptors[0].listen = format!("{}:0", h.addr).parse().unwrap();
            net.registrar = Some(RegistrarOptions::default().into());
            net.user_timeout = Duration::from_secs(1);
            let node = Node::start(
                &format!("n{i}@{}", h.addr),
                NodeOptions {
                    shards: 1,
                    network: Some(net),
                    ..Default::default()
                },
            )
            .map_err(|e| e.to_string())?;
            node.spawn_register("echo", Echo, SpawnOptions::default())
                .map_err(|e| e.to_string())?;
            Ok(node)
        });
        let _ = tx.send(r);
    });
    rx.recv_timeout(Duration::from_secs(20)).unwrap().unwrap()
}

fn call(from: &Node, to: &Node, what: &str, timeout: Duration) -> Result<String, Error> {
    let target = ProcessId::new(Atom::new("echo"), to.name());
    from.call(target, what.to_string(), timeout)
        .map(|m| m.downcast::<String>().unwrap_or_default())
}

#[test]
fn three_hosts_resolve_talk_and_survive_a_pulled_cable() {
    if let Some(why) = netns::unavailable() {
        println!("skipped: {why}");
        return;
    }
    let lab = netns::Lab::new("mh", 3).unwrap();
    let nodes: Vec<Node> = lab
        .hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| start_on(h, i + 1))
        .collect();
    let wait = Duration::from_secs(10);

    // Every node reaches every other, resolving through the registrar of the peer's host.
    for a in &nodes {
        for b in &nodes {
            if a.name() != b.name() {
                let r = call(a, b, "hello", wait)
                    .unwrap_or_else(|e| panic!("{} -> {}: {e:?}", a.name(), b.name()));
                assert_eq!(r, format!("{} says hello", b.name()));
            }
        }
    }

    // Pull n3's cable: calls to it end in NoConnection, n1 and n2 go on.
    lab.hosts()[2].cut().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut refused = false;
    while Instant::now() < deadline && !refused {
        refused = matches!(
            call(&nodes[0], &nodes[2], "are you there", Duration::from_secs(2)),
            Err(Error::NoConnection(n)) if n == nodes[2].name()
        );
    }
    assert!(refused, "calls to the cut-off host end in NoConnection");
    assert!(!nodes[0].is_connected(nodes[2].name()));
    assert_eq!(
        call(&nodes[0], &nodes[1], "still here", wait).unwrap(),
        format!("{} says still here", nodes[1].name())
    );
    assert_eq!(
        call(&nodes[1], &nodes[0], "yes", wait).unwrap(),
        format!("{} says yes", nodes[0].name())
    );

    // Plug it back in: the next call dials again.
    lab.hosts()[2].restore().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut back = None;
    while Instant::now() < deadline && back.is_none() {
        back = call(&nodes[0], &nodes[2], "welcome back", Duration::from_secs(2)).ok();
    }
    assert_eq!(back, Some(format!("{} says welcome back", nodes[2].name())));

    for n in &nodes {
        n.stop();
    }
}
