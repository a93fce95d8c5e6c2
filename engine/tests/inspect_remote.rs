//! `system_inspect` over a real TCP connection between two of our nodes: a process on one
//! node calls the other's `system_inspect` with Go's request types (as Go's Observer does),
//! monitors the event each answer names, and reads the periodic figures. Bogus requests get
//! Go's error and change nothing.

mod common;

use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

use common::WAIT;
use ergo_engine::inspect::messages::*;
use ergo_engine::inspect::{self, SYSTEM_INSPECT};
use ergo_engine::proto::edf::{Atom, Event, GoError};
use ergo_engine::{
    Actor, Context, HandleResult, Message, MessageEvent, NetworkOptions, Node, NodeOptions, Pid,
    ProcessId, Reason, SpawnOptions,
};

fn net_node(name: &str) -> Node {
    Node::start(
        name,
        NodeOptions {
            shards: 2,
            pin: false,
            network: Some(NetworkOptions::new("inspect-secret")),
            ..Default::default()
        },
    )
    .expect("node starts")
}

/// A pair: `inspected` runs `system_inspect`, `observer` knows its route.
fn pair(tag: &str) -> (Node, Node) {
    inspect::register_types().unwrap();
    let inspected = net_node(&format!("{tag}-n@localhost"));
    inspected.start_system_inspect().unwrap();
    let observer = net_node(&format!("{tag}-o@localhost"));
    observer
        .network()
        .get_node_with_route(inspected.name(), inspected.network_address().unwrap())
        .unwrap();
    (observer, inspected)
}

/// On the observer side: monitors the events it is told to, hands every event to the test.
struct Watcher(Sender<MessageEvent>);
struct Watch(Event);

impl Actor for Watcher {
    async fn handle_message(&mut self, ctx: &mut Context, _from: Pid, m: Message) -> HandleResult {
        if let Some(Watch(ev)) = m.downcast_ref::<Watch>() {
            ctx.monitor_event(*ev)
                .map_err(|e| Reason::custom(e.to_string()))?;
        }
        Ok(())
    }
    async fn handle_event(&mut self, _ctx: &mut Context, ev: MessageEvent) -> HandleResult {
        let _ = self.0.send(ev);
        Ok(())
    }
}

fn watcher(n: &Node) -> (Pid, Receiver<MessageEvent>) {
    let (tx, rx) = channel();
    (n.spawn(Watcher(tx), SpawnOptions::default()).unwrap(), rx)
}

fn target(n: &Node) -> ProcessId {
    ProcessId::new(Atom::new(SYSTEM_INSPECT), n.name())
}

fn call<T: std::any::Any + Send>(o: &Node, n: &Node, req: T) -> Message {
    o.call(target(n), req, WAIT)
        .expect("system_inspect answers")
}

/// The next event on `rx` whose payload is a `T`.
fn next_event<T: Clone + 'static>(rx: &Receiver<MessageEvent>) -> (Event, T) {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ev = rx.recv_timeout(left).expect("an event in time");
        if let Some(v) = ev.message.downcast_ref::<T>() {
            return (ev.event, v.clone());
        }
    }
}

#[test]
fn node_network_and_connection_figures_arrive_in_gos_types() {
    let (o, n) = pair("insp-node");
    let (w, rx) = watcher(&o);
    let r = call(&o, &n, RequestInspectNode {})
        .downcast::<ResponseInspectNode>()
        .unwrap_or_else(|_| panic!("ResponseInspectNode"));
    assert_eq!(
        r.event,
        Event {
            name: "inspect_node".into(),
            node: n.name()
        }
    );
    assert_eq!(r.creation, n.creation());
    assert_eq!(r.crc32.len(), 8);
    o.send(w, Watch(r.event)).unwrap();
    let (_, m) = next_event::<MessageInspectNode>(&rx);
    assert_eq!(m.node, n.name());
    assert_eq!(m.info.name, n.name());
    assert!(
        m.info.processes_total >= 2,
        "system_inspect and its inspector"
    );

    let r = call(&o, &n, RequestInspectNetwork {})
        .downcast::<ResponseInspectNetwork>()
        .unwrap_or_else(|_| panic!("ResponseInspectNetwork"));
    assert!(!r.stopped);
    assert_eq!(r.info.nodes, Some(vec![o.name()]));
    assert_eq!(r.info.acceptors.as_ref().map(|a| a.len()), Some(1));

    let r = call(
        &o,
        &n,
        RequestInspectConnection {
            remote_node: o.name(),
        },
    )
    .downcast::<ResponseInspectConnection>()
    .unwrap_or_else(|_| panic!("ResponseInspectConnection"));
    assert!(!r.disconnected);
    assert_eq!(r.info.node, o.name());
    assert!(r.info.pool_size >= 1);
    let r = call(
        &o,
        &n,
        RequestInspectConnection {
            remote_node: "nobody@nowhere".into(),
        },
    )
    .downcast::<ResponseInspectConnection>()
    .unwrap_or_else(|_| panic!("ResponseInspectConnection"));
    assert!(r.disconnected, "no such connection");
    o.stop();
    n.stop();
}

