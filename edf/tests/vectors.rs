//! Conformance over the golden vectors captured from real Go Ergo 3.1 nodes
//! (`tests/vectors/edf*.json`, copied from the shared wire-spec folder).
//!
//! 1. The conformance runner (the same code as `examples/conformance`) over every value and
//!    failure vector: 0 failures, and only the one documented skip.
//! 2. Typed: every value vector decodes into its Rust twin type and re-encodes to exactly the
//!    same bytes (maps with several entries: equal after decoding, since Go's map order is random).

#[path = "../examples/conformance/parity_twins.rs"]
mod parity_twins;
#[path = "../examples/conformance/runner.rs"]
mod runner;
#[path = "../examples/conformance/twins.rs"]
mod twins;

use std::collections::HashMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use ergo_edf::{
    Alias, Atom, DecodeCaches, Edf, EncodeCaches, Event, GoError, Pid, ProcessId, Ref, Time, Value,
};
use serde_json::Value as Json;

fn vectors(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(file)
}

#[test]
fn runner_passes_every_value_and_failure_vector() {
    let mut summary = runner::Summary::default();
    runner::run_file(&vectors("edf.json"), &mut summary).unwrap();
    let values = summary.passed;
    runner::run_file(&vectors("edf_errors.json"), &mut summary).unwrap();
    assert!(
        summary.failed.is_empty(),
        "failures:\n{}",
        summary.failed.join("\n")
    );
    assert_eq!(values, 283, "every value vector passes");
    assert_eq!(summary.passed, 283 + 37);
    assert_eq!(summary.skipped.len(), 1, "{:?}", summary.skipped);
    assert!(summary.skipped[0].starts_with("register_struct_with_unexported_field:"));
    assert_eq!(summary.line(), "320 passed, 0 failed, 1 skipped");
}

fn as_value(bytes: &[u8], dec: &DecodeCaches) -> Value {
    ergo_edf::decode::<Value>(bytes, dec).unwrap().0
}

fn typed<T: Edf + PartialEq + Debug>(
    bytes: &[u8],
    enc: &EncodeCaches,
    dec: &DecodeCaches,
) -> Result<(), String> {
    let (v, used) = ergo_edf::decode::<T>(bytes, dec).map_err(|e| format!("typed decode: {e}"))?;
    if used != bytes.len() {
        return Err(format!("typed decode used {used} of {} bytes", bytes.len()));
    }
    let mut out = Vec::new();
    ergo_edf::encode(&v, &mut out, enc).map_err(|e| format!("typed encode: {e}"))?;
    if out == bytes {
        return Ok(());
    }
    // Only map order may differ: the same value, and the same entries in another order.
    let (again, _) =
        ergo_edf::decode::<T>(&out, dec).map_err(|e| format!("decode of our bytes: {e}"))?;
    if again != v {
        return Err(format!("re-encoded bytes decode to {again:?}, want {v:?}"));
    }
    if as_value(&out, dec).canonical() != as_value(bytes, dec).canonical() {
        return Err(format!(
            "bytes differ beyond map order:\n want {}\n got  {}",
            hex::encode(bytes),
            hex::encode(&out)
        ));
    }
    Ok(())
}

