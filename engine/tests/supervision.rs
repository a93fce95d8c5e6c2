//! Supervisors (strategies, restart kinds, intensity, significant children, ordered shutdown),
//! and pools.

mod common;

use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

use common::*;
use ergo_engine::supervisor::restarts_exceeded;
use ergo_engine::{
    Actor, Atom, ChildSpec, Context, Error, HandleResult, Message, MessageExitPid, Pid, Pool,
    Reason, Ref, RestartStrategy, SpawnOptions, StartChild, Supervisor, SupervisorRestart,
    SupervisorSpec, SupervisorType, WhichChildren,
};

#[derive(Debug, Clone, PartialEq)]
enum Life {
    Start(Atom, Pid),
    Stop(Atom, Reason),
}

/// A child that reports its start and stop.
struct Worker {
    name: Atom,
    tx: Sender<Life>,
}

impl Actor for Worker {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        let _ = self.tx.send(Life::Start(self.name, ctx.pid()));
        Ok(())
    }
    async fn handle_message(&mut self, _ctx: &mut Context, _from: Pid, m: Message) -> HandleResult {
        if let Ok(StopWith(r)) = m.downcast::<StopWith>() {
            return Err(r);
        }
        Ok(())
    }
    async fn handle_call(
        &mut self,
        ctx: &mut Context,
        _f: Pid,
        _r: Ref,
        _m: Message,
    ) -> Result<Option<Message>, Reason> {
        Ok(Some(Message::new(ctx.pid())))
    }
    fn terminate(&mut self, _ctx: &mut Context, reason: &Reason) {
        let _ = self.tx.send(Life::Stop(self.name, reason.clone()));
    }
}

fn child(name: &str, tx: &Sender<Life>) -> ChildSpec {
    let tx = tx.clone();
    let n = Atom::new(name);
    ChildSpec::new(name, move || Worker {
        name: n,
        tx: tx.clone(),
    })
}

fn spec(
    kind: SupervisorType,
    strategy: RestartStrategy,
    intensity: u16,
    children: Vec<ChildSpec>,
) -> SupervisorSpec {
    SupervisorSpec {
        kind,
        restart: SupervisorRestart {
            strategy,
            intensity,
            period: Duration::from_secs(60),
        },
        children,
        disable_auto_shutdown: false,
    }
}

/// Spawns the supervisor linked to itself (trapping exits) and reports the supervisor's exit.
struct Watcher {
    spec: Option<SupervisorSpec>,
    tx: Sender<Seen>,
}

impl Actor for Watcher {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        ctx.set_trap_exit(true);
        let spec = self.spec.take().ok_or(Reason::custom("no spec"))?;
        ctx.spawn_register(
            "sup",
            Supervisor::new(spec),
            SpawnOptions {
                link_parent: true,
                ..Default::default()
            },
        )?;
        Ok(())
    }
    async fn handle_message(&mut self, _ctx: &mut Context, from: Pid, m: Message) -> HandleResult {
        let _ = self.tx.send(Seen::Message(from, m));
        Ok(())
    }
}

fn supervised(name: &str, spec: SupervisorSpec) -> (ergo_engine::Node, Receiver<Seen>) {
    let node = node(name, 2);
    let (tx, rx) = channel();
    node.spawn(
        Watcher {
            spec: Some(spec),
            tx,
        },
        SpawnOptions::default(),
    )
    .unwrap();
    (node, rx)
}

fn started(rx: &Receiver<Life>) -> (Atom, Pid) {
    match rx.recv_timeout(WAIT).unwrap() {
        Life::Start(n, p) => (n, p),
        other => panic!("expected a start, got {other:?}"),
    }
}

fn stopped(rx: &Receiver<Life>) -> (Atom, Reason) {
    match rx.recv_timeout(WAIT).unwrap() {
        Life::Stop(n, r) => (n, r),
        other => panic!("expected a stop, got {other:?}"),
    }
}

fn children(node: &ergo_engine::Node) -> Vec<(Atom, Pid)> {
    node.call("sup", WhichChildren, WAIT)
        .unwrap()
        .downcast()
        .unwrap()
}

#[test]
fn one_for_one_restarts_only_the_failed_child() {
    let (tx, rx) = channel();
    let s = spec(
        SupervisorType::OneForOne,
        RestartStrategy::Permanent,
        5,
        vec![child("a", &tx), child("b", &tx)],
    );
    let (node, _w) = supervised("ofo", s);
    let (_, a) = started(&rx);
    let (_, b) = started(&rx);
    node.send(a, StopWith(Reason::custom("crash"))).unwrap();
    assert_eq!(stopped(&rx), ("a".into(), Reason::custom("crash")));
    let (n, a2) = started(&rx);
    assert_eq!(n, "a");
    assert_ne!(a2, a);
    assert_eq!(children(&node), vec![("a".into(), a2), ("b".into(), b)]);
    // Permanent: even a normal exit is restarted.
    node.send(b, StopWith(Reason::Normal)).unwrap();
    assert_eq!(stopped(&rx), ("b".into(), Reason::Normal));
    assert_eq!(started(&rx).0, "b");
    node.stop();
}

