//! `Value`: any EDF value, for `any` positions and for tools that handle values of types they
//! were not compiled with (decoding registered types through their registered layout).

use std::sync::Arc;

use crate::decode::Decoder;
use crate::desc::{is_basic_tag, TypeDesc};
use crate::encode::Encoder;
use crate::error::{DecodeError, EncodeError};
use crate::registry::{RegKind, TypeInfo};
use crate::tags::*;
use crate::{Alias, Atom, Edf, Event, GoError, GoString, Pid, ProcessId, Ref, Time};

/// Any EDF value.
///
/// Equality, order and hashing are total (see `ordering.rs`): floats compare by their bits, so a
/// `Value` can key a `HashMap` or `BTreeMap` (Go's `map[any]V`); [`GoMap`](crate::GoMap) adds
/// Go's rules for keys that are NaN.
#[derive(Clone, Debug)]
pub enum Value {
    /// nil (`ff`): a nil `any`.
    Nil,
    /// `bool`.
    Bool(bool),
    /// `int8`.
    Int8(i8),
    /// `int16`.
    Int16(i16),
    /// `int32`.
    Int32(i32),
    /// `int64`.
    Int64(i64),
    /// Go `int`.
    Int(i64),
    /// `uint8`.
    Uint8(u8),
    /// `uint16`.
    Uint16(u16),
    /// `uint32`.
    Uint32(u32),
    /// `uint64`.
    Uint64(u64),
    /// Go `uint`.
    Uint(u64),
    /// `float32`.
    Float32(f32),
    /// `float64`.
    Float64(f64),
    /// `string` (UTF-8).
    String(String),
    /// `string` whose bytes are not UTF-8 (Go strings are bytes). Decoding gives this variant
    /// only for such strings, so every string a Go node sends is carried and re-encoded exactly.
    GoString(GoString),
    /// `[]byte`.
    Binary(Vec<u8>),
    /// `gen.Atom`.
    Atom(Atom),
    /// `error` (`None`: a nil error).
    Error(Option<GoError>),
    /// `gen.PID`.
    Pid(Pid),
    /// `gen.ProcessID`.
    ProcessId(ProcessId),
    /// `gen.Ref`.
    Ref(Ref),
    /// `gen.Alias`.
    Alias(Alias),
    /// `gen.Event`.
    Event(Event),
    /// `time.Time`.
    Time(Time),
    /// An unregistered slice `[]elem`; `None` is a nil slice.
    Slice {
        /// Element type.
        elem: TypeDesc,
        /// Elements (bodies of `elem`).
        items: Option<Vec<Value>>,
    },
    /// An unregistered array `[N]elem`.
    Array {
        /// Element type.
        elem: TypeDesc,
        /// Exactly N elements.
        items: Vec<Value>,
    },
    /// An unregistered map; `None` is a nil map. Entry order is kept as read.
    Map {
        /// Key type.
        key: TypeDesc,
        /// Value type.
        value: TypeDesc,
        /// Entries.
        entries: Option<Vec<(Value, Value)>>,
    },
    /// A value of a registered type with its body: [`Value::Struct`] for structs,
    /// [`Value::Custom`] for custom marshalers, or the underlying value of a named type.
    Registered(Arc<TypeInfo>, Box<Value>),
    /// The fields of a registered struct, in order.
    Struct(Vec<Value>),
    /// The bytes of a custom-marshaled registered type.
    Custom(Vec<u8>),
}

impl Value {
    /// Encodes the value with its tag (top of a payload, or an `any` slot).
    pub fn encode_tagged(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        match self {
            Value::Nil => {
                enc.put_u8(NIL);
                Ok(())
            }
            Value::Slice { .. } | Value::Array { .. } | Value::Map { .. } => {
                let desc = self.composite_desc();
                enc.put_u8(TYPE_HEADER);
                let at = enc.reserve_u16();
                desc.write(enc)?;
                enc.patch_u16_len(at)?;
                self.encode_body_as(&desc, enc)
            }
            Value::Registered(info, body) => {
                enc.put_registered(info.name(), Some(info.index()))?;
                encode_named_body(info, body, enc)
            }
            Value::Struct(_) | Value::Custom(_) => Err(mismatch("a tagged value", self)),
            basic => {
                let tag = basic
                    .basic_tag()
                    .ok_or_else(|| mismatch("a tagged value", basic))?;
                enc.put_u8(tag);
                basic.encode_basic_body(enc)
            }
        }
    }

