//! Behaviour of the codec beyond the golden vectors: bad input, limits, caches, registration.

use std::collections::HashMap;

use ergo_edf::{
    ensure_registered, register, Atom, DecodeCaches, DecodeError, Decoder, Edf, EncodeCaches,
    EncodeError, GoError, Pid, ProcessId, RegisterError, TypeDesc, Value,
};
use serde_json::Value as Json;

fn decode_value(bytes: &[u8]) -> Result<Value, DecodeError> {
    Value::decode_tagged(&mut Decoder::new(bytes, DecodeCaches::none()))
}

#[test]
fn every_truncated_vector_is_an_error_not_a_panic() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/edf.json"
    ))
    .unwrap();
    let json: Json = serde_json::from_str(&text).unwrap();
    let mut cut = 0;
    for e in json.as_array().unwrap() {
        if e["options"] != "none" || e["hex_truncated"] == true {
            continue;
        }
        let bytes = hex::decode(e["hex"].as_str().unwrap()).unwrap();
        if bytes.len() > 4096 {
            continue;
        }
        // Vectors of unregistered names are fine here: only truncation is under test.
        for n in 0..bytes.len() {
            let r = decode_value(&bytes[..n]);
            assert!(
                r.is_err(),
                "{} cut to {n} bytes decoded as {:?}",
                e["name"],
                r
            );
            cut += 1;
        }
    }
    assert!(cut > 1000);
}

#[test]
fn a_count_larger_than_the_input_fails_before_allocating() {
    // []int with a claimed 4 billion elements and no bytes behind them.
    let r = decode_value(&hex::decode("8200029d969dffffffff").unwrap());
    assert!(
        matches!(
            r,
            Err(DecodeError::CountTooLarge {
                what: "slice",
                count: 0xffff_ffff,
                ..
            })
        ),
        "{r:?}"
    );
    let r = decode_value(&hex::decode("8effffffff00").unwrap());
    assert!(
        matches!(r, Err(DecodeError::CountTooLarge { what: "binary", .. })),
        "{r:?}"
    );
    let r = decode_value(&hex::decode("8200039f8d969fffffffff").unwrap());
    assert!(
        matches!(r, Err(DecodeError::CountTooLarge { what: "map", .. })),
        "{r:?}"
    );
    let r: Result<Vec<String>, _> =
        ergo_edf::from_slice(&hex::decode("8200029d8d9d7fffffff0000").unwrap());
    assert!(matches!(r, Err(DecodeError::CountTooLarge { .. })), "{r:?}");
    // An array whose descriptor claims more elements than the bytes could hold.
    let r = decode_value(&hex::decode("8200069e7fffffff96").unwrap());
    assert!(
        matches!(r, Err(DecodeError::CountTooLarge { what: "array", .. })),
        "{r:?}"
    );
}

#[test]
fn deep_nesting_is_refused() {
    // []any{[]any{[]any{...}}} 1000 levels deep.
    let mut b = Vec::new();
    for _ in 0..1000 {
        b.extend_from_slice(&hex::decode("8200029d849d00000001").unwrap());
    }
    b.push(0xff);
    assert_eq!(
        decode_value(&b),
        Err(DecodeError::TooDeep(ergo_edf::desc::MAX_DEPTH))
    );
    // A descriptor nested 1000 levels deep: [][][]...int.
    let mut d = vec![0x82, 0x03, 0xe9];
    d.extend(std::iter::repeat_n(0x9d, 1000));
    d.push(0x96);
    d.push(0xff);
    assert_eq!(
        decode_value(&d),
        Err(DecodeError::TooDeep(ergo_edf::desc::MAX_DEPTH))
    );
    // The same 1000 levels as a Value cannot be encoded either.
    let mut v = Value::Nil;
    for _ in 0..1000 {
        v = Value::Slice {
            elem: TypeDesc::Any,
            items: Some(vec![v]),
        };
    }
    assert!(matches!(ergo_edf::to_vec(&v), Err(EncodeError::TooDeep(_))));
}

