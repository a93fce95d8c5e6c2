//! Go parity over `tests/vectors/edf_parity*.json`: values, names and caches written by Go Ergo
//! 3.1's `net/edf` that the captured set (`edf.json`) does not contain: a registered
//! `type Blob []byte`, time zones with second offsets, strings that are not UTF-8, maps keyed by
//! `any` and by floats (NaN included), custom marshalers, and cache tables of another process.
//!
//! 1. The conformance runner over the set: every real check passes; the only skips are the
//!    type the runner leaves unregistered on purpose.
//! 2. Typed: every value decodes into its Rust twin and re-encodes to Go's bytes.
//! 3. The runner judges truly: a corrupted vector fails, and the file's own cache table is what
//!    makes its cached vectors pass.

#[path = "../examples/conformance/parity_twins.rs"]
mod parity_twins;
#[path = "../examples/conformance/runner.rs"]
mod runner;
#[path = "../examples/conformance/twins.rs"]
mod twins;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use ergo_edf::{
    DecodeCaches, DecodeError, Edf, EncodeCaches, EncodeError, GoError, GoMap, GoString, ProcessId,
    Registered, Time, Value,
};
use parity_twins::*;
use serde_json::Value as Json;

fn vectors(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(file)
}

fn entry(name: &str) -> (Vec<u8>, Json) {
    let (entries, _) = runner::read_vectors(&vectors("edf_parity.json"), None).unwrap();
    let e = entries
        .into_iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"));
    (runner::vector_bytes(&e).unwrap(), e)
}

#[test]
fn runner_passes_every_go_parity_vector() {
    let mut summary = runner::Summary::default();
    runner::run_file(&vectors("edf_parity.json"), &mut summary).unwrap();
    let values = summary.passed;
    runner::run_file(&vectors("edf_parity_errors.json"), &mut summary).unwrap();
    assert!(
        summary.failed.is_empty(),
        "failures:\n{}",
        summary.failed.join("\n")
    );
    // Every value vector but Secret's 5 (one per cache option).
    let (entries, _) = runner::read_vectors(&vectors("edf_parity.json"), None).unwrap();
    assert_eq!(values, entries.len() - 5);
    assert!(
        summary
            .skipped
            .iter()
            .all(|s| s.contains("#edfparity/types/Secret is unknown here")),
        "{:?}",
        summary.skipped
    );
    assert_eq!(summary.line(), "396 passed, 0 failed, 6 skipped");
}