    /// Decodes one tagged value.
    pub fn decode_tagged(dec: &mut Decoder<'_>) -> Result<Value, DecodeError> {
        dec.enter()?;
        let offset = dec.position();
        let tag = dec.u8()?;
        let v = match tag {
            NIL => Value::Nil,
            TYPE_HEADER => {
                let len = usize::from(dec.u16()?);
                if len > dec.remaining() {
                    return Err(DecodeError::DescriptorLength);
                }
                let end = dec.position() + len;
                let desc = TypeDesc::read(dec)?;
                if dec.position() != end || !desc.is_composite() {
                    return Err(DecodeError::DescriptorLength);
                }
                Value::decode_body_as(&desc, dec)?
            }
            REGISTERED => {
                let info = dec.registered_type()?;
                let body = decode_named_body(&info, dec)?;
                Value::Registered(info, Box::new(body))
            }
            // Go accepts `84` at the top and reads a tag again; so do we.
            ANY => Value::decode_tagged(dec)?,
            t if is_basic_tag(t) => Value::decode_basic_body(t, dec)?,
            t => return Err(DecodeError::UnknownType { tag: t, offset }),
        };
        dec.leave();
        Ok(v)
    }

    /// Encodes the body of this value as the type `desc` declares (no tag unless `desc` is `any`).
    pub fn encode_body_as(
        &self,
        desc: &TypeDesc,
        enc: &mut Encoder<'_>,
    ) -> Result<(), EncodeError> {
        enc.enter()?;
        let r = self.encode_body_as_inner(desc, enc, false);
        enc.leave();
        r
    }

    fn encode_body_as_inner(
        &self,
        desc: &TypeDesc,
        enc: &mut Encoder<'_>,
        named: bool,
    ) -> Result<(), EncodeError> {
        match (desc, self) {
            (TypeDesc::Any, v) => v.encode_tagged(enc),
            (TypeDesc::Basic(BINARY), Value::Binary(b)) => enc.put_binary(b),
            (TypeDesc::Basic(t), v) if v.basic_tag() == Some(*t) => v.encode_basic_body(enc),
            // A registered `type Blob []byte` given as bytes: Go's registered slice of uint8.
            (TypeDesc::Slice(elem), Value::Binary(b))
                if named && **elem == TypeDesc::Basic(UINT8) =>
            {
                enc.put_u8(REGISTERED);
                enc.put_count("slice", b.len())?;
                enc.put_bytes(b);
                Ok(())
            }
            (TypeDesc::Slice(elem), Value::Slice { elem: e2, items }) if **elem == *e2 => {
                match items {
                    None => {
                        enc.put_u8(NIL);
                        Ok(())
                    }
                    Some(items) => {
                        enc.put_u8(if named { REGISTERED } else { SLICE });
                        enc.put_count("slice", items.len())?;
                        items.iter().try_for_each(|it| it.encode_body_as(elem, enc))
                    }
                }
            }
            (TypeDesc::Array(n, elem), Value::Array { elem: e2, items })
                if **elem == *e2 && items.len() == *n as usize =>
            {
                items.iter().try_for_each(|it| it.encode_body_as(elem, enc))
            }
            (
                TypeDesc::Map(k, v),
                Value::Map {
                    key,
                    value,
                    entries,
                },
            ) if **k == *key && **v == *value => match entries {
                None => {
                    enc.put_u8(NIL);
                    Ok(())
                }
                Some(entries) => {
                    enc.put_u8(if named { REGISTERED } else { MAP });
                    enc.put_count("map", entries.len())?;
                    entries.iter().try_for_each(|(kv, vv)| {
                        kv.encode_body_as(k, enc)?;
                        vv.encode_body_as(v, enc)
                    })
                }
            },
            (TypeDesc::Registered(info), Value::Registered(i2, body))
                if info.name() == i2.name() =>
            {
                encode_named_body(info, body, enc)
            }
            (d, v) => Err(mismatch(&d.to_string(), v)),
        }
    }

