//! ENP frames and compression beyond the transcripts: every message type round-trips, bad
//! input is an error (never a panic), and Go's 200 KB LZW vector inflates exactly.

use ergo_proto::compression::{self, Algorithm};
use ergo_proto::frame::{self, frame_len, Frame, FrameError, Message, NameRef};
use proptest::prelude::*;

fn all_messages() -> Vec<Message<'static>> {
    let ids = [7u64, 25512, 0];
    vec![
        Message::SendPid {
            from: 1001,
            flags: 0,
            delivery: None,
            to: 1002,
        },
        Message::SendPid {
            from: 1001,
            flags: 0x81,
            delivery: Some(33746),
            to: 1002,
        },
        Message::SendName {
            from: 1,
            flags: 2,
            delivery: None,
            to: NameRef::Inline("srv"),
        },
        Message::SendName {
            from: 1,
            flags: 0x80,
            delivery: Some(5),
            to: NameRef::Cached(300),
        },
        Message::SendAlias {
            from: 1,
            flags: 0,
            delivery: None,
            to: ids,
        },
        Message::Event {
            producer: 9,
            priority: 0,
            timestamp: 1_700_000_000_000_000_000,
            name: NameRef::Inline("ev"),
        },
        Message::Event {
            producer: 9,
            priority: 1,
            timestamp: -1,
            name: NameRef::Cached(257),
        },
        Message::Exit {
            from: 1,
            priority: 2,
            to: 3,
        },
        Message::RequestPid {
            from: 1,
            flags: 0,
            reference: ids,
            to: 4,
        },
        Message::RequestName {
            from: 1,
            flags: 0x80,
            reference: ids,
            to: NameRef::Inline("x"),
        },
        Message::RequestName {
            from: 1,
            flags: 0,
            reference: ids,
            to: NameRef::Cached(999),
        },
        Message::RequestAlias {
            from: 1,
            flags: 0,
            reference: ids,
            to: ids,
        },
        Message::Response {
            from: 5,
            priority: 0,
            to: 1,
            reference: ids,
        },
        Message::ResponseError {
            from: 5,
            priority: 0,
            to: 1,
            reference: ids,
            code: 1,
        },
        Message::TerminatePid {
            priority: 1,
            pid: 1005,
        },
        Message::TerminateName {
            priority: 1,
            name: NameRef::Inline("victim"),
        },
        Message::TerminateName {
            priority: 1,
            name: NameRef::Cached(256),
        },
        Message::TerminateAlias {
            priority: 1,
            alias: ids,
        },
        Message::TerminateEvent {
            priority: 1,
            name: NameRef::Inline("ev1"),
        },
        Message::TerminateEvent {
            priority: 1,
            name: NameRef::Cached(256),
        },
        Message::Any,
        Message::Compressed {
            algorithm: 102,
            original_len: 2136,
        },
    ]
}

#[test]
fn every_message_type_round_trips_and_truncations_fail() {
    let payload = [0x8d, 0x00, 0x02, b'h', b'i'];
    for m in all_messages() {
        let f = Frame {
            order: 239,
            message: m,
            payload: &payload,
        };
        let mut b = Vec::new();
        f.write(&mut b).unwrap();
        assert_eq!(frame_len(&b, 0).unwrap(), Some(b.len()));
        let back = Frame::parse(&b).unwrap();
        assert_eq!(back, f, "{m:?}");
        // Cut anywhere inside the fixed part: a clean error.
        let fixed = b.len() - payload.len();
        for n in 8..fixed {
            let mut cut = b[..n].to_vec();
            cut[2..6].copy_from_slice(&(n as u32).to_be_bytes());
            assert!(
                matches!(Frame::parse(&cut), Err(FrameError::Truncated { .. })),
                "{m:?} cut at {n}"
            );
        }
    }
}

#[test]
fn the_unused_delivery_slot_is_zeroed_on_send() {
    let f = Frame {
        order: 1,
        message: Message::SendPid {
            from: 1,
            flags: 0,
            delivery: Some(77),
            to: 2,
        },
        payload: &[0xff],
    };
    let mut b = Vec::new();
    f.write(&mut b).unwrap();
    assert_eq!(&b[17..25], &[0; 8]);
}