#[test]
fn the_runner_fails_a_corrupted_vector_and_needs_the_named_cache_table() {
    let (entries, _) = runner::read_vectors(&vectors("edf_parity.json"), None).unwrap();
    let dir = std::env::temp_dir().join(format!("edf-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // One byte of one value changed: a failure, not a pass or a skip.
    let mut bad: Vec<Json> = entries
        .iter()
        .filter(|e| e["name"] == "note_odd_offset [none]")
        .cloned()
        .collect();
    let hex = bad[0]["hex"].as_str().unwrap().to_string();
    let flipped = format!("{}00", &hex[..hex.len() - 2]);
    assert_ne!(hex, flipped);
    bad[0]["hex"] = Json::String(flipped);
    let bad_file = dir.join("bad.json");
    std::fs::write(&bad_file, serde_json::to_string(&bad).unwrap()).unwrap();
    let mut summary = runner::Summary::default();
    runner::run_file(&bad_file, &mut summary).unwrap();
    assert_eq!(summary.line(), "0 passed, 1 failed, 0 skipped");

    // A cached vector as a bare array, without the caches file: `[]types.Blob` names its
    // element type by a cache ID that only the file's table holds, so it fails; with `--caches`
    // (run_file_with) it passes.
    let cached: Vec<Json> = entries
        .iter()
        .filter(|e| e["name"] == "slice_of_blob [regcache+cache]")
        .cloned()
        .collect();
    let bare = dir.join("bare.json");
    std::fs::write(&bare, serde_json::to_string(&cached).unwrap()).unwrap();
    let mut summary = runner::Summary::default();
    runner::run_file(&bare, &mut summary).unwrap();
    assert_eq!(
        summary.line(),
        "0 passed, 1 failed, 0 skipped",
        "{:?}",
        summary.failed
    );
    let mut summary = runner::Summary::default();
    runner::run_file_with(
        &bare,
        Some(&vectors("edf_parity_caches.json")),
        &mut summary,
    )
    .unwrap();
    assert_eq!(
        summary.line(),
        "1 passed, 0 failed, 0 skipped",
        "{:?}",
        summary.failed
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Decodes `bytes` as `T`, re-encodes it; `Ok(true)` when the bytes are Go's exactly,
/// `Ok(false)` when only the order of map entries differs (Go's map order is random).
fn typed<T: Edf + PartialEq + Debug>(
    bytes: &[u8],
    enc: &EncodeCaches,
    dec: &DecodeCaches,
) -> Result<bool, String> {
    let (v, used) = ergo_edf::decode::<T>(bytes, dec).map_err(|e| format!("typed decode: {e}"))?;
    if used != bytes.len() {
        return Err(format!("typed decode used {used} of {} bytes", bytes.len()));
    }
    let mut out = Vec::new();
    ergo_edf::encode(&v, &mut out, enc).map_err(|e| format!("typed encode: {e}"))?;
    if out == bytes {
        return Ok(true);
    }
    let (again, _) =
        ergo_edf::decode::<T>(&out, dec).map_err(|e| format!("decode of our bytes: {e}"))?;
    if again != v {
        return Err(format!("re-encoded bytes decode to {again:?}, want {v:?}"));
    }
    let as_value = |b: &[u8]| ergo_edf::decode::<Value>(b, dec).map(|(v, _)| v.canonical());
    if as_value(&out) != as_value(bytes) || out.len() != bytes.len() {
        return Err(format!(
            "bytes differ beyond map order:\n want {}\n got  {}",
            hex::encode(bytes),
            hex::encode(&out)
        ));
    }
    Ok(false)
}

fn typed_for(
    go_type: &str,
    b: &[u8],
    enc: &EncodeCaches,
    dec: &DecodeCaches,
) -> Option<Result<bool, String>> {
    macro_rules! table {
        ($($go:literal => $t:ty),* $(,)?) => {
            match go_type {
                $($go => Some(typed::<$t>(b, enc, dec)),)*
                _ => None,
            }
        };
    }
    table! {
        "time.Time" => Time, "[]time.Time" => Option<Vec<Time>>,
        "map[string]time.Time" => Option<HashMap<String, Time>>,
        "[]interface {}" => Option<Vec<Value>>,
        "string" => GoString, "[]string" => Option<Vec<GoString>>,
        "map[string]int" => Option<HashMap<GoString, isize>>,
        "types.Blob" => Blob, "types.Blobs" => Blobs, "[]types.Blob" => Option<Vec<Blob>>,
        "map[string]types.Blob" => Option<HashMap<String, Blob>>,
        "types.Note" => Note, "types.Envelope" => Envelope, "types.Label" => Label,
        "map[interface {}]string" => Option<HashMap<Value, String>>,
        "map[interface {}]int" => Option<GoMap<Value, isize>>,
        "map[interface {}]interface {}" => Option<BTreeMap<Value, Value>>,
        "map[interface {}][]string" => Option<HashMap<Value, Option<Vec<String>>>>,
        "map[interface {}]bool" => Option<BTreeMap<Value, bool>>,
        "map[float64]string" => Option<GoMap<f64, String>>,
        "map[float64]int" => Option<GoMap<f64, isize>>,
        "map[float32]int" => Option<GoMap<f32, isize>>,
        "types.FloatTable" => FloatTable, "types.AnyTable" => AnyTable, "types.Reading" => Reading,
        "types.Score" => Score, "types.Money" => Money, "types.Tag" => Tag,
        "*errors.errorString" => GoError, "[]error" => Option<Vec<Option<GoError>>>,
        "gen.ProcessID" => ProcessId,
    }
}

#[test]
fn every_go_parity_value_round_trips_through_its_rust_twin() {
    twins::register_all().unwrap();
    parity_twins::register_all().unwrap();
    let (entries, tables) = runner::read_vectors(&vectors("edf_parity.json"), None).unwrap();
    let (mut exact, mut reordered) = (0, 0);
    let mut no_twin = Vec::new();
    let mut failures = Vec::new();
    for e in &entries {
        let name = e["name"].as_str().unwrap();
        let bytes = runner::vector_bytes(e).unwrap();
        let (enc, dec) = runner::caches_for(e, &tables);
        match typed_for(e["go_type"].as_str().unwrap(), &bytes, &enc, &dec) {
            Some(Ok(true)) => exact += 1,
            Some(Ok(false)) => reordered += 1,
            Some(Err(r)) => failures.push(format!("{name}: {r}")),
            None => no_twin.push(name.to_string()),
        }
    }
    assert!(
        failures.is_empty(),
        "typed failures:\n{}",
        failures.join("\n")
    );
    // Secret is left without a twin on purpose (the runner's skip case).
    assert!(
        no_twin.iter().all(|n| n.starts_with("secret [")),
        "{no_twin:?}"
    );
    assert_eq!(exact + reordered, entries.len() - 5);
    // Only maps of several entries may come out in another order.
    println!("typed: {exact} byte-identical, {reordered} with map entries in another order");
    assert!(reordered <= 15 * 5, "{reordered}");
}

#[test]
fn a_registered_byte_slice_is_a_registered_slice_of_uint8() {
    parity_twins::register_all().unwrap();
    let (bytes, _) = entry("blob_bytes [none]");
    let name = Blob::type_name();
    assert_eq!(name, "#edfparity/types/Blob");
    // 83, the name, then Go's registered-slice marker 83, a u32 count and the bytes.
    let mut want = vec![0x83, 0, name.len() as u8];
    want.extend_from_slice(name.as_bytes());
    want.extend_from_slice(&[0x83, 0, 0, 0, 3, 1, 2, 3]);
    assert_eq!(bytes, want);
    assert_eq!(
        ergo_edf::from_slice::<Blob>(&bytes).unwrap(),
        Blob(Some(vec![1, 2, 3]))
    );
    assert_eq!(ergo_edf::to_vec(&Blob(Some(vec![1, 2, 3]))).unwrap(), bytes);
    // nil is `ff`, as Go writes it.
    let (nil, _) = entry("blob_nil [none]");
    assert_eq!(nil.last(), Some(&0xff));
    assert_eq!(ergo_edf::to_vec(&Blob(None)).unwrap(), nil);
    // The dynamic path: a Value of the registered type, also given as plain bytes.
    let v: Value = ergo_edf::from_slice(&bytes).unwrap();
    assert_eq!(ergo_edf::to_vec(&v).unwrap(), bytes);
    let info = ergo_edf::registry::lookup(name).unwrap();
    let as_binary = Value::registered(info, Value::Binary(vec![1, 2, 3])).unwrap();
    assert_eq!(ergo_edf::to_vec(&as_binary).unwrap(), bytes);
}

#[test]
fn odd_zone_offsets_decode_and_encode_as_go() {
    for (name, offset) in [
        ("time_offset_-3601 [none]", -3601),
        ("time_offset_3601 [none]", 3601),
        ("time_offset_-59 [none]", -59),
        ("time_offset_-43201 [none]", -43201),
    ] {
        let (bytes, _) = entry(name);
        let t: Time = ergo_edf::from_slice(&bytes).unwrap();
        assert_eq!(t.offset, Some(offset), "{name}");
        assert_eq!(ergo_edf::to_vec(&t).unwrap(), bytes, "{name}");
        let v: Value = ergo_edf::from_slice(&bytes).unwrap();
        assert_eq!(v, Value::Time(t));
        assert_eq!(ergo_edf::to_vec(&v).unwrap(), bytes, "{name}");
    }
    // The case: Go writes ff c4 ff for -3601 s.
    let (bytes, _) = entry("time_offset_-3601 [none]");
    assert!(hex::encode(&bytes).ends_with("ffc4ff"));
}

/// `types.Note` with a `String` text: the strict form, which cannot hold Go's arbitrary bytes.
#[derive(Edf, Debug, PartialEq)]
#[edf(name = "#edfparity/types/Note")]
struct StrictNote {
    id: u32,
    data: Blob,
    text: String,
    when: Time,
}

#[test]
fn strings_that_are_not_utf8_are_kept_by_value_and_go_string_and_named_by_a_string_field() {
    parity_twins::register_all().unwrap();
    let (bytes, _) = entry("string_invalid_mixed [none]");
    let v: Value = ergo_edf::from_slice(&bytes).unwrap();
    assert_eq!(
        v,
        Value::GoString(GoString::new(&b"ok\x00\xfe\xfftail"[..]))
    );
    assert_eq!(ergo_edf::to_vec(&v).unwrap(), bytes);
    let s: GoString = ergo_edf::from_slice(&bytes).unwrap();
    assert_eq!(ergo_edf::to_vec(&s).unwrap(), bytes);
    assert_eq!(
        ergo_edf::from_slice::<String>(&bytes),
        Err(DecodeError::InvalidUtf8("string"))
    );

    // In a registered struct: Value and the GoString twin carry it; a String field is named.
    let (note, _) = entry("note_invalid_text [none]");
    let v: Value = ergo_edf::from_slice(&note).unwrap();
    assert_eq!(ergo_edf::to_vec(&v).unwrap(), note);
    let twin: Note = ergo_edf::from_slice(&note).unwrap();
    assert_eq!(twin.text, GoString::new(&b"bad\xff"[..]));
    let err = ergo_edf::from_slice::<StrictNote>(&note).unwrap_err();
    assert_eq!(
        err,
        DecodeError::InvalidUtf8Field {
            type_name: "#edfparity/types/Note",
            field: "text"
        }
    );
    assert!(
        err.to_string()
            .contains("field text of #edfparity/types/Note"),
        "{err}"
    );
    // Valid text still decodes into the strict form.
    let (ok, _) = entry("note_odd_offset [none]");
    assert_eq!(ergo_edf::from_slice::<StrictNote>(&ok).unwrap().text, "n");
}

#[test]
fn float_and_any_keys_follow_go_nan_included() {
    let (bytes, _) = entry("map_float_nan [none]");
    let m: GoMap<f64, isize> = ergo_edf::from_slice(&bytes).unwrap();
    assert_eq!(m.len(), 3, "three NaN keys are three entries, as in Go");
    assert_eq!(m.get(&f64::NAN), None);
    let mut values: Vec<isize> = m.iter().map(|(_, v)| *v).collect();
    values.sort();
    assert_eq!(values, [1, 2, 3]);
    assert_eq!(ergo_edf::to_vec(&m).unwrap(), bytes);

    let (bytes, _) = entry("map_float_string [none]");
    let m: GoMap<f64, String> = ergo_edf::from_slice(&bytes).unwrap();
    assert_eq!(
        m.get(&0.0).map(String::as_str),
        Some("negzero"),
        "-0 and +0 are one key"
    );
    assert_eq!(m.get(&f64::INFINITY).map(String::as_str), Some("inf"));
    let stored_zero = m.iter().find(|(_, v)| *v == "negzero").unwrap().0;
    assert!(stored_zero.is_sign_negative(), "the key Go wrote is kept");

    let (bytes, _) = entry("map_any_int_nan_keys [none]");
    let m: GoMap<Value, isize> = ergo_edf::from_slice(&bytes).unwrap();
    assert_eq!(m.len(), 3);
    assert_eq!(m.get(&Value::Float64(1.0)), Some(&3));

    let (bytes, _) = entry("map_any_string_mixed [none]");
    let m: HashMap<Value, String> = ergo_edf::from_slice(&bytes).unwrap();
    assert_eq!(m[&Value::Int(1)], "i");
    assert_eq!(m[&Value::from("x")], "s");
    assert_eq!(m[&Value::Atom(ergo_edf::Atom::new("a"))], "atom");
    assert_eq!(m[&Value::Int8(-3)], "i8");
    let b: BTreeMap<Value, String> = ergo_edf::from_slice(&bytes).unwrap();
    assert_eq!(b.len(), 7);
}

#[test]
fn unregistered_types_are_refused_at_the_sender_and_custom_payloads_are_checked() {
    parity_twins::register_all().unwrap();
    assert_eq!(
        ergo_edf::to_vec(&Unshared { a: 1 }),
        Err(EncodeError::NotRegistered("#edfparity/types/Unshared"))
    );
    assert!(matches!(
        ergo_edf::to_vec(&vec![Unshared { a: 1 }]),
        Err(EncodeError::NotRegistered(_))
    ));
    let info = ergo_edf::registry::lookup(Money::type_name()).unwrap();
    let (bytes, _) = entry("money [none]");
    let good = Value::custom(info.clone(), bytes[bytes.len() - 12..].to_vec()).unwrap();
    assert_eq!(ergo_edf::to_vec(&good).unwrap(), bytes);
    assert!(matches!(
        Value::custom(info.clone(), vec![1, 2, 3]),
        Err(EncodeError::CustomPayload { .. })
    ));
    assert!(Value::registered(info, Value::Int(1)).is_err());
}

mod names {
    /// A registered name kept in a constant, in another module.
    pub const MONEY: &str = "#edfparity/types/Money";
}

/// The Go type `types.Money`, named by a constant path.
#[derive(Edf, Debug, PartialEq)]
#[edf(custom, name = names::MONEY)]
struct MoneyByConst {
    units: i64,
    nanos: i32,
}

impl ergo_edf::EdfCustom for MoneyByConst {
    fn marshal(&self, out: &mut Vec<u8>) -> Result<(), String> {
        out.extend_from_slice(&self.units.to_be_bytes());
        out.extend_from_slice(&self.nanos.to_be_bytes());
        Ok(())
    }
    fn unmarshal(b: &[u8]) -> Result<Self, String> {
        let m = <Money as ergo_edf::EdfCustom>::unmarshal(b)?;
        Ok(MoneyByConst {
            units: m.units,
            nanos: m.nanos,
        })
    }
}

#[test]
fn a_registered_name_may_be_a_constant() {
    assert_eq!(MoneyByConst::type_name(), "#edfparity/types/Money");
    let (bytes, _) = entry("money [none]");
    let m: MoneyByConst = ergo_edf::from_slice(&bytes).unwrap();
    assert_eq!(
        m,
        MoneyByConst {
            units: -5,
            nanos: 250
        }
    );
}