    /// Decodes a body of type `desc`.
    pub fn decode_body_as(desc: &TypeDesc, dec: &mut Decoder<'_>) -> Result<Value, DecodeError> {
        dec.enter()?;
        let r = Value::decode_body_inner(desc, dec, false);
        dec.leave();
        r
    }

    fn decode_body_inner(
        desc: &TypeDesc,
        dec: &mut Decoder<'_>,
        named: bool,
    ) -> Result<Value, DecodeError> {
        Ok(match desc {
            TypeDesc::Any => Value::decode_tagged(dec)?,
            TypeDesc::Basic(t) => Value::decode_basic_body(*t, dec)?,
            TypeDesc::Slice(elem) => {
                let offset = dec.position();
                let items = match dec.u8()? {
                    NIL => None,
                    m if m == (if named { REGISTERED } else { SLICE }) => {
                        let n = dec.count("slice")?;
                        let mut v = Vec::with_capacity(dec.capacity_for(n, elem.min_body()));
                        for _ in 0..n {
                            v.push(Value::decode_body_as(elem, dec)?);
                        }
                        Some(v)
                    }
                    byte => {
                        return Err(DecodeError::BadMarker {
                            what: "slice",
                            byte,
                            offset,
                        })
                    }
                };
                Value::Slice {
                    elem: (**elem).clone(),
                    items,
                }
            }
            TypeDesc::Array(n, elem) => {
                let n = *n as usize;
                let min = elem.min_body();
                if min > 0 && n > dec.remaining() / min {
                    return Err(DecodeError::CountTooLarge {
                        what: "array",
                        count: n as u64,
                        remaining: dec.remaining(),
                    });
                }
                if min == 0 {
                    // Elements with no bytes (e.g. [N][0]int) are bounded by a decode-wide budget.
                    dec.spend_empty(n)?;
                }
                let mut items = Vec::with_capacity(dec.capacity_for(n, min));
                for _ in 0..n {
                    items.push(Value::decode_body_as(elem, dec)?);
                }
                Value::Array {
                    elem: (**elem).clone(),
                    items,
                }
            }
            TypeDesc::Map(k, v) => {
                let offset = dec.position();
                let entries = match dec.u8()? {
                    NIL => None,
                    m if m == (if named { REGISTERED } else { MAP }) => {
                        let n = dec.count("map")?;
                        let mut e =
                            Vec::with_capacity(dec.capacity_for(n, k.min_body() + v.min_body()));
                        for _ in 0..n {
                            let kv = Value::decode_body_as(k, dec)?;
                            let vv = Value::decode_body_as(v, dec)?;
                            e.push((kv, vv));
                        }
                        Some(e)
                    }
                    byte => {
                        return Err(DecodeError::BadMarker {
                            what: "map",
                            byte,
                            offset,
                        })
                    }
                };
                Value::Map {
                    key: (**k).clone(),
                    value: (**v).clone(),
                    entries,
                }
            }
            TypeDesc::Registered(info) => {
                Value::Registered(info.clone(), Box::new(decode_named_body(info, dec)?))
            }
        })
    }

