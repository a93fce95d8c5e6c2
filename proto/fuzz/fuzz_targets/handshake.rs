//! Handshake messages from arbitrary bytes, fed to an acceptor and a dialer state machine.
#![no_main]

use ergo_edf::Atom;
use ergo_proto::handshake::{self, Acceptor, Dialer, LocalNode};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ergo_proto::register_framework_types().unwrap();
    let me = LocalNode::new(Atom::new("me@localhost"), 1, "cookie");
    let mut acceptor = Acceptor::new(me.clone(), "a".repeat(64), "c".repeat(32), 3, vec![], None);
    let (mut dialer, _) = Dialer::start(me, Atom::new("peer@localhost"), "d".repeat(64), None);
    let mut buf = data;
    while let Ok(Some((msg, n))) = handshake::decode(buf) {
        buf = &buf[n..];
        let _ = acceptor.handle(msg.clone());
        let _ = dialer.handle(msg);
    }
});
