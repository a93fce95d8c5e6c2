//! Property tests of the forms made for Go's differences: `GoString` (strings of any bytes), a
//! registered newtype over bytes (Go's `type Blob []byte`), `GoMap` (Go's key rules for float and
//! `any` keys, NaN included), `Value` as a map key, and time zone offsets with seconds.

use std::collections::{BTreeMap, HashMap};

use ergo_edf::{DecodeCaches, Decoder, Edf, GoMap, GoString, Time, Value};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(package = "#proptest/parity")]
struct Blob(Option<Vec<u8>>);

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(package = "#proptest/parity")]
struct Mixed {
    blob: Blob,
    text: GoString,
    floats: Option<GoMap<f64, i32>>,
    anys: Option<HashMap<Value, String>>,
}

fn register() {
    ergo_edf::ensure_registered::<Blob>().unwrap();
    ergo_edf::ensure_registered::<Mixed>().unwrap();
}

/// Floats with the cases Go's keys treat specially: NaN, -0 and +0, infinities.
fn go_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<f64>(),
        1 => Just(f64::NAN),
        1 => Just(-0.0),
        1 => Just(0.0),
        1 => Just(f64::INFINITY),
        2 => (-4i32..4).prop_map(f64::from),
    ]
}

/// `any` keys of several Go types, floats with NaN among them.
fn any_key() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Int),
        any::<i8>().prop_map(Value::Int8),
        any::<u64>().prop_map(Value::Uint64),
        "[a-z]{0,4}".prop_map(Value::String),
        any::<bool>().prop_map(Value::Bool),
        go_float().prop_map(Value::Float64),
        Just(Value::Nil),
    ]
}

fn bytes_of<T: Edf>(v: &T) -> Vec<u8> {
    ergo_edf::to_vec(v).expect("encodes")
}

fn back<T: Edf>(b: &[u8]) -> T {
    let (v, used) = ergo_edf::decode::<T>(b, DecodeCaches::none()).expect("decodes");
    assert_eq!(used, b.len());
    v
}

fn as_value(b: &[u8]) -> Value {
    let mut d = Decoder::new(b, DecodeCaches::none());
    let v = Value::decode_tagged(&mut d).expect("decodes as a Value");
    assert_eq!(d.position(), b.len());
    v
}