    /// The one-byte tag of a basic value.
    pub fn basic_tag(&self) -> Option<u8> {
        Some(match self {
            Value::Bool(_) => BOOL,
            Value::Int8(_) => INT8,
            Value::Int16(_) => INT16,
            Value::Int32(_) => INT32,
            Value::Int64(_) => INT64,
            Value::Int(_) => INT,
            Value::Uint8(_) => UINT8,
            Value::Uint16(_) => UINT16,
            Value::Uint32(_) => UINT32,
            Value::Uint64(_) => UINT64,
            Value::Uint(_) => UINT,
            Value::Float32(_) => FLOAT32,
            Value::Float64(_) => FLOAT64,
            Value::String(_) | Value::GoString(_) => STRING,
            Value::Binary(_) => BINARY,
            Value::Atom(_) => ATOM,
            Value::Error(_) => ERROR,
            Value::Pid(_) => PID,
            Value::ProcessId(_) => PROCESS_ID,
            Value::Ref(_) => REF,
            Value::Alias(_) => ALIAS,
            Value::Event(_) => EVENT,
            Value::Time(_) => TIME,
            _ => return None,
        })
    }

    /// The descriptor of an unregistered composite value.
    fn composite_desc(&self) -> TypeDesc {
        match self {
            Value::Slice { elem, .. } => TypeDesc::Slice(Arc::new(elem.clone())),
            Value::Array { elem, items } => {
                TypeDesc::Array(items.len() as u32, Arc::new(elem.clone()))
            }
            Value::Map { key, value, .. } => {
                TypeDesc::Map(Arc::new(key.clone()), Arc::new(value.clone()))
            }
            _ => TypeDesc::Any,
        }
    }

