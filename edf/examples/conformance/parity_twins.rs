//! Rust twins of the Go types of the `edfparity/types` package that wrote
//! `tests/vectors/edf_parity.json` (its `types` table gives each Go declaration). They use the
//! forms made for Go's differences: a newtype over bytes for a registered `[]byte`, `GoString`
//! for strings that may not be UTF-8, `GoMap` for float and NaN keys, `Value` keys for `any`.

use std::collections::HashMap;

use ergo_edf::{
    ensure_registered, Atom, Edf, EdfCustom, GoError, GoMap, GoString, Pid, RegisterError, Time,
    Value,
};

/// The Go package path, written once (`#[edf(package = PKG)]`).
pub const PKG: &str = "#edfparity/types";

/// `type Blob []byte`, registered: a registered slice of uint8 on the wire.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(package = PKG)]
pub struct Blob(pub Option<Vec<u8>>);

/// `type Blobs []Blob`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(package = PKG)]
pub struct Blobs(pub Option<Vec<Blob>>);

/// `type Score float64`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(package = PKG)]
pub struct Score(pub f64);

/// `type FloatTable map[float64]string`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(package = PKG)]
pub struct FloatTable(pub Option<GoMap<f64, String>>);

/// `type AnyTable map[any]int`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(package = PKG)]
pub struct AnyTable(pub Option<HashMap<Value, isize>>);

/// `type Label string` (its values may be any bytes).
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(package = PKG)]
pub struct Label(pub GoString);

/// `struct{ID uint32; Data Blob; Text string; When time.Time}`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(package = PKG)]
pub struct Note {
    pub id: u32,
    pub data: Blob,
    pub text: GoString,
    pub when: Time,
}

/// `struct{Sensor gen.Atom; Values map[float64]int; Tags map[any]string; Extra any}`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(package = PKG)]
pub struct Reading {
    pub sensor: Atom,
    pub values: Option<GoMap<f64, isize>>,
    pub tags: Option<HashMap<Value, String>>,
    pub extra: Value,
}

/// `struct{From gen.PID; Notes []Note; Blobs Blobs; Score Score; Err error}`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(package = PKG)]
pub struct Envelope {
    pub from: Pid,
    pub notes: Option<Vec<Note>>,
    pub blobs: Blobs,
    pub score: Score,
    pub err: Option<GoError>,
}

/// `struct{Units int64; Nanos int32}` with a `MarshalEDF` of 12 bytes.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(package = PKG, custom)]
pub struct Money {
    pub units: i64,
    pub nanos: i32,
}

impl EdfCustom for Money {
    fn marshal(&self, out: &mut Vec<u8>) -> Result<(), String> {
        out.extend_from_slice(&self.units.to_be_bytes());
        out.extend_from_slice(&self.nanos.to_be_bytes());
        Ok(())
    }
    fn unmarshal(b: &[u8]) -> Result<Self, String> {
        let b: &[u8; 12] = b
            .try_into()
            .map_err(|_| "money needs 12 bytes".to_string())?;
        let (u, n) = b.split_at(8);
        Ok(Money {
            units: i64::from_be_bytes(u.try_into().map_err(|_| "units")?),
            nanos: i32::from_be_bytes(n.try_into().map_err(|_| "nanos")?),
        })
    }
}

/// `struct{Text string}` with a `MarshalBinary` of its text.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(package = PKG, custom)]
pub struct Tag {
    pub text: GoString,
}

impl EdfCustom for Tag {
    fn marshal(&self, out: &mut Vec<u8>) -> Result<(), String> {
        out.extend_from_slice(self.text.as_bytes());
        Ok(())
    }
    fn unmarshal(b: &[u8]) -> Result<Self, String> {
        Ok(Tag {
            text: GoString::new(b),
        })
    }
}

/// `struct{A int}`: never registered, in Go or here (Go refuses to encode it).
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(package = PKG)]
pub struct Unshared {
    pub a: isize,
}

/// Registers every twin but `Secret` (left out on purpose: its vectors are skipped) and
/// `Unshared`, nested types first (idempotent).
pub fn register_all() -> Result<(), RegisterError> {
    ensure_registered::<Blob>()?;
    ensure_registered::<Blobs>()?;
    ensure_registered::<Score>()?;
    ensure_registered::<FloatTable>()?;
    ensure_registered::<AnyTable>()?;
    ensure_registered::<Label>()?;
    ensure_registered::<Note>()?;
    ensure_registered::<Reading>()?;
    ensure_registered::<Envelope>()?;
    ensure_registered::<Money>()?;
    ensure_registered::<Tag>()?;
    Ok(())
}
