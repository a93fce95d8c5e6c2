//! The bytes of two live sessions of Go's Observer (ergo.services/application/observer on a
//! Go Ergo 3.1 node) browsing a node: our node (`observer-rust.hex`) and a Go Ergo 3.1 node
//! (`observer-go.hex`). See `tests/fixtures/inspect/README.md` for how they were made.
//!
//! Every ENP payload in them decodes with the sender's announced caches into our types, and
//! our encoder writes the same bytes back: the Observer's requests, our answers, and Go's own
//! answers (which proves our Go-typed layouts are Go's, field for field).

use std::any::Any;
use std::collections::BTreeSet;
use std::path::PathBuf;

use ergo_engine::inspect::{self, gen_types, messages};
use ergo_engine::proto::connection::ConnectionCodec;
use ergo_engine::proto::edf::{self as edf, registry, Decoder, Encoder};
use ergo_engine::proto::frame::{Frame, Message as Enp};
use ergo_engine::proto::handshake::{self, Established, LocalNode, MessageIntroduce, Peer};

/// One captured frame: sent by the observer side (`o>n`) or by the inspected node (`n>o`).
struct Captured {
    from_observer: bool,
    bytes: Vec<u8>,
}

fn load(name: &str) -> Vec<Captured> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inspect")
        .join(name);
    let text = std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("fixture {} is missing: {e}", p.display()));
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (dir, hx) = l.split_once(' ').expect("a fixture line is `<dir> <hex>`");
            let from_observer = match dir {
                "o>n" => true,
                "n>o" => false,
                other => panic!("bad direction {other}"),
            };
            Captured {
                from_observer,
                bytes: hex::decode(hx).expect("fixture hex"),
            }
        })
        .collect()
}

fn local_of(intro: &MessageIntroduce) -> LocalNode {
    LocalNode {
        node: intro.node,
        creation: intro.creation,
        version: intro.version.clone(),
        flags: intro.flags,
        max_message_size: intro.max_message_size as u64,
        cookie: String::new(),
        atom_cache: intro
            .atom_cache
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        reg_cache: intro
            .reg_cache
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        err_cache: intro
            .err_cache
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
    }
}

/// The codec `me` used towards `peer` (its encode caches are what `me` wrote with, its
/// decode caches what it read `peer`'s frames with).
fn codec(me: &MessageIntroduce, peer: &MessageIntroduce) -> ConnectionCodec {
    let est = Established {
        peer: Peer::from_introduce(peer.clone()),
        connection_id: String::new(),
        pool_size: 1,
        pool_dsn: vec![],
    };
    ConnectionCodec::new(&local_of(me), &est)
}

/// The two Introduce messages of the session: (observer side, inspected node).
fn introduces(frames: &[Captured]) -> (MessageIntroduce, MessageIntroduce) {
    let (mut o, mut n) = (None, None);
    for f in frames.iter().filter(|f| f.bytes[0] == 0x57) {
        let (m, _) = handshake::decode(&f.bytes)
            .expect("handshake frame decodes")
            .expect("a whole handshake frame");
        if let handshake::Message::Introduce(i) = m {
            if f.from_observer {
                o = Some(*i);
            } else {
                n = Some(*i);
            }
        }
    }
    (
        o.expect("observer's Introduce"),
        n.expect("node's Introduce"),
    )
}

/// Decodes every ENP payload and re-encodes it; returns the registered type names seen per
/// direction (observer side, node side).
fn round_trip(name: &str) -> (BTreeSet<String>, BTreeSet<String>, usize) {
    inspect::register_types().expect("inspect types register");
    let frames = load(name);
    let (o, n) = introduces(&frames);
    let o_codec = codec(&o, &n);
    let n_codec = codec(&n, &o);
    let (mut from_o, mut from_n) = (BTreeSet::new(), BTreeSet::new());
    let mut checked = 0;
    for f in frames.iter().filter(|f| f.bytes[0] == 0x4E) {
        let frame = Frame::parse(&f.bytes).expect("ENP frame parses");
        if frame.payload.is_empty() || matches!(frame.message, Enp::ResponseError { .. }) {
            continue;
        }
        // Read with the receiver's view of the sender's caches, write with the sender's.
        let (reader, writer) = if f.from_observer {
            (&n_codec, &o_codec)
        } else {
            (&o_codec, &n_codec)
        };
        let mut dec = Decoder::new(frame.payload, reader.decode_caches());
        let v = edf::decode_any(&mut dec)
            .unwrap_or_else(|e| panic!("{name}: payload of type {} decodes: {e}", frame.kind()));
        let mut out = Vec::new();
        let any: &(dyn Any + Send) = &*v;
        edf::encode_any(any, &mut Encoder::new(&mut out, writer.encode_caches()))
            .expect("re-encodes");
        if out != frame.payload {
            // Maps travel in Go's random order: then the bytes must have the same length and
            // decode to the same value.
            assert_eq!(out.len(), frame.payload.len(), "{name}: re-encoded length");
            let mut dec2 = Decoder::new(&out, reader.decode_caches());
            let v2 = edf::decode_any(&mut dec2).expect("our bytes decode");
            assert!(
                same_map_value(&*v, &*v2),
                "{name}: payload of frame type {} re-encodes to other bytes:\n{}\n{}",
                frame.kind(),
                hex::encode(&out),
                hex::encode(frame.payload)
            );
        }
        checked += 1;
        if let Some(info) = registry::lookup_type_id((*v).type_id()) {
            let set = if f.from_observer {
                &mut from_o
            } else {
                &mut from_n
            };
            set.insert(info.name().rsplit('/').next().unwrap_or("").to_string());
        }
    }
    (from_o, from_n, checked)
}

