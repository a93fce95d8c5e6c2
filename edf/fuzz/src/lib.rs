//! Shared set-up of the EDF fuzz targets: registered types (schema-only ones named like the Go
//! golden vectors' types, plus derived Rust types), cache tables, and helpers that check a
//! decode -> encode -> decode round trip.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use ergo_edf::registry::{register_schema, RegKind, TypeInfo};
use ergo_edf::tags::*;
use ergo_edf::{
    Atom, DecodeCaches, Decoder, Edf, EncodeCaches, EncodeError, Encoder, Field, GoError, GoMap,
    GoString, Pid, ProcessId, Ref, Time, TypeDesc, Value,
};

/// A registered struct (like the benchmarks' `Item`).
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#fuzz/FuzzItem")]
pub struct FuzzItem {
    pub name: String,
    pub id: i32,
}

/// A registered named slice.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#fuzz/FuzzNames")]
pub struct FuzzNames(pub Vec<String>);

/// A registered named map with `any` values.
#[derive(Edf, Debug, Clone)]
#[edf(name = "#fuzz/FuzzTable")]
pub struct FuzzTable(pub HashMap<String, Value>);

/// A registered struct with built-in identifiers, containers and `any` fields.
#[derive(Edf, Debug, Clone)]
#[edf(name = "#fuzz/FuzzMsg")]
pub struct FuzzMsg {
    pub pid: Pid,
    pub process: ProcessId,
    pub reference: Ref,
    pub tags: Vec<String>,
    pub counts: HashMap<String, isize>,
    pub payload: Value,
    pub items: Vec<FuzzItem>,
    pub by_node: HashMap<Atom, FuzzItem>,
    pub names: FuzzNames,
    pub table: FuzzTable,
    pub err: Option<GoError>,
    pub when: Time,
    pub small: [i8; 3],
    pub blob: Vec<u8>,
    pub maybe: Option<Vec<u16>>,
    pub sorted: BTreeMap<u64, bool>,
    pub anys: Vec<Value>,
}

/// A registered `type Blob []byte` (Go writes it as a registered slice of uint8).
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#fuzz/FuzzBlob")]
pub struct FuzzBlob(pub Option<Vec<u8>>);

/// The Go-parity forms in one struct: bytes newtype, Go strings of any bytes, Go-keyed maps.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#fuzz/FuzzParity")]
pub struct FuzzParity {
    pub blob: FuzzBlob,
    pub text: GoString,
    pub floats: Option<GoMap<f64, i32>>,
    pub anys: Option<GoMap<Value, Value>>,
    pub by_value: HashMap<Value, String>,
    pub sorted: BTreeMap<Value, FuzzBlob>,
}

/// The cache tables of one simulated connection (the same IDs on both sides).
pub struct Caches {
    pub decode: DecodeCaches,
    pub encode: EncodeCaches,
}

const ATOMS: [(u16, &str); 4] = [
    (256, "node1"),
    (300, "b@localhost"),
    (301, "a@localhost"),
    (302, "sink"),
];
const FUZZ_ERROR: (u16, &str) = (32800, "fuzz error");

fn basic(t: u8) -> TypeDesc {
    TypeDesc::Basic(t)
}

fn fields(list: Vec<(&str, TypeDesc)>) -> RegKind {
    RegKind::Struct(
        list.into_iter()
            .map(|(n, desc)| Field {
                name: n.into(),
                desc,
            })
            .collect(),
    )
}

fn reg(name: &str, kind: RegKind) -> Arc<TypeInfo> {
    match ergo_edf::registry::lookup(name) {
        Some(info) => info,
        None => register_schema(name, kind).expect("register schema"),
    }
}

