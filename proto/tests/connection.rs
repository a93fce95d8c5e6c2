//! The connection codec against real Go transcripts: every ENP frame decodes into an event with
//! the right identities, and our encoder, given the same values, writes Go's bytes (the unused
//! delivery-ID slot masked; compressed frames compared after inflating).

#[path = "../examples/replay/twins.rs"]
mod twins;

use std::path::PathBuf;

use ergo_edf::{Atom, GoError, Pid, ProcessId, Value};
use ergo_proto::connection::{
    ConnectionCodec, Control, Incoming, LocalTarget, Priority, RemoteTarget, RemoteTargetOf,
    SendOptions, Target,
};
use ergo_proto::frame::{Frame, Message};
use ergo_proto::handshake::{self, Established, LocalNode, MessageIntroduce, Peer};
use serde_json::Value as Json;

struct Side {
    local: LocalNode,
    intro: MessageIntroduce,
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

fn codec(me: &Side, peer: &Side) -> ConnectionCodec {
    let est = Established {
        peer: Peer::from_introduce(peer.intro.clone()),
        connection_id: String::new(),
        pool_size: 3,
        pool_dsn: vec![],
    };
    ConnectionCodec::new(&me.local, &est)
}

struct Transcript {
    json: Json,
    streams: Vec<(u64, String, Vec<u8>)>,
}

impl Transcript {
    fn load(name: &str) -> Transcript {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/vectors")
            .join(name);
        let json: Json = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        let streams = json["connections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let b: Vec<u8> = c["chunks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|ch| hex::decode(ch["hex"].as_str().unwrap()).unwrap())
                    .collect();
                (
                    c["index"].as_u64().unwrap(),
                    c["direction"].as_str().unwrap().to_string(),
                    b,
                )
            })
            .collect();
        Transcript { json, streams }
    }
    fn frames(&self) -> impl Iterator<Item = (&Json, &[u8])> {
        self.json["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(move |f| {
                let (_, _, s) = self
                    .streams
                    .iter()
                    .find(|(i, d, _)| {
                        Some(*i) == f["conn"].as_u64()
                            && Some(d.as_str()) == f["direction"].as_str()
                    })
                    .unwrap();
                let at = f["stream_offset"].as_u64().unwrap() as usize;
                (f, &s[at..at + f["length"].as_u64().unwrap() as usize])
            })
    }
    fn sides(&self) -> (Side, Side) {
        let mut a = None;
        let mut b = None;
        for (f, bytes) in self.frames() {
            if f["type_name"] == "MessageIntroduce" {
                let Some((handshake::Message::Introduce(i), _)) = handshake::decode(bytes).unwrap()
                else {
                    panic!()
                };
                let side = Side {
                    local: local_of(&i),
                    intro: *i,
                };
                if f["direction"] == "a->b" {
                    a = Some(side)
                } else {
                    b = Some(side)
                }
            }
        }
        (a.unwrap(), b.unwrap())
    }
}

fn masked(b: &[u8]) -> Vec<u8> {
    let mut v = b.to_vec();
    let f = Frame::parse(b).unwrap();
    if matches!(
        f.message,
        Message::SendPid { delivery: None, .. }
            | Message::SendName { delivery: None, .. }
            | Message::SendAlias { delivery: None, .. }
    ) {
        v[17..25].fill(0);
    }
    v
}

fn inflate(b: &[u8]) -> Vec<u8> {
    let f = Frame::parse(b).unwrap();
    match f.message {
        Message::Compressed {
            algorithm,
            original_len,
        } => ergo_proto::compression::decompress(algorithm, original_len, f.payload, 0).unwrap(),
        _ => b.to_vec(),
    }
}

