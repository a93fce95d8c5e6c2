//! Go's call variants and send settings: CallWithPriority, CallImportant, SendResponseError,
//! SetSendPriority, SetImportantDelivery, Events; on one node and across two over loopback.

mod common;

use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;
use std::time::Duration;

use common::{node, WAIT};
use ergo_engine::proto::gen::NetworkFlags;
use ergo_engine::{
    Actor, Context, Error, EventOptions, HandleResult, Message, NetworkOptions, Node, NodeOptions,
    Pid, Priority, Reason, Ref, SpawnOptions,
};

/// Counts the plain messages it handled; answers a call with that count, or (for the request
/// "fail") with an error response.
struct Counter {
    handled: u64,
}

impl Actor for Counter {
    async fn handle_message(&mut self, _ctx: &mut Context, _f: Pid, _m: Message) -> HandleResult {
        self.handled += 1;
        Ok(())
    }
    async fn handle_call(
        &mut self,
        ctx: &mut Context,
        from: Pid,
        r: Ref,
        req: Message,
    ) -> Result<Option<Message>, Reason> {
        if req.downcast_ref::<String>().is_some_and(|s| s == "fail") {
            ctx.send_response_error(from, r, Error::Network("refused on purpose".into()))
                .map_err(|e| Reason::custom(e.to_string()))?;
            return Ok(None);
        }
        Ok(Some(Message::new(self.handled as i64)))
    }
}

/// What the test asks a caller to do.
enum Ask {
    /// Send three plain messages to the target, then call it with this priority (`None`: the
    /// plain `call`, after `set_send_priority` when given).
    SendsThenCall(Pid, Option<Priority>, Option<Priority>),
    CallImportant(Pid),
    /// A plain call with a short timeout, after `set_important_delivery(on)`.
    CallWith(Pid, bool, Duration),
    CallText(Pid, String),
    Events,
}

struct Caller(Mutex<Sender<Result<Message, Error>>>);

impl Actor for Caller {
    async fn handle_message(&mut self, ctx: &mut Context, _f: Pid, m: Message) -> HandleResult {
        let Ok(ask) = m.downcast::<Ask>() else {
            return Ok(());
        };
        let r = match ask {
            Ask::SendsThenCall(to, with, setting) => {
                for i in 0..3i64 {
                    ctx.send(to, i)?;
                }
                match (with, setting) {
                    (Some(p), _) => ctx.call_with_priority(to, 0i64, p).await,
                    (None, Some(p)) => {
                        ctx.set_send_priority(p);
                        assert_eq!(ctx.send_priority(), p);
                        let r = ctx.call(to, 0i64).await;
                        ctx.set_send_priority(Priority::Normal);
                        r
                    }
                    (None, None) => ctx.call(to, 0i64).await,
                }
            }
            Ask::CallImportant(to) => ctx.call_important(to, "hello".to_string()).await,
            Ask::CallWith(to, important, timeout) => {
                ctx.set_important_delivery(important);
                assert_eq!(ctx.important_delivery(), important);
                ctx.call_timeout(to, "hello".to_string(), timeout).await
            }
            Ask::CallText(to, s) => ctx.call(to, s).await,
            Ask::Events => {
                let a = ctx.register_event("calls_ev_a", EventOptions::default());
                let b = ctx.register_event("calls_ev_b", EventOptions::default());
                assert!(a.is_ok() && b.is_ok());
                let both = ctx.events();
                ctx.unregister_event("calls_ev_a")?;
                let left = ctx.events();
                Ok(Message::new((both, left)))
            }
        };
        let _ = self.0.lock().unwrap().send(r);
        Ok(())
    }
}

fn caller(n: &Node) -> (Pid, std::sync::mpsc::Receiver<Result<Message, Error>>) {
    let (tx, rx) = channel();
    let opts = SpawnOptions {
        shard: Some(0),
        ..Default::default()
    };
    (n.spawn(Caller(Mutex::new(tx)), opts).unwrap(), rx)
}

fn counted(r: Result<Message, Error>) -> i64 {
    r.expect("the call is answered")
        .downcast::<i64>()
        .expect("an i64")
}

#[test]
fn a_call_with_a_higher_priority_overtakes_queued_messages() {
    let node = node("calls_prio", 1);
    let (c, rx) = caller(&node);
    let on0 = SpawnOptions {
        shard: Some(0),
        ..Default::default()
    };
    // Same shard: the three sends are in the callee's Main queue before it runs at all.
    let t = node.spawn(Counter { handled: 0 }, on0.clone()).unwrap();
    node.send(c, Ask::SendsThenCall(t, None, None)).unwrap();
    assert_eq!(
        counted(rx.recv_timeout(WAIT).unwrap()),
        3,
        "Main: after the sends"
    );
    let t = node.spawn(Counter { handled: 0 }, on0.clone()).unwrap();
    node.send(c, Ask::SendsThenCall(t, Some(Priority::Max), None))
        .unwrap();
    assert_eq!(counted(rx.recv_timeout(WAIT).unwrap()), 0, "Urgent: first");
    let t = node.spawn(Counter { handled: 0 }, on0.clone()).unwrap();
    node.send(c, Ask::SendsThenCall(t, Some(Priority::High), None))
        .unwrap();
    assert_eq!(counted(rx.recv_timeout(WAIT).unwrap()), 0, "System: first");
    // The process's send priority applies to its plain calls too, as in Go.
    let t = node.spawn(Counter { handled: 0 }, on0).unwrap();
    node.send(c, Ask::SendsThenCall(t, None, Some(Priority::High)))
        .unwrap();
    assert_eq!(counted(rx.recv_timeout(WAIT).unwrap()), 0);
    node.stop();
}

