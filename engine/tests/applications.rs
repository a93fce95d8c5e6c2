//! Applications: dependencies, start/stop order, and the three modes.

mod common;

use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

use common::*;
use ergo_engine::{
    Actor, ApplicationMode, ApplicationSpec, ApplicationState, Atom, ChildSpec, Context, Error,
    HandleResult, Message, Node, Pid, Reason,
};

#[derive(Debug, Clone, PartialEq)]
enum Life {
    Start(Atom, Pid),
    Stop(Atom, Reason),
}

struct Member {
    name: Atom,
    tx: Sender<Life>,
}

impl Actor for Member {
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
    fn terminate(&mut self, _ctx: &mut Context, reason: &Reason) {
        let _ = self.tx.send(Life::Stop(self.name, reason.clone()));
    }
}

fn member(name: &str, tx: &Sender<Life>) -> ChildSpec {
    let tx = tx.clone();
    let n = Atom::new(name);
    ChildSpec::new(name, move || Member {
        name: n,
        tx: tx.clone(),
    })
}

fn app(name: &str, depends: &[&str], members: Vec<ChildSpec>) -> ApplicationSpec {
    let mut s = ApplicationSpec::new(name);
    s.depends = depends.iter().map(|d| Atom::new(d)).collect();
    s.group = members;
    s
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

fn wait_until(what: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if what() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

fn running(node: &Node, name: &str) -> bool {
    node.applications()
        .iter()
        .any(|a| a.name == name && matches!(a.state, ApplicationState::Running { .. }))
}

#[test]
fn dependencies_gate_start_and_node_stop_goes_in_reverse() {
    let (tx, rx) = channel();
    let node = node("apps", 2);
    node.application_load(app("base", &[], vec![member("b1", &tx), member("b2", &tx)]))
        .unwrap();
    node.application_load(app("web", &["base"], vec![member("w1", &tx)]))
        .unwrap();
    assert_eq!(
        node.application_start("web", None),
        Err(Error::ApplicationDepends("web".into(), "base".into()))
    );
    assert!(matches!(
        node.application_start("nope", None),
        Err(Error::ApplicationUnknown(_))
    ));
    node.application_start("base", None).unwrap();
    node.application_start("web", None).unwrap();
    assert!(matches!(
        node.application_start("web", None),
        Err(Error::ApplicationRunning(_))
    ));
    let names: Vec<Atom> = (0..3).map(|_| started(&rx).0).collect();
    assert_eq!(names, vec![Atom::new("b1"), "b2".into(), "w1".into()]);
    assert_eq!(
        node.applications_running(),
        vec![Atom::new("base"), "web".into()]
    );
    node.stop();
    let order: Vec<Atom> = (0..3).map(|_| stopped(&rx).0).collect();
    assert_eq!(order, vec![Atom::new("w1"), "b2".into(), "b1".into()]);
}

#[test]
fn application_stop_stops_members_in_reverse_order() {
    let (tx, rx) = channel();
    let node = node("appstop", 1);
    node.application_load(app("a", &[], vec![member("m1", &tx), member("m2", &tx)]))
        .unwrap();
    node.application_start("a", None).unwrap();
    started(&rx);
    started(&rx);
    node.application_stop("a").unwrap();
    assert_eq!(stopped(&rx), ("m2".into(), Reason::Shutdown));
    assert_eq!(stopped(&rx), ("m1".into(), Reason::Shutdown));
    assert!(!running(&node, "a"));
    // It can start again.
    node.application_start("a", None).unwrap();
    started(&rx);
    node.stop();
}

#[test]
fn temporary_mode_keeps_going_until_the_last_member_ends() {
    let (tx, rx) = channel();
    let node = node("temporary", 1);
    node.application_load(app("t", &[], vec![member("m1", &tx), member("m2", &tx)]))
        .unwrap();
    node.application_start("t", Some(ApplicationMode::Temporary))
        .unwrap();
    let (_, m1) = started(&rx);
    let (_, m2) = started(&rx);
    node.send(m1, StopWith(Reason::custom("crash"))).unwrap();
    assert_eq!(stopped(&rx), ("m1".into(), Reason::custom("crash")));
    assert!(
        rx.recv_timeout(Duration::from_millis(50)).is_err(),
        "m2 keeps running"
    );
    assert!(running(&node, "t"));
    node.send(m2, StopWith(Reason::Normal)).unwrap();
    assert_eq!(stopped(&rx), ("m2".into(), Reason::Normal));
    assert!(wait_until(|| !running(&node, "t")));
    assert!(!node.is_stopping());
    node.stop();
}

#[test]
fn transient_mode_stops_the_node_on_an_abnormal_exit_only() {
    let (tx, rx) = channel();
    let node = node("transient", 1);
    node.application_load(app(
        "t",
        &[],
        vec![member("m1", &tx), member("m2", &tx), member("m3", &tx)],
    ))
    .unwrap();
    node.application_start("t", Some(ApplicationMode::Transient))
        .unwrap();
    let (_, m1) = started(&rx);
    let (_, m2) = started(&rx);
    started(&rx);
    node.send(m1, StopWith(Reason::Normal)).unwrap();
    assert_eq!(stopped(&rx), ("m1".into(), Reason::Normal));
    assert!(rx.recv_timeout(Duration::from_millis(50)).is_err());
    assert!(!node.is_stopping());
    node.send(m2, StopWith(Reason::custom("crash"))).unwrap();
    assert_eq!(stopped(&rx), ("m2".into(), Reason::custom("crash")));
    assert_eq!(stopped(&rx), ("m3".into(), Reason::Shutdown));
    assert!(wait_until(|| node.is_stopping()));
    node.stop();
}

#[test]
fn permanent_mode_stops_the_node_on_any_exit() {
    let (tx, rx) = channel();
    let node = node("permanent", 1);
    node.application_load(app("p", &[], vec![member("m1", &tx), member("m2", &tx)]))
        .unwrap();
    node.application_start("p", Some(ApplicationMode::Permanent))
        .unwrap();
    started(&rx);
    let (_, m2) = started(&rx);
    node.send(m2, StopWith(Reason::Normal)).unwrap();
    assert_eq!(stopped(&rx), ("m2".into(), Reason::Normal));
    assert_eq!(stopped(&rx), ("m1".into(), Reason::Shutdown));
    assert!(wait_until(|| node.is_stopping()));
    node.stop();
}
