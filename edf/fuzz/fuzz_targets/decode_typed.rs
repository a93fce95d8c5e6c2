//! Typed decoding of arbitrary bytes into containers and derived structs (the Go-parity forms
//! `GoString`, a registered `[]byte`, `GoMap` and `Value`-keyed maps among them); whatever
//! decodes must re-encode and decode to an equal value.
#![no_main]

use std::collections::{BTreeMap, HashMap};

use ergo_edf::{Atom, GoError, GoMap, GoString, Pid, ProcessId, Time, Value};
use ergo_edf_fuzz::*;
use libfuzzer_sys::fuzz_target;

fn eq<T: PartialEq>(a: &T, b: &T) -> bool {
    a == b
}

fuzz_target!(|data: &[u8]| {
    caches();
    check_typed::<Vec<String>>(data, eq);
    check_typed::<HashMap<String, isize>>(data, eq);
    check_typed::<Option<Vec<i32>>>(data, eq);
    check_typed::<Vec<Vec<u8>>>(data, eq);
    check_typed::<[u16; 3]>(data, eq);
    check_typed::<BTreeMap<Atom, Vec<Pid>>>(data, eq);
    check_typed::<Option<HashMap<ProcessId, Option<GoError>>>>(data, eq);
    check_typed::<Time>(data, eq);
    check_typed::<GoError>(data, eq);
    check_typed::<Option<GoError>>(data, eq);
    check_typed::<FuzzItem>(data, eq);
    check_typed::<HashMap<String, FuzzItem>>(data, eq);
    check_typed::<FuzzNames>(data, eq);
    check_typed::<FuzzTable>(data, |a, b| value_map_eq(&a.0, &b.0));
    check_typed::<FuzzMsg>(data, fuzz_msg_eq);
    check_typed::<Vec<Value>>(data, |a, b| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| value_eq(x, y))
    });
    check_typed::<Value>(data, value_eq);
    // Go-parity forms: strings of any bytes, a registered []byte, Go's float / any keys.
    check_typed::<GoString>(data, eq);
    check_typed::<Vec<GoString>>(data, eq);
    check_typed::<FuzzBlob>(data, eq);
    check_typed::<GoMap<f64, GoString>>(data, eq);
    check_typed::<Option<GoMap<f32, isize>>>(data, eq);
    check_typed::<GoMap<Value, Value>>(data, eq);
    check_typed::<HashMap<Value, i64>>(data, eq);
    check_typed::<BTreeMap<Value, Value>>(data, eq);
    check_typed::<FuzzParity>(data, eq);
});
