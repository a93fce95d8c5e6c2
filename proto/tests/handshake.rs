//! A dialer and an acceptor of ours talk to each other in memory (sans-IO), through the byte
//! framing, and every failure case of wire-spec §5.9 closes the handshake with a clear error.

use ergo_edf::Atom;
use ergo_proto::handshake::{
    self, digest, AcceptStep, Acceptor, Dialer, HandshakeError, JoinDialer, LocalNode, Message,
    Step,
};

const SALT_D: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const SALT_A: &str = "2222222222222222222222222222222222222222222222222222222222222222";
const SALT_J: &str = "3333333333333333333333333333333333333333333333333333333333333333";
const CONN: &str = "0123456789abcdef0123456789abcdef";

fn node(name: &str, cookie: &str) -> LocalNode {
    ergo_proto::register_framework_types().unwrap();
    LocalNode::new(Atom::new(name), 1_700_000_000, cookie)
}

/// Sends a message through the wire framing, as a socket would.
fn wire(m: Message) -> Message {
    let mut b = Vec::new();
    handshake::encode(&m, &mut b).unwrap();
    let (back, n) = handshake::decode(&b).unwrap().unwrap();
    assert_eq!(n, b.len());
    back
}

fn sends(step: Step) -> Vec<Message> {
    match step {
        Step::Send(m) => m,
        Step::Done(..) => panic!("finished early"),
    }
}

fn acceptor_sends(step: AcceptStep) -> Vec<Message> {
    match step {
        AcceptStep::Step(s) => sends(s),
        AcceptStep::Join(_) => panic!("join"),
    }
}

#[test]
fn full_handshake_then_join_in_memory() {
    let d = node("d@localhost", "secret");
    let a = node("a@localhost", "secret");
    let (mut dialer, hello) = Dialer::start(d.clone(), a.node, SALT_D.into(), None);
    let mut acceptor = Acceptor::new(
        a.clone(),
        SALT_A.into(),
        CONN.into(),
        3,
        vec!["127.0.0.1:11144".into()],
        None,
    );

    let to_d = acceptor_sends(acceptor.handle(wire(hello)).unwrap());
    assert_eq!(to_d.len(), 1);
    let to_a = sends(
        dialer
            .handle(wire(to_d.into_iter().next().unwrap()))
            .unwrap(),
    );
    let Message::Introduce(intro) = &to_a[0] else {
        panic!()
    };
    assert_eq!(intro.digest, digest::introduce(SALT_A, "secret"));
    let to_d = acceptor_sends(
        acceptor
            .handle(wire(to_a.into_iter().next().unwrap()))
            .unwrap(),
    );
    assert_eq!(to_d.len(), 2, "Accept then the acceptor's Introduce");
    let mut it = to_d.into_iter();
    assert!(sends(dialer.handle(wire(it.next().unwrap())).unwrap()).is_empty());
    let Step::Done(last, est_d) = dialer.handle(wire(it.next().unwrap())).unwrap() else {
        panic!()
    };
    assert_eq!(est_d.peer.node(), a.node);
    assert_eq!(est_d.connection_id, CONN);
    assert_eq!(est_d.pool_size, 3);
    assert_eq!(est_d.pool_dsn, vec!["127.0.0.1:11144".to_string()]);
    let AcceptStep::Step(Step::Done(none, est_a)) = acceptor
        .handle(wire(last.into_iter().next().unwrap()))
        .unwrap()
    else {
        panic!()
    };
    assert!(none.is_empty());
    assert_eq!(est_a.peer.node(), d.node);
    assert_eq!(est_a.peer.creation(), 1_700_000_000);

    // The caches each side announced decode what the other encodes.
    let pid = ergo_edf::Pid::new(d.node, 1001, d.creation);
    let mut bytes = Vec::new();
    ergo_edf::encode(&pid, &mut bytes, &d.encode_caches()).unwrap();
    assert_eq!(
        bytes,
        vec![0xaa, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0x03, 0xe9, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00]
    );
    assert_eq!(
        ergo_edf::decode::<ergo_edf::Pid>(&bytes, &est_a.peer.decode_caches)
            .unwrap()
            .0,
        pid
    );

    // A pool link joins the connection.
    let (mut join, msg) = JoinDialer::start(&d, &est_d.connection_id, SALT_J.into(), None);
    let mut acceptor2 = Acceptor::new(a.clone(), SALT_A.into(), "unused".into(), 3, vec![], None);
    let AcceptStep::Join(req) = acceptor2.handle(wire(msg)).unwrap() else {
        panic!()
    };
    assert_eq!((req.node, req.connection_id.as_str()), (d.node, CONN));
    join.handle(wire(Message::Accept(req.reply))).unwrap();
}

