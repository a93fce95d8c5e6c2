//! Links and monitors on whole nodes (Go's LinkNode / MonitorNode) over loopback: the
//! connection going down reaches linked, trapping and monitoring processes as Go delivers it.

mod common;

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;
use std::time::Duration;

use common::WAIT;
use ergo_engine::{
    Actor, Atom, Context, Error, HandleResult, Message, MessageDownNode, MessageExitNode,
    NetworkOptions, Node, NodeOptions, Pid, Reason, SpawnOptions,
};

enum Cmd {
    Link(Atom),
    Unlink(Atom),
    Monitor(Atom),
    Demonitor(Atom),
}

#[derive(Debug)]
enum Seen {
    Done(Result<(), Error>),
    Msg(Message),
    Terminated(Reason),
}

struct Watcher {
    tx: Mutex<Sender<Seen>>,
    trap: bool,
}

impl Actor for Watcher {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        ctx.set_trap_exit(self.trap);
        Ok(())
    }
    async fn handle_message(&mut self, ctx: &mut Context, _f: Pid, m: Message) -> HandleResult {
        let seen = match m.downcast::<Cmd>() {
            Ok(Cmd::Link(n)) => Seen::Done(ctx.link_node(n)),
            Ok(Cmd::Unlink(n)) => Seen::Done(ctx.unlink_node(n)),
            Ok(Cmd::Monitor(n)) => Seen::Done(ctx.monitor_node(n)),
            Ok(Cmd::Demonitor(n)) => Seen::Done(ctx.demonitor_node(n)),
            Err(m) => Seen::Msg(m),
        };
        let _ = self.tx.lock().unwrap().send(seen);
        Ok(())
    }
    fn terminate(&mut self, _ctx: &mut Context, reason: &Reason) {
        let _ = self
            .tx
            .lock()
            .unwrap()
            .send(Seen::Terminated(reason.clone()));
    }
}

fn net_node(name: &str) -> Node {
    Node::start(
        name,
        NodeOptions {
            shards: 2,
            pin: false,
            stop_timeout: Duration::from_millis(500),
            network: Some(NetworkOptions::new("node-links-secret")),
            ..Default::default()
        },
    )
    .unwrap()
}

fn watcher(n: &Node, trap: bool, shard: usize) -> (Pid, Receiver<Seen>) {
    let (tx, rx) = channel();
    let opts = SpawnOptions {
        shard: Some(shard),
        ..Default::default()
    };
    let w = Watcher {
        tx: Mutex::new(tx),
        trap,
    };
    (n.spawn(w, opts).unwrap(), rx)
}

fn run(n: &Node, p: Pid, rx: &Receiver<Seen>, c: Cmd) -> Result<(), Error> {
    n.send(p, c).unwrap();
    match rx.recv_timeout(WAIT).expect("an answer") {
        Seen::Done(r) => r,
        other => panic!("expected the command's outcome, got {other:?}"),
    }
}

#[test]
fn a_node_going_down_reaches_its_links_and_monitors() {
    let b = net_node("nodelinks_b@localhost");
    let a = net_node("nodelinks_a@localhost");
    let bn = b.name();
    a.network()
        .get_node_with_route(bn, b.network_address().unwrap())
        .unwrap();
    let (plain, prx) = watcher(&a, false, 0);
    let (trap, trx) = watcher(&a, true, 1);
    let (mon, mrx) = watcher(&a, false, 0);
    let (undone, urx) = watcher(&a, true, 1);

    assert_eq!(run(&a, plain, &prx, Cmd::Link(bn)), Ok(()));
    assert_eq!(run(&a, trap, &trx, Cmd::Link(bn)), Ok(()));
    assert_eq!(run(&a, mon, &mrx, Cmd::Monitor(bn)), Ok(()));
    // Go's errors: twice is "target exists", removing what is not there "unknown target", and
    // a node that is not connected cannot be watched.
    assert_eq!(run(&a, trap, &trx, Cmd::Link(bn)), Err(Error::TargetExists));
    assert_eq!(
        run(&a, mon, &mrx, Cmd::Monitor(bn)),
        Err(Error::TargetExists)
    );
    assert_eq!(
        run(&a, mon, &mrx, Cmd::Unlink(bn)),
        Err(Error::TargetUnknown)
    );
    let nowhere = Atom::new("nodelinks_nowhere@localhost");
    assert_eq!(
        run(&a, plain, &prx, Cmd::Link(nowhere)),
        Err(Error::NoConnection(nowhere))
    );
    // Linked and monitoring, then both taken back: this one hears nothing.
    assert_eq!(run(&a, undone, &urx, Cmd::Link(bn)), Ok(()));
    assert_eq!(run(&a, undone, &urx, Cmd::Monitor(bn)), Ok(()));
    assert_eq!(run(&a, undone, &urx, Cmd::Unlink(bn)), Ok(()));
    assert_eq!(run(&a, undone, &urx, Cmd::Demonitor(bn)), Ok(()));

    b.stop();
    // Not trapping: it terminates with `no connection`.
    match prx.recv_timeout(WAIT).expect("the link fired") {
        Seen::Terminated(r) => assert_eq!(r.to_string(), "no connection"),
        other => panic!("expected termination, got {other:?}"),
    }
    let exit = |rx: &Receiver<Seen>| match rx.recv_timeout(WAIT).expect("a message") {
        Seen::Msg(m) => m,
        other => panic!("expected a message, got {other:?}"),
    };
    assert_eq!(
        exit(&trx).downcast::<MessageExitNode>().ok(),
        Some(MessageExitNode { name: bn })
    );
    assert_eq!(
        exit(&mrx).downcast::<MessageDownNode>().ok(),
        Some(MessageDownNode { name: bn })
    );
    // The one that unlinked and demonitored: the next thing it sees is this marker.
    a.send(undone, 9u8).unwrap();
    assert_eq!(exit(&urx).downcast::<u8>().ok(), Some(9));
    // The watches fired once and are gone: the node can be watched again only once connected.
    assert_eq!(
        run(&a, trap, &trx, Cmd::Link(bn)),
        Err(Error::NoConnection(bn))
    );
    a.stop();
}
