//! Rust twins of the Go types that the golden vectors register (package `vectorsgen/msgs` of the
//! generator, plus the framework types that appear in them). Field order and widths follow the
//! byte-level walks in the vectors.

use std::collections::HashMap;

use ergo_edf::{
    ensure_registered, Atom, Edf, EdfCustom, Event, GoError, Pid, RegisterError, Time, Value,
};

/// `msgs.Child{A int; B string}`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/Child")]
pub struct Child {
    pub a: isize,
    pub b: String,
}

/// `msgs.Parent{Name string; Kid Child; Kids []Child; Blob []byte; Any any; Err error; Owner gen.PID}`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/Parent")]
pub struct Parent {
    pub name: String,
    pub kid: Child,
    pub kids: Option<Vec<Child>>,
    pub blob: Vec<u8>,
    pub any: Value,
    pub err: Option<GoError>,
    pub owner: Pid,
}

/// `msgs.WithBytes{ID uint16; Data []byte}`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/WithBytes")]
pub struct WithBytes {
    pub id: u16,
    pub data: Vec<u8>,
}

/// `msgs.AllBasic`: one field of every basic kind.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/AllBasic")]
pub struct AllBasic {
    pub b: bool,
    pub i: isize,
    pub i8: i8,
    pub i16: i16,
    pub i32: i32,
    pub i64: i64,
    pub u: usize,
    pub u8: u8,
    pub u16: u16,
    pub u32: u32,
    pub u64: u64,
    pub f32: f32,
    pub f64: f64,
    pub s: String,
    pub a: Atom,
    pub bin: Vec<u8>,
    pub t: Time,
}

/// `msgs.AnyHolder{V any}`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/AnyHolder")]
pub struct AnyHolder {
    pub v: Value,
}

/// `msgs.Point{X, Y int32}` with a `MarshalEDF` of 8 bytes.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/Point", custom)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

impl EdfCustom for Point {
    fn marshal(&self, out: &mut Vec<u8>) -> Result<(), String> {
        out.extend_from_slice(&self.x.to_be_bytes());
        out.extend_from_slice(&self.y.to_be_bytes());
        Ok(())
    }
    fn unmarshal(b: &[u8]) -> Result<Self, String> {
        if b.len() != 8 {
            return Err(format!("Point needs 8 bytes, got {}", b.len()));
        }
        let x = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let y = i32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        Ok(Point { x, y })
    }
}

/// `msgs.Semver{Major, Minor uint8; Label string}` with a `MarshalBinary`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/Semver", custom)]
pub struct Semver {
    pub major: u8,
    pub minor: u8,
    pub label: String,
}

impl EdfCustom for Semver {
    fn marshal(&self, out: &mut Vec<u8>) -> Result<(), String> {
        out.push(self.major);
        out.push(self.minor);
        out.extend_from_slice(self.label.as_bytes());
        Ok(())
    }
    fn unmarshal(b: &[u8]) -> Result<Self, String> {
        if b.len() < 2 {
            return Err("Semver needs at least 2 bytes".into());
        }
        let label = std::str::from_utf8(&b[2..]).map_err(|e| e.to_string())?;
        Ok(Semver {
            major: b[0],
            minor: b[1],
            label: label.into(),
        })
    }
}

/// `msgs.MyInt int`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/MyInt")]
pub struct MyInt(pub isize);

/// `msgs.MyString string`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/MyString")]
pub struct MyString(pub String);

/// `msgs.MyInts []int`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/MyInts")]
pub struct MyInts(pub Option<Vec<isize>>);

/// `msgs.MyMap map[string]int`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/MyMap")]
pub struct MyMap(pub Option<HashMap<String, isize>>);

/// `msgs.MyArr [3]uint8`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/MyArr")]
pub struct MyArr(pub [u8; 3]);

/// `msgs.Order{ID int64; Item string; Qty uint16; Price float64; Tags []string}`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/Order")]
pub struct Order {
    pub id: i64,
    pub item: String,
    pub qty: u16,
    pub price: f64,
    pub tags: Option<Vec<String>>,
}

/// `msgs.LateOrder{ID int64; Note string}` (registered after the handshake in the net vectors).
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/LateOrder")]
pub struct LateOrder {
    pub id: i64,
    pub note: String,
}

/// `gen.Version`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/gen/Version")]
pub struct Version {
    pub name: String,
    pub release: String,
    pub commit: String,
    pub license: String,
}

/// `gen.NetworkFlags`: a custom 8-byte bit set.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/gen/NetworkFlags", custom)]
pub struct NetworkFlags(pub u64);

impl EdfCustom for NetworkFlags {
    fn marshal(&self, out: &mut Vec<u8>) -> Result<(), String> {
        out.extend_from_slice(&self.0.to_be_bytes());
        Ok(())
    }
    fn unmarshal(b: &[u8]) -> Result<Self, String> {
        let a: [u8; 8] = b
            .get(..8)
            .and_then(|s| s.try_into().ok())
            .ok_or("NetworkFlags needs 8 bytes")?;
        Ok(NetworkFlags(u64::from_be_bytes(a)))
    }
}

/// `gen.MessageEvent{Event gen.Event; Timestamp int64; Message any}`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/gen/MessageEvent")]
pub struct MessageEvent {
    pub event: Event,
    pub timestamp: i64,
    pub message: Value,
}

/// `main.bigEDF{N int}`: its `MarshalEDF` writes N bytes of 0xab (the Go length-patch bug case).
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#main/bigEDF", custom)]
pub struct BigEdf {
    pub n: usize,
}

impl EdfCustom for BigEdf {
    fn marshal(&self, out: &mut Vec<u8>) -> Result<(), String> {
        out.resize(out.len() + self.n, 0xab);
        Ok(())
    }
    fn unmarshal(b: &[u8]) -> Result<Self, String> {
        if b.iter().any(|x| *x != 0xab) {
            return Err("bigEDF bytes must all be 0xab".into());
        }
        Ok(BigEdf { n: b.len() })
    }
}

/// A struct that is never registered (`msgs.Unregistered{A int}`).
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/Unregistered")]
pub struct Unregistered {
    pub a: isize,
}

/// `struct{U msgs.Unregistered}`: registering it must fail because its field type is not registered.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#main/ParentOfUnregistered")]
pub struct ParentOfUnregistered {
    pub u: Unregistered,
}

/// Registers every twin, nested types first (idempotent).
pub fn register_all() -> Result<(), RegisterError> {
    ensure_registered::<Version>()?;
    ensure_registered::<NetworkFlags>()?;
    ensure_registered::<MessageEvent>()?;
    ensure_registered::<Child>()?;
    ensure_registered::<Parent>()?;
    ensure_registered::<WithBytes>()?;
    ensure_registered::<AllBasic>()?;
    ensure_registered::<AnyHolder>()?;
    ensure_registered::<Point>()?;
    ensure_registered::<Semver>()?;
    ensure_registered::<MyInt>()?;
    ensure_registered::<MyString>()?;
    ensure_registered::<MyInts>()?;
    ensure_registered::<MyMap>()?;
    ensure_registered::<MyArr>()?;
    ensure_registered::<Order>()?;
    ensure_registered::<LateOrder>()?;
    ensure_registered::<BigEdf>()?;
    Ok(())
}