#[test]
fn unknown_tags_bad_markers_and_bad_text_are_errors() {
    assert!(matches!(
        decode_value(&[0x01]),
        Err(DecodeError::UnknownType { tag: 1, .. })
    ));
    assert!(matches!(
        decode_value(&[0x9d, 0, 0, 0, 0]),
        Err(DecodeError::UnknownType { tag: 0x9d, .. })
    ));
    assert!(matches!(
        decode_value(&hex::decode("8200029d9601").unwrap()),
        Err(DecodeError::BadMarker { .. })
    ));
    // A Go string that is not UTF-8 is kept as bytes by Value, refused by a typed String.
    let bad = hex::decode("8d0002fffe").unwrap();
    assert_eq!(
        decode_value(&bad),
        Ok(Value::GoString(ergo_edf::GoString::new(vec![0xff, 0xfe])))
    );
    assert_eq!(
        ergo_edf::from_slice::<String>(&bad),
        Err(DecodeError::InvalidUtf8("string"))
    );
    assert_eq!(
        decode_value(&hex::decode("8c0001ff").unwrap()),
        Err(DecodeError::InvalidUtf8("atom"))
    );
    assert!(matches!(
        decode_value(&hex::decode("af0f03").unwrap()),
        Err(DecodeError::EndOfData { .. })
    ));
    let mut bad_time = hex::decode("af0f09").unwrap();
    bad_time.extend([0u8; 14]);
    assert!(matches!(
        decode_value(&bad_time),
        Err(DecodeError::BadTime(_))
    ));
    // A descriptor length that does not match the descriptor.
    assert_eq!(
        decode_value(&hex::decode("8200039d969d00000000").unwrap()),
        Err(DecodeError::DescriptorLength)
    );
}

#[test]
fn typed_decoding_checks_the_tag() {
    let int_bytes = ergo_edf::to_vec(&7isize).unwrap();
    assert_eq!(int_bytes, hex::decode("960000000000000007").unwrap());
    let r: Result<i64, _> = ergo_edf::from_slice(&int_bytes);
    assert!(
        matches!(r, Err(DecodeError::TypeMismatch { .. })),
        "Go int is not int64: {r:?}"
    );
    let r: Result<Vec<i32>, _> = ergo_edf::from_slice(&ergo_edf::to_vec(&vec![1i64]).unwrap());
    assert!(matches!(r, Err(DecodeError::TypeMismatch { .. })), "{r:?}");
    let r: Result<[u8; 3], _> = ergo_edf::from_slice(&ergo_edf::to_vec(&[1u8, 2]).unwrap());
    assert!(matches!(r, Err(DecodeError::TypeMismatch { .. })), "{r:?}");
}

#[test]
fn cache_ids_need_the_senders_cache() {
    assert_eq!(
        decode_value(&hex::decode("8c012c").unwrap()),
        Err(DecodeError::NoAtomCache(300))
    );
    let with = DecodeCaches::default().with_atoms([(256, Atom::new("n@h"))]);
    let r = Value::decode_tagged(&mut Decoder::new(&hex::decode("8c012c").unwrap(), &with));
    assert_eq!(r, Err(DecodeError::UnknownAtomId(300)));
    let r = Value::decode_tagged(&mut Decoder::new(&hex::decode("8c0100").unwrap(), &with));
    assert_eq!(r, Ok(Value::Atom(Atom::new("n@h"))));
    let errs = DecodeCaches::default().with_registered_errors();
    let r = Value::decode_tagged(&mut Decoder::new(&hex::decode("9c8001").unwrap(), &errs));
    assert_eq!(r, Ok(Value::Error(Some(GoError::new("timed out")))));
    let r = Value::decode_tagged(&mut Decoder::new(&hex::decode("9cfffe").unwrap(), &errs));
    assert_eq!(r, Err(DecodeError::UnknownErrId(0xfffe)));
}

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#codec_test/Inner")]
struct Inner {
    a: i32,
}

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#codec_test/Outer")]
struct Outer {
    inner: Inner,
    list: Vec<Inner>,
    by_name: HashMap<String, Inner>,
    owner: Pid,
    any: Value,
}

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#codec_test/Lonely")]
struct Lonely {
    x: u8,
}

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#codec_test/NeedsLonely")]
struct NeedsLonely {
    l: Lonely,
}

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#codec_test/Inner")]
struct Impostor {
    b: String,
}