proptest! {
    #[test]
    fn go_strings_of_any_bytes_roundtrip_on_both_paths(b in vec(any::<u8>(), 0..80)) {
        let s = GoString::new(b.clone());
        let bytes = bytes_of(&s);
        prop_assert_eq!(back::<GoString>(&bytes), s.clone());
        let v = as_value(&bytes);
        match std::str::from_utf8(&b) {
            Ok(text) => prop_assert_eq!(&v, &Value::String(text.to_string())),
            Err(_) => prop_assert_eq!(&v, &Value::GoString(s)),
        }
        prop_assert_eq!(bytes_of(&v), bytes.clone());
        // A typed String takes exactly the UTF-8 ones.
        let typed = ergo_edf::from_slice::<String>(&bytes);
        prop_assert_eq!(typed.is_ok(), std::str::from_utf8(&b).is_ok());
    }

    #[test]
    fn named_byte_slices_roundtrip_on_both_paths(b in option::of(vec(any::<u8>(), 0..64))) {
        register();
        let blob = Blob(b);
        let bytes = bytes_of(&blob);
        prop_assert_eq!(back::<Blob>(&bytes), blob.clone());
        // Go's registered slice of uint8: `ff` for nil, else `83`, u32 count, the bytes.
        let body = &bytes[3 + "#proptest/parity/Blob".len()..];
        match &blob.0 {
            None => prop_assert_eq!(body, &[0xff][..]),
            Some(v) => {
                prop_assert_eq!(body[0], 0x83);
                prop_assert_eq!(&body[1..5], &(v.len() as u32).to_be_bytes()[..]);
                prop_assert_eq!(&body[5..], &v[..]);
            }
        }
        prop_assert_eq!(bytes_of(&as_value(&bytes)), bytes);
    }

    #[test]
    fn go_maps_keep_every_nan_entry_and_merge_zeros(entries in vec((go_float(), any::<i32>()), 0..12)) {
        let m: GoMap<f64, i32> = entries.iter().copied().collect();
        let nans = entries.iter().filter(|(k, _)| k.is_nan()).count();
        let mut others: Vec<u64> = entries
            .iter()
            .filter(|(k, _)| !k.is_nan())
            .map(|(k, _)| if *k == 0.0 { 0 } else { k.to_bits() })
            .collect();
        others.sort();
        others.dedup();
        prop_assert_eq!(m.len(), nans + others.len());
        let bytes = bytes_of(&m);
        let again: GoMap<f64, i32> = back(&bytes);
        prop_assert_eq!(&again, &m);
        // The Value path keeps the entries as written and re-encodes Go's bytes exactly.
        prop_assert_eq!(bytes_of(&as_value(&bytes)), bytes);
    }

    #[test]
    fn values_key_hash_and_btree_maps(entries in vec((any_key(), "[a-z]{0,3}"), 0..10)) {
        let h: HashMap<Value, String> = entries.iter().cloned().collect();
        prop_assert_eq!(back::<HashMap<Value, String>>(&bytes_of(&h)), h.clone());
        let b: BTreeMap<Value, String> = entries.iter().cloned().collect();
        let bytes = bytes_of(&b);
        prop_assert_eq!(back::<BTreeMap<Value, String>>(&bytes), b.clone());
        prop_assert_eq!(bytes_of(&as_value(&bytes)), bytes);
        let g: GoMap<Value, String> = entries.iter().cloned().collect();
        prop_assert_eq!(back::<GoMap<Value, String>>(&bytes_of(&g)), g);
    }

    #[test]
    fn mixed_structs_roundtrip(
        blob in option::of(vec(any::<u8>(), 0..16)),
        text in vec(any::<u8>(), 0..16),
        floats in option::of(vec((go_float(), any::<i32>()), 0..6)),
        anys in option::of(vec((any_key(), "[a-z]{0,3}"), 0..6)),
    ) {
        register();
        let m = Mixed {
            blob: Blob(blob),
            text: GoString::new(text),
            floats: floats.map(|f| f.into_iter().collect()),
            anys: anys.map(|a| a.into_iter().collect()),
        };
        let bytes = bytes_of(&m);
        prop_assert_eq!(back::<Mixed>(&bytes), m);
        prop_assert_eq!(bytes.len(), bytes_of(&as_value(&bytes)).len());
    }

    #[test]
    fn zone_offsets_follow_go(off in -32768i32 * 60 - 59..=32767 * 60 + 59, secs in any::<i64>()) {
        let t = Time { seconds: secs, nanos: 0, offset: Some(off) };
        match ergo_edf::to_vec(&t) {
            // Go refuses exactly the offsets whose minutes truncate to -1.
            Err(_) => prop_assert_eq!(off / 60, -1),
            Ok(bytes) => {
                prop_assert_ne!(off / 60, -1);
                let body = &bytes[2..];
                prop_assert_eq!(body[0], if off % 60 == 0 { 1 } else { 2 });
                prop_assert_eq!(i16::from_be_bytes([body[13], body[14]]) as i32, off / 60);
                if off % 60 != 0 {
                    prop_assert_eq!(body[15] as i8 as i32, off % 60);
                }
                prop_assert_eq!(back::<Time>(&bytes), t);
            }
        }
    }

    #[test]
    fn any_time_body_decodes_or_fails_cleanly(body in vec(any::<u8>(), 0..20)) {
        let mut bytes = vec![0xaf, body.len() as u8];
        bytes.extend_from_slice(&body);
        if let Ok(t) = ergo_edf::from_slice::<Time>(&bytes) {
            // What decodes re-encodes unless Go's encoder would refuse it too.
            if t.offset.is_none_or(|o| o / 60 != -1 && (o / 60) as i16 as i32 == o / 60) {
                let again = bytes_of(&t);
                prop_assert_eq!(back::<Time>(&again), t);
            }
        }
    }
}