/// Registers the types once; returns `(cache id, name)` of every type in the connection caches.
fn register_all() -> Vec<(u16, String)> {
    let mut ids: Vec<(u16, String)> = Vec::new();
    let mut add = |id: u16, info: &Arc<TypeInfo>| ids.push((id, info.name().to_string()));

    // The Go golden vectors' types, with the IDs their `regcache` vectors use.
    let env = reg("#ergo.services/ergo/gen/Env", RegKind::Named(basic(STRING)));
    add(4096, &env);
    let level = reg(
        "#ergo.services/ergo/gen/LogLevel",
        RegKind::Named(basic(INT)),
    );
    add(4097, &level);
    let version = reg(
        "#ergo.services/ergo/gen/Version",
        fields(vec![
            ("Name", basic(STRING)),
            ("Release", basic(STRING)),
            ("Commit", basic(STRING)),
            ("License", basic(STRING)),
        ]),
    );
    add(4106, &version);
    let flags = reg("#ergo.services/ergo/gen/NetworkFlags", RegKind::Custom);
    add(4124, &flags);
    let event = reg(
        "#ergo.services/ergo/gen/MessageEvent",
        fields(vec![
            ("Event", basic(EVENT)),
            ("Timestamp", basic(INT64)),
            ("Message", TypeDesc::Any),
        ]),
    );
    add(4138, &event);
    let child = reg(
        "#vectorsgen/msgs/Child",
        fields(vec![("A", basic(INT)), ("B", basic(STRING))]),
    );
    add(4191, &child);
    let parent = reg(
        "#vectorsgen/msgs/Parent",
        fields(vec![
            ("Name", basic(STRING)),
            ("Kid", TypeDesc::Registered(child.clone())),
            (
                "Kids",
                TypeDesc::Slice(Arc::new(TypeDesc::Registered(child.clone()))),
            ),
            ("Blob", basic(BINARY)),
            ("Any", TypeDesc::Any),
            ("Err", basic(ERROR)),
            ("Owner", basic(PID)),
        ]),
    );
    add(4192, &parent);
    let with_bytes = reg(
        "#vectorsgen/msgs/WithBytes",
        fields(vec![("ID", basic(UINT16)), ("Data", basic(BINARY))]),
    );
    add(4193, &with_bytes);
    let all_basic = reg(
        "#vectorsgen/msgs/AllBasic",
        fields(
            [
                ("B", BOOL),
                ("I", INT),
                ("I8", INT8),
                ("I16", INT16),
                ("I32", INT32),
                ("I64", INT64),
                ("U", UINT),
                ("U8", UINT8),
                ("U16", UINT16),
                ("U32", UINT32),
                ("U64", UINT64),
                ("F32", FLOAT32),
                ("F64", FLOAT64),
                ("S", STRING),
                ("A", ATOM),
                ("Bin", BINARY),
                ("T", TIME),
            ]
            .into_iter()
            .map(|(n, t)| (n, basic(t)))
            .collect(),
        ),
    );
    add(4194, &all_basic);
    let any_holder = reg(
        "#vectorsgen/msgs/AnyHolder",
        fields(vec![("V", TypeDesc::Any)]),
    );
    add(4195, &any_holder);
    let point = reg("#vectorsgen/msgs/Point", RegKind::Custom);
    add(4196, &point);
    let semver = reg("#vectorsgen/msgs/Semver", RegKind::Custom);
    add(4197, &semver);
    let my_int = reg("#vectorsgen/msgs/MyInt", RegKind::Named(basic(INT)));
    add(4198, &my_int);
    let my_string = reg("#vectorsgen/msgs/MyString", RegKind::Named(basic(STRING)));
    add(4199, &my_string);
    let my_ints = reg(
        "#vectorsgen/msgs/MyInts",
        RegKind::Named(TypeDesc::Slice(Arc::new(basic(INT)))),
    );
    add(4200, &my_ints);
    let my_map = reg(
        "#vectorsgen/msgs/MyMap",
        RegKind::Named(TypeDesc::Map(Arc::new(basic(STRING)), Arc::new(basic(INT)))),
    );
    add(4201, &my_map);
    let my_arr = reg(
        "#vectorsgen/msgs/MyArr",
        RegKind::Named(TypeDesc::Array(3, Arc::new(basic(UINT8)))),
    );
    add(4202, &my_arr);
    let order = reg(
        "#vectorsgen/msgs/Order",
        fields(vec![
            ("ID", basic(INT64)),
            ("Item", basic(STRING)),
            ("Qty", basic(UINT16)),
            ("Price", basic(FLOAT64)),
            ("Tags", TypeDesc::Slice(Arc::new(basic(STRING)))),
        ]),
    );
    add(4203, &order);

    // More shapes: an empty struct, named `any` containers, nested registered types.
    let empty = reg("#fuzz/Empty", fields(vec![]));
    add(5000, &empty);
    let any_map = reg(
        "#fuzz/AnyMap",
        RegKind::Named(TypeDesc::Map(
            Arc::new(TypeDesc::Any),
            Arc::new(TypeDesc::Any),
        )),
    );
    add(5001, &any_map);
    let any_arr = reg(
        "#fuzz/AnyArr",
        RegKind::Named(TypeDesc::Array(2, Arc::new(TypeDesc::Any))),
    );
    add(5002, &any_arr);
    let nest = reg(
        "#fuzz/Nest",
        fields(vec![
            ("Parent", TypeDesc::Registered(parent.clone())),
            (
                "Lists",
                TypeDesc::Slice(Arc::new(TypeDesc::Registered(my_ints.clone()))),
            ),
            (
                "Points",
                TypeDesc::Map(
                    Arc::new(TypeDesc::Registered(my_string.clone())),
                    Arc::new(TypeDesc::Registered(point.clone())),
                ),
            ),
            (
                "Empties",
                TypeDesc::Array(4, Arc::new(TypeDesc::Registered(empty.clone()))),
            ),
            ("Event", TypeDesc::Registered(event.clone())),
        ]),
    );
    add(5003, &nest);

    // Derived Rust types (registered before the types that use them).
    for (id, info) in [
        (5100, ergo_edf::ensure_registered::<FuzzItem>()),
        (5101, ergo_edf::ensure_registered::<FuzzNames>()),
        (5102, ergo_edf::ensure_registered::<FuzzTable>()),
        (5103, ergo_edf::ensure_registered::<FuzzMsg>()),
        (5104, ergo_edf::ensure_registered::<FuzzBlob>()),
        (5105, ergo_edf::ensure_registered::<FuzzParity>()),
    ] {
        add(id, &info.expect("register derived type"));
    }
    ids
}

