//! Map encodings: the [`EdfMap`] trait and the `Edf` impls of `HashMap`, `BTreeMap` and
//! [`GoMap`](crate::GoMap) (and their `Option`s, where `None` is a nil map). Bodies are `9f` (or
//! `83` as the underlying type of a registered named map), a u32 count and the entries.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use crate::decode::Decoder;
use crate::desc::TypeDesc;
use crate::encode::Encoder;
use crate::error::{DecodeError, EncodeError, RegisterError};
use crate::tags::*;
use crate::typed::TagKind;
use crate::Edf;

/// Map bodies shared by `HashMap` and `BTreeMap`.
fn encode_map<'m, K: Edf + 'm, V: Edf + 'm>(
    entries: Option<(usize, impl Iterator<Item = (&'m K, &'m V)>)>,
    named: bool,
    enc: &mut Encoder<'_>,
) -> Result<(), EncodeError> {
    match entries {
        None => enc.put_u8(NIL),
        Some((n, it)) => {
            enc.put_u8(if named { REGISTERED } else { MAP });
            enc.put_count("map", n)?;
            for (k, v) in it {
                k.encode_body(enc)?;
                v.encode_body(enc)?;
            }
        }
    }
    Ok(())
}

fn write_map_desc<K: Edf, V: Edf>(enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
    enc.put_u8(MAP);
    K::write_desc(enc)?;
    V::write_desc(enc)
}

fn read_map_desc<K: Edf, V: Edf>(dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
    dec.expect_tag(MAP)?;
    K::read_desc(dec)?;
    V::read_desc(dec)
}

fn map_type_desc<K: Edf, V: Edf>() -> Result<TypeDesc, RegisterError> {
    Ok(TypeDesc::Map(
        Arc::new(K::type_desc()?),
        Arc::new(V::type_desc()?),
    ))
}

/// Map types with an EDF map body (`HashMap`, `BTreeMap`).
pub trait EdfMap: Default {
    /// Key type.
    type K: Edf;
    /// Value type.
    type V: Edf;
    /// Number of entries.
    fn map_len(&self) -> usize;
    /// The entries.
    fn map_iter(&self) -> impl Iterator<Item = (&Self::K, &Self::V)>;
    /// Makes room for `n` more entries (where the map supports it).
    fn map_reserve(&mut self, n: usize);
    /// Inserts an entry.
    fn map_insert(&mut self, k: Self::K, v: Self::V);
}

impl<K: Edf + Eq + Hash, V: Edf, S: BuildHasher + Default> EdfMap for HashMap<K, V, S> {
    type K = K;
    type V = V;
    fn map_len(&self) -> usize {
        self.len()
    }
    fn map_iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.iter()
    }
    fn map_reserve(&mut self, n: usize) {
        self.reserve(n);
    }
    fn map_insert(&mut self, k: K, v: V) {
        self.insert(k, v);
    }
}

impl<K: Edf + Ord, V: Edf> EdfMap for BTreeMap<K, V> {
    type K = K;
    type V = V;
    fn map_len(&self) -> usize {
        self.len()
    }
    fn map_iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.iter()
    }
    fn map_reserve(&mut self, _n: usize) {}
    fn map_insert(&mut self, k: K, v: V) {
        self.insert(k, v);
    }
}

fn encode_map_of<M: EdfMap>(
    m: Option<&M>,
    named: bool,
    enc: &mut Encoder<'_>,
) -> Result<(), EncodeError> {
    encode_map(m.map(|m| (m.map_len(), m.map_iter())), named, enc)
}

/// Reads a map body; `None` for a nil map.
fn decode_map_of<M: EdfMap>(named: bool, dec: &mut Decoder<'_>) -> Result<Option<M>, DecodeError> {
    let offset = dec.position();
    match dec.u8()? {
        NIL => Ok(None),
        m if m == (if named { REGISTERED } else { MAP }) => {
            let n = dec.count("map")?;
            let mut map = M::default();
            map.map_reserve(dec.capacity_for(n, M::K::MIN_BODY + M::V::MIN_BODY));
            for _ in 0..n {
                let k = M::K::decode_body(dec)?;
                let v = M::V::decode_body(dec)?;
                map.map_insert(k, v);
            }
            Ok(Some(map))
        }
        byte => Err(DecodeError::BadMarker {
            what: "map",
            byte,
            offset,
        }),
    }
}

macro_rules! map_impl {
    (impl<$($g:ident),*> for $t:ty where $($bounds:tt)*) => {
        impl<$($g),*> Edf for $t where $($bounds)* {
            const TAG_KIND: TagKind = TagKind::Composite;
            const MIN_BODY: usize = 1;
            fn write_desc(enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
                write_map_desc::<K, V>(enc)
            }
            fn read_desc(dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
                read_map_desc::<K, V>(dec)
            }
            fn type_desc() -> Result<TypeDesc, RegisterError> {
                map_type_desc::<K, V>()
            }
            fn encode_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
                encode_map_of(Some(self), false, enc)
            }
            fn decode_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
                Ok(decode_map_of(false, dec)?.unwrap_or_default())
            }
            fn encode_named_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
                encode_map_of(Some(self), true, enc)
            }
            fn decode_named_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
                Ok(decode_map_of(true, dec)?.unwrap_or_default())
            }
        }

        impl<$($g),*> Edf for Option<$t> where $($bounds)* {
            const TAG_KIND: TagKind = TagKind::Composite;
            const MIN_BODY: usize = 1;
            fn write_desc(enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
                write_map_desc::<K, V>(enc)
            }
            fn read_desc(dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
                read_map_desc::<K, V>(dec)
            }
            fn type_desc() -> Result<TypeDesc, RegisterError> {
                map_type_desc::<K, V>()
            }
            fn encode_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
                encode_map_of(self.as_ref(), false, enc)
            }
            fn decode_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
                decode_map_of(false, dec)
            }
            fn encode_named_body(&self, enc: &mut Encoder<'_>) -> Result<(), EncodeError> {
                encode_map_of(self.as_ref(), true, enc)
            }
            fn decode_named_body(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
                decode_map_of(true, dec)
            }
        }
    };
}

map_impl!(impl<K, V, S> for HashMap<K, V, S> where K: Edf + Eq + Hash, V: Edf, S: BuildHasher + Default);
map_impl!(impl<K, V> for BTreeMap<K, V> where K: Edf + Ord, V: Edf);
map_impl!(impl<K, V> for crate::GoMap<K, V> where K: crate::GoKey, V: Edf);
