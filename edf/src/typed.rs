//! The `Edf` trait: typed encode/decode of Rust values without going through [`Value`].
//!
//! Rust types map onto Go's as follows:
//!
//! | Rust | Go (EDF tag) |
//! |---|---|
//! | `bool`, `i8`..`i64`, `u8`..`u64`, `f32`, `f64` | same widths (`0x91`, `0x92`..`0x95`, `0x97`..`0x9a`, `0x8f`, `0x90`) |
//! | `isize` / `usize` | Go `int` / `uint` (`0x96` / `0x9b`, always 8 bytes) |
//! | `String`, `CompactString` (no allocation up to 24 bytes) | `string` (UTF-8 only) |
//! | [`GoString`](crate::GoString) | `string` (any bytes, as Go's) |
//! | `Vec<u8>` | `[]byte` (binary) |
//! | [`Atom`], [`Pid`], [`ProcessId`], [`Ref`], [`Alias`], [`Event`], [`Time`] | `gen.Atom`, `gen.PID`, ... `time.Time` |
//! | [`GoError`] / `Option<GoError>` | `error` (non-nil / nilable) |
//! | `Vec<T>` / `Option<Vec<T>>` | `[]T` (`None` is a nil slice) |
//! | `[T; N]` | `[N]T` |
//! | `HashMap<K, V>`, `BTreeMap<K, V>` (and `Option<..>`) | `map[K]V` (`K` = [`Value`] for `map[any]V`) |
//! | [`GoMap<K, V>`](crate::GoMap) (and `Option<..>`) | `map[K]V` with Go's key rules (float and `any` keys, NaN) |
//! | a `#[derive(Edf)]` newtype over `Vec<u8>` | a registered `type Blob []byte` (a registered slice of `uint8`) |
//! | [`Value`] | `any` |
//! | `#[derive(Edf)]` structs and newtypes | registered types |
//!
//! References, raw pointers, `Box` and unregistered structs have no `Edf` impl, mirroring Go's
//! rule that pointers and unregistered structs cannot be encoded.

use std::sync::Arc;

use crate::decode::Decoder;
use crate::desc::TypeDesc;
use crate::encode::Encoder;
use crate::error::{DecodeError, EncodeError, RegisterError};
use crate::tags::*;
use crate::{Alias, Atom, Event, GoError, Pid, ProcessId, Ref, Time, Value};

/// How a type is introduced where a tag is needed (top level, `any` slots).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagKind {
    /// One tag byte.
    Basic,
    /// `83` + name or type-cache ID.
    Registered,
    /// `82` + u16 length + descriptor.
    Composite,
    /// `any`: the body is itself a tagged value.
    Any,
}

/// A Rust type with an EDF encoding. Derive it for your structs with `#[derive(Edf)]`.
pub trait Edf: Sized {
    /// How the type is tagged.
    const TAG_KIND: TagKind;
    /// A lower bound of the body size in bytes (bounds pre-allocation when decoding).
    const MIN_BODY: usize;

    /// Writes the type descriptor.
    fn write_desc(enc: &mut Encoder<'_>) -> Result<(), EncodeError>;
    /// Reads a descriptor and checks that it describes `Self`.
    fn read_desc(dec: &mut Decoder<'_>) -> Result<(), DecodeError>;
    /// The descriptor as a tree (for schemas of registered types).
    fn type_desc() -> Result<TypeDesc, RegisterError>;
    /// Writes the body (no tag).
    fn encode_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError>;
    /// Reads a body (no tag).
    fn decode_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError>;

    /// Whether this is a nil `any` (which cannot stand alone at the top of a payload).
    #[inline]
    fn is_nil(&self) -> bool {
        false
    }

    /// The body when `Self` is the underlying type of a registered named type: slices and maps
    /// use the `0x83` marker there.
    #[inline]
    fn encode_named_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        self.encode_body(enc)
    }
    /// Reads a named body (see [`Edf::encode_named_body`]).
    #[inline]
    fn decode_named_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Self::decode_body(dec)
    }
    /// The descriptor when `Self` is the underlying type of a registered named type. The same as
    /// [`Edf::type_desc`] except for `Vec<u8>`: a registered `type Blob []byte` is, in Go, a
    /// registered slice of `uint8`, not a binary.
    fn named_type_desc() -> Result<TypeDesc, RegisterError> {
        Self::type_desc()
    }