/// The process-wide set-up: registrations and the connection's caches.
pub fn caches() -> &'static Caches {
    static CACHES: OnceLock<Caches> = OnceLock::new();
    CACHES.get_or_init(|| {
        let types = register_all();
        let decode = DecodeCaches::default()
            .with_atoms(ATOMS.iter().map(|(id, a)| (*id, Atom::new(a))))
            .with_types(types.iter().map(|(id, n)| (*id, n.as_str())))
            .with_registered_errors()
            .with_errors([(FUZZ_ERROR.0, GoError::new(FUZZ_ERROR.1))]);
        let encode = EncodeCaches::default()
            .with_atoms(ATOMS.iter().map(|(id, a)| (Atom::new(a), *id)))
            .with_types(types.iter().map(|(id, n)| (n.as_str(), *id)))
            .with_registered_errors()
            .with_errors([(GoError::new(FUZZ_ERROR.1), FUZZ_ERROR.0)]);
        Caches { decode, encode }
    })
}

/// The decode/encode cache pairs every target tries: none, and the connection's.
pub fn cache_pairs() -> [(&'static DecodeCaches, &'static EncodeCaches); 2] {
    let c = caches();
    [
        (DecodeCaches::none(), EncodeCaches::none()),
        (&c.decode, &c.encode),
    ]
}

/// Encodes a value with its tag, as in an `any` slot (so a nil is allowed).
pub fn value_bytes(v: &Value, caches: &EncodeCaches) -> Result<Vec<u8>, EncodeError> {
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, caches);
    v.encode_tagged(&mut enc)?;
    Ok(buf)
}