/// A process with inspectable state.
struct Stateful;
impl Actor for Stateful {
    fn handle_inspect(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
    ) -> std::collections::BTreeMap<String, String> {
        [("color".to_string(), "blue".to_string())].into()
    }
}

#[test]
fn processes_their_figures_and_state_arrive_as_events() {
    let (o, n) = pair("insp-proc");
    let (w, rx) = watcher(&o);
    let p = n
        .spawn_register("stateful", Stateful, SpawnOptions::default())
        .unwrap();

    let r = call(&o, &n, RequestInspectProcessList { start: 0, limit: 0 })
        .downcast::<ResponseInspectProcessList>()
        .unwrap_or_else(|_| panic!("ResponseInspectProcessList"));
    assert_eq!(
        r.event.name,
        Atom::new("inspect_process_list_1000_1999"),
        "Go's defaults"
    );
    o.send(w, Watch(r.event)).unwrap();
    let (_, list) = next_event::<MessageInspectProcessList>(&rx);
    let procs = list.processes.unwrap_or_default();
    let s = procs
        .iter()
        .find(|i| i.pid == p)
        .expect("the process is listed");
    assert_eq!(s.name, Atom::new("stateful"));
    assert_eq!(s.state.0, 2, "sleeping");

    let r = call(&o, &n, RequestInspectProcess { pid: p })
        .downcast::<ResponseInspectProcess>()
        .unwrap_or_else(|_| panic!("ResponseInspectProcess"));
    o.send(w, Watch(r.event)).unwrap();
    let (_, m) = next_event::<MessageInspectProcess>(&rx);
    assert!(!m.terminated);
    assert_eq!(m.info.pid, p);
    assert!(m.info.behavior.ends_with("Stateful"));

    let r = call(&o, &n, RequestInspectProcessState { pid: p })
        .downcast::<ResponseInspectProcessState>()
        .unwrap_or_else(|_| panic!("ResponseInspectProcessState"));
    o.send(w, Watch(r.event)).unwrap();
    let (_, m) = next_event::<MessageInspectProcessState>(&rx);
    assert_eq!(
        m.state.unwrap_or_default().get("color").map(String::as_str),
        Some("blue")
    );

    // An unknown process: Go's answer is one event saying it terminated.
    let unknown = Pid::new(n.name(), 999_999 << 10, n.creation());
    let r = call(&o, &n, RequestInspectProcess { pid: unknown })
        .downcast::<ResponseInspectProcess>()
        .unwrap_or_else(|_| panic!("ResponseInspectProcess"));
    o.send(w, Watch(r.event)).unwrap();
    let (_, m) = next_event::<MessageInspectProcess>(&rx);
    assert!(m.terminated);
    o.stop();
    n.stop();
}

#[test]
fn applications_are_listed_with_their_processes() {
    let (o, n) = pair("insp-app");
    let (w, rx) = watcher(&o);
    let mut spec = ergo_engine::ApplicationSpec::new("depot");
    spec.description = "a depot".into();
    spec.group
        .push(ergo_engine::supervisor::ChildSpec::new("keeper", || Stateful).registered());
    n.application_load(spec).unwrap();
    n.application_start("depot", None).unwrap();

    let r = call(&o, &n, RequestInspectApplicationList {})
        .downcast::<ResponseInspectApplicationList>()
        .unwrap_or_else(|_| panic!("ResponseInspectApplicationList"));
    o.send(w, Watch(r.event)).unwrap();
    let (_, m) = next_event::<MessageInspectApplicationList>(&rx);
    let apps = m.applications.unwrap_or_default();
    let depot = apps.get(&Atom::new("depot")).expect("listed");
    assert_eq!(depot.description, "a depot");
    assert_eq!(depot.state.0, 2, "running");

    let r = call(
        &o,
        &n,
        RequestInspectApplicationTree {
            application: "depot".into(),
            limit: 0,
        },
    )
    .downcast::<ResponseInspectApplicationTree>()
    .unwrap_or_else(|_| panic!("ResponseInspectApplicationTree"));
    assert_eq!(
        r.event.name,
        Atom::new("inspect_application_tree_'depot'_1000")
    );
    o.send(w, Watch(r.event)).unwrap();
    let (_, m) = next_event::<MessageInspectApplicationTree>(&rx);
    let keeper = n.whereis("keeper").unwrap();
    let procs = m.processes.unwrap_or_default();
    assert!(procs.iter().any(|p| p.pid == keeper), "{procs:?}");
    assert!(procs.iter().all(|p| p.application == Atom::new("depot")));
    o.stop();
    n.stop();
}