    // --- how a slice of Self is written; u8 overrides these so Vec<u8> is a Go []byte ---

    #[doc(hidden)]
    const SLICE_TAG_KIND: TagKind = TagKind::Composite;
    #[doc(hidden)]
    fn write_slice_desc(enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        enc.put_u8(SLICE);
        Self::write_desc(enc)
    }
    #[doc(hidden)]
    fn read_slice_desc(dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
        dec.expect_tag(SLICE)?;
        Self::read_desc(dec)
    }
    #[doc(hidden)]
    fn slice_type_desc() -> Result<TypeDesc, RegisterError> {
        Ok(TypeDesc::Slice(Arc::new(Self::type_desc()?)))
    }
    #[doc(hidden)]
    fn encode_slice(
        items: Option<&[Self]>,
        named: bool,
        enc: &mut Encoder<'_>,
    ) -> Result<(), EncodeError> {
        match items {
            None => enc.put_u8(NIL),
            Some(items) => {
                enc.put_u8(if named { REGISTERED } else { SLICE });
                enc.put_count("slice", items.len())?;
                for it in items {
                    it.encode_body(enc)?;
                }
            }
        }
        Ok(())
    }
    #[doc(hidden)]
    fn decode_slice(named: bool, dec: &mut Decoder<'_>) -> Result<Option<Vec<Self>>, DecodeError> {
        let offset = dec.position();
        match dec.u8()? {
            NIL => Ok(None),
            m if m == (if named { REGISTERED } else { SLICE }) => {
                let n = dec.count("slice")?;
                let mut v = Vec::with_capacity(dec.capacity_for(n, Self::MIN_BODY));
                for _ in 0..n {
                    v.push(Self::decode_body(dec)?);
                }
                Ok(Some(v))
            }
            byte => Err(DecodeError::BadMarker {
                what: "slice",
                byte,
                offset,
            }),
        }
    }
}

/// Encodes `v` as a tagged value (as at the top of a payload or in an `any` slot).
#[inline]
pub fn encode_tagged<T: Edf>(v: &T, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
    match T::TAG_KIND {
        TagKind::Basic | TagKind::Registered => T::write_desc(enc)?,
        TagKind::Composite => {
            enc.put_u8(TYPE_HEADER);
            let at = enc.reserve_u16();
            T::write_desc(enc)?;
            enc.patch_u16_len(at)?;
        }
        TagKind::Any => {}
    }
    v.encode_body(enc)
}

/// Decodes a tagged value of type `T`.
#[inline]
pub fn decode_tagged<T: Edf>(dec: &mut Decoder<'_>) -> Result<T, DecodeError> {
    match T::TAG_KIND {
        TagKind::Basic | TagKind::Registered => T::read_desc(dec)?,
        TagKind::Composite => {
            dec.expect_tag(TYPE_HEADER)?;
            let len = usize::from(dec.u16()?);
            if len > dec.remaining() {
                return Err(DecodeError::DescriptorLength);
            }
            let end = dec.position() + len;
            T::read_desc(dec)?;
            if dec.position() != end {
                return Err(DecodeError::DescriptorLength);
            }
        }
        TagKind::Any => {}
    }
    T::decode_body(dec)
}

macro_rules! number_impl {
    ($t:ty, $tag:expr, $n:expr) => {
        impl Edf for $t {
            const TAG_KIND: TagKind = TagKind::Basic;
            const MIN_BODY: usize = $n;
            #[inline]
            fn write_desc(enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
                enc.put_u8($tag);
                Ok(())
            }
            #[inline]
            fn read_desc(dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
                dec.expect_tag($tag)
            }
            fn type_desc() -> Result<TypeDesc, RegisterError> {
                Ok(TypeDesc::Basic($tag))
            }
            #[inline]
            fn encode_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
                enc.put_bytes(&self.to_be_bytes());
                Ok(())
            }
            #[inline]
            fn decode_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
                Ok(<$t>::from_be_bytes(dec.take_array::<$n>()?))
            }
        }
    };
}