#[derive(Edf, Debug, Clone, PartialEq)]
struct DefaultName {
    v: u16,
}

#[test]
fn registration_follows_go_rules() {
    assert_eq!(
        register::<NeedsLonely>().unwrap_err(),
        RegisterError::NotRegisteredFirst("#codec_test/Lonely".into())
    );
    ensure_registered::<Inner>().unwrap();
    ensure_registered::<Inner>().unwrap();
    assert_eq!(
        register::<Inner>().unwrap_err(),
        RegisterError::Taken("#codec_test/Inner".into())
    );
    assert_eq!(
        ensure_registered::<Impostor>().unwrap_err(),
        RegisterError::Taken("#codec_test/Inner".into())
    );
    ensure_registered::<Outer>().unwrap();
    let info = ensure_registered::<DefaultName>().unwrap();
    assert_eq!(
        info.name(),
        "#codec/DefaultName",
        "default name is # + module path + / + type"
    );
}

fn outer() -> Outer {
    let node = Atom::new("node1@localhost");
    Outer {
        inner: Inner { a: 1 },
        list: vec![Inner { a: 2 }, Inner { a: 3 }],
        by_name: HashMap::from([("k".to_string(), Inner { a: 4 })]),
        owner: Pid::new(node, 1001, 1_700_000_000),
        any: Value::ProcessId(ProcessId::new(Atom::new("sink"), node)),
    }
}

#[test]
fn registered_types_decode_typed_and_dynamic_with_and_without_caches() {
    ensure_registered::<Inner>().unwrap();
    ensure_registered::<Outer>().unwrap();
    let v = outer();
    let plain = ergo_edf::to_vec(&v).unwrap();
    assert_eq!(
        &plain[..3],
        &[0x83, 0x00, 17],
        "full name (17 bytes) without caches"
    );
    assert_eq!(ergo_edf::from_slice::<Outer>(&plain).unwrap(), v);

    let node = Atom::new("node1@localhost");
    let enc = EncodeCaches::default()
        .with_atoms([(node, 256)])
        .with_registered_types()
        .with_registered_errors();
    let ids: Vec<(u16, String)> = ergo_edf::registry::registered_types()
        .iter()
        .map(|t| (t.cache_id().unwrap(), t.name().to_string()))
        .collect();
    let dec = DecodeCaches::default()
        .with_atoms([(256, node)])
        .with_types(ids.iter().map(|(id, n)| (*id, n.as_str())))
        .with_registered_errors();
    let mut cached = Vec::new();
    ergo_edf::encode(&v, &mut cached, &enc).unwrap();
    assert!(cached.len() < plain.len());
    assert_eq!(cached[0], 0x83);
    assert!(
        u16::from_be_bytes([cached[1], cached[2]]) >= 4096,
        "type travels as a cache id"
    );
    let (back, used) = ergo_edf::decode::<Outer>(&cached, &dec).unwrap();
    assert_eq!((back, used), (v.clone(), cached.len()));

    // The dynamic decoder reads the same bytes through the registered layout and writes them back.
    let (dynamic, _) = ergo_edf::decode::<Value>(&cached, &dec).unwrap();
    let Value::Registered(info, body) = &dynamic else {
        panic!("{dynamic:?}")
    };
    assert_eq!(info.name(), "#codec_test/Outer");
    assert!(matches!(&**body, Value::Struct(f) if f.len() == 5));
    let mut again = Vec::new();
    ergo_edf::encode(&dynamic, &mut again, &enc).unwrap();
    assert_eq!(again, cached);
    // Cached bytes without the caches are refused, not misread.
    assert!(ergo_edf::from_slice::<Outer>(&cached).is_err());
}

