//! The TLS certificate digests of a real Go TLS handshake (`tests/vectors/capture-tls.txt`,
//! cookie "secret", acceptor certificate SHA-1 on its first line) verify with our formulas.

use ergo_proto::handshake::{self, digest, Message};

fn capture() -> (Vec<Message>, [u8; 20]) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/capture-tls.txt"
    ))
    .unwrap();
    ergo_proto::register_framework_types().unwrap();
    let mut lines = text.lines();
    let first = lines.next().unwrap();
    let fp: [u8; 20] = hex::decode(first.trim_start_matches("CERT SHA1 "))
        .unwrap()
        .try_into()
        .unwrap();
    let mut msgs = Vec::new();
    let mut want_hex = false;
    for l in lines {
        if want_hex {
            let b = hex::decode(l.trim()).unwrap();
            let (m, n) = handshake::decode(&b).unwrap().unwrap();
            assert_eq!(n, b.len());
            msgs.push(m);
            want_hex = false;
        } else if l.starts_with("[connect] HS ") {
            want_hex = true;
        }
    }
    (msgs, fp)
}

#[test]
fn go_tls_handshake_digests_verify() {
    let (msgs, fp) = capture();
    let cookie = "secret";
    let Message::Hello(d) = &msgs[0] else {
        panic!("{:?}", msgs[0])
    };
    let Message::Hello(a) = &msgs[1] else {
        panic!()
    };
    assert_eq!(d.digest, digest::hello(&d.salt, cookie));
    assert_eq!(a.digest, digest::hello_reply(&a.salt, &d.digest, cookie));
    assert!(!a.digest_cert.is_empty());
    assert_eq!(
        a.digest_cert,
        digest::hello_cert(&a.salt, &d.salt, cookie, &fp)
    );
    let mut joins = 0;
    for pair in msgs.windows(2) {
        if let [Message::Join(j), Message::Accept(r)] = pair {
            let jd = digest::join(&j.connection_id, &j.salt, cookie);
            assert_eq!(j.digest, jd);
            assert_eq!(r.digest, digest::join_reply(&jd, cookie));
            assert_eq!(r.digest_cert, digest::join_cert(&jd, &j.salt, cookie, &fp));
            joins += 1;
        }
    }
    assert_eq!(joins, 2);
    // With another certificate, the digest does not verify.
    let other = digest::cert_fingerprint(b"someone else");
    assert_ne!(
        a.digest_cert,
        digest::hello_cert(&a.salt, &d.salt, cookie, &other)
    );
}
