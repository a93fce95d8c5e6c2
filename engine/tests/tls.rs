//! TLS node links, several acceptors per node, and the network modes, between nodes in one
//! process over loopback. (The certificate digests against Go's captured TLS handshake are in
//! `proto/tests/tls_digest.rs`; a tampered `DigestCert` is refused in the unit tests of
//! `engine/src/net/handshake_io.rs`.)

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;
use std::time::Duration;

use common::Echo;

use ergo_engine::registrar::RegistrarOptions;
use ergo_engine::{
    AcceptorOptions, AcceptorTls, Actor, Atom, Context, Error, HandleResult, Message, NetworkMode,
    NetworkOptions, Node, NodeOptions, Pid, ProcessId, SpawnOptions, StaticRoute, TlsCertificate,
};

const WAIT: Duration = Duration::from_secs(20);

fn start(name: &str, net: NetworkOptions) -> Node {
    Node::start(
        name,
        NodeOptions {
            shards: 2,
            pin: false,
            stop_timeout: Duration::from_millis(500),
            network: Some(net),
            ..Default::default()
        },
    )
    .expect("node starts")
}

/// A node whose only acceptor speaks TLS with a generated certificate.
fn tls_node(name: &str, cookie: &str) -> Node {
    let mut net = NetworkOptions::new(cookie);
    net.acceptors[0].tls = AcceptorTls::SelfSigned;
    start(name, net)
}

fn dialer(name: &str, cookie: &str, routes: &[(Atom, StaticRoute)]) -> Node {
    let mut net = NetworkOptions::new(cookie);
    net.routes.extend(routes.iter().cloned());
    start(name, net)
}

fn echo(node: &Node) -> (Pid, std::sync::mpsc::Receiver<(Pid, Message)>) {
    let (tx, rx) = channel();
    let pid = node
        .spawn_register("echo", Echo(Mutex::new(tx)), SpawnOptions::default())
        .unwrap();
    (pid, rx)
}

fn ping(from: &Node, to: &Node, what: &str) -> Result<String, Error> {
    from.call(
        ProcessId::new(Atom::new("echo"), to.name()),
        what.to_string(),
        WAIT,
    )
    .map(|m| m.downcast::<String>().unwrap_or_default())
}

/// Speaks plaintext EHS at `addr` and returns what comes back before the socket closes.
fn plain_probe(addr: SocketAddr) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    // The start of an EHS Hello: magic 0x57, version 1, a length.
    let _ = s.write_all(&[0x57, 0x01, 0x00, 0x00, 0x00, 0x10]);
    let _ = s.write_all(&[0u8; 16]);
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn send_and_call_both_ways_over_a_tls_link() {
    let b = tls_node("tlsb@localhost", "secret");
    let addr = b.network_address().unwrap();
    let a = dialer(
        "tlsa@localhost",
        "secret",
        &[(b.name(), StaticRoute::tls(addr))],
    );
    let (echo_b, rx_b) = echo(&b);
    let (echo_a, rx_a) = echo(&a);

    assert_eq!(ping(&a, &b, "over tls").unwrap(), "pong:over tls");
    assert!(a.is_connected(b.name()) && b.is_connected(a.name()));
    for i in 0..500i64 {
        a.send(echo_b, i).unwrap();
    }
    for i in 0..500i64 {
        let (from, m) = rx_b.recv_timeout(WAIT).unwrap();
        assert_eq!(from.node, a.name());
        assert_eq!(m.downcast::<i64>().ok(), Some(i), "in order");
    }
    // The other way, over the same connection.
    assert_eq!(ping(&b, &a, "back").unwrap(), "pong:back");
    b.send(echo_a, "hello a".to_string()).unwrap();
    let (from, m) = rx_a.recv_timeout(WAIT).unwrap();
    assert_eq!(from.node, b.name());
    assert_eq!(m.downcast::<String>().ok().as_deref(), Some("hello a"));

    // The port speaks TLS: plaintext EHS gets no EHS answer (at most a TLS alert).
    let answer = plain_probe(addr);
    assert!(answer.first() != Some(&0x57), "{answer:02x?}");
    // And a plain dialer does not get in.
    let c = dialer("tlsc@localhost", "secret", &[(b.name(), addr.into())]);
    assert!(matches!(ping(&c, &b, "x"), Err(Error::NoConnection(_))));

    c.stop();
    a.stop();
    b.stop();
}