#[test]
fn encode_limits_and_mismatches_are_errors_and_leave_the_buffer_unchanged() {
    let mut buf = vec![1, 2, 3];
    let long = "x".repeat(65536);
    assert_eq!(
        ergo_edf::encode(&long, &mut buf, EncodeCaches::none()),
        Err(EncodeError::StringTooLong(65536))
    );
    assert_eq!(buf, vec![1, 2, 3]);
    let ok = "x".repeat(65535);
    ergo_edf::encode(&ok, &mut buf, EncodeCaches::none()).unwrap();
    assert_eq!(buf.len(), 3 + 3 + 65535);
    let v = Value::Array {
        elem: TypeDesc::Basic(ergo_edf::tags::INT),
        items: vec![Value::String("no".into())],
    };
    assert!(matches!(
        ergo_edf::to_vec(&v),
        Err(EncodeError::Mismatch { .. })
    ));
    let t = ergo_edf::Time {
        seconds: 1,
        nanos: 0,
        offset: Some(-60),
    };
    assert!(matches!(ergo_edf::to_vec(&t), Err(EncodeError::BadTime(_))));
}

#[test]
fn go_int_and_int64_stay_distinct() {
    assert_eq!(ergo_edf::to_vec(&1isize).unwrap()[0], 0x96);
    assert_eq!(ergo_edf::to_vec(&1i64).unwrap()[0], 0x95);
    assert_eq!(ergo_edf::to_vec(&1usize).unwrap()[0], 0x9b);
    assert_eq!(ergo_edf::to_vec(&1u64).unwrap()[0], 0x9a);
    assert_eq!(
        ergo_edf::to_vec(&vec![1u8, 2]).unwrap(),
        hex::decode("8e000000020102").unwrap()
    );
    let nil: Option<Vec<isize>> = None;
    assert_eq!(
        ergo_edf::to_vec(&nil).unwrap(),
        hex::decode("8200029d96ff").unwrap()
    );
}

#[test]
fn empty_elements_are_bounded_across_the_whole_decode() {
    // Go's encoding of [65][0]bool{} decodes, with or without trailing bytes.
    let v = hex::decode("82000b9e000000419e0000000091").unwrap();
    assert!(decode_value(&v).is_ok());
    // Nested empty arrays multiplying to 16.7 M elements from 83 bytes: refused quickly.
    let mut bomb = hex::decode("8200109e000010009e000010009e0000000096").unwrap();
    bomb.extend([0u8; 64]);
    assert!(matches!(
        decode_value(&bomb),
        Err(DecodeError::CountTooLarge {
            what: "empty elements",
            ..
        })
    ));
}

#[test]
fn descriptors_are_shared_not_copied_per_element() {
    // A slice of 4000 nil maps whose key type is a large descriptor: decoding stays cheap
    // (each element shares the descriptor instead of copying it).
    fn t(d: u32, out: &mut Vec<u8>) {
        if d == 0 {
            out.push(0x96);
        } else {
            out.push(0x9f);
            t(d - 1, out);
            t(d - 1, out);
        }
    }
    let mut d = vec![0x9d, 0x9f];
    t(10, &mut d);
    d.push(0x96);
    let n = 4000u32;
    let mut b = vec![0x82];
    b.extend((d.len() as u16).to_be_bytes());
    b.extend(&d);
    b.push(0x9d);
    b.extend(n.to_be_bytes());
    b.extend(std::iter::repeat_n(0xffu8, n as usize));
    let Ok(Value::Slice {
        items: Some(items), ..
    }) = decode_value(&b)
    else {
        panic!()
    };
    assert_eq!(items.len(), 4000);
    let (Value::Map { key: k0, .. }, Value::Map { key: k1, .. }) = (&items[0], &items[1]) else {
        panic!()
    };
    let (TypeDesc::Map(a, _), TypeDesc::Map(b2, _)) = (k0, k1) else {
        panic!()
    };
    assert!(
        std::sync::Arc::ptr_eq(a, b2),
        "element descriptors share one allocation"
    );
}