    fn encode_basic_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        match self {
            Value::Bool(v) => v.encode_body(enc),
            Value::Int8(v) => v.encode_body(enc),
            Value::Int16(v) => v.encode_body(enc),
            Value::Int32(v) => v.encode_body(enc),
            Value::Int64(v) | Value::Int(v) => v.encode_body(enc),
            Value::Uint8(v) => v.encode_body(enc),
            Value::Uint16(v) => v.encode_body(enc),
            Value::Uint32(v) => v.encode_body(enc),
            Value::Uint64(v) | Value::Uint(v) => v.encode_body(enc),
            Value::Float32(v) => v.encode_body(enc),
            Value::Float64(v) => v.encode_body(enc),
            Value::String(v) => enc.put_str(v),
            Value::GoString(v) => enc.put_str_bytes(v.as_bytes()),
            Value::Binary(v) => enc.put_binary(v),
            Value::Atom(v) => enc.put_atom(*v),
            Value::Error(v) => enc.put_error(v.as_ref()),
            Value::Pid(v) => v.encode_body(enc),
            Value::ProcessId(v) => v.encode_body(enc),
            Value::Ref(v) => v.encode_body(enc),
            Value::Alias(v) => v.encode_body(enc),
            Value::Event(v) => v.encode_body(enc),
            Value::Time(v) => v.encode_body(enc),
            other => Err(mismatch("a basic value", other)),
        }
    }

    fn decode_basic_body(tag: u8, dec: &mut Decoder<'_>) -> Result<Value, DecodeError> {
        Ok(match tag {
            BOOL => Value::Bool(bool::decode_body(dec)?),
            INT8 => Value::Int8(i8::decode_body(dec)?),
            INT16 => Value::Int16(i16::decode_body(dec)?),
            INT32 => Value::Int32(i32::decode_body(dec)?),
            INT64 => Value::Int64(i64::decode_body(dec)?),
            INT => Value::Int(i64::decode_body(dec)?),
            UINT8 => Value::Uint8(dec.u8()?),
            UINT16 => Value::Uint16(u16::decode_body(dec)?),
            UINT32 => Value::Uint32(u32::decode_body(dec)?),
            UINT64 => Value::Uint64(u64::decode_body(dec)?),
            UINT => Value::Uint(u64::decode_body(dec)?),
            FLOAT32 => Value::Float32(f32::decode_body(dec)?),
            FLOAT64 => Value::Float64(f64::decode_body(dec)?),
            STRING => {
                let b = dec.str_bytes()?;
                match std::str::from_utf8(b) {
                    Ok(s) => Value::String(s.to_owned()),
                    Err(_) => Value::GoString(GoString::new(b)),
                }
            }
            BINARY => Value::Binary(dec.binary()?.to_vec()),
            ATOM => Value::Atom(dec.atom()?),
            ERROR => Value::Error(dec.error()?),
            PID => Value::Pid(Pid::decode_body(dec)?),
            PROCESS_ID => Value::ProcessId(ProcessId::decode_body(dec)?),
            REF => Value::Ref(Ref::decode_body(dec)?),
            ALIAS => Value::Alias(Alias::decode_body(dec)?),
            EVENT => Value::Event(Event::decode_body(dec)?),
            TIME => Value::Time(Time::decode_body(dec)?),
            t => {
                return Err(DecodeError::UnknownType {
                    tag: t,
                    offset: dec.position(),
                })
            }
        })
    }

    /// The same value with every map's entries sorted (by their debug form), so that values
    /// decoded from different map orders compare equal (Go's map order is random).
    pub fn canonical(&self) -> Value {
        match self {
            Value::Map {
                key,
                value,
                entries,
            } => {
                let entries = entries.as_ref().map(|es| {
                    let mut es: Vec<(Value, Value)> = es
                        .iter()
                        .map(|(k, v)| (k.canonical(), v.canonical()))
                        .collect();
                    es.sort_by_cached_key(|(k, _)| format!("{k:?}"));
                    es
                });
                Value::Map {
                    key: key.clone(),
                    value: value.clone(),
                    entries,
                }
            }
            Value::Slice { elem, items } => Value::Slice {
                elem: elem.clone(),
                items: items
                    .as_ref()
                    .map(|i| i.iter().map(Value::canonical).collect()),
            },
            Value::Array { elem, items } => Value::Array {
                elem: elem.clone(),
                items: items.iter().map(Value::canonical).collect(),
            },
            Value::Registered(t, body) => Value::Registered(t.clone(), Box::new(body.canonical())),
            Value::Struct(f) => Value::Struct(f.iter().map(Value::canonical).collect()),
            other => other.clone(),
        }
    }

    /// A value of the registered type `info` with this body, checked as it is built: the body
    /// must fit the registered layout, and the bytes of a custom type (Go's `MarshalEDF` /
    /// `MarshalBinary`) whose Rust type is registered must be accepted by its unmarshaler, so
    /// a value that a peer could not decode is never sent.
    ///
    /// ```
    /// use ergo_edf::{registry, EdfCustom, Edf, Value};
    /// #[derive(Edf, Debug, PartialEq)]
    /// #[edf(custom, name = "#example/Two")]
    /// struct Two(u16);
    /// impl EdfCustom for Two {
    ///     fn marshal(&self, out: &mut Vec<u8>) -> Result<(), String> {
    ///         out.extend_from_slice(&self.0.to_be_bytes());
    ///         Ok(())
    ///     }
    ///     fn unmarshal(b: &[u8]) -> Result<Self, String> {
    ///         let b: [u8; 2] = b.try_into().map_err(|_| "Two takes 2 bytes".to_string())?;
    ///         Ok(Two(u16::from_be_bytes(b)))
    ///     }
    /// }
    /// let info = ergo_edf::ensure_registered::<Two>().unwrap();
    /// assert!(Value::custom(info.clone(), vec![0, 7]).is_ok());
    /// assert!(Value::custom(info, vec![1, 2, 3]).is_err());
    /// ```
    pub fn registered(info: Arc<TypeInfo>, body: Value) -> Result<Value, EncodeError> {
        let mut scratch = Vec::new();
        let caches = crate::EncodeCaches::none();
        encode_named_body(&info, &body, &mut Encoder::new(&mut scratch, caches))?;
        if matches!(info.kind(), RegKind::Custom) {
            let empty = crate::DecodeCaches::none();
            let mut dec = Decoder::new(&scratch, empty);
            if let Some(Err(e)) = info.decode_native(&mut dec) {
                return Err(EncodeError::CustomPayload {
                    type_name: info.name().to_string(),
                    reason: e.to_string(),
                });
            }
        }
        Ok(Value::Registered(info, Box::new(body)))
    }

    /// A value of the custom-marshaled registered type `info` from its bytes, checked by the
    /// type's unmarshaler when its Rust type is registered (see [`Value::registered`]).
    pub fn custom(info: Arc<TypeInfo>, bytes: Vec<u8>) -> Result<Value, EncodeError> {
        if !matches!(info.kind(), RegKind::Custom) {
            return Err(mismatch(info.name(), &Value::Custom(bytes)));
        }
        Value::registered(info, Value::Custom(bytes))
    }

    /// A short name of what the value holds, for error messages.
    pub fn kind_name(&self) -> String {
        match self {
            Value::Nil => "nil".into(),
            Value::Slice { elem, .. } => format!("[]{elem}"),
            Value::Array { elem, items } => format!("[{}]{elem}", items.len()),
            Value::Map { key, value, .. } => format!("map[{key}]{value}"),
            Value::Registered(info, _) => info.name().to_string(),
            Value::Struct(f) => format!("struct of {} fields", f.len()),
            Value::Custom(_) => "custom bytes".into(),
            v => tag_name(v.basic_tag().unwrap_or(0)).into(),
        }
    }
}