/// Re-encodes a decoded event with the sender's codec.
fn reencode(
    sender: &ConnectionCodec,
    receiver_node: Atom,
    ev: &Incoming<'_>,
    order: u8,
    out: &mut Vec<u8>,
) {
    let keep = order != 0;
    let as_remote = |t: &LocalTarget| match t {
        LocalTarget::Pid(p) => Target::Pid(*p),
        LocalTarget::Name(n) => Target::Name(ProcessId::new(*n, receiver_node)),
        LocalTarget::Alias(a) => Target::Alias(*a),
    };
    match ev {
        Incoming::Send {
            from,
            to,
            priority,
            important,
            payload,
        } => {
            let opts = SendOptions {
                priority: *priority,
                important: *important,
                keep_order: keep,
                compression: None,
            };
            sender
                .send(from, &as_remote(to), &opts, &payload.value().unwrap(), out)
                .unwrap();
        }
        Incoming::Request {
            from,
            to,
            reference,
            priority,
            important,
            payload,
        } => {
            let opts = SendOptions {
                priority: *priority,
                important: important.then_some(0),
                keep_order: keep,
                compression: None,
            };
            sender
                .request(
                    from,
                    &as_remote(to),
                    reference,
                    &opts,
                    &payload.value().unwrap(),
                    out,
                )
                .unwrap();
        }
        Incoming::Response {
            from_id,
            to,
            reference,
            priority,
            payload,
        } => {
            // Only the responder's ID travels.
            let responder = Pid::new(Atom::new("responder"), *from_id, 0);
            sender
                .response(
                    &responder,
                    to,
                    reference,
                    *priority,
                    &payload.value().unwrap(),
                    None,
                    out,
                )
                .unwrap();
        }
        Incoming::ResponseError {
            from_id,
            to,
            reference,
            priority,
            code,
        } => {
            sender
                .response_error(*from_id, to, reference.id, *priority, code, keep, out)
                .unwrap();
        }
        Incoming::Event {
            event,
            producer,
            timestamp,
            priority,
            payload,
        } => {
            sender
                .event(
                    producer,
                    event.name,
                    *timestamp,
                    *priority,
                    &payload.value().unwrap(),
                    None,
                    out,
                )
                .unwrap();
        }
        Incoming::Exit { from, to, reason } => {
            sender.exit(from, to, reason, out).unwrap();
        }
        Incoming::Terminate { target, reason } => {
            let t = match target {
                RemoteTarget::Pid(p) => RemoteTargetOf::Pid(p.id),
                RemoteTarget::Name(n) => RemoteTargetOf::Name(n.name),
                RemoteTarget::Alias(a) => RemoteTargetOf::Alias(a.id),
                RemoteTarget::Event(e) => RemoteTargetOf::Event(e.name),
            };
            sender.terminate(&t, reason, out).unwrap();
        }
        Incoming::Control(c) => {
            macro_rules! ctl {
                ($($v:ident),*) => {
                    match c {
                        $(Control::$v(m) => { sender.control(0, order, m, out).unwrap(); })*
                        Control::Spawn(m) => { sender.control(0, order, &**m, out).unwrap(); }
                        Control::ApplicationStart(m) => { sender.control(0, order, &**m, out).unwrap(); }
                        Control::UpdateCache(m) => { sender.control(0, order, &**m, out).unwrap(); }
                    }
                };
            }
            ctl!(
                LinkPid,
                UnlinkPid,
                LinkProcessId,
                UnlinkProcessId,
                LinkAlias,
                UnlinkAlias,
                LinkEvent,
                UnlinkEvent,
                MonitorPid,
                DemonitorPid,
                MonitorProcessId,
                DemonitorProcessId,
                MonitorAlias,
                DemonitorAlias,
                MonitorEvent,
                DemonitorEvent,
                Result
            );
        }
    }
}