/// Runs the typed check for a Go type name; `None` when the test has no twin for it.
fn typed_for(
    go_type: &str,
    b: &[u8],
    enc: &EncodeCaches,
    dec: &DecodeCaches,
) -> Option<Result<(), String>> {
    use twins::*;
    macro_rules! table {
        ($($go:literal => $t:ty),* $(,)?) => {
            match go_type {
                $($go => Some(typed::<$t>(b, enc, dec)),)*
                _ => None,
            }
        };
    }
    table! {
        "bool" => bool, "int8" => i8, "int16" => i16, "int32" => i32, "int64" => i64, "int" => isize,
        "uint8" => u8, "uint16" => u16, "uint32" => u32, "uint64" => u64, "uint" => usize,
        "float32" => f32, "float64" => f64, "string" => String, "[]uint8" => Vec<u8>,
        "gen.Atom" => Atom, "gen.PID" => Pid, "gen.ProcessID" => ProcessId, "gen.Ref" => Ref,
        "gen.Alias" => Alias, "gen.Event" => Event, "time.Time" => Time,
        "*errors.errorString" => GoError, "*fmt.wrapError" => GoError,
        "[]int" => Option<Vec<isize>>, "[]string" => Option<Vec<String>>, "[]bool" => Option<Vec<bool>>,
        "[]interface {}" => Option<Vec<Value>>, "[][]int" => Option<Vec<Option<Vec<isize>>>>,
        "[][]interface {}" => Option<Vec<Option<Vec<Value>>>>, "[]gen.PID" => Option<Vec<Pid>>,
        "[][]uint8" => Option<Vec<Vec<u8>>>, "[]error" => Option<Vec<Option<GoError>>>,
        "map[string]int" => Option<HashMap<String, isize>>,
        "map[string]interface {}" => Option<HashMap<String, Value>>,
        "map[gen.Atom]gen.PID" => Option<HashMap<Atom, Pid>>,
        "map[int][]string" => Option<HashMap<isize, Option<Vec<String>>>>,
        "map[string]msgs.Child" => Option<HashMap<String, Child>>,
        "[]msgs.Child" => Option<Vec<Child>>,
        "[3]int" => [isize; 3], "[2]string" => [String; 2], "[0]int" => [isize; 0],
        "[2][2]uint8" => [[u8; 2]; 2], "[2]interface {}" => [Value; 2],
        "msgs.Child" => Child, "msgs.Parent" => Parent, "msgs.WithBytes" => WithBytes,
        "msgs.AllBasic" => AllBasic, "msgs.AnyHolder" => AnyHolder, "msgs.Point" => Point,
        "msgs.Semver" => Semver, "msgs.MyInt" => MyInt, "msgs.MyString" => MyString,
        "msgs.MyInts" => MyInts, "msgs.MyMap" => MyMap, "msgs.MyArr" => MyArr, "msgs.Order" => Order,
        "gen.Version" => Version, "gen.NetworkFlags" => NetworkFlags, "gen.MessageEvent" => MessageEvent,
    }
}

#[test]
fn every_value_vector_round_trips_through_its_rust_twin() {
    twins::register_all().unwrap();
    let (entries, tables) = runner::read_vectors(&vectors("edf.json"), None).unwrap();
    assert!(!tables.reg.is_empty(), "edf_caches.json beside edf.json");
    let mut checked = 0;
    let mut no_twin = Vec::new();
    let mut failures = Vec::new();
    for e in &entries {
        let name = e["name"].as_str().unwrap();
        let bytes = runner::vector_bytes(e).unwrap();
        let (enc, dec) = runner::caches_for(e, &tables);
        match typed_for(e["go_type"].as_str().unwrap(), &bytes, &enc, &dec) {
            Some(Ok(())) => checked += 1,
            Some(Err(r)) => failures.push(format!("{name}: {r}")),
            None => no_twin.push(name.to_string()),
        }
    }
    assert!(
        failures.is_empty(),
        "typed failures:\n{}",
        failures.join("\n")
    );
    // map[any]any has no typed Rust twin (Value is not a hash key); it is covered by the runner.
    assert_eq!(no_twin, vec!["map_any_any [none]".to_string()]);
    assert_eq!(checked, 282);
}

#[test]
fn multi_entry_maps_compare_after_decoding() {
    // Go wrote {"b":2,"a":1}; we may write the entries in another order, but the value is the same.
    let json: Json =
        serde_json::from_str(&std::fs::read_to_string(vectors("edf.json")).unwrap()).unwrap();
    let e = json
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "map_string_int_2 [none]")
        .unwrap();
    let bytes = runner::vector_bytes(e).unwrap();
    let m: HashMap<String, isize> = ergo_edf::from_slice(&bytes).unwrap();
    assert_eq!(
        m,
        HashMap::from([("a".to_string(), 1), ("b".to_string(), 2)])
    );
}