#[test]
fn do_commands_act_and_answer_with_gos_errors() {
    let (o, n) = pair("insp-do");
    // One victim per shard: the kill and the check cross shards or not.
    let other = n.spawn(Stateful, SpawnOptions::default()).unwrap();
    let victim = n.spawn(Stateful, SpawnOptions::default()).unwrap();
    assert_ne!(other.id & 1023, victim.id & 1023);
    for v in [other, victim] {
        let r = call(&o, &n, RequestDoKill { pid: v })
            .downcast::<ResponseDoKill>()
            .unwrap_or_else(|_| panic!("ResponseDoKill"));
        assert_eq!(r.error, None);
        let deadline = Instant::now() + WAIT;
        while n.is_alive(v) {
            assert!(Instant::now() < deadline, "the kill lands");
            std::thread::sleep(Duration::from_millis(5));
        }
        let r = call(&o, &n, RequestDoKill { pid: v })
            .downcast::<ResponseDoKill>()
            .unwrap_or_else(|_| panic!("ResponseDoKill"));
        assert_eq!(
            r.error.map(|e| e.text().to_string()),
            Some("unknown process".into())
        );
    }
    let victim = n.spawn(Stateful, SpawnOptions::default()).unwrap();
    let r = call(&o, &n, RequestDoKill { pid: victim })
        .downcast::<ResponseDoKill>()
        .unwrap_or_else(|_| panic!("ResponseDoKill"));
    assert_eq!(r.error, None);
    let deadline = Instant::now() + WAIT;
    while n.is_alive(victim) {
        assert!(Instant::now() < deadline, "the kill lands");
        std::thread::sleep(Duration::from_millis(5));
    }
    let r = call(&o, &n, RequestDoKill { pid: victim })
        .downcast::<ResponseDoKill>()
        .unwrap_or_else(|_| panic!("ResponseDoKill"));
    assert_eq!(
        r.error.map(|e| e.text().to_string()),
        Some("unknown process".into())
    );
    let r = call(
        &o,
        &n,
        RequestDoSetLogLevel {
            level: ergo_engine::proto::gen::LogLevel(3),
        },
    )
    .downcast::<ResponseDoSetLogLevel>()
    .unwrap_or_else(|_| panic!("ResponseDoSetLogLevel"));
    assert_eq!(r.error, None);
    assert_eq!(n.log_level(), ergo_engine::LogLevel::Error);
    let r = call(
        &o,
        &n,
        RequestDoSetLogLevel {
            level: ergo_engine::proto::gen::LogLevel(77),
        },
    )
    .downcast::<ResponseDoSetLogLevel>()
    .unwrap_or_else(|_| panic!("ResponseDoSetLogLevel"));
    assert!(r.error.is_some(), "a level Go does not have");
    assert_eq!(n.log_level(), ergo_engine::LogLevel::Error, "unchanged");
    o.stop();
    n.stop();
}

#[test]
fn bogus_requests_get_gos_error_and_change_nothing() {
    let (o, n) = pair("insp-bogus");
    let before = n.info().processes;
    let names = n.info().names;
    // Not an inspect request at all.
    let r = call(&o, &n, String::from("show me everything"))
        .downcast::<GoError>()
        .unwrap_or_else(|_| panic!("an error value"));
    assert_eq!(r.text(), "not supported");
    let r = call(&o, &n, 42i64)
        .downcast::<GoError>()
        .unwrap_or_else(|_| panic!("an error value"));
    assert_eq!(r.text(), "not supported");
    // A process asking for the state of system_inspect itself.
    let me = n.whereis(SYSTEM_INSPECT).unwrap();
    let r = call(&o, &n, RequestInspectProcessState { pid: me })
        .downcast::<GoError>()
        .unwrap_or_else(|_| panic!("an error value"));
    assert_eq!(r.text(), "unable to inspect the state of itself");
    // Meta processes do not exist here: Go's "unknown meta process".
    let r = call(
        &o,
        &n,
        RequestDoSendMeta {
            meta: Default::default(),
            message: 1i64.into(),
        },
    )
    .downcast::<ResponseDoSendMeta>()
    .unwrap_or_else(|_| panic!("ResponseDoSendMeta"));
    assert_eq!(
        r.error.map(|e| e.text().to_string()),
        Some("unknown meta process".into())
    );
    assert_eq!(n.info().processes, before, "no process started");
    assert_eq!(n.info().names, names, "no name registered");
    assert!(n.is_alive(me), "system_inspect goes on");
    o.stop();
    n.stop();
}

#[test]
fn an_inspector_without_subscribers_stops_and_its_event_goes() {
    let (o, n) = pair("insp-idle");
    let r = call(&o, &n, RequestInspectNode {})
        .downcast::<ResponseInspectNode>()
        .unwrap_or_else(|_| panic!("ResponseInspectNode"));
    let inspector = n.whereis("inspect_node").expect("the inspector runs");
    let _ = r;
    // Nobody subscribes: after Go's idle period it stops, system_inspect stays.
    let deadline = Instant::now() + Duration::from_secs(5) + WAIT;
    while n.is_alive(inspector) {
        assert!(Instant::now() < deadline, "the idle inspector stops");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(n.whereis(SYSTEM_INSPECT).is_some());
    // A new request starts a new one.
    call(&o, &n, RequestInspectNode {})
        .downcast::<ResponseInspectNode>()
        .unwrap_or_else(|_| panic!("answered again"));
    o.stop();
    n.stop();
}