#[test]
fn an_error_response_reaches_a_local_caller() {
    let node = node("calls_err", 2);
    let (c, rx) = caller(&node);
    for shard in [0, 1] {
        let t = node
            .spawn(
                Counter { handled: 0 },
                SpawnOptions {
                    shard: Some(shard),
                    ..Default::default()
                },
            )
            .unwrap();
        node.send(c, Ask::CallText(t, "fail".into())).unwrap();
        assert_eq!(
            rx.recv_timeout(WAIT).unwrap().err(),
            Some(Error::Network("refused on purpose".into()))
        );
    }
    node.stop();
}

#[test]
fn events_lists_what_the_process_registered() {
    let node = node("calls_events", 1);
    let (c, rx) = caller(&node);
    node.send(c, Ask::Events).unwrap();
    let (both, left) = rx
        .recv_timeout(WAIT)
        .unwrap()
        .unwrap()
        .downcast::<(Vec<ergo_engine::Atom>, Vec<ergo_engine::Atom>)>()
        .unwrap();
    assert_eq!(
        both,
        vec![
            ergo_engine::Atom::new("calls_ev_a"),
            ergo_engine::Atom::new("calls_ev_b")
        ]
    );
    assert_eq!(left, vec![ergo_engine::Atom::new("calls_ev_b")]);
    node.stop();
}

fn net_node(name: &str) -> Node {
    Node::start(
        name,
        NodeOptions {
            shards: 2,
            pin: false,
            stop_timeout: Duration::from_millis(500),
            network: Some(NetworkOptions::new("calls-secret")),
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn important_calls_to_a_missing_remote_process_fail_at_once() {
    let b = net_node("calls_impb@localhost");
    let a = net_node("calls_impa@localhost");
    a.network()
        .get_node_with_route(b.name(), b.network_address().unwrap())
        .unwrap();
    let (c, rx) = caller(&a);
    node_call_ok(&a, &b, c, &rx);
    // PIDs of b that no process has, one on each of b's shards (the low bits of the id).
    let gone: Vec<Pid> = (0..2u64)
        .map(|s| Pid::new(b.name(), 1024 * 5000 + s, b.creation()))
        .collect();
    for &g in &gone {
        a.send(c, Ask::CallImportant(g)).unwrap();
        assert_eq!(
            rx.recv_timeout(WAIT).unwrap().err(),
            Some(Error::ProcessUnknown)
        );
        // The setting makes plain calls important too.
        a.send(c, Ask::CallWith(g, true, WAIT)).unwrap();
        assert_eq!(
            rx.recv_timeout(WAIT).unwrap().err(),
            Some(Error::ProcessUnknown)
        );
    }
    // The important flag is on the wire: a peer that did not announce important delivery
    // cannot take such a call, while a plain call to it works.
    let mut opts = NetworkOptions::new("calls-secret");
    opts.flags = NetworkFlags(opts.flags.0 & !NetworkFlags::IMPORTANT_DELIVERY);
    let plain = Node::start(
        "calls_impc@localhost",
        NodeOptions {
            shards: 1,
            pin: false,
            network: Some(opts),
            ..Default::default()
        },
    )
    .unwrap();
    a.network()
        .get_node_with_route(plain.name(), plain.network_address().unwrap())
        .unwrap();
    let t = plain
        .spawn(Counter { handled: 0 }, SpawnOptions::default())
        .unwrap();
    a.send(c, Ask::CallWith(t, false, WAIT)).unwrap();
    assert_eq!(counted(rx.recv_timeout(WAIT).unwrap()), 0);
    a.send(c, Ask::CallImportant(t)).unwrap();
    match rx.recv_timeout(WAIT).unwrap() {
        Err(Error::Network(e)) => assert!(e.contains("important"), "{e}"),
        other => panic!("expected a refusal of important delivery, got {other:?}"),
    }
    plain.stop();
    a.stop();
    b.stop();
}

/// A remote call that works (so the failures above are about the target, not the link), and a
/// remote error response.
fn node_call_ok(
    a: &Node,
    b: &Node,
    c: Pid,
    rx: &std::sync::mpsc::Receiver<Result<Message, Error>>,
) {
    let t = b
        .spawn(Counter { handled: 0 }, SpawnOptions::default())
        .unwrap();
    a.send(c, Ask::CallImportant(t)).unwrap();
    assert_eq!(counted(rx.recv_timeout(WAIT).unwrap()), 0);
    a.send(c, Ask::CallText(t, "fail".into())).unwrap();
    let e = rx.recv_timeout(WAIT).unwrap().expect_err("an error");
    assert!(
        e.to_string().contains("refused on purpose"),
        "the remote caller sees the error's text, got {e}"
    );
}