#[test]
fn a_large_message_crosses_tls_in_both_directions() {
    let b = tls_node("tlsbig-b@localhost", "secret");
    let a = dialer(
        "tlsbig-a@localhost",
        "secret",
        &[(b.name(), StaticRoute::tls(b.network_address().unwrap()))],
    );
    let (echo_b, rx_b) = echo(&b);
    let (echo_a, rx_a) = echo(&a);
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let n = a
        .call(echo_b, big.clone(), WAIT)
        .unwrap()
        .downcast::<i64>()
        .unwrap();
    assert_eq!(n, 200_000);
    // Several large messages back to back, then a small one: all arrive whole and in order.
    for _ in 0..5 {
        a.send(echo_b, big.clone()).unwrap();
    }
    a.send(echo_b, "done".to_string()).unwrap();
    for _ in 0..5 {
        let (_, m) = rx_b.recv_timeout(WAIT).unwrap();
        assert_eq!(m.downcast::<Vec<u8>>().unwrap(), big);
    }
    let (_, m) = rx_b.recv_timeout(WAIT).unwrap();
    assert_eq!(m.downcast::<String>().ok().as_deref(), Some("done"));
    // From the acceptor's side too.
    b.send(echo_a, big.clone()).unwrap();
    let (_, m) = rx_a.recv_timeout(WAIT).unwrap();
    assert_eq!(m.downcast::<Vec<u8>>().unwrap(), big);
    a.stop();
    b.stop();
}

#[test]
fn a_given_certificate_verifies_against_trust_anchors() {
    let cert = TlsCertificate::self_signed(&["localhost"]).unwrap();
    let mut net = NetworkOptions::new("secret");
    net.acceptors[0].tls = AcceptorTls::Certificate(cert.clone());
    let b = start("tlspem-b@localhost", net);
    // The dialer verifies the chain against the certificate as its trust anchor, and the
    // handshake's certificate digest on top.
    let mut net = NetworkOptions::new("secret");
    net.routes
        .insert(b.name(), StaticRoute::tls(b.network_address().unwrap()));
    net.tls.roots = Some(cert.chain().to_vec());
    let a = start("tlspem-a@localhost", net);
    let _ = echo(&b);
    assert_eq!(ping(&a, &b, "verified").unwrap(), "pong:verified");
    a.stop();
    b.stop();
}