#[test]
fn a_killed_child_is_restarted_and_its_supervisor_lives_on() {
    let (tx, rx) = channel();
    let s = spec(
        SupervisorType::OneForOne,
        RestartStrategy::Permanent,
        5,
        vec![child("a", &tx), child("b", &tx)],
    );
    let (node, w) = supervised("killchild", s);
    let (_, a) = started(&rx);
    let (_, b) = started(&rx);
    let sup = node.whereis("sup").expect("the supervisor runs");
    // Go's semantics: the kill ends the child (its terminate runs with `kill`); the supervisor
    // traps the resulting exit signal like any other and restarts the child.
    node.kill(a).unwrap();
    assert_eq!(stopped(&rx), ("a".into(), Reason::Kill));
    let (n, a2) = started(&rx);
    assert_eq!(n, "a");
    assert_eq!(children(&node), vec![("a".into(), a2), ("b".into(), b)]);
    assert_eq!(node.whereis("sup"), Some(sup));
    assert!(
        w.try_recv().is_err(),
        "the supervisor's parent heard nothing: it did not terminate"
    );
    node.stop();
}

#[test]
fn all_for_one_stops_the_others_in_reverse_order_and_restarts_all() {
    let (tx, rx) = channel();
    let kids = vec![child("a", &tx), child("b", &tx), child("c", &tx)];
    let (node, _w) = supervised(
        "afo",
        spec(
            SupervisorType::AllForOne,
            RestartStrategy::Transient,
            5,
            kids,
        ),
    );
    let (_, a) = started(&rx);
    started(&rx);
    started(&rx);
    node.send(a, StopWith(Reason::custom("crash"))).unwrap();
    assert_eq!(stopped(&rx), ("a".into(), Reason::custom("crash")));
    assert_eq!(stopped(&rx), ("c".into(), Reason::Shutdown));
    assert_eq!(stopped(&rx), ("b".into(), Reason::Shutdown));
    let names: Vec<Atom> = (0..3).map(|_| started(&rx).0).collect();
    assert_eq!(names, vec![Atom::new("a"), "b".into(), "c".into()]);
    node.stop();
}

#[test]
fn rest_for_one_restarts_the_failed_child_and_those_after_it() {
    let (tx, rx) = channel();
    let kids = vec![child("a", &tx), child("b", &tx), child("c", &tx)];
    let (node, _w) = supervised(
        "rfo",
        spec(
            SupervisorType::RestForOne,
            RestartStrategy::Transient,
            5,
            kids,
        ),
    );
    let (_, a) = started(&rx);
    let (_, b) = started(&rx);
    started(&rx);
    node.send(b, StopWith(Reason::custom("crash"))).unwrap();
    assert_eq!(stopped(&rx), ("b".into(), Reason::custom("crash")));
    assert_eq!(stopped(&rx), ("c".into(), Reason::Shutdown));
    assert_eq!(started(&rx).0, "b");
    assert_eq!(started(&rx).0, "c");
    assert_eq!(children(&node)[0], ("a".into(), a));
    node.stop();
}

#[test]
fn transient_and_temporary_children_and_auto_shutdown() {
    let (tx, rx) = channel();
    let kids = vec![child("a", &tx), child("b", &tx)];
    let (node, w) = supervised(
        "transient",
        spec(
            SupervisorType::OneForOne,
            RestartStrategy::Transient,
            5,
            kids,
        ),
    );
    let (_, a) = started(&rx);
    let (_, b) = started(&rx);
    // A normal exit is not restarted under transient.
    node.send(a, StopWith(Reason::Normal)).unwrap();
    assert_eq!(stopped(&rx), ("a".into(), Reason::Normal));
    assert_eq!(children(&node), vec![("b".into(), b)]);
    // An abnormal one is.
    node.send(b, StopWith(Reason::custom("x"))).unwrap();
    assert_eq!(stopped(&rx), ("b".into(), Reason::custom("x")));
    let (_, b2) = started(&rx);
    // The last child leaves normally: auto shutdown, the supervisor terminates normally.
    node.send(b2, StopWith(Reason::Shutdown)).unwrap();
    let (_, e) = next_as::<MessageExitPid>(&w);
    assert_eq!(e.reason, Reason::Normal);
    node.stop();

    let (tx, rx) = channel();
    let mut s = spec(
        SupervisorType::OneForOne,
        RestartStrategy::Temporary,
        5,
        vec![child("t", &tx)],
    );
    s.disable_auto_shutdown = true;
    let (node, _w) = supervised("temporary", s);
    let (_, t) = started(&rx);
    node.send(t, StopWith(Reason::custom("crash"))).unwrap();
    assert_eq!(stopped(&rx), ("t".into(), Reason::custom("crash")));
    // Never restarted; the supervisor stays (auto shutdown disabled).
    assert_eq!(children(&node), vec![]);
    assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
    node.stop();
}