/// Equality of the inspect values that carry maps (order-free).
fn same_map_value(a: &(dyn Any + Send + Sync), b: &(dyn Any + Send + Sync)) -> bool {
    fn eq<T: PartialEq + 'static>(a: &dyn Any, b: &dyn Any) -> Option<bool> {
        Some(a.downcast_ref::<T>()? == b.downcast_ref::<T>()?)
    }
    let (a, b): (&dyn Any, &dyn Any) = (a, b);
    eq::<messages::MessageInspectApplicationList>(a, b)
        .or_else(|| eq::<messages::MessageInspectProcessState>(a, b))
        .or_else(|| eq::<messages::MessageInspectNode>(a, b))
        .or_else(|| eq::<messages::MessageInspectProcess>(a, b))
        .unwrap_or(false)
}

const REQUESTS: [&str; 9] = [
    "RequestInspectNode",
    "RequestInspectNetwork",
    "RequestInspectProcessList",
    "RequestInspectProcess",
    "RequestInspectProcessState",
    "RequestInspectApplicationList",
    "RequestInspectApplicationTree",
    "RequestInspectLog",
    "RequestInspectConnection",
];

const ANSWERS: [&str; 18] = [
    "ResponseInspectNode",
    "ResponseInspectNetwork",
    "ResponseInspectProcessList",
    "ResponseInspectProcess",
    "ResponseInspectProcessState",
    "ResponseInspectApplicationList",
    "ResponseInspectApplicationTree",
    "ResponseInspectLog",
    "ResponseInspectConnection",
    "MessageInspectNode",
    "MessageInspectNetwork",
    "MessageInspectProcessList",
    "MessageInspectProcess",
    "MessageInspectProcessState",
    "MessageInspectApplicationList",
    "MessageInspectApplicationTree",
    "MessageInspectConnection",
    "MessageResult",
];

#[test]
fn the_observers_requests_and_our_answers_round_trip() {
    let (from_o, from_n, checked) = round_trip("observer-rust.hex");
    for r in REQUESTS {
        assert!(from_o.contains(r), "the observer sent {r}: {from_o:?}");
    }
    for a in ANSWERS {
        assert!(from_n.contains(a), "we answered {a}: {from_n:?}");
    }
    assert!(from_n.contains("MessageInspectLogProcess"), "{from_n:?}");
    assert!(checked > 40, "{checked} payloads");
}

#[test]
fn go_answers_decode_into_our_types_and_re_encode_to_gos_bytes() {
    let (from_o, from_n, checked) = round_trip("observer-go.hex");
    for r in REQUESTS {
        assert!(from_o.contains(r), "the observer sent {r}: {from_o:?}");
    }
    for a in ANSWERS {
        assert!(from_n.contains(a), "Go answered {a}: {from_n:?}");
    }
    assert!(checked > 40, "{checked} payloads");
}

/// A request the Observer sent, decoded into our type: the values are the ones it asked for.
#[test]
fn the_observers_process_list_request_carries_the_page_it_asked_for() {
    inspect::register_types().expect("inspect types register");
    let frames = load("observer-rust.hex");
    let (o, n) = introduces(&frames);
    let reader = codec(&n, &o);
    let mut found = None;
    for f in frames
        .iter()
        .filter(|f| f.from_observer && f.bytes[0] == 0x4E)
    {
        let frame = Frame::parse(&f.bytes).expect("ENP frame parses");
        let Enp::RequestName { .. } = frame.message else {
            continue;
        };
        let mut dec = Decoder::new(frame.payload, reader.decode_caches());
        let v = edf::decode_any(&mut dec).expect("decodes");
        if let Some(r) = v.downcast_ref::<messages::RequestInspectProcessList>() {
            found = Some(*r);
        }
    }
    let r = found.expect("a RequestInspectProcessList in the session");
    assert_eq!((r.start, r.limit), (1000, 100));
    let _ = gen_types::ProcessShortInfo::default();
}