#[test]
fn two_acceptors_with_their_own_cookies() {
    let mut net = NetworkOptions::new("alpha");
    net.acceptors.push(AcceptorOptions {
        tls: AcceptorTls::SelfSigned,
        cookie: Some("beta".into()),
        ..AcceptorOptions::default()
    });
    let b = start("twoacc-b@localhost", net);
    let addrs = b.acceptor_addresses();
    assert_eq!(addrs.len(), 2);
    assert_eq!(b.network_address(), Some(addrs[0]));
    assert_ne!(addrs[0], addrs[1]);
    let _ = echo(&b);

    // Cookie alpha: in through acceptor 0 (the node's cookie), not through acceptor 1.
    let a_ok = dialer(
        "twoacc-a1@localhost",
        "alpha",
        &[(b.name(), addrs[0].into())],
    );
    assert_eq!(ping(&a_ok, &b, "a").unwrap(), "pong:a");
    let a_no = dialer(
        "twoacc-a2@localhost",
        "alpha",
        &[(b.name(), StaticRoute::tls(addrs[1]))],
    );
    assert!(matches!(ping(&a_no, &b, "a"), Err(Error::NoConnection(_))));
    // Cookie beta: in through acceptor 1 (TLS), not through acceptor 0.
    let b_ok = dialer(
        "twoacc-b1@localhost",
        "beta",
        &[(b.name(), StaticRoute::tls(addrs[1]))],
    );
    assert_eq!(ping(&b_ok, &b, "b").unwrap(), "pong:b");
    let b_no = dialer(
        "twoacc-b2@localhost",
        "beta",
        &[(b.name(), addrs[0].into())],
    );
    assert!(matches!(ping(&b_no, &b, "b"), Err(Error::NoConnection(_))));
    // A static route may carry its own cookie.
    let mut route = StaticRoute::tls(addrs[1]);
    route.cookie = Some("beta".into());
    let per_route = dialer("twoacc-r@localhost", "alpha", &[(b.name(), route)]);
    assert_eq!(ping(&per_route, &b, "r").unwrap(), "pong:r");

    for n in [a_ok, a_no, b_ok, b_no, per_route, b] {
        n.stop();
    }
}

#[test]
fn an_acceptor_limits_message_size_on_its_own_connections() {
    let mut net = NetworkOptions::new("secret");
    net.acceptors[0].max_message_size = Some(10_000);
    net.acceptors.push(AcceptorOptions::default());
    let b = start("maxacc-b@localhost", net);
    let addrs = b.acceptor_addresses();
    let (echo_b, rx_b) = echo(&b);
    let small = dialer(
        "maxacc-s@localhost",
        "secret",
        &[(b.name(), addrs[0].into())],
    );
    let large = dialer(
        "maxacc-l@localhost",
        "secret",
        &[(b.name(), addrs[1].into())],
    );
    let big = vec![1u8; 50_000];
    assert_eq!(ping(&small, &b, "hi").unwrap(), "pong:hi");
    assert_eq!(ping(&large, &b, "hi").unwrap(), "pong:hi");
    // The limit was announced: the sender refuses locally (no frame goes out); a call hears
    // why.
    let r = small.call(echo_b, big.clone(), WAIT);
    assert!(
        matches!(&r, Err(Error::Network(e)) if e.contains("too large")),
        "{r:?}"
    );
    // Through the other acceptor the same message is fine.
    large.send(echo_b, big.clone()).unwrap();
    let (from, m) = rx_b.recv_timeout(WAIT).unwrap();
    assert_eq!(from.node, large.name());
    assert_eq!(m.downcast::<Vec<u8>>().unwrap().len(), 50_000);
    for n in [small, large, b] {
        n.stop();
    }
}

#[test]
fn hidden_mode_listens_nowhere_but_dials_out() {
    let b = tls_node("hid-b@localhost", "secret");
    let mut net = NetworkOptions::new("secret");
    net.mode = NetworkMode::Hidden;
    net.routes
        .insert(b.name(), StaticRoute::tls(b.network_address().unwrap()));
    let h = start("hid-h@localhost", net);
    assert_eq!(h.network_address(), None);
    assert!(h.acceptor_addresses().is_empty());
    let (_, _rx) = echo(&b);
    let (echo_h, rx_h) = echo(&h);
    assert_eq!(ping(&h, &b, "hidden").unwrap(), "pong:hidden");
    // Established connections work both ways.
    assert_eq!(ping(&b, &h, "seen").unwrap(), "pong:seen");
    b.send(echo_h, 42i64).unwrap();
    let (_, m) = rx_h.recv_timeout(WAIT).unwrap();
    assert_eq!(m.downcast::<i64>().ok(), Some(42));
    h.stop();
    b.stop();
}