#[test]
fn tls_certificate_digests_bind_the_handshake_to_the_certificate() {
    let d = node("d@localhost", "c");
    let a = node("a@localhost", "c");
    let fp = digest::cert_fingerprint(b"the acceptor's certificate");
    let other = digest::cert_fingerprint(b"a man in the middle");
    let (mut dialer, hello) = Dialer::start(d.clone(), a.node, SALT_D.into(), Some(other));
    let mut acceptor = Acceptor::new(a.clone(), SALT_A.into(), CONN.into(), 1, vec![], Some(fp));
    let reply = acceptor_sends(acceptor.handle(hello).unwrap()).remove(0);
    assert_eq!(
        dialer.handle(reply.clone()).unwrap_err(),
        HandshakeError::CertDigest
    );
    let (mut dialer, _) = Dialer::start(d, a.node, SALT_D.into(), Some(fp));
    assert!(matches!(dialer.handle(reply).unwrap(), Step::Send(_)));
}

#[test]
fn failures_close_the_handshake() {
    let d = node("d@localhost", "right");
    let a = node("a@localhost", "wrong");
    // Wrong cookie: the acceptor rejects the dialer's Hello.
    let (_, hello) = Dialer::start(d.clone(), a.node, SALT_D.into(), None);
    let mut acceptor = Acceptor::new(a, SALT_A.into(), CONN.into(), 3, vec![], None);
    assert_eq!(
        acceptor.handle(hello).unwrap_err(),
        HandshakeError::Digest("dialer hello")
    );

    // A peer with our own name.
    let a = node("d@localhost", "right");
    let (mut dialer, hello) = Dialer::start(d.clone(), a.node, SALT_D.into(), None);
    let mut acceptor = Acceptor::new(a, SALT_A.into(), CONN.into(), 3, vec![], None);
    let reply = acceptor_sends(acceptor.handle(hello).unwrap()).remove(0);
    let intro = sends(dialer.handle(reply).unwrap()).remove(0);
    assert_eq!(
        acceptor.handle(intro).unwrap_err(),
        HandshakeError::SameName(d.node)
    );

    // The node that answers is not the node we dialed.
    let a = node("a@localhost", "right");
    let (mut dialer, hello) =
        Dialer::start(d.clone(), Atom::new("x@localhost"), SALT_D.into(), None);
    let mut acceptor = Acceptor::new(a.clone(), SALT_A.into(), CONN.into(), 3, vec![], None);
    let reply = acceptor_sends(acceptor.handle(hello).unwrap()).remove(0);
    let intro = sends(dialer.handle(reply).unwrap()).remove(0);
    let mut replies = acceptor_sends(acceptor.handle(intro).unwrap()).into_iter();
    dialer.handle(replies.next().unwrap()).unwrap();
    assert!(matches!(
        dialer.handle(replies.next().unwrap()),
        Err(HandshakeError::WrongPeer { .. })
    ));

    // Creation 0.
    let mut zero = node("z@localhost", "right");
    zero.creation = 0;
    let (mut dialer, hello) = Dialer::start(zero, a.node, SALT_D.into(), None);
    let mut acceptor = Acceptor::new(a.clone(), SALT_A.into(), CONN.into(), 3, vec![], None);
    let reply = acceptor_sends(acceptor.handle(hello).unwrap()).remove(0);
    let intro = sends(dialer.handle(reply).unwrap()).remove(0);
    assert!(matches!(
        acceptor.handle(intro),
        Err(HandshakeError::ZeroCreation(_))
    ));

    // A message out of order.
    let mut acceptor = Acceptor::new(a, SALT_A.into(), CONN.into(), 3, vec![], None);
    let accept = Message::Accept(Default::default());
    assert!(matches!(
        acceptor.handle(accept),
        Err(HandshakeError::Unexpected { .. })
    ));
}

#[test]
fn bad_framing_is_refused() {
    assert_eq!(
        handshake::decode(&[0x58, 1, 0, 0, 0, 0]).unwrap_err(),
        HandshakeError::BadMagic(0x58)
    );
    assert_eq!(
        handshake::decode(&[0x57, 2, 0, 0, 0, 0]).unwrap_err(),
        HandshakeError::BadVersion(2)
    );
    assert_eq!(
        handshake::decode(&[0x57, 1, 0, 1, 0, 0]).unwrap_err(),
        HandshakeError::TooLong(65536)
    );
    assert!(
        handshake::decode(&[0x57, 1, 0, 0, 0, 10, 0x83])
            .unwrap()
            .is_none(),
        "incomplete: wait"
    );
    assert!(matches!(
        handshake::decode(&[0x57, 1, 0, 0, 0, 2, 0x91, 1]),
        Err(HandshakeError::Decode(_))
    ));
    // Every truncation of a real message waits or fails, never panics.
    let mut b = Vec::new();
    ergo_proto::register_framework_types().unwrap();
    let me = LocalNode::new(Atom::new("n@h"), 1, "c");
    handshake::encode(
        &Message::Introduce(Box::new(me.introduce("d".into()))),
        &mut b,
    )
    .unwrap();
    for n in 0..b.len() {
        assert!(handshake::decode(&b[..n]).unwrap().is_none());
    }
    let mut lying = b.clone();
    lying[5] = lying[5].wrapping_sub(10);
    assert!(handshake::decode(&lying).is_err());
}