#[test]
fn every_go_frame_decodes_and_our_encoder_writes_the_same_bytes() {
    twins::register_all().unwrap();
    let files = [
        "net_call.json",
        "net_event.json",
        "net_handshake.json",
        "net_important.json",
        "net_large.json",
        "net_link_monitor.json",
        "net_link_monitor_creation_mismatch.json",
        "net_send.json",
        "net_send_name.json",
        "net_spawn.json",
    ];
    let mut checked = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for file in files {
        let t = Transcript::load(file);
        let (a, b) = t.sides();
        let (a_recv, b_recv) = (codec(&a, &b), codec(&b, &a));
        for (f, bytes) in t.frames() {
            if f["layer"] != "enp" {
                continue;
            }
            let a_to_b = f["direction"] == "a->b";
            let (receiver, sender, receiver_node) = if a_to_b {
                (&b_recv, &a_recv, b.local.node)
            } else {
                (&a_recv, &b_recv, a.local.node)
            };
            let ev = receiver
                .decode(bytes, 0)
                .unwrap_or_else(|e| panic!("{file} {}: {e}", f["type_name"]));
            let plain = inflate(bytes);
            let order = plain[6];
            kinds.insert(plain[7]);
            let mut ours = Vec::new();
            reencode(sender, receiver_node, &ev, order, &mut ours);
            // Go may write maps in any order; equal bytes, or equal values when they differ.
            if masked(&ours) != masked(&plain) {
                let theirs = receiver.decode(&plain, 0).unwrap();
                let again = receiver.decode(&ours, 0).unwrap();
                assert_eq!(
                    format!("{again:?}"),
                    format!("{theirs:?}"),
                    "{file} {}:\n go   {}\n ours {}",
                    f["type_name"],
                    hex::encode(&plain),
                    hex::encode(&ours)
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 121, "every ENP frame of the ten transcripts");
    // Every type that Go 3.1 sends by default was covered.
    let want: std::collections::BTreeSet<u8> = [
        101, 102, 104, 105, 107, 121, 122, 124, 129, 130, 181, 182, 184, 185, 199,
    ]
    .into();
    assert_eq!(kinds, want);
}

#[test]
fn identities_left_implicit_by_headers_are_filled_in() {
    twins::register_all().unwrap();
    let t = Transcript::load("net_send.json");
    let (a, b) = t.sides();
    let b_recv = codec(&b, &a);
    let (_, first) = t.frames().find(|(f, _)| f["layer"] == "enp").unwrap();
    let Incoming::Send {
        from,
        to,
        priority,
        important,
        payload,
    } = b_recv.decode(first, 0).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        from,
        Pid::new(Atom::new("a@localhost"), 1004, a.local.creation)
    );
    assert_eq!(
        to,
        LocalTarget::Pid(Pid::new(Atom::new("b@localhost"), 1004, b.local.creation))
    );
    assert_eq!((priority, important), (Priority::Normal, None));
    assert_eq!(payload.value().unwrap(), Value::Int(42));
    assert_eq!(payload.typed::<isize>().unwrap(), 42);
}

#[test]
fn local_checks_refuse_what_go_refuses() {
    twins::register_all().unwrap();
    let t = Transcript::load("net_send.json");
    let (a, mut b) = t.sides();
    let a_codec = codec(&a, &b);
    let mut out = Vec::new();
    let elsewhere = Pid::new(Atom::new("c@localhost"), 1, b.local.creation);
    assert!(a_codec
        .send(
            &a.local.node_pid(),
            &Target::Pid(elsewhere),
            &SendOptions::default(),
            &1isize,
            &mut out
        )
        .is_err());
    let old = Pid::new(b.local.node, 1004, b.local.creation - 1);
    let r = a_codec.send(
        &a.local.node_pid(),
        &Target::Pid(old),
        &SendOptions::default(),
        &1isize,
        &mut out,
    );
    assert_eq!(
        r.unwrap_err(),
        ergo_proto::connection::ConnectionError::Incarnation
    );
    assert!(out.is_empty(), "nothing is left in the buffer on error");
    // A peer without important delivery.
    b.intro.flags = ergo_proto::gen::NetworkFlags(0x01);
    let a_codec = codec(&a, &b);
    let to = Pid::new(b.local.node, 1004, b.local.creation);
    let opts = SendOptions {
        important: Some(1),
        ..Default::default()
    };
    let r = a_codec.send(
        &a.local.node_pid(),
        &Target::Pid(to),
        &opts,
        &1isize,
        &mut out,
    );
    assert_eq!(
        r.unwrap_err(),
        ergo_proto::connection::ConnectionError::ImportantUnsupported
    );
    // A peer with a small MaxMessageSize.
    b.intro.max_message_size = 100;
    let a_codec = codec(&a, &b);
    let big = vec![7u8; 200];
    let r = a_codec.send(
        &a.local.node_pid(),
        &Target::Pid(to),
        &SendOptions::default(),
        &big,
        &mut out,
    );
    assert!(matches!(
        r,
        Err(ergo_proto::connection::ConnectionError::TooLarge { .. })
    ));
    assert!(out.is_empty());
}

#[test]
fn exit_reasons_must_be_errors() {
    twins::register_all().unwrap();
    let t = Transcript::load("net_send.json");
    let (a, b) = t.sides();
    let (a_codec, b_codec) = (codec(&a, &b), codec(&b, &a));
    let to = Pid::new(b.local.node, 1004, b.local.creation);
    let mut out = Vec::new();
    a_codec
        .exit(&a.local.node_pid(), &to, &GoError::new("bye"), &mut out)
        .unwrap();
    let Incoming::Exit { reason, .. } = b_codec.decode(&out, 0).unwrap() else {
        panic!()
    };
    assert_eq!(reason.text(), "bye");
    // The same frame with a string instead of an error: the receiver refuses it.
    let mut bad = Vec::new();
    let start = ergo_proto::frame::begin(
        1,
        &Message::Exit {
            from: 1004,
            priority: 2,
            to: 1004,
        },
        &mut bad,
    )
    .unwrap();
    bad.extend_from_slice(&[0x8d, 0, 1, b'x']);
    ergo_proto::frame::finish(&mut bad, start).unwrap();
    assert_eq!(
        b_codec.decode(&bad, 0).unwrap_err(),
        ergo_proto::connection::ConnectionError::ReasonNotError
    );
}

trait NodePid {
    fn node_pid(&self) -> Pid;
}

impl NodePid for LocalNode {
    fn node_pid(&self) -> Pid {
        Pid::new(self.node, 1004, self.creation)
    }
}
