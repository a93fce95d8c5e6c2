//! Encoding values known only as `dyn Any` (a local message on its way to another node) and
//! decoding tagged values into the Rust types a local process would have sent.
//!
//! | wire | Rust (decode) |
//! |---|---|
//! | bool, intN, uintN, floatN | `bool`, `iN`, `uN`, `fN`; Go `int`/`uint` are `isize`/`usize` |
//! | string, binary, atom | `String` ([`GoString`](crate::GoString) if not UTF-8), `Vec<u8>`, [`Atom`] |
//! | PID, ProcessID, Ref, Alias, Event, time | [`Pid`], [`ProcessId`], [`Ref`], [`Alias`], [`Event`], [`Time`] |
//! | error | [`GoError`] (a nil error: `Value::Error(None)`) |
//! | a registered type registered with [`register`](crate::register) | that Rust type |
//! | anything else (nil, slices, maps, arrays, schema-only types) | [`Value`] |
//!
//! Encoding accepts every type of that table's right column, plus `CompactString`, `Option<GoError>`
//! and common containers (`Vec<String>`, `Vec<isize>`, `Vec<Value>`, `HashMap<String, Value>`).

use std::any::Any;
use std::collections::HashMap;

use crate::decode::Decoder;
use crate::encode::Encoder;
use crate::error::{DecodeError, EncodeError};
use crate::registry;
use crate::tags::*;
use crate::typed::encode_tagged;
use crate::{Alias, Atom, Edf, Event, GoError, Pid, ProcessId, Ref, Time, Value};

macro_rules! try_types {
    ($v:expr, $enc:expr, $($t:ty),* $(,)?) => {
        $(if let Some(x) = $v.downcast_ref::<$t>() {
            return encode_tagged(x, $enc);
        })*
    };
}

/// Encodes `v` as one tagged value, if its Rust type has an EDF mapping (see the module docs).
pub fn encode_any(v: &(dyn Any + Send), enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
    let any: &dyn Any = v;
    if let Some(x) = any.downcast_ref::<Value>() {
        if x.is_nil() {
            return Err(EncodeError::NothingToEncode);
        }
        return x.encode_tagged(enc);
    }
    try_types!(
        any, enc, String, isize, i64, i32, u64, usize, u32, bool, f64, Atom, Pid, ProcessId, Ref, Alias, Event,
        Vec<u8>, GoError, i8, i16, u8, u16, f32, Time, compact_str::CompactString, Option<GoError>, crate::GoString,
        Vec<String>, Vec<isize>, Vec<Value>, HashMap<String, Value>, Vec<Pid>,
    );
    if let Some(info) = registry::lookup_type_id(any.type_id()) {
        enc.put_registered(info.name(), Some(info.index()))?;
        return info.encode_native(v, enc).unwrap_or_else(|| {
            Err(EncodeError::Mismatch {
                expected: info.name().to_string(),
                got: "a schema".into(),
            })
        });
    }
    Err(EncodeError::NoEncoder)
}