#[test]
fn exceeding_the_intensity_stops_the_supervisor() {
    let (tx, rx) = channel();
    let kids = vec![child("a", &tx), child("b", &tx)];
    let (node, w) = supervised(
        "intensity",
        spec(
            SupervisorType::OneForOne,
            RestartStrategy::Permanent,
            2,
            kids,
        ),
    );
    let (_, mut a) = started(&rx);
    started(&rx);
    for _ in 0..2 {
        node.send(a, StopWith(Reason::custom("crash"))).unwrap();
        assert_eq!(stopped(&rx).0, "a");
        a = started(&rx).1;
    }
    // The third restart within the period is one too many.
    node.send(a, StopWith(Reason::custom("crash"))).unwrap();
    assert_eq!(stopped(&rx).0, "a");
    assert_eq!(stopped(&rx), ("b".into(), Reason::Shutdown));
    let (_, e) = next_as::<MessageExitPid>(&w);
    assert_eq!(e.reason, restarts_exceeded());
    node.stop();
}

#[test]
fn a_significant_child_ends_the_supervisor() {
    let (tx, rx) = channel();
    let kids = vec![
        child("a", &tx),
        child("b", &tx).significant(),
        child("c", &tx),
    ];
    let (node, w) = supervised(
        "significant",
        spec(
            SupervisorType::AllForOne,
            RestartStrategy::Transient,
            5,
            kids,
        ),
    );
    started(&rx);
    let (_, b) = started(&rx);
    started(&rx);
    node.send(b, StopWith(Reason::Normal)).unwrap();
    assert_eq!(stopped(&rx), ("b".into(), Reason::Normal));
    assert_eq!(stopped(&rx), ("c".into(), Reason::Shutdown));
    assert_eq!(stopped(&rx), ("a".into(), Reason::Shutdown));
    assert_eq!(next_as::<MessageExitPid>(&w).1.reason, Reason::Normal);
    node.stop();
}

#[test]
fn simple_one_for_one_starts_children_on_demand() {
    let (tx, rx) = channel();
    let mut s = spec(
        SupervisorType::SimpleOneForOne,
        RestartStrategy::Transient,
        5,
        vec![child("w", &tx)],
    );
    s.disable_auto_shutdown = true;
    let (node, _w) = supervised("sofo", s);
    assert_eq!(children(&node), vec![]);
    let p1: Result<Pid, Error> = node
        .call("sup", StartChild("w".into()), WAIT)
        .unwrap()
        .downcast()
        .unwrap();
    let p2: Result<Pid, Error> = node
        .call("sup", StartChild("w".into()), WAIT)
        .unwrap()
        .downcast()
        .unwrap();
    let (p1, p2) = (p1.unwrap(), p2.unwrap());
    assert_ne!(p1, p2);
    assert_eq!(started(&rx).1, p1);
    assert_eq!(started(&rx).1, p2);
    assert_eq!(children(&node).len(), 2);
    let bad: Result<Pid, Error> = node
        .call("sup", StartChild("nope".into()), WAIT)
        .unwrap()
        .downcast()
        .unwrap();
    assert!(bad.is_err());
    node.stop();
}

#[test]
fn node_stop_shuts_children_down_last_first() {
    let (tx, rx) = channel();
    let kids = vec![child("a", &tx), child("b", &tx), child("c", &tx)];
    let node = node("ordered", 2);
    node.spawn(
        Supervisor::new(spec(
            SupervisorType::OneForOne,
            RestartStrategy::Permanent,
            5,
            kids,
        )),
        SpawnOptions::default(),
    )
    .unwrap();
    for _ in 0..3 {
        started(&rx);
    }
    node.stop();
    let order: Vec<(Atom, Reason)> = (0..3).map(|_| stopped(&rx)).collect();
    assert_eq!(
        order,
        vec![
            ("c".into(), Reason::Shutdown),
            ("b".into(), Reason::Shutdown),
            ("a".into(), Reason::Shutdown)
        ]
    );
    assert_eq!(node.info().processes, 0);
}

#[test]
fn a_pool_spreads_calls_and_replaces_dead_workers() {
    let (tx, rx) = channel();
    let node = node("pool", 1);
    let t = tx.clone();
    let pool = node
        .spawn_register(
            "pool",
            Pool::new(3, move || Worker {
                name: "w".into(),
                tx: t.clone(),
            }),
            SpawnOptions::default(),
        )
        .unwrap();
    let workers: Vec<Pid> = (0..3).map(|_| started(&rx).1).collect();
    let mut answered = Vec::new();
    for _ in 0..3 {
        answered.push(
            node.call(pool, (), WAIT)
                .unwrap()
                .downcast::<Pid>()
                .unwrap(),
        );
    }
    answered.sort();
    let mut w = workers.clone();
    w.sort();
    assert_eq!(answered, w, "each worker took one call");
    // A message through the pool reaches a worker; a dead worker is replaced.
    node.send(pool, StopWith(Reason::custom("die"))).unwrap();
    assert_eq!(stopped(&rx).1, Reason::custom("die"));
    let (_, fresh) = started(&rx);
    assert!(!workers.contains(&fresh));
    node.stop();
}
