//! Property tests of the EDF codec:
//! (a) any well-formed `Value` tree round-trips through its encoding;
//! (b) typed values (primitives, strings, containers, identifiers, time, errors, derived structs)
//!     round-trip;
//! (c) decoding arbitrary (or mutated valid) bytes never panics;
//! (d) encoding with caches and decoding with the matching caches gives the same value as
//!     without caches.
//!
//! Floats may be NaN, so values are compared through their encodings where they may hold floats.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::{Arc, OnceLock};

use ergo_edf::registry::{register_schema, RegKind, TypeInfo};
use ergo_edf::tags::*;
use ergo_edf::{
    Alias, Atom, CompactString, DecodeCaches, Decoder, Edf, EncodeCaches, EncodeError, Encoder,
    Event, Field, GoError, Pid, ProcessId, Ref, Time, TypeDesc, Value, FRAMEWORK_ERRORS,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Registered types used by the tests
// ---------------------------------------------------------------------------------------------

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#proptest/Item")]
struct Item {
    name: String,
    id: i32,
}

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#proptest/Names")]
struct Names(Vec<String>);

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#proptest/Record")]
struct Record {
    pid: Pid,
    process: ProcessId,
    reference: Ref,
    alias: Alias,
    event: Event,
    tags: Vec<String>,
    counts: HashMap<String, isize>,
    items: Vec<Item>,
    by_id: BTreeMap<u32, Item>,
    names: Names,
    maybe: Option<Vec<i16>>,
    err: Option<GoError>,
    when: Time,
    small: [u8; 3],
    blob: Vec<u8>,
    flag: bool,
}

/// The registered types the `Value` generator uses, registered once.
struct Types {
    item: Arc<TypeInfo>,
    names: Arc<TypeInfo>,
    /// Schema-only struct `{V any, N []int}`.
    holder: Arc<TypeInfo>,
    /// Schema-only named map `map[string]any`.
    any_map: Arc<TypeInfo>,
    /// Schema-only custom marshaler.
    custom: Arc<TypeInfo>,
}

fn registered() -> &'static Types {
    static REG: OnceLock<Types> = OnceLock::new();
    REG.get_or_init(|| {
        let schema = |name: &str, kind: RegKind| match ergo_edf::registry::lookup(name) {
            Some(info) => info,
            None => register_schema(name, kind).unwrap(),
        };
        let item = ergo_edf::ensure_registered::<Item>().unwrap();
        let names = ergo_edf::ensure_registered::<Names>().unwrap();
        ergo_edf::ensure_registered::<Record>().unwrap();
        let holder = schema(
            "#proptest/Holder",
            RegKind::Struct(vec![
                Field {
                    name: "V".into(),
                    desc: TypeDesc::Any,
                },
                Field {
                    name: "N".into(),
                    desc: TypeDesc::Slice(Arc::new(TypeDesc::Basic(INT))),
                },
            ]),
        );
        let any_map = schema(
            "#proptest/AnyMap",
            RegKind::Named(TypeDesc::Map(
                Arc::new(TypeDesc::Basic(STRING)),
                Arc::new(TypeDesc::Any),
            )),
        );
        let custom = schema("#proptest/Custom", RegKind::Custom);
        Types {
            item,
            names,
            holder,
            any_map,
            custom,
        }
    })
}

/// The atoms the connection caches hold (generated atoms are often one of these).
const CACHED_ATOMS: [(&str, u16); 3] = [("node1", 256), ("node2@host", 257), ("sink", 300)];

/// Encode/decode caches as a connection would have: atoms, every registered type, every
/// registered error.
fn connection_caches() -> &'static (EncodeCaches, DecodeCaches) {
    static CACHES: OnceLock<(EncodeCaches, DecodeCaches)> = OnceLock::new();
    CACHES.get_or_init(|| {
        registered();
        let types: Vec<(u16, String)> = ergo_edf::registry::registered_types()
            .iter()
            .filter_map(|t| t.cache_id().map(|id| (id, t.name().to_string())))
            .collect();
        let enc = EncodeCaches::default()
            .with_atoms(CACHED_ATOMS.iter().map(|(a, id)| (Atom::new(a), *id)))
            .with_registered_types()
            .with_registered_errors();
        let dec = DecodeCaches::default()
            .with_atoms(CACHED_ATOMS.iter().map(|(a, id)| (*id, Atom::new(a))))
            .with_types(types.iter().map(|(id, n)| (*id, n.as_str())))
            .with_registered_errors();
        (enc, dec)
    })
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The tagged encoding of a value (allowed to be nil, as in an `any` slot).
fn tagged_bytes(v: &Value, caches: &EncodeCaches) -> Result<Vec<u8>, EncodeError> {
    let mut buf = Vec::new();
    v.encode_tagged(&mut Encoder::new(&mut buf, caches))?;
    Ok(buf)
}