/// Decodes one `Value` from `data`; on success checks that it re-encodes, that the bytes decode
/// to the same value (compared through their encodings, so NaN floats compare equal), and that
/// the typed `Edf` impl of `Value` writes the same bytes.
pub fn check_value_roundtrip(data: &[u8], dc: &DecodeCaches, ec: &EncodeCaches) {
    let mut dec = Decoder::new(data, dc);
    let Ok(v) = Value::decode_tagged(&mut dec) else {
        return;
    };
    let b1 = match value_bytes(&v, ec) {
        Ok(b) => b,
        // A zone offset Go decodes but its encoder refuses (minutes -1 with seconds): so do we.
        Err(EncodeError::BadTime(_)) => return,
        Err(e) => panic!("decoded {v:?} but re-encoding failed: {e}"),
    };
    let mut dec2 = Decoder::new(&b1, dc);
    let v2 = Value::decode_tagged(&mut dec2)
        .unwrap_or_else(|e| panic!("re-encoded {v:?} as {b1:02x?} but it does not decode: {e}"));
    assert_eq!(
        dec2.position(),
        b1.len(),
        "trailing bytes after re-encoded {v:?}"
    );
    let b2 =
        value_bytes(&v2, ec).unwrap_or_else(|e| panic!("second re-encoding of {v2:?} failed: {e}"));
    assert_eq!(b1, b2, "value changed in a round trip: {v:?} -> {v2:?}");
    if !format!("{v:?}").contains("NaN") {
        assert_eq!(v, v2);
    }
    let mut b3 = Vec::new();
    match ergo_edf::encode(&v, &mut b3, ec) {
        Ok(()) => assert_eq!(
            b1, b3,
            "Value::encode_tagged and ergo_edf::encode disagree for {v:?}"
        ),
        Err(EncodeError::NothingToEncode) => assert_eq!(v, Value::Nil),
        Err(e) => panic!("ergo_edf::encode failed for {v:?}: {e}"),
    }
}

/// Decodes `data` as a `T`; on success checks that it re-encodes and decodes to an equal value.
pub fn check_typed<T: Edf + std::fmt::Debug>(data: &[u8], eq: fn(&T, &T) -> bool) {
    for (dc, ec) in cache_pairs() {
        let Ok((v, used)) = ergo_edf::decode::<T>(data, dc) else {
            continue;
        };
        assert!(used <= data.len());
        let mut buf = Vec::new();
        match ergo_edf::encode(&v, &mut buf, ec) {
            Ok(()) => {}
            Err(EncodeError::NothingToEncode) if v.is_nil() => continue,
            // A zone offset Go decodes but its encoder refuses (minutes -1 with seconds).
            Err(EncodeError::BadTime(_)) => continue,
            Err(e) => panic!("decoded {v:?} but re-encoding failed: {e}"),
        }
        let (v2, used2) = ergo_edf::decode::<T>(&buf, dc).unwrap_or_else(|e| {
            panic!("re-encoded {v:?} as {buf:02x?} but it does not decode: {e}")
        });
        assert_eq!(used2, buf.len());
        assert!(
            eq(&v, &v2),
            "value changed in a round trip: {v:?} -> {v2:?}"
        );
    }
}

/// Equality of `Value`s through their encodings (NaN-aware).
pub fn value_eq(a: &Value, b: &Value) -> bool {
    let none = EncodeCaches::none();
    match (value_bytes(a, none), value_bytes(b, none)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Equality of `any`-valued hash maps, NaN-aware.
pub fn value_map_eq<K: std::hash::Hash + Eq>(a: &HashMap<K, Value>, b: &HashMap<K, Value>) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| value_eq(v, w)))
}

