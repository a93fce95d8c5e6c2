//! Network transparency between two nodes in one process, over real TCP on loopback: sends,
//! calls and replies to PIDs and names on the other node, registered types crossing as
//! themselves, per-sender order, and the registrar finding a node.

mod common;

use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;
use std::time::Duration;

use common::Echo;

use ergo_edf::Edf;
use ergo_engine::{
    Actor, Atom, Context, Error, HandleResult, Message, NetworkOptions, Node, NodeOptions, Pid,
    ProcessId, SpawnOptions, Target,
};

const WAIT: Duration = Duration::from_secs(10);

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo_engine_tests/Order")]
struct Order {
    id: i64,
    item: String,
}

/// Calls the remote echo from inside a process and reports the answer.
struct Caller {
    target: Target,
    report: Mutex<Sender<Result<String, Error>>>,
}

impl Actor for Caller {
    async fn handle_message(&mut self, ctx: &mut Context, _from: Pid, m: Message) -> HandleResult {
        let s = m.downcast::<String>().unwrap_or_default();
        let r = ctx
            .call(self.target, s)
            .await
            .map(|m| m.downcast::<String>().unwrap_or_default());
        let _ = self.report.lock().unwrap().send(r);
        Ok(())
    }
}

fn net_node(name: &str, routes: &[(&str, std::net::SocketAddr)]) -> Node {
    ergo_edf::ensure_registered::<Order>().unwrap();
    let mut net = NetworkOptions::new("secret");
    for (n, a) in routes {
        net.routes.insert(Atom::new(n), (*a).into());
    }
    Node::start(
        name,
        NodeOptions {
            shards: 2,
            network: Some(net),
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn send_and_call_across_two_nodes() {
    let b = net_node("netb@localhost", &[]);
    let a = net_node(
        "neta@localhost",
        &[("netb@localhost", b.network_address().unwrap())],
    );
    let (tx, rx) = channel();
    let echo = b
        .spawn_register("echo", Echo(Mutex::new(tx)), SpawnOptions::default())
        .unwrap();
    let echo_name = ProcessId::new(Atom::new("echo"), b.name());

    // A call from outside a process, by name: the first message also makes the connection.
    let reply = a.call(echo_name, "ping".to_string(), WAIT).unwrap();
    assert_eq!(
        reply.downcast::<String>().ok().as_deref(),
        Some("pong:ping")
    );
    assert!(a.is_connected("netb@localhost") && b.is_connected("neta@localhost"));

    // Sends by PID keep their order; a registered struct arrives as itself.
    for i in 0..1000i64 {
        a.send(echo, i).unwrap();
    }
    a.send(
        echo,
        Order {
            id: 7,
            item: "apple".into(),
        },
    )
    .unwrap();
    for i in 0..1000i64 {
        let (from, m) = rx.recv_timeout(WAIT).unwrap();
        assert_eq!(from.node, a.name());
        assert_eq!(m.downcast::<i64>().ok(), Some(i));
    }
    let (_, m) = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(
        m.downcast::<Order>().ok(),
        Some(Order {
            id: 7,
            item: "apple".into()
        })
    );

    // A process calls the remote process (awaiting does not block its shard).
    let (rtx, rrx) = channel();
    let caller = a
        .spawn(
            Caller {
                target: Target::Pid(echo),
                report: Mutex::new(rtx),
            },
            SpawnOptions::default(),
        )
        .unwrap();
    a.send(caller, "from a process".to_string()).unwrap();
    assert_eq!(
        rrx.recv_timeout(WAIT).unwrap().unwrap(),
        "pong:from a process"
    );

    // And the other way: b calls a process on a over the same connection.
    let (tx2, _rx2) = channel();
    let echo_a = a
        .spawn(Echo(Mutex::new(tx2)), SpawnOptions::default())
        .unwrap();
    let reply = b.call(echo_a, "back".to_string(), WAIT).unwrap();
    assert_eq!(
        reply.downcast::<String>().ok().as_deref(),
        Some("pong:back")
    );

    // A call to a name the other node does not have times out (Go: no answer without
    // important delivery).
    let nobody = ProcessId::new(Atom::new("nobody"), b.name());
    let r = a.call(nobody, "x".to_string(), Duration::from_millis(300));
    assert!(matches!(r, Err(Error::Timeout)), "{r:?}");

    a.stop();
    b.stop();
}

#[test]
fn messages_without_an_edf_mapping_are_refused_locally() {
    let b = net_node("netd@localhost", &[]);
    let a = net_node(
        "netc@localhost",
        &[("netd@localhost", b.network_address().unwrap())],
    );
    let (tx, _rx) = channel();
    let echo = b
        .spawn(Echo(Mutex::new(tx)), SpawnOptions::default())
        .unwrap();
    // Connect first.
    assert!(a.call(echo, "hi".to_string(), WAIT).is_ok());
    struct NotWire;
    // From outside a process the send is routed by a shard; a call hears the error from there.
    let r = a.call(echo, NotWire, WAIT);
    assert!(
        matches!(&r, Err(Error::Network(e)) if e.contains("no encoder")),
        "{r:?}"
    );
    a.stop();
    b.stop();
}

#[test]
fn an_unreachable_node_fails_the_call() {
    // A static route to a port nothing listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = dead.local_addr().unwrap();
    drop(dead);
    let a = net_node("nete@localhost", &[("ghost@localhost", addr)]);
    let ghost = Pid::new(Atom::new("ghost@localhost"), 1001, 1);
    let r = a.call(ghost, "x".to_string(), WAIT);
    assert!(
        matches!(r, Err(Error::NoConnection(n)) if n == Atom::new("ghost@localhost")),
        "{r:?}"
    );
    a.stop();
}

/// A bare peer speaking the protocol with `ergo-proto` over a blocking socket (as a Go node
/// would): full handshake, then frames.
mod bare_peer {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use ergo_engine::proto::connection::ConnectionCodec;
    use ergo_engine::proto::frame;
    use ergo_engine::proto::handshake::{self, Dialer, LocalNode, Step};
    use ergo_engine::Atom;

    pub struct Peer {
        pub stream: TcpStream,
        pub codec: ConnectionCodec,
        buf: Vec<u8>,
    }

    pub fn dial(addr: std::net::SocketAddr, me: &str, to: Atom) -> Peer {
        ergo_engine::proto::register_framework_types().unwrap();
        let local = LocalNode::new(Atom::new(me), 1_700_000_000, "secret");
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let (mut d, hello) = Dialer::start(local.clone(), to, "ab".repeat(32), None);
        let mut out = Vec::new();
        handshake::encode(&hello, &mut out).unwrap();
        s.write_all(&out).unwrap();
        let mut buf = Vec::new();
        loop {
            let (m, n) = loop {
                if let Some(x) = handshake::decode(&buf).unwrap() {
                    break x;
                }
                let mut c = [0u8; 16384];
                let n = s.read(&mut c).unwrap();
                assert!(n > 0);
                buf.extend_from_slice(&c[..n]);
            };
            buf.drain(..n);
            let (msgs, done) = match d.handle(m).unwrap() {
                Step::Send(m) => (m, None),
                Step::Done(m, est) => (m, Some(est)),
            };
            let mut out = Vec::new();
            for m in &msgs {
                handshake::encode(m, &mut out).unwrap();
            }
            s.write_all(&out).unwrap();
            if let Some(est) = done {
                let codec = ConnectionCodec::new(&local, &est);
                return Peer {
                    stream: s,
                    codec,
                    buf,
                };
            }
        }
    }

    impl Peer {
        /// The next whole frame.
        pub fn next_frame(&mut self) -> Vec<u8> {
            loop {
                if let Ok(Some(n)) = frame::frame_len(&self.buf, 0) {
                    if n <= self.buf.len() {
                        return self.buf.drain(..n).collect();
                    }
                }
                let mut c = [0u8; 16384];
                let n = self.stream.read(&mut c).unwrap();
                assert!(n > 0, "closed");
                self.buf.extend_from_slice(&c[..n]);
            }
        }
    }
}

#[test]
fn important_delivery_is_acknowledged_to_a_bare_protocol_peer() {
    use ergo_engine::proto::connection::{
        Incoming, ResponseCode, SendOptions, Target as WireTarget,
    };
    use std::io::Write;
    let b = net_node("netf@localhost", &[]);
    let (tx, rx) = channel();
    let echo = b
        .spawn_register("sink", Echo(Mutex::new(tx)), SpawnOptions::default())
        .unwrap();
    let mut peer = bare_peer::dial(b.network_address().unwrap(), "bare@localhost", b.name());
    let me = Pid::new(Atom::new("bare@localhost"), 1001, 1_700_000_000);
    let mut out = Vec::new();
    let opts = SendOptions {
        important: Some(777),
        ..Default::default()
    };
    peer.codec
        .send(
            &me,
            &WireTarget::Pid(echo),
            &opts,
            &"hello".to_string(),
            &mut out,
        )
        .unwrap();
    let nobody = ProcessId::new(Atom::new("nobody"), b.name());
    let opts = SendOptions {
        important: Some(778),
        ..Default::default()
    };
    peer.codec
        .send(
            &me,
            &WireTarget::Name(nobody),
            &opts,
            &"lost".to_string(),
            &mut out,
        )
        .unwrap();
    peer.stream.write_all(&out).unwrap();

    let (from, m) = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(
        (from, m.downcast::<String>().ok().as_deref()),
        (me, Some("hello"))
    );
    let mut acks = Vec::new();
    for _ in 0..2 {
        let f = peer.next_frame();
        match peer.codec.decode(&f, 0).unwrap() {
            Incoming::ResponseError {
                from_id,
                to,
                reference,
                code,
                ..
            } => acks.push((from_id, to, reference.id, code)),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(acks[0], (echo.id, me, [777, 0, 0], ResponseCode::Ok));
    assert_eq!(acks[1], (0, me, [778, 0, 0], ResponseCode::UnknownProcess));
    b.stop();
}