fn plain(v: &Value) -> Vec<u8> {
    tagged_bytes(v, EncodeCaches::none()).expect("generated values encode")
}

/// Decodes one tagged value and checks that it took all the bytes.
fn decode_all(bytes: &[u8], caches: &DecodeCaches) -> Value {
    let mut dec = Decoder::new(bytes, caches);
    let v = Value::decode_tagged(&mut dec).unwrap_or_else(|e| panic!("decoding {bytes:02x?}: {e}"));
    assert_eq!(dec.position(), bytes.len(), "bytes left after {v:?}");
    v
}

fn has_nan(v: &Value) -> bool {
    format!("{v:?}").contains("NaN")
}

/// Encodes a typed value (no caches) and decodes it back.
fn typed_roundtrip<T: Edf>(v: &T) -> T {
    let bytes = ergo_edf::to_vec(v).expect("encode");
    let (back, used) = ergo_edf::decode::<T>(&bytes, DecodeCaches::none()).expect("decode");
    assert_eq!(used, bytes.len());
    back
}

fn assert_typed_roundtrip<T: Edf + PartialEq + Debug>(v: T) {
    assert_eq!(typed_roundtrip(&v), v);
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

const BASIC_TAGS: [u8; 23] = [
    ATOM, STRING, BINARY, FLOAT32, FLOAT64, BOOL, INT8, INT16, INT32, INT64, INT, UINT8, UINT16,
    UINT32, UINT64, UINT, ERROR, PID, PROCESS_ID, ALIAS, EVENT, REF, TIME,
];

fn atom() -> impl Strategy<Value = Atom> {
    prop_oneof![
        2 => prop::sample::select(CACHED_ATOMS.map(|(a, _)| a).to_vec()).prop_map(Atom::new),
        1 => "[a-z0-9_@.]{0,20}".prop_map(|s| Atom::new(&s)),
        // Up to 63 chars of up to 4 bytes: at most 252 bytes.
        1 => "\\PC{0,63}".prop_map(|s| Atom::new(&s)),
    ]
}

fn go_error() -> impl Strategy<Value = GoError> {
    prop_oneof![
        prop::sample::select(FRAMEWORK_ERRORS.to_vec()).prop_map(GoError::new),
        "\\PC{0,40}".prop_map(GoError::new),
    ]
}

fn pid() -> impl Strategy<Value = Pid> {
    (atom(), any::<u64>(), any::<i64>()).prop_map(|(node, id, creation)| Pid { node, id, creation })
}

fn process_id() -> impl Strategy<Value = ProcessId> {
    (atom(), atom()).prop_map(|(name, node)| ProcessId { name, node })
}

fn reference() -> impl Strategy<Value = Ref> {
    (atom(), any::<i64>(), any::<[u64; 3]>()).prop_map(|(node, creation, id)| Ref {
        node,
        creation,
        id,
    })
}

fn alias() -> impl Strategy<Value = Alias> {
    reference().prop_map(|r| Alias {
        node: r.node,
        creation: r.creation,
        id: r.id,
    })
}

fn event() -> impl Strategy<Value = Event> {
    (atom(), atom()).prop_map(|(name, node)| Event { name, node })
}

/// Times Go can encode: nanos in 0..1e9; UTC, or an offset whose minutes (truncated toward
/// zero, as Go does) fit an i16 and are not -1 (Go's UTC marker).
fn time() -> impl Strategy<Value = Time> {
    let offset = prop_oneof![
        Just(None),
        // Whole minutes (version 1).
        (-32768i32..=32767)
            .prop_filter("-1 minute means UTC", |m| *m != -1)
            .prop_map(|m| Some(m * 60)),
        // With a seconds part (version 2), either sign.
        (-32768i32 * 60 - 59..=32767 * 60 + 59)
            .prop_filter("minutes -1 is Go's UTC marker", |o| o / 60 != -1)
            .prop_map(Some),
    ];
    (any::<i64>(), 0i32..1_000_000_000, offset).prop_map(|(seconds, nanos, offset)| Time {
        seconds,
        nanos,
        offset,
    })
}

fn basic_of(tag: u8) -> BoxedStrategy<Value> {
    match tag {
        ATOM => atom().prop_map(Value::Atom).boxed(),
        STRING => prop_oneof![
            3 => "\\PC{0,24}".prop_map(Value::String),
            // Go strings that are not UTF-8 (a lone continuation or 0xff byte in them).
            1 => ("\\PC{0,8}", prop::sample::select(vec![0x80u8, 0xc3, 0xff]), "\\PC{0,8}").prop_map(|(a, b, c)| {
                let mut v = a.into_bytes();
                v.push(b);
                v.extend_from_slice(c.as_bytes());
                Value::GoString(ergo_edf::GoString::new(v))
            }),
        ]
        .boxed(),
        BINARY => vec(any::<u8>(), 0..24).prop_map(Value::Binary).boxed(),
        FLOAT32 => any::<f32>().prop_map(Value::Float32).boxed(),
        FLOAT64 => any::<f64>().prop_map(Value::Float64).boxed(),
        BOOL => any::<bool>().prop_map(Value::Bool).boxed(),
        INT8 => any::<i8>().prop_map(Value::Int8).boxed(),
        INT16 => any::<i16>().prop_map(Value::Int16).boxed(),
        INT32 => any::<i32>().prop_map(Value::Int32).boxed(),
        INT64 => any::<i64>().prop_map(Value::Int64).boxed(),
        INT => any::<i64>().prop_map(Value::Int).boxed(),
        UINT8 => any::<u8>().prop_map(Value::Uint8).boxed(),
        UINT16 => any::<u16>().prop_map(Value::Uint16).boxed(),
        UINT32 => any::<u32>().prop_map(Value::Uint32).boxed(),
        UINT64 => any::<u64>().prop_map(Value::Uint64).boxed(),
        UINT => any::<u64>().prop_map(Value::Uint).boxed(),
        ERROR => option::of(go_error()).prop_map(Value::Error).boxed(),
        PID => pid().prop_map(Value::Pid).boxed(),
        PROCESS_ID => process_id().prop_map(Value::ProcessId).boxed(),
        ALIAS => alias().prop_map(Value::Alias).boxed(),
        EVENT => event().prop_map(Value::Event).boxed(),
        REF => reference().prop_map(Value::Ref).boxed(),
        TIME => time().prop_map(Value::Time).boxed(),
        t => panic!("not a basic tag: {t:#x}"),
    }
}

/// Any basic value (every basic variant).
fn basic_value() -> BoxedStrategy<Value> {
    prop::sample::select(BASIC_TAGS.to_vec())
        .prop_flat_map(basic_of)
        .boxed()
}

/// A type descriptor with at most `depth` levels of slices/arrays/maps; never zero-width.
fn type_desc(depth: u32) -> BoxedStrategy<TypeDesc> {
    let reg = registered();
    let leaf = prop_oneof![
        2 => Just(TypeDesc::Any),
        4 => prop::sample::select(BASIC_TAGS.to_vec()).prop_map(TypeDesc::Basic),
        1 => prop::sample::select(vec![reg.item.clone(), reg.names.clone(), reg.holder.clone(), reg.custom.clone()])
            .prop_map(TypeDesc::Registered),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    let inner = type_desc(depth - 1);
    prop_oneof![
        2 => leaf,
        1 => inner.clone().prop_map(|e| TypeDesc::Slice(Arc::new(e))),
        // No zero-length arrays below the top: as in Go, a slice or map count larger than the
        // bytes that remain is rejected, which zero-width elements would trip.
        1 => (1u32..4, inner.clone()).prop_map(|(n, e)| TypeDesc::Array(n, Arc::new(e))),
        1 => (inner.clone(), inner).prop_map(|(k, v)| TypeDesc::Map(Arc::new(k), Arc::new(v))),
    ]
    .boxed()
}

/// A composite (`0x82`) type descriptor.
fn composite_desc(depth: u32) -> BoxedStrategy<TypeDesc> {
    let inner = type_desc(depth.saturating_sub(1));
    prop_oneof![
        inner.clone().prop_map(|e| TypeDesc::Slice(Arc::new(e))),
        (0u32..4, inner.clone()).prop_map(|(n, e)| TypeDesc::Array(n, Arc::new(e))),
        (inner.clone(), inner).prop_map(|(k, v)| TypeDesc::Map(Arc::new(k), Arc::new(v))),
    ]
    .boxed()
}

/// The body of a registered type's value (`Struct`, `Custom` or the underlying value).
fn registered_body(info: Arc<TypeInfo>, depth: u32) -> BoxedStrategy<Value> {
    let body = match info.kind() {
        RegKind::Custom => vec(any::<u8>(), 0..16).prop_map(Value::Custom).boxed(),
        RegKind::Named(desc) => {
            // Named slices/maps hold the underlying composite value.
            body_of(desc.clone(), depth)
        }
        RegKind::Struct(fields) => {
            let parts: Vec<BoxedStrategy<Value>> = fields
                .iter()
                .map(|f| body_of(f.desc.clone(), depth))
                .collect();
            parts.prop_map(Value::Struct).boxed()
        }
    };
    body.prop_map(move |b| Value::Registered(info.clone(), Box::new(b)))
        .boxed()
}

/// A value whose body has the type `desc` (tagged values for `any`, nil allowed there).
fn body_of(desc: TypeDesc, depth: u32) -> BoxedStrategy<Value> {
    let d = depth.saturating_sub(1);
    match desc {
        TypeDesc::Any => prop_oneof![1 => Just(Value::Nil), 6 => tagged(d)].boxed(),
        TypeDesc::Basic(t) => basic_of(t),
        TypeDesc::Slice(e) => {
            let elem = (*e).clone();
            option::weighted(0.85, vec(body_of((*e).clone(), d), 0..4))
                .prop_map(move |items| Value::Slice {
                    elem: elem.clone(),
                    items,
                })
                .boxed()
        }
        TypeDesc::Array(n, e) => {
            let elem = (*e).clone();
            vec(body_of((*e).clone(), d), n as usize..=n as usize)
                .prop_map(move |items| Value::Array {
                    elem: elem.clone(),
                    items,
                })
                .boxed()
        }
        TypeDesc::Map(k, v) => {
            let (key, value) = ((*k).clone(), (*v).clone());
            option::weighted(
                0.85,
                vec((body_of((*k).clone(), d), body_of((*v).clone(), d)), 0..4),
            )
            .prop_map(move |entries| Value::Map {
                key: key.clone(),
                value: value.clone(),
                entries,
            })
            .boxed()
        }
        TypeDesc::Registered(info) => registered_body(info, d),
    }
}

/// Any non-nil tagged value with at most `depth` nesting levels.
fn tagged(depth: u32) -> BoxedStrategy<Value> {
    if depth == 0 {
        return basic_value();
    }
    let reg = registered();
    let regs = vec![
        reg.item.clone(),
        reg.names.clone(),
        reg.holder.clone(),
        reg.any_map.clone(),
        reg.custom.clone(),
    ];
    prop_oneof![
        3 => basic_value(),
        3 => composite_desc(depth - 1).prop_flat_map(move |desc| body_of(desc, depth)),
        1 => prop::sample::select(regs).prop_flat_map(move |info| registered_body(info, depth)),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------------
// (a) Value round trips
// ---------------------------------------------------------------------------------------------

proptest! {
    #[test]
    fn value_roundtrips(v in tagged(4)) {
        let bytes = ergo_edf::to_vec(&v).expect("a generated value encodes");
        prop_assert_eq!(&bytes, &plain(&v), "ergo_edf::encode and Value::encode_tagged disagree");
        let back: Value = ergo_edf::from_slice(&bytes).expect("its encoding decodes");
        prop_assert_eq!(plain(&back), bytes);
        if !has_nan(&v) {
            prop_assert_eq!(back, v);
        }
    }

    #[test]
    fn any_slots_hold_any_value(items in vec(prop_oneof![Just(Value::Nil), tagged(3)], 0..6)) {
        // []any, including nils.
        let v = Value::Slice { elem: TypeDesc::Any, items: Some(items) };
        let bytes = ergo_edf::to_vec(&v).unwrap();
        let back = decode_all(&bytes, DecodeCaches::none());
        prop_assert_eq!(plain(&back), bytes);
    }
}

#[test]
fn nil_is_refused_at_the_top_but_allowed_in_any_slots() {
    assert_eq!(
        ergo_edf::to_vec(&Value::Nil),
        Err(EncodeError::NothingToEncode)
    );
    // ...but decodes at the top, as Go accepts it.
    assert_eq!(ergo_edf::from_slice::<Value>(&[0xff]).unwrap(), Value::Nil);
    let v = Value::Map {
        key: TypeDesc::Any,
        value: TypeDesc::Any,
        entries: Some(vec![(Value::from("k"), Value::Nil)]),
    };
    let bytes = ergo_edf::to_vec(&v).unwrap();
    assert_eq!(ergo_edf::from_slice::<Value>(&bytes).unwrap(), v);
}

#[test]
fn nil_error_binary_and_nil_containers_roundtrip() {
    for v in [
        Value::Error(None),
        Value::Error(Some(GoError::new("boom"))),
        Value::Binary(vec![]),
        Value::Binary(vec![1, 2, 3]),
        Value::Slice {
            elem: TypeDesc::Basic(INT),
            items: None,
        },
        Value::Slice {
            elem: TypeDesc::Basic(INT),
            items: Some(vec![]),
        },
        Value::Map {
            key: TypeDesc::Basic(STRING),
            value: TypeDesc::Any,
            entries: None,
        },
        Value::Array {
            elem: TypeDesc::Basic(INT),
            items: vec![],
        },
    ] {
        let bytes = ergo_edf::to_vec(&v).unwrap();
        assert_eq!(
            ergo_edf::from_slice::<Value>(&bytes).unwrap(),
            v,
            "{bytes:02x?}"
        );
    }
    // Go's golden bytes: a nil error at the top, []int(nil).
    assert_eq!(
        ergo_edf::to_vec(&Value::Error(None)).unwrap(),
        [0x9c, 0xff, 0xff]
    );
    assert_eq!(
        ergo_edf::to_vec(&Value::Slice {
            elem: TypeDesc::Basic(INT),
            items: None
        })
        .unwrap(),
        [0x82, 0x00, 0x02, 0x9d, 0x96, 0xff]
    );
}

// ---------------------------------------------------------------------------------------------
// (b) typed round trips
// ---------------------------------------------------------------------------------------------

fn item() -> impl Strategy<Value = Item> {
    ("\\PC{0,16}", any::<i32>()).prop_map(|(name, id)| Item { name, id })
}

fn record() -> impl Strategy<Value = Record> {
    let ids = (pid(), process_id(), reference(), alias(), event());
    let containers = (
        vec("\\PC{0,8}", 0..4),
        prop::collection::hash_map("\\PC{0,8}", any::<isize>(), 0..4),
        vec(item(), 0..3),
        prop::collection::btree_map(any::<u32>(), item(), 0..3),
        vec("[a-z]{0,4}", 0..3).prop_map(Names),
        option::of(vec(any::<i16>(), 0..4)),
    );
    let rest = (
        option::of(go_error()),
        time(),
        any::<[u8; 3]>(),
        vec(any::<u8>(), 0..8),
        any::<bool>(),
    );
    (ids, containers, rest).prop_map(
        |(
            (pid, process, reference, alias, event),
            (tags, counts, items, by_id, names, maybe),
            (err, when, small, blob, flag),
        )| {
            Record {
                pid,
                process,
                reference,
                alias,
                event,
                tags,
                counts,
                items,
                by_id,
                names,
                maybe,
                err,
                when,
                small,
                blob,
                flag,
            }
        },
    )
}

proptest! {
    #[test]
    fn integers_and_bools_roundtrip(
        b in any::<bool>(), i8v in any::<i8>(), i16v in any::<i16>(), i32v in any::<i32>(), i64v in any::<i64>(),
        u8v in any::<u8>(), u16v in any::<u16>(), u32v in any::<u32>(), u64v in any::<u64>(),
        iv in any::<isize>(), uv in any::<usize>(),
    ) {
        assert_typed_roundtrip(b);
        assert_typed_roundtrip(i8v);
        assert_typed_roundtrip(i16v);
        assert_typed_roundtrip(i32v);
        assert_typed_roundtrip(i64v);
        assert_typed_roundtrip(u8v);
        assert_typed_roundtrip(u16v);
        assert_typed_roundtrip(u32v);
        assert_typed_roundtrip(u64v);
        assert_typed_roundtrip(iv);
        assert_typed_roundtrip(uv);
    }

    #[test]
    fn floats_roundtrip_bit_exactly(f in any::<f32>(), d in any::<f64>(), fs in vec(any::<f64>(), 0..8)) {
        prop_assert_eq!(typed_roundtrip(&f).to_bits(), f.to_bits());
        prop_assert_eq!(typed_roundtrip(&d).to_bits(), d.to_bits());
        let back = typed_roundtrip(&fs);
        prop_assert_eq!(back.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), fs.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
    }

    #[test]
    fn strings_roundtrip(s in "\\PC{0,64}", len in 0usize..=65535, c in prop::sample::select(vec!['a', 'é', '€', '😀'])) {
        assert_typed_roundtrip(s);
        // Long strings, up to the 65535-byte limit, with multi-byte characters.
        let mut long: String = std::iter::repeat_n(c, len / c.len_utf8()).collect();
        while long.len() < len {
            long.push('x');
        }
        prop_assert_eq!(long.len(), len);
        assert_typed_roundtrip(long);
    }

    #[test]
    fn compact_strings_roundtrip(s in "\\PC{0,40}", v in vec("\\PC{0,30}", 0..4)) {
        assert_typed_roundtrip(CompactString::from(s.as_str()));
        // Same bytes as `String`.
        prop_assert_eq!(ergo_edf::to_vec(&CompactString::from(s.as_str())).unwrap(), ergo_edf::to_vec(&s).unwrap());
        assert_typed_roundtrip(v.iter().map(|x| CompactString::from(x.as_str())).collect::<Vec<_>>());
    }

    #[test]
    fn vecs_options_and_arrays_roundtrip(
        a in vec(any::<i32>(), 0..16),
        b in vec("\\PC{0,8}", 0..8),
        c in vec(any::<u8>(), 0..64),
        d in vec(vec(any::<i64>(), 0..4), 0..4),
        e in option::of(vec(any::<u16>(), 0..8)),
        f in option::of(vec("[a-z]{0,4}", 0..4)),
        g in any::<[i16; 4]>(),
        h in proptest::array::uniform2("\\PC{0,8}"),
        i in vec(option::of(vec(any::<bool>(), 0..3)), 0..4),
    ) {
        assert_typed_roundtrip(a);
        assert_typed_roundtrip(b);
        assert_typed_roundtrip(c);
        assert_typed_roundtrip(d);
        assert_typed_roundtrip(e);
        assert_typed_roundtrip(f);
        assert_typed_roundtrip(g);
        assert_typed_roundtrip(h);
        assert_typed_roundtrip(i);
    }

    #[test]
    fn maps_roundtrip(
        a in prop::collection::hash_map("\\PC{0,8}", any::<i64>(), 0..8),
        b in prop::collection::hash_map(any::<i32>(), vec("[a-z]{0,3}", 0..3), 0..4),
        c in prop::collection::btree_map("\\PC{0,8}", any::<u8>(), 0..8),
        d in prop::collection::btree_map(atom(), pid(), 0..4),
        e in option::of(prop::collection::hash_map(atom(), option::of(go_error()), 0..4)),
    ) {
        assert_typed_roundtrip(a);
        assert_typed_roundtrip(b);
        assert_typed_roundtrip(c);
        assert_typed_roundtrip(d);
        assert_typed_roundtrip(e);
    }

    #[test]
    fn identifiers_time_and_errors_roundtrip(
        a in atom(), long_atom in "[a-z]{255}", p in pid(), r in reference(), al in alias(), ev in event(),
        pr in process_id(), t in time(), e in go_error(), oe in option::of(go_error()),
        long_err in "[a-z]{0,2000}",
    ) {
        assert_typed_roundtrip(a);
        assert_typed_roundtrip(Atom::new(&long_atom));
        assert_typed_roundtrip(p);
        assert_typed_roundtrip(r);
        assert_typed_roundtrip(al);
        assert_typed_roundtrip(ev);
        assert_typed_roundtrip(pr);
        assert_typed_roundtrip(t);
        assert_typed_roundtrip(e);
        assert_typed_roundtrip(oe);
        assert_typed_roundtrip(GoError::new(long_err));
    }

    #[test]
    fn derived_structs_roundtrip(i in item(), r in record(), items in vec(item(), 0..4)) {
        registered();
        assert_typed_roundtrip(i);
        assert_typed_roundtrip(r.clone());
        assert_typed_roundtrip(items);
        // The same bytes decode as a dynamic value, which re-encodes to the same bytes.
        let bytes = ergo_edf::to_vec(&r).unwrap();
        let v = decode_all(&bytes, DecodeCaches::none());
        prop_assert_eq!(plain(&v), bytes);
    }
}

#[test]
fn limits_are_enforced() {
    assert_typed_roundtrip("x".repeat(65535));
    assert_eq!(
        ergo_edf::to_vec(&"x".repeat(65536)),
        Err(EncodeError::StringTooLong(65536))
    );
    assert_eq!(
        ergo_edf::to_vec(&Atom::new(&"a".repeat(256))),
        Err(EncodeError::AtomTooLong(256))
    );
    let t = Time {
        seconds: 1,
        nanos: 0,
        offset: Some(-60),
    };
    assert!(matches!(ergo_edf::to_vec(&t), Err(EncodeError::BadTime(_))));
}

// ---------------------------------------------------------------------------------------------
// (c) arbitrary bytes never panic the decoder
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..=4096)) {
        let (_, dec_caches) = connection_caches();
        for caches in [DecodeCaches::none(), dec_caches] {
            let mut dec = Decoder::new(&bytes, caches);
            if Value::decode_tagged(&mut dec).is_ok() {
                prop_assert!(dec.position() <= bytes.len());
            }
        }
    }

    #[test]
    fn mutated_encodings_never_panic(
        v in tagged(3),
        muts in vec(prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
            any::<usize>().prop_map(Mutation::Truncate),
            (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        ], 1..4),
    ) {
        let (enc_caches, dec_caches) = connection_caches();
        for (ec, dc) in [(EncodeCaches::none(), DecodeCaches::none()), (enc_caches, dec_caches)] {
            let mut bytes = tagged_bytes(&v, ec).unwrap();
            for m in &muts {
                match *m {
                    Mutation::Flip(i, b) if !bytes.is_empty() => {
                        let n = bytes.len();
                        bytes[i % n] ^= b;
                    }
                    Mutation::Truncate(i) => bytes.truncate(i % (bytes.len() + 1)),
                    Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
                    _ => {}
                }
            }
            let mut dec = Decoder::new(&bytes, dc);
            let _ = Value::decode_tagged(&mut dec);
            let _ = ergo_edf::decode::<Record>(&bytes, dc);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (d) caches do not change values
// ---------------------------------------------------------------------------------------------

proptest! {
    #[test]
    fn caches_give_the_same_value(v in tagged(4)) {
        let (enc_caches, dec_caches) = connection_caches();
        let plain_bytes = plain(&v);
        let mut cached_bytes = Vec::new();
        ergo_edf::encode(&v, &mut cached_bytes, enc_caches).unwrap();
        prop_assert!(cached_bytes.len() <= plain_bytes.len());
        let with = decode_all(&cached_bytes, dec_caches);
        let without = decode_all(&plain_bytes, DecodeCaches::none());
        prop_assert_eq!(plain(&with), plain(&without));
        prop_assert_eq!(plain(&with), plain_bytes);
        if !has_nan(&v) {
            prop_assert_eq!(&with, &without);
        }
    }

    #[test]
    fn caches_give_the_same_typed_value(r in record()) {
        let (enc_caches, dec_caches) = connection_caches();
        let mut cached_bytes = Vec::new();
        ergo_edf::encode(&r, &mut cached_bytes, enc_caches).unwrap();
        let (back, used) = ergo_edf::decode::<Record>(&cached_bytes, dec_caches).unwrap();
        prop_assert_eq!(used, cached_bytes.len());
        prop_assert_eq!(back, r);
    }
}

#[test]
fn caches_are_used() {
    let (enc_caches, dec_caches) = connection_caches();
    let p = Pid::new(Atom::new("node1"), 1, 2);
    let mut b = Vec::new();
    ergo_edf::encode(&p, &mut b, enc_caches).unwrap();
    assert_eq!(&b[..3], &[PID, 0x01, 0x00], "node1 is atom 256");
    assert_eq!(ergo_edf::decode::<Pid>(&b, dec_caches).unwrap().0, p);
    let mut b = Vec::new();
    ergo_edf::encode(&GoError::new("timed out"), &mut b, enc_caches).unwrap();
    assert_eq!(b, [ERROR, 0x80, 0x01]);
    let mut b = Vec::new();
    ergo_edf::encode(
        &Item {
            name: "a".into(),
            id: 1,
        },
        &mut b,
        enc_caches,
    )
    .unwrap();
    assert_eq!(b[0], REGISTERED);
    assert!(u16::from_be_bytes([b[1], b[2]]) >= 4096, "a type-cache ID");
}