number_impl!(i8, INT8, 1);
number_impl!(i16, INT16, 2);
number_impl!(i32, INT32, 4);
number_impl!(i64, INT64, 8);
number_impl!(u16, UINT16, 2);
number_impl!(u32, UINT32, 4);
number_impl!(u64, UINT64, 8);
number_impl!(f32, FLOAT32, 4);
number_impl!(f64, FLOAT64, 8);

macro_rules! word_impl {
    ($t:ty, $wire:ty, $tag:expr) => {
        impl Edf for $t {
            const TAG_KIND: TagKind = TagKind::Basic;
            const MIN_BODY: usize = 8;
            #[inline]
            fn write_desc(enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
                enc.put_u8($tag);
                Ok(())
            }
            #[inline]
            fn read_desc(dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
                dec.expect_tag($tag)
            }
            fn type_desc() -> Result<TypeDesc, RegisterError> {
                Ok(TypeDesc::Basic($tag))
            }
            #[inline]
            fn encode_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
                enc.put_bytes(&(*self as $wire).to_be_bytes());
                Ok(())
            }
            #[inline]
            fn decode_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
                let v = <$wire>::from_be_bytes(dec.take_array::<8>()?);
                <$t>::try_from(v).map_err(|_| {
                    DecodeError::Invalid(format!("{} does not fit {}", v, stringify!($t)))
                })
            }
        }
    };
}

word_impl!(isize, i64, INT);
word_impl!(usize, u64, UINT);

impl Edf for u8 {
    const TAG_KIND: TagKind = TagKind::Basic;
    const MIN_BODY: usize = 1;
    #[inline]
    fn write_desc(enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        enc.put_u8(UINT8);
        Ok(())
    }
    #[inline]
    fn read_desc(dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
        dec.expect_tag(UINT8)
    }
    fn type_desc() -> Result<TypeDesc, RegisterError> {
        Ok(TypeDesc::Basic(UINT8))
    }
    #[inline]
    fn encode_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        enc.put_u8(*self);
        Ok(())
    }
    #[inline]
    fn decode_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        dec.u8()
    }

    // Vec<u8> is Go's []byte: tag 8e, u32 length + bytes; nil and empty are the same.
    const SLICE_TAG_KIND: TagKind = TagKind::Basic;
    fn write_slice_desc(enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        enc.put_u8(BINARY);
        Ok(())
    }
    fn read_slice_desc(dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
        dec.expect_tag(BINARY)
    }
    fn slice_type_desc() -> Result<TypeDesc, RegisterError> {
        Ok(TypeDesc::Basic(BINARY))
    }
    // As the underlying type of a registered named type (Go `type Blob []byte`), Go writes a
    // registered slice of uint8: `ff` for nil, else `83`, u32 count, the bytes.
    #[inline]
    fn encode_slice(
        items: Option<&[Self]>,
        named: bool,
        enc: &mut Encoder<'_>,
    ) -> Result<(), EncodeError> {
        if !named {
            return enc.put_binary(items.unwrap_or(&[]));
        }
        match items {
            None => enc.put_u8(NIL),
            Some(b) => {
                enc.put_u8(REGISTERED);
                enc.put_count("slice", b.len())?;
                enc.put_bytes(b);
            }
        }
        Ok(())
    }
    #[inline]
    fn decode_slice(named: bool, dec: &mut Decoder<'_>) -> Result<Option<Vec<Self>>, DecodeError> {
        if !named {
            return Ok(Some(dec.binary()?.to_vec()));
        }
        let offset = dec.position();
        match dec.u8()? {
            NIL => Ok(None),
            REGISTERED => {
                let n = dec.count("slice")?;
                Ok(Some(dec.take(n)?.to_vec()))
            }
            byte => Err(DecodeError::BadMarker {
                what: "slice",
                byte,
                offset,
            }),
        }
    }
}