#[test]
fn disabled_mode_fails_remote_sends_with_a_clear_error() {
    let b = start("dis-b@localhost", NetworkOptions::new("secret"));
    let mut net = NetworkOptions::new("secret");
    net.mode = NetworkMode::Disabled;
    net.routes
        .insert(b.name(), b.network_address().unwrap().into());
    let d = start("dis-d@localhost", net);
    assert_eq!(d.network_address(), None);
    let (echo_b, _rx) = echo(&b);
    let is_disabled =
        |r: &Result<_, Error>| matches!(r, Err(Error::Network(e)) if e.contains("disabled"));
    let r = d.send(echo_b, 1i64);
    assert!(is_disabled(&r), "{r:?}");
    let r = d.call(echo_b, "x".to_string(), WAIT).map(|_| ());
    assert!(is_disabled(&r), "{r:?}");
    // From inside a process too.
    struct Forwarder(Pid, Sender<Result<(), Error>>);
    impl Actor for Forwarder {
        async fn handle_message(
            &mut self,
            ctx: &mut Context,
            _f: Pid,
            _m: Message,
        ) -> HandleResult {
            let _ = self.1.send(ctx.send(self.0, 1i64));
            Ok(())
        }
    }
    let (tx, rx) = channel();
    let p = d
        .spawn(Forwarder(echo_b, tx), SpawnOptions::default())
        .unwrap();
    d.send(p, ()).unwrap();
    let r = rx.recv_timeout(WAIT).unwrap();
    assert!(is_disabled(&r), "{r:?}");
    assert!(!d.is_connected(b.name()));
    d.stop();
    b.stop();
}

#[test]
fn the_registrar_announces_tls_routes_and_the_dialer_follows_them() {
    // A port free for both TCP and UDP right now.
    let port = loop {
        let t = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let p = t.local_addr().unwrap().port();
        if std::net::UdpSocket::bind(("0.0.0.0", p)).is_ok() {
            break p;
        }
    };
    let ro = RegistrarOptions {
        port,
        ..Default::default()
    };
    // b: a plain acceptor and a TLS one, registered (b serves the registrar of this host).
    let mut net = NetworkOptions::new("secret");
    net.acceptors.push(AcceptorOptions {
        tls: AcceptorTls::SelfSigned,
        ..AcceptorOptions::default()
    });
    net.registrar = Some(ro.clone().into());
    let b = start("reg-b@localhost", net);
    let routes = ergo_engine::registrar::resolve(b.name(), port, WAIT).unwrap();
    let addrs = b.acceptor_addresses();
    assert_eq!(routes.len(), 2, "one route per acceptor");
    assert_eq!((routes[0].port, routes[0].tls), (addrs[0].port(), false));
    assert_eq!((routes[1].port, routes[1].tls), (addrs[1].port(), true));

    // c: only a TLS acceptor; a hidden node finds it through the registrar (over UDP) and
    // dials TLS because the route says so.
    let mut net = NetworkOptions::new("secret");
    net.acceptors[0].tls = AcceptorTls::SelfSigned;
    net.registrar = Some(ro.clone().into());
    let c = start("reg-c@localhost", net);
    let routes = ergo_engine::registrar::resolve(c.name(), port, WAIT).unwrap();
    assert_eq!(routes.len(), 1);
    assert!(routes[0].tls);
    let mut net = NetworkOptions::new("secret");
    net.mode = NetworkMode::Hidden;
    net.registrar = Some(ro.into());
    let h = start("reg-h@localhost", net);
    let _ = echo(&c);
    assert_eq!(ping(&h, &c, "found").unwrap(), "pong:found");
    // Hidden: not registered (the registrar refuses the name, or knows no route for it).
    let r = ergo_engine::registrar::resolve(h.name(), port, Duration::from_secs(5));
    assert!(
        matches!(&r, Err(ergo_engine::registrar::Error::Refused(_)))
            || r.as_ref().is_ok_and(|routes| routes.is_empty()),
        "{r:?}"
    );
    h.stop();
    c.stop();
    b.stop();
}