/// Field-wise equality of [`FuzzMsg`], NaN-aware for its `any` fields.
pub fn fuzz_msg_eq(a: &FuzzMsg, b: &FuzzMsg) -> bool {
    a.pid == b.pid
        && a.process == b.process
        && a.reference == b.reference
        && a.tags == b.tags
        && a.counts == b.counts
        && value_eq(&a.payload, &b.payload)
        && a.items == b.items
        && a.by_node == b.by_node
        && a.names == b.names
        && value_map_eq(&a.table.0, &b.table.0)
        && a.err == b.err
        && a.when == b.when
        && a.small == b.small
        && a.blob == b.blob
        && a.maybe == b.maybe
        && a.sorted == b.sorted
        && a.anys.len() == b.anys.len()
        && a.anys.iter().zip(&b.anys).all(|(x, y)| value_eq(x, y))
}

/// A sample [`FuzzMsg`] (for seeds).
pub fn sample_msg() -> FuzzMsg {
    let node = Atom::new("node1");
    FuzzMsg {
        pid: Pid::new(node, 1001, 1_700_000_000),
        process: ProcessId::new(Atom::new("sink"), node),
        reference: Ref {
            node,
            creation: 1_700_000_000,
            id: [1, 2, 3],
        },
        tags: vec!["a".into(), "b".into()],
        counts: HashMap::from([("k".to_string(), -1isize)]),
        payload: Value::Slice {
            elem: TypeDesc::Any,
            items: Some(vec![Value::Nil, Value::Int(1), Value::from("x")]),
        },
        items: vec![FuzzItem {
            name: "i".into(),
            id: 7,
        }],
        by_node: HashMap::from([(
            node,
            FuzzItem {
                name: "j".into(),
                id: 8,
            },
        )]),
        names: FuzzNames(vec!["n".into()]),
        table: FuzzTable(HashMap::from([("t".to_string(), Value::Float64(1.5))])),
        err: Some(GoError::new("timed out")),
        when: Time {
            seconds: 63_842_151_845,
            nanos: 6,
            offset: Some(7200),
        },
        small: [1, -2, 3],
        blob: vec![0xde, 0xad],
        maybe: None,
        sorted: BTreeMap::from([(1, true), (2, false)]),
        anys: vec![Value::Error(None), Value::Atom(node)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes typed seeds into `$EDF_FUZZ_SEEDS` (run with `cargo test -- --ignored`). A tool
    /// for preparing a fuzz corpus, not a check: it asserts nothing and writes files, so it never
    /// runs in CI (the seeds' round trips are checked by the fuzz targets themselves).
    #[test]
    #[ignore = "corpus tool, not a check: writes fuzz seeds into $EDF_FUZZ_SEEDS"]
    fn write_typed_seeds() {
        let dir = std::env::var("EDF_FUZZ_SEEDS")
            .expect("set EDF_FUZZ_SEEDS to the directory the seeds go to");
        let c = caches();
        let mut n = 0;
        let mut put = |bytes: Vec<u8>| {
            std::fs::write(format!("{dir}/typed-seed-{n}"), bytes).unwrap();
            n += 1;
        };
        for ec in [EncodeCaches::none(), &c.encode] {
            let mut b = Vec::new();
            ergo_edf::encode(&sample_msg(), &mut b, ec).unwrap();
            put(b);
            let mut b = Vec::new();
            ergo_edf::encode(
                &FuzzItem {
                    name: "x".into(),
                    id: 1,
                },
                &mut b,
                ec,
            )
            .unwrap();
            put(b);
            let mut b = Vec::new();
            ergo_edf::encode(
                &HashMap::from([("a".to_string(), 1isize), ("b".to_string(), 2)]),
                &mut b,
                ec,
            )
            .unwrap();
            put(b);
            let mut b = Vec::new();
            ergo_edf::encode(&vec!["x".to_string(), String::new()], &mut b, ec).unwrap();
            put(b);
        }
    }

    #[test]
    fn sample_roundtrips() {
        for (dc, ec) in cache_pairs() {
            let mut b = Vec::new();
            ergo_edf::encode(&sample_msg(), &mut b, ec).unwrap();
            let (m, _) = ergo_edf::decode::<FuzzMsg>(&b, dc).unwrap();
            assert!(fuzz_msg_eq(&m, &sample_msg()));
            check_value_roundtrip(&b, dc, ec);
        }
    }
}