/// Implements the trait for a basic type from a body writer and reader.
macro_rules! basic_impl {
    ($t:ty, $tag:expr, $min:expr, |$s:ident, $e:ident| $enc:expr, |$d:ident| $dec:expr) => {
        impl Edf for $t {
            const TAG_KIND: TagKind = TagKind::Basic;
            const MIN_BODY: usize = $min;
            #[inline]
            fn write_desc(enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
                enc.put_u8($tag);
                Ok(())
            }
            #[inline]
            fn read_desc(dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
                dec.expect_tag($tag)
            }
            fn type_desc() -> Result<TypeDesc, RegisterError> {
                Ok(TypeDesc::Basic($tag))
            }
            #[inline]
            fn encode_body(&self, $e: &mut Encoder<'_>) -> Result<(), EncodeError> {
                let $s = self;
                $enc
            }
            #[inline]
            fn decode_body($d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
                $dec
            }
        }
    };
}

basic_impl!(
    bool,
    BOOL,
    1,
    |s, e| {
        e.put_u8(u8::from(*s));
        Ok(())
    },
    |d| Ok(d.u8()? == 1)
);

basic_impl!(String, STRING, 2, |s, e| e.put_str(s), |d| Ok(d
    .str()?
    .to_owned()));

basic_impl!(
    compact_str::CompactString,
    STRING,
    2,
    |s, e| e.put_str(s),
    |d| Ok(compact_str::CompactString::from(d.str()?))
);

basic_impl!(
    crate::GoString,
    STRING,
    2,
    |s, e| e.put_str_bytes(s.as_bytes()),
    |d| Ok(crate::GoString::new(d.str_bytes()?))
);

basic_impl!(Atom, ATOM, 2, |s, e| e.put_atom(*s), |d| d.atom());

basic_impl!(
    Pid,
    PID,
    18,
    |s, e| {
        e.put_atom(s.node)?;
        e.put_u64(s.id);
        e.put_u64(s.creation as u64);
        Ok(())
    },
    |d| {
        let node = d.atom()?;
        let id = d.u64()?;
        let creation = d.i64()?;
        Ok(Pid { node, id, creation })
    }
);

basic_impl!(
    ProcessId,
    PROCESS_ID,
    4,
    |s, e| {
        e.put_atom(s.node)?;
        e.put_atom(s.name)
    },
    |d| {
        let node = d.atom()?;
        let name = d.atom()?;
        Ok(ProcessId { name, node })
    }
);

basic_impl!(
    Event,
    EVENT,
    4,
    |s, e| {
        e.put_atom(s.node)?;
        e.put_atom(s.name)
    },
    |d| {
        let node = d.atom()?;
        let name = d.atom()?;
        Ok(Event { name, node })
    }
);

basic_impl!(
    Ref,
    REF,
    34,
    |s, e| {
        e.put_atom(s.node)?;
        e.put_u64(s.creation as u64);
        e.put_u64(s.id[0]);
        e.put_u64(s.id[1]);
        e.put_u64(s.id[2]);
        Ok(())
    },
    |d| {
        let node = d.atom()?;
        let creation = d.i64()?;
        Ok(Ref {
            node,
            creation,
            id: [d.u64()?, d.u64()?, d.u64()?],
        })
    }
);

basic_impl!(
    Alias,
    ALIAS,
    34,
    |s, e| {
        e.put_atom(s.node)?;
        e.put_u64(s.creation as u64);
        e.put_u64(s.id[0]);
        e.put_u64(s.id[1]);
        e.put_u64(s.id[2]);
        Ok(())
    },
    |d| {
        let node = d.atom()?;
        let creation = d.i64()?;
        Ok(Alias {
            node,
            creation,
            id: [d.u64()?, d.u64()?, d.u64()?],
        })
    }
);

basic_impl!(
    Time,
    TIME,
    1,
    |s, e| {
        let at = e.len();
        e.put_u8(0);
        s.marshal(e.buffer())?;
        let len = e.len() - at - 1;
        e.buffer()[at] = len as u8;
        Ok(())
    },
    |d| {
        let n = usize::from(d.u8()?);
        Time::unmarshal(d.take(n)?)
    }
);

basic_impl!(GoError, ERROR, 2, |s, e| e.put_error(Some(s)), |d| d
    .error()?
    .ok_or(DecodeError::UnexpectedNil("error")));

