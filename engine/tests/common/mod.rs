//! Helpers shared by the behaviour tests: a node per test, and a probe actor that hands what
//! it receives to the test thread.
#![allow(dead_code)]

use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

use ergo_engine::{
    Actor, Context, HandleResult, Message, MessageEvent, Node, NodeOptions, Pid, Reason, Ref,
};

/// Every wait in a test is bounded by this.
pub const WAIT: Duration = Duration::from_secs(10);

/// A node with `shards` shards, unpinned (tests run in parallel).
pub fn node(name: &str, shards: usize) -> Node {
    Node::start(
        &format!("{name}@localhost"),
        NodeOptions {
            shards,
            pin: false,
            stop_timeout: Duration::from_millis(500),
            ..Default::default()
        },
    )
    .expect("node starts")
}

/// What a probe saw.
#[derive(Debug)]
pub enum Seen {
    Message(Pid, Message),
    Event(MessageEvent),
    Terminated(Reason),
}

/// Forwards every message (and its termination) to the test thread.
pub struct Probe {
    pub tx: Sender<Seen>,
    pub trap_exit: bool,
}

impl Probe {
    pub fn new() -> (Probe, Receiver<Seen>) {
        let (tx, rx) = channel();
        (
            Probe {
                tx,
                trap_exit: false,
            },
            rx,
        )
    }

    pub fn trapping() -> (Probe, Receiver<Seen>) {
        let (tx, rx) = channel();
        (
            Probe {
                tx,
                trap_exit: true,
            },
            rx,
        )
    }
}

impl Actor for Probe {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        ctx.set_trap_exit(self.trap_exit);
        Ok(())
    }

    async fn handle_message(
        &mut self,
        _ctx: &mut Context,
        from: Pid,
        message: Message,
    ) -> HandleResult {
        if let Some(r) = message.downcast_ref::<StopWith>() {
            return Err(r.0.clone());
        }
        if message.is::<Boom>() {
            panic!("boom");
        }
        let _ = self.tx.send(Seen::Message(from, message));
        Ok(())
    }

    async fn handle_event(&mut self, _ctx: &mut Context, event: MessageEvent) -> HandleResult {
        let _ = self.tx.send(Seen::Event(event));
        Ok(())
    }

    fn terminate(&mut self, _ctx: &mut Context, reason: &Reason) {
        let _ = self.tx.send(Seen::Terminated(reason.clone()));
    }
}

/// Makes a probe stop with this reason.
pub struct StopWith(pub Reason);

/// Makes a probe panic.
pub struct Boom;

/// The next message a probe saw, as a `T` (skipping nothing: panics if it is something else).
pub fn next_as<T: 'static>(rx: &Receiver<Seen>) -> (Pid, T) {
    match rx.recv_timeout(WAIT).expect("probe got something in time") {
        Seen::Message(from, m) => match m.downcast::<T>() {
            Ok(v) => (from, v),
            Err(_) => panic!(
                "probe got a message of another type than {}",
                std::any::type_name::<T>()
            ),
        },
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Waits for the probe's termination reason.
pub fn terminated(rx: &Receiver<Seen>) -> Reason {
    loop {
        match rx.recv_timeout(WAIT).expect("probe terminated in time") {
            Seen::Terminated(r) => return r,
            _ => continue,
        }
    }
}

/// Forwards what it receives to the test; answers a call with "pong:<request>", or with the
/// length of a binary request.
pub struct Echo(pub std::sync::Mutex<Sender<(Pid, Message)>>);

impl Actor for Echo {
    async fn handle_message(&mut self, _ctx: &mut Context, from: Pid, m: Message) -> HandleResult {
        let _ = self.0.lock().unwrap().send((from, m));
        Ok(())
    }
    async fn handle_call(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        req: Message,
    ) -> Result<Option<Message>, Reason> {
        match req.downcast::<String>() {
            Ok(s) => Ok(Some(Message::new(format!("pong:{s}")))),
            Err(m) => match m.downcast::<Vec<u8>>() {
                Ok(b) => Ok(Some(Message::new(b.len() as i64))),
                Err(m) => Ok(Some(m)),
            },
        }
    }
}
