//! The node-level API Go's gen.Node has: RegisterName / UnregisterName for any process,
//! MakeRef, node-owned events, versions, per-process log levels.

mod common;

use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;

use common::*;
use ergo_engine::{
    framework_version, Actor, Atom, Context, Error, Event, EventOptions, HandleResult, LogLevel,
    Message, MessageDownEvent, MessageEvent, Pid, Reason, SpawnOptions,
};

#[test]
fn names_registered_by_the_node_route_and_go_away() {
    let node = node("nodeapi_names", 2);
    let (p, rx) = Probe::new();
    let pid = node.spawn(p, SpawnOptions::default()).unwrap();
    node.register_name("nodeapi_probe", pid).unwrap();
    assert_eq!(node.whereis("nodeapi_probe"), Some(pid));
    assert_eq!(
        node.process_info(pid).unwrap().name,
        Some("nodeapi_probe".into())
    );
    node.send("nodeapi_probe", 7u8).unwrap();
    assert_eq!(next_as::<u8>(&rx).1, 7);
    assert_eq!(
        node.register_name("nodeapi_other", pid),
        Err(Error::HasName)
    );
    let (q, _qrx) = Probe::new();
    let other = node.spawn(q, SpawnOptions::default()).unwrap();
    assert_eq!(
        node.register_name("nodeapi_probe", other),
        Err(Error::Taken("nodeapi_probe".into()))
    );
    assert_eq!(node.unregister_name("nodeapi_probe"), Ok(pid));
    assert_eq!(node.whereis("nodeapi_probe"), None);
    assert_eq!(node.process_info(pid).unwrap().name, None);
    assert_eq!(
        node.unregister_name("nodeapi_probe"),
        Err(Error::NameUnknown("nodeapi_probe".into()))
    );
    // A name given by the node leaves with its process.
    node.register_name("nodeapi_other", other).unwrap();
    node.send(other, StopWith(Reason::Normal)).unwrap();
    for _ in 0..10_000 {
        if node.whereis("nodeapi_other").is_none() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(node.whereis("nodeapi_other"), None);
    // Not a process of this node.
    let stranger = Pid::new(Atom::new("elsewhere@localhost"), 2000, 1);
    assert_eq!(
        node.register_name("nodeapi_x", stranger),
        Err(Error::ProcessUnknown)
    );
    node.stop();
}

#[test]
fn refs_are_unique_and_versions_are_known() {
    let node = node("nodeapi_refs", 1);
    let (a, b) = (node.make_ref(), node.make_ref());
    assert_ne!(a, b);
    assert_eq!(a.node, node.name());
    assert_eq!(a.creation, node.creation());
    assert_eq!(node.framework_version(), framework_version());
    assert_eq!(node.version().name, "ergo-rs");
    assert_eq!(node.version().release, env!("CARGO_PKG_VERSION"));
    node.stop();
}

/// Monitors an event at init and hands what it gets to the test.
struct Subscriber {
    event: Event,
    tx: Mutex<Sender<Message>>,
}

impl Actor for Subscriber {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        let buffered = ctx
            .monitor_event(self.event)
            .map_err(|e| Reason::custom(e.to_string()))?;
        let _ = self.tx.lock().unwrap().send(Message::new(buffered.len()));
        Ok(())
    }
    async fn handle_message(&mut self, _ctx: &mut Context, _f: Pid, m: Message) -> HandleResult {
        let _ = self.tx.lock().unwrap().send(m);
        Ok(())
    }
    async fn handle_event(&mut self, _ctx: &mut Context, ev: MessageEvent) -> HandleResult {
        let _ = self.tx.lock().unwrap().send(Message::new(ev));
        Ok(())
    }
}

#[test]
fn the_node_owns_events_processes_subscribe_to() {
    let node = node("nodeapi_events", 2);
    let token = node
        .register_event("nodeapi_ticks", EventOptions::default())
        .unwrap();
    assert_eq!(
        node.register_event("nodeapi_ticks", EventOptions::default())
            .err(),
        Some(Error::Taken("nodeapi_ticks".into()))
    );
    let event = Event {
        name: "nodeapi_ticks".into(),
        node: node.name(),
    };
    let (tx, rx) = channel();
    node.spawn(
        Subscriber {
            event,
            tx: Mutex::new(tx),
        },
        SpawnOptions {
            shard: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        rx.recv_timeout(WAIT).unwrap().downcast::<usize>().ok(),
        Some(0)
    );
    node.send_event("nodeapi_ticks", token, 42u32).unwrap();
    let ev = rx
        .recv_timeout(WAIT)
        .unwrap()
        .downcast::<MessageEvent>()
        .expect("the event");
    assert_eq!(ev.event, event);
    assert_eq!(ev.message.downcast_ref::<u32>(), Some(&42));
    // A wrong token publishes nothing.
    assert!(node
        .send_event("nodeapi_ticks", node.make_ref(), 1u32)
        .is_err());
    node.unregister_event("nodeapi_ticks").unwrap();
    let down = rx
        .recv_timeout(WAIT)
        .unwrap()
        .downcast::<MessageDownEvent>()
        .expect("a down message, not another event");
    assert_eq!(down.event, event);
    assert_eq!(down.reason, Reason::custom("unregistered"));
    node.stop();
}

#[test]
fn a_process_log_level_is_read_and_set_by_the_node() {
    let node = node("nodeapi_log", 2);
    let (p, _rx) = Probe::new();
    let pid = node
        .spawn(
            p,
            SpawnOptions {
                shard: Some(1),
                log_level: Some(LogLevel::Warning),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(node.log_level_process(pid), Ok(LogLevel::Warning));
    node.set_log_level_process(pid, LogLevel::Debug).unwrap();
    assert_eq!(node.log_level_process(pid), Ok(LogLevel::Debug));
    assert_eq!(node.process_info(pid).unwrap().log_level, LogLevel::Debug);
    let gone = Pid::new(node.name(), 1024 * 9000, node.creation());
    assert_eq!(node.log_level_process(gone), Err(Error::ProcessUnknown));
    node.stop();
}