#[test]
fn header_errors_are_caught_before_buffering() {
    assert_eq!(frame_len(&[0x4e, 1, 0, 0], 0).unwrap(), None);
    assert_eq!(
        frame_len(&[0x4f, 1, 0, 0, 0, 9], 0).unwrap_err(),
        FrameError::BadMagic(0x4f)
    );
    assert_eq!(
        frame_len(&[0x4e, 2, 0, 0, 0, 9], 0).unwrap_err(),
        FrameError::BadVersion(2)
    );
    assert_eq!(
        frame_len(&[0x4e, 1, 0, 0, 0, 7], 0).unwrap_err(),
        FrameError::BadLength(7)
    );
    assert_eq!(
        frame_len(&[0x4e, 1, 0xff, 0xff, 0xff, 0xff], 1 << 20).unwrap_err(),
        FrameError::TooLarge {
            len: 0xffff_ffff,
            max: 1 << 20
        }
    );
    let mut unknown = vec![0x4e, 1, 0, 0, 0, 9, 0, 250, 0];
    assert_eq!(
        Frame::parse(&unknown).unwrap_err(),
        FrameError::UnknownType(250)
    );
    unknown[7] = 201;
    assert_eq!(
        Frame::parse(&unknown).unwrap_err(),
        FrameError::UnknownType(201),
        "reserved: encrypted"
    );
    let mut kept = vec![1, 2, 3];
    let long = "x".repeat(256);
    let m = Message::SendName {
        from: 1,
        flags: 0,
        delivery: None,
        to: NameRef::Inline(&long),
    };
    assert_eq!(
        frame::begin(0, &m, &mut kept),
        Err(FrameError::NameTooLong(256))
    );
    assert_eq!(kept, vec![1, 2, 3], "a failed header leaves nothing behind");
    assert!(matches!(
        Frame::write(
            &Frame {
                order: 0,
                message: Message::TerminateName {
                    priority: 0,
                    name: NameRef::Inline(&"x".repeat(256))
                },
                payload: &[]
            },
            &mut Vec::new()
        ),
        Err(FrameError::NameTooLong(256))
    ));
}

#[test]
fn order_bytes_never_mean_unordered_for_an_ordered_sender() {
    assert_eq!(frame::order_for(1004), (1004 % 255) as u8);
    assert_eq!(frame::order_for(255), 255);
    assert_eq!(frame::order_for(0), 255);
}

#[test]
fn go_lzw_vector_of_200000_bytes_inflates_exactly() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/lzw-200000.hex.txt"
    ))
    .unwrap();
    let mut lines = text.lines();
    let input = hex::decode(lines.next().unwrap().trim()).unwrap();
    let output = hex::decode(lines.next().unwrap().trim()).unwrap();
    assert_eq!(input.len(), 200_000);
    let n = u32::from_be_bytes(output[..4].try_into().unwrap());
    assert_eq!(n, 200_000);
    assert_eq!(
        compression::decompress(100, n, &output[4..], 0).unwrap(),
        input
    );
    // Ours round-trips too (the bytes differ from Go's; Go decodes weezl's output, per the spec).
    let ours = compression::compress(&input, Algorithm::Lzw, 0).unwrap();
    assert_eq!(compression::decompress(100, n, &ours, 0).unwrap(), input);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_frame_parser(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = frame_len(&b, 1 << 16);
        let _ = Frame::parse(&b);
        let mut framed = vec![0x4e, 1, 0, 0, 0, 0];
        framed.extend_from_slice(&b);
        let n = framed.len() as u32;
        framed[2..6].copy_from_slice(&n.to_be_bytes());
        if let Ok(f) = Frame::parse(&framed) {
            if let Message::Compressed { algorithm, original_len } = f.message {
                let _ = compression::decompress(algorithm, original_len, f.payload, 1 << 16);
            }
        }
        let _ = ergo_proto::handshake::decode(&b);
        let _ = ergo_proto::registrar::Packet::decode(&b);
    }
}