/// Decodes one tagged value into the Rust type a local sender would use (see the module docs).
pub fn decode_any(dec: &mut Decoder<'_>) -> Result<Box<dyn Any + Send + Sync>, DecodeError> {
    let tag = dec.peek_u8()?;
    Ok(match tag {
        BOOL => Box::new(crate::decode_tagged::<bool>(dec)?),
        INT8 => Box::new(crate::decode_tagged::<i8>(dec)?),
        INT16 => Box::new(crate::decode_tagged::<i16>(dec)?),
        INT32 => Box::new(crate::decode_tagged::<i32>(dec)?),
        INT64 => Box::new(crate::decode_tagged::<i64>(dec)?),
        INT => Box::new(crate::decode_tagged::<isize>(dec)?),
        UINT8 => Box::new(crate::decode_tagged::<u8>(dec)?),
        UINT16 => Box::new(crate::decode_tagged::<u16>(dec)?),
        UINT32 => Box::new(crate::decode_tagged::<u32>(dec)?),
        UINT64 => Box::new(crate::decode_tagged::<u64>(dec)?),
        UINT => Box::new(crate::decode_tagged::<usize>(dec)?),
        FLOAT32 => Box::new(crate::decode_tagged::<f32>(dec)?),
        FLOAT64 => Box::new(crate::decode_tagged::<f64>(dec)?),
        // Go strings are bytes: UTF-8 ones come back as String, others as GoString.
        STRING => {
            let g = crate::decode_tagged::<crate::GoString>(dec)?;
            match String::try_from(g) {
                Ok(s) => Box::new(s),
                Err(e) => Box::new(crate::GoString::new(e.into_bytes())),
            }
        }
        BINARY => Box::new(crate::decode_tagged::<Vec<u8>>(dec)?),
        ATOM => Box::new(crate::decode_tagged::<Atom>(dec)?),
        PID => Box::new(crate::decode_tagged::<Pid>(dec)?),
        PROCESS_ID => Box::new(crate::decode_tagged::<ProcessId>(dec)?),
        REF => Box::new(crate::decode_tagged::<Ref>(dec)?),
        ALIAS => Box::new(crate::decode_tagged::<Alias>(dec)?),
        EVENT => Box::new(crate::decode_tagged::<Event>(dec)?),
        TIME => Box::new(crate::decode_tagged::<Time>(dec)?),
        ERROR => match crate::decode_tagged::<Option<GoError>>(dec)? {
            Some(e) => Box::new(e),
            None => Box::new(Value::Error(None)),
        },
        REGISTERED => {
            dec.u8()?;
            let info = dec.registered_type()?;
            if info.rust_type().is_some() {
                match info.decode_native(dec) {
                    Some(r) => r?,
                    None => unreachable!("rust_type implies native hooks"),
                }
            } else {
                let body = Value::decode_body_as(&crate::TypeDesc::Registered(info.clone()), dec)?;
                match body {
                    Value::Registered(..) => Box::new(body),
                    other => Box::new(Value::Registered(info, Box::new(other))),
                }
            }
        }
        _ => Box::new(Value::decode_tagged(dec)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DecodeCaches, EncodeCaches};

    #[derive(crate::Edf, Debug, PartialEq)]
    #[edf(name = "#any_test/Order")]
    struct Order {
        id: i64,
        item: String,
    }

    fn round(v: Box<dyn Any + Send>) -> Box<dyn Any + Send> {
        let mut buf = Vec::new();
        encode_any(&*v, &mut Encoder::new(&mut buf, EncodeCaches::none())).unwrap();
        let mut d = Decoder::new(&buf, DecodeCaches::none());
        let r = decode_any(&mut d).unwrap();
        assert_eq!(d.position(), buf.len());
        r
    }

    #[test]
    fn rust_values_come_back_as_the_same_rust_types() {
        crate::ensure_registered::<Order>().unwrap();
        assert_eq!(round(Box::new(42isize)).downcast_ref::<isize>(), Some(&42));
        assert_eq!(round(Box::new(42i64)).downcast_ref::<i64>(), Some(&42));
        assert_eq!(
            round(Box::new("hi".to_string()))
                .downcast_ref::<String>()
                .map(String::as_str),
            Some("hi")
        );
        assert_eq!(
            round(Box::new(vec![1u8, 2])).downcast_ref::<Vec<u8>>(),
            Some(&vec![1, 2])
        );
        let p = Pid::new(Atom::new("n@h"), 5, 1);
        assert_eq!(round(Box::new(p)).downcast_ref::<Pid>(), Some(&p));
        let o = Order {
            id: 7,
            item: "apple".into(),
        };
        assert_eq!(
            round(Box::new(Order {
                id: 7,
                item: "apple".into()
            }))
            .downcast_ref::<Order>(),
            Some(&o)
        );
        let e = GoError::new("boom");
        assert_eq!(
            round(Box::new(e.clone())).downcast_ref::<GoError>(),
            Some(&e)
        );
        // Composites come back as Value.
        let v = round(Box::new(vec!["a".to_string()]));
        assert!(matches!(
            v.downcast_ref::<Value>(),
            Some(Value::Slice { .. })
        ));
    }

    #[test]
    fn strings_that_are_not_utf8_come_back_as_go_strings() {
        let g = crate::GoString::new(vec![b'a', 0xff]);
        let r = round(Box::new(g.clone()));
        assert_eq!(r.downcast_ref::<crate::GoString>(), Some(&g));
        let ok = round(Box::new(crate::GoString::from("fine")));
        assert_eq!(
            ok.downcast_ref::<String>().map(String::as_str),
            Some("fine")
        );
    }

    #[test]
    fn types_without_a_mapping_are_refused() {
        struct Private;
        let mut buf = Vec::new();
        let r = encode_any(&Private, &mut Encoder::new(&mut buf, EncodeCaches::none()));
        assert_eq!(r, Err(EncodeError::NoEncoder));
    }
}