fn mismatch(expected: &str, got: &Value) -> EncodeError {
    EncodeError::Mismatch {
        expected: expected.to_string(),
        got: got.kind_name(),
    }
}

fn encode_named_body(
    info: &TypeInfo,
    body: &Value,
    enc: &mut Encoder<'_>,
) -> Result<(), EncodeError> {
    match (info.kind(), body) {
        (RegKind::Struct(fields), Value::Struct(values)) if fields.len() == values.len() => fields
            .iter()
            .zip(values)
            .try_for_each(|(f, v)| v.encode_body_as(&f.desc, enc)),
        (RegKind::Named(desc), v) => {
            enc.enter()?;
            let r = v.encode_body_as_inner(desc, enc, true);
            enc.leave();
            r
        }
        (RegKind::Custom, Value::Custom(bytes)) => enc.put_binary(bytes),
        (_, v) => Err(mismatch(info.name(), v)),
    }
}

fn decode_named_body(info: &TypeInfo, dec: &mut Decoder<'_>) -> Result<Value, DecodeError> {
    dec.enter()?;
    let v = match info.kind() {
        RegKind::Struct(fields) => {
            let mut values = Vec::with_capacity(fields.len());
            for f in fields {
                values.push(Value::decode_body_as(&f.desc, dec)?);
            }
            Value::Struct(values)
        }
        RegKind::Named(desc) => Value::decode_body_inner(desc, dec, true)?,
        RegKind::Custom => {
            let n = dec.u32()? as usize;
            if n > dec.remaining() {
                return Err(DecodeError::CountTooLarge {
                    what: "custom body",
                    count: n as u64,
                    remaining: dec.remaining(),
                });
            }
            Value::Custom(dec.take(n)?.to_vec())
        }
    };
    dec.leave();
    Ok(v)
}

macro_rules! from_impl {
    ($($t:ty => $v:ident),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(x: $t) -> Value { Value::$v(x.into()) }
        }
    )*};
}

from_impl! {
    bool => Bool, i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64,
    u8 => Uint8, u16 => Uint16, u32 => Uint32, u64 => Uint64, f32 => Float32, f64 => Float64,
    String => String, &str => String, Vec<u8> => Binary, Atom => Atom, Pid => Pid,
    ProcessId => ProcessId, Ref => Ref, Alias => Alias, Event => Event, Time => Time,
}

impl From<GoString> for Value {
    /// UTF-8 bytes become [`Value::String`], others [`Value::GoString`] (as decoding does).
    fn from(s: GoString) -> Value {
        match String::try_from(s) {
            Ok(s) => Value::String(s),
            Err(e) => Value::GoString(GoString::new(e.into_bytes())),
        }
    }
}

impl From<isize> for Value {
    fn from(x: isize) -> Value {
        Value::Int(x as i64)
    }
}

impl From<usize> for Value {
    fn from(x: usize) -> Value {
        Value::Uint(x as u64)
    }
}

impl From<GoError> for Value {
    fn from(e: GoError) -> Value {
        Value::Error(Some(e))
    }
}
