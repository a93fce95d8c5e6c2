//! `TypeDesc`: the type descriptor ("fold") tree of wire-spec §3.9, used in `0x82` headers, in
//! the schemas of registered types, and to drive the dynamic [`Value`](crate::Value) codec.

use std::fmt;
use std::sync::Arc;

use crate::decode::Decoder;
use crate::encode::Encoder;
use crate::error::{DecodeError, EncodeError};
use crate::registry::TypeInfo;
use crate::tags::{self, *};

/// The most nested levels the decoder follows (descriptors and `any` values), so hostile input
/// cannot overflow the stack.
pub const MAX_DEPTH: usize = 128;

/// A type as EDF describes it.
#[derive(Clone)]
pub enum TypeDesc {
    /// `any` (`0x84`): each value carries its own tag.
    Any,
    /// A basic type, by its one-byte tag (`0x8c..=0x9c`, `0xaa..=0xaf`).
    Basic(u8),
    /// `[]T`.
    Slice(Arc<TypeDesc>),
    /// `[N]T`.
    Array(u32, Arc<TypeDesc>),
    /// `map[K]V`.
    Map(Arc<TypeDesc>, Arc<TypeDesc>),
    /// A registered (named) type.
    Registered(Arc<TypeInfo>),
}

/// Is `tag` one of the one-byte basic type tags?
pub fn is_basic_tag(tag: u8) -> bool {
    matches!(tag, ATOM..=ERROR | PID..=TIME)
}

impl TypeDesc {
    /// Is this written with an `0x82` header when it stands in a tagged position?
    pub fn is_composite(&self) -> bool {
        matches!(
            self,
            TypeDesc::Slice(_) | TypeDesc::Array(..) | TypeDesc::Map(..)
        )
    }

    /// Writes the descriptor bytes (registered names use the encoder's type cache).
    pub fn write(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        match self {
            TypeDesc::Any => enc.put_u8(ANY),
            TypeDesc::Basic(t) => enc.put_u8(*t),
            TypeDesc::Slice(e) => {
                enc.put_u8(SLICE);
                e.write(enc)?;
            }
            TypeDesc::Array(n, e) => {
                enc.put_u8(ARRAY);
                enc.put_u32(*n);
                e.write(enc)?;
            }
            TypeDesc::Map(k, v) => {
                enc.put_u8(MAP);
                k.write(enc)?;
                v.write(enc)?;
            }
            TypeDesc::Registered(info) => enc.put_registered(info.name(), Some(info.index()))?,
        }
        Ok(())
    }

    /// Reads a descriptor (registered names resolve through the decoder's caches and the
    /// process registry).
    pub fn read(dec: &mut Decoder<'_>) -> Result<TypeDesc, DecodeError> {
        dec.enter()?;
        let offset = dec.position();
        let tag = dec.u8()?;
        let d = match tag {
            ANY => TypeDesc::Any,
            SLICE => TypeDesc::Slice(Arc::new(TypeDesc::read(dec)?)),
            ARRAY => {
                let n = dec.u32()?;
                TypeDesc::Array(n, Arc::new(TypeDesc::read(dec)?))
            }
            MAP => {
                let k = TypeDesc::read(dec)?;
                let v = TypeDesc::read(dec)?;
                TypeDesc::Map(Arc::new(k), Arc::new(v))
            }
            REGISTERED => TypeDesc::Registered(dec.registered_type()?),
            t if is_basic_tag(t) => TypeDesc::Basic(t),
            t => return Err(DecodeError::UnknownType { tag: t, offset }),
        };
        dec.leave();
        Ok(d)
    }

    /// The smallest number of bytes a body of this type takes (bounds pre-allocation).
    pub fn min_body(&self) -> usize {
        match self {
            TypeDesc::Any => 1,
            TypeDesc::Basic(t) => basic_min_body(*t),
            TypeDesc::Slice(_) | TypeDesc::Map(..) => 1,
            TypeDesc::Array(n, e) => (*n as usize).saturating_mul(e.min_body()),
            TypeDesc::Registered(_) => 0,
        }
    }
}

/// Smallest body of a basic type.
pub(crate) fn basic_min_body(tag: u8) -> usize {
    match tag {
        BOOL | INT8 | UINT8 => 1,
        INT16 | UINT16 | ATOM | STRING | ERROR => 2,
        INT32 | UINT32 | FLOAT32 | BINARY => 4,
        INT64 | INT | UINT64 | UINT | FLOAT64 => 8,
        PID | PROCESS_ID | EVENT => 4,
        REF | ALIAS => 34,
        TIME => 1,
        _ => 1,
    }
}

impl PartialEq for TypeDesc {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (TypeDesc::Any, TypeDesc::Any) => true,
            (TypeDesc::Basic(a), TypeDesc::Basic(b)) => a == b,
            (TypeDesc::Slice(a), TypeDesc::Slice(b)) => a == b,
            (TypeDesc::Array(n, a), TypeDesc::Array(m, b)) => n == m && a == b,
            (TypeDesc::Map(k, v), TypeDesc::Map(k2, v2)) => k == k2 && v == v2,
            (TypeDesc::Registered(a), TypeDesc::Registered(b)) => a.name() == b.name(),
            _ => false,
        }
    }
}

impl Eq for TypeDesc {}

impl fmt::Debug for TypeDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for TypeDesc {
    /// Go-like spelling: `[]int`, `map[string]any`, `[2]uint8`, `#pkg/Type`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeDesc::Any => f.write_str("any"),
            TypeDesc::Basic(t) => f.write_str(tags::tag_name(*t)),
            TypeDesc::Slice(e) => write!(f, "[]{e}"),
            TypeDesc::Array(n, e) => write!(f, "[{n}]{e}"),
            TypeDesc::Map(k, v) => write!(f, "map[{k}]{v}"),
            TypeDesc::Registered(info) => f.write_str(info.name()),
        }
    }
}