impl Edf for Option<GoError> {
    const TAG_KIND: TagKind = TagKind::Basic;
    const MIN_BODY: usize = 2;
    fn write_desc(enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        enc.put_u8(ERROR);
        Ok(())
    }
    fn read_desc(dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
        dec.expect_tag(ERROR)
    }
    fn type_desc() -> Result<TypeDesc, RegisterError> {
        Ok(TypeDesc::Basic(ERROR))
    }
    #[inline]
    fn encode_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        enc.put_error(self.as_ref())
    }
    #[inline]
    fn decode_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        dec.error()
    }
}

impl<T: Edf> Edf for Vec<T> {
    const TAG_KIND: TagKind = T::SLICE_TAG_KIND;
    const MIN_BODY: usize = 1;
    #[inline]
    fn write_desc(enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        T::write_slice_desc(enc)
    }
    #[inline]
    fn read_desc(dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
        T::read_slice_desc(dec)
    }
    fn type_desc() -> Result<TypeDesc, RegisterError> {
        T::slice_type_desc()
    }
    fn named_type_desc() -> Result<TypeDesc, RegisterError> {
        Ok(TypeDesc::Slice(Arc::new(T::type_desc()?)))
    }
    #[inline]
    fn encode_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        T::encode_slice(Some(self), false, enc)
    }
    #[inline]
    fn decode_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(T::decode_slice(false, dec)?.unwrap_or_default())
    }
    fn encode_named_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        T::encode_slice(Some(self), true, enc)
    }
    fn decode_named_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(T::decode_slice(true, dec)?.unwrap_or_default())
    }
}

impl<T: Edf> Edf for Option<Vec<T>> {
    const TAG_KIND: TagKind = T::SLICE_TAG_KIND;
    const MIN_BODY: usize = 1;
    fn write_desc(enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        T::write_slice_desc(enc)
    }
    fn read_desc(dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
        T::read_slice_desc(dec)
    }
    fn type_desc() -> Result<TypeDesc, RegisterError> {
        T::slice_type_desc()
    }
    fn named_type_desc() -> Result<TypeDesc, RegisterError> {
        Ok(TypeDesc::Slice(Arc::new(T::type_desc()?)))
    }
    fn encode_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        T::encode_slice(self.as_deref(), false, enc)
    }
    fn decode_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        T::decode_slice(false, dec)
    }
    fn encode_named_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        T::encode_slice(self.as_deref(), true, enc)
    }
    fn decode_named_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        T::decode_slice(true, dec)
    }
}

impl<T: Edf, const N: usize> Edf for [T; N] {
    const TAG_KIND: TagKind = TagKind::Composite;
    const MIN_BODY: usize = N * T::MIN_BODY;
    fn write_desc(enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        enc.put_u8(ARRAY);
        enc.put_count("array", N)?;
        T::write_desc(enc)
    }
    fn read_desc(dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
        dec.expect_tag(ARRAY)?;
        let offset = dec.position();
        let n = dec.u32()? as usize;
        if n != N {
            return Err(DecodeError::TypeMismatch {
                expected: format!("array of {N}"),
                found: format!("array of {n}"),
                offset,
            });
        }
        T::read_desc(dec)
    }
    fn type_desc() -> Result<TypeDesc, RegisterError> {
        Ok(TypeDesc::Array(N as u32, Arc::new(T::type_desc()?)))
    }
    fn encode_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        for it in self {
            it.encode_body(enc)?;
        }
        Ok(())
    }
    fn decode_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let mut v = Vec::with_capacity(dec.capacity_for(N, T::MIN_BODY));
        for _ in 0..N {
            v.push(T::decode_body(dec)?);
        }
        v.try_into()
            .map_err(|_| DecodeError::Invalid("array length".into()))
    }
}

impl Edf for Value {
    const TAG_KIND: TagKind = TagKind::Any;
    const MIN_BODY: usize = 1;
    fn write_desc(enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        enc.put_u8(ANY);
        Ok(())
    }
    fn read_desc(dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
        dec.expect_tag(ANY)
    }
    fn type_desc() -> Result<TypeDesc, RegisterError> {
        Ok(TypeDesc::Any)
    }
    fn encode_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
        self.encode_tagged(enc)
    }
    fn decode_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Value::decode_tagged(dec)
    }
    fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }
}
