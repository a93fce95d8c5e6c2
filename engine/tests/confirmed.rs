//! Important delivery is confirmed by the shard that puts the message into the mailbox: a full
//! bounded mailbox or a missing process on another shard, or behind a link read on another
//! shard, is reported to the sender (it used to be acknowledged as delivered and dropped). A
//! bounded mailbox bounds each of its queues, as Go does.

mod common;

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;
use std::time::Duration;

use common::WAIT;
use ergo_engine::{
    Actor, Context, Error, HandleResult, Message, MessageOptions, NetworkOptions, Node,
    NodeOptions, Pid, Priority, Reason, Ref, SpawnOptions, Target,
};

/// Answers nothing: a call to it waits its whole timeout.
struct Silent;

impl Actor for Silent {
    async fn handle_call(
        &mut self,
        _ctx: &mut Context,
        _f: Pid,
        _r: Ref,
        _m: Message,
    ) -> Result<Option<Message>, Reason> {
        Ok(None)
    }
}

/// On "block", calls a silent process (so its mailbox fills while it waits) after telling the
/// test; counts everything else.
struct Stuck {
    silent: Pid,
    tx: Mutex<Sender<()>>,
}

impl Actor for Stuck {
    async fn handle_message(&mut self, ctx: &mut Context, _f: Pid, m: Message) -> HandleResult {
        if m.downcast_ref::<String>().is_some_and(|s| s == "block") {
            let _ = self.tx.lock().unwrap().send(());
            let _ = ctx
                .call_timeout(self.silent, (), Duration::from_secs(30))
                .await;
        }
        Ok(())
    }
}

fn stuck(n: &Node, shard: usize, silent: Pid) -> Pid {
    let (tx, rx) = channel();
    let pid = n
        .spawn(
            Stuck {
                silent,
                tx: Mutex::new(tx),
            },
            SpawnOptions {
                shard: Some(shard),
                mailbox_size: 2,
                ..Default::default()
            },
        )
        .unwrap();
    n.send(pid, "block".to_string()).unwrap();
    rx.recv_timeout(WAIT).expect("it blocks");
    pid
}

/// Sends important messages on request and reports each outcome.
struct Sender_ {
    tx: Mutex<Sender<Result<(), Error>>>,
}

enum Go {
    Important(Target, i64, Priority),
    Plain(Target, i64, Priority),
}

impl Actor for Sender_ {
    async fn handle_message(&mut self, ctx: &mut Context, _f: Pid, m: Message) -> HandleResult {
        let r = match m.downcast::<Go>() {
            Ok(Go::Important(to, v, p)) => {
                ctx.set_send_priority(p);
                ctx.send_important(to, v, WAIT).await
            }
            Ok(Go::Plain(to, v, p)) => ctx.send_with_options(
                to,
                v,
                MessageOptions {
                    priority: p,
                    ..Default::default()
                },
            ),
            Err(_) => return Ok(()),
        };
        let _ = self.tx.lock().unwrap().send(r);
        Ok(())
    }
}

fn sender(n: &Node, shard: usize) -> (Pid, Receiver<Result<(), Error>>) {
    let (tx, rx) = channel();
    let opts = SpawnOptions {
        shard: Some(shard),
        ..Default::default()
    };
    (n.spawn(Sender_ { tx: Mutex::new(tx) }, opts).unwrap(), rx)
}

fn ask(n: &Node, s: Pid, rx: &Receiver<Result<(), Error>>, g: Go) -> Result<(), Error> {
    n.send(s, g).unwrap();
    rx.recv_timeout(WAIT).expect("an outcome")
}

fn local_node(name: &str) -> Node {
    common::node(name, 2)
}

#[test]
fn a_full_mailbox_on_another_shard_is_reported_to_an_important_sender() {
    let node = local_node("confirm_local");
    let silent = node.spawn(Silent, SpawnOptions::default()).unwrap();
    let (s, rx) = sender(&node, 0);
    for shard in [0, 1] {
        let t = stuck(&node, shard, silent);
        for prio in [Priority::Normal, Priority::High, Priority::Max] {
            // Each queue holds two.
            for v in 0..2 {
                assert_eq!(ask(&node, s, &rx, Go::Important(t.into(), v, prio)), Ok(()));
            }
            assert_eq!(
                ask(&node, s, &rx, Go::Important(t.into(), 2, prio)),
                Err(Error::MailboxFull),
                "shard {shard}, {prio:?}"
            );
        }
    }
    // A process that is gone, on the other shard.
    let gone = Pid::new(node.name(), 1024 * 7000 + 1, node.creation());
    assert_eq!(
        ask(
            &node,
            s,
            &rx,
            Go::Important(gone.into(), 0, Priority::Normal)
        ),
        Err(Error::ProcessUnknown)
    );
    // And a plain send on the same shard sees each queue's bound at once.
    let t = stuck(&node, 0, silent);
    for prio in [Priority::High, Priority::Max] {
        for v in 0..2 {
            assert_eq!(ask(&node, s, &rx, Go::Plain(t.into(), v, prio)), Ok(()));
        }
        assert_eq!(
            ask(&node, s, &rx, Go::Plain(t.into(), 2, prio)),
            Err(Error::MailboxFull)
        );
    }
    node.stop();
}

fn net_node(name: &str) -> Node {
    Node::start(
        name,
        NodeOptions {
            shards: 2,
            pin: false,
            stop_timeout: Duration::from_millis(500),
            network: Some(NetworkOptions::new("confirm-secret")),
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn a_peer_hears_of_a_full_mailbox_whatever_shard_holds_it() {
    let b = net_node("confirm_b@localhost");
    let a = net_node("confirm_a@localhost");
    a.network()
        .get_node_with_route(b.name(), b.network_address().unwrap())
        .unwrap();
    let silent = b.spawn(Silent, SpawnOptions::default()).unwrap();
    let (s, rx) = sender(&a, 0);
    // One target on each of b's shards: one of them is not the shard that reads the link.
    for shard in [0, 1] {
        let t = stuck(&b, shard, silent);
        for v in 0..2 {
            assert_eq!(
                ask(&a, s, &rx, Go::Important(t.into(), v, Priority::Normal)),
                Ok(())
            );
        }
        assert_eq!(
            ask(&a, s, &rx, Go::Important(t.into(), 2, Priority::Normal)),
            Err(Error::MailboxFull),
            "target on b's shard {shard}"
        );
        let gone = Pid::new(b.name(), 1024 * 7000 + shard as u64, b.creation());
        assert_eq!(
            ask(&a, s, &rx, Go::Important(gone.into(), 0, Priority::Normal)),
            Err(Error::ProcessUnknown)
        );
    }
    a.stop();
    b.stop();
}
