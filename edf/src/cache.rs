//! Per-connection dictionaries (wire-spec §3.3): atoms (IDs >= 256), registered types
//! (>= 4096) and errors (>= 32768).
//!
//! Each side of a connection announces its own tables in its handshake and encodes with them;
//! the receiver decodes with the tables the *sender* announced. [`EncodeCaches`] is ours,
//! [`DecodeCaches`] is built from a peer's announcement. Both are immutable once built, so a
//! connection shares them between shards without locks.

use std::collections::HashMap;
use std::sync::Arc;

use crate::atom::AtomMap;
use crate::registry::{self, TypeInfo};
use crate::tags::{ATOM_CACHE_MIN, ERROR_CACHE_MIN, TYPE_CACHE_MIN};
use crate::{Atom, GoError};

/// The dictionaries used when encoding. `EncodeCaches::default()` uses none (literal forms only,
/// as in handshake and registrar messages).
#[derive(Clone, Default, Debug)]
pub struct EncodeCaches {
    pub(crate) atoms: Option<AtomMap<u16>>,
    pub(crate) atom_mapping: Option<AtomMap<Atom>>,
    /// Registry index -> type-cache ID (0: not cached).
    pub(crate) types: Option<Vec<u16>>,
    pub(crate) type_names: Option<HashMap<Box<str>, u16>>,
    pub(crate) errors: Option<HashMap<Arc<str>, u16>>,
}

static NO_ENCODE_CACHES: std::sync::LazyLock<EncodeCaches> =
    std::sync::LazyLock::new(EncodeCaches::default);

impl EncodeCaches {
    /// No caches at all.
    pub fn none() -> &'static EncodeCaches {
        &NO_ENCODE_CACHES
    }

    /// Uses atom-cache IDs for these atoms. IDs below 256 are ignored.
    pub fn with_atoms(mut self, atoms: impl IntoIterator<Item = (Atom, u16)>) -> Self {
        let m = self.atoms.get_or_insert_with(Default::default);
        for (a, id) in atoms {
            if id >= ATOM_CACHE_MIN {
                m.insert(a, id);
            }
        }
        self
    }

    /// Replaces atoms before writing them (Go's atom mapping; purely local).
    pub fn with_atom_mapping(mut self, mapping: impl IntoIterator<Item = (Atom, Atom)>) -> Self {
        self.atom_mapping
            .get_or_insert_with(Default::default)
            .extend(mapping);
        self
    }

    /// Uses type-cache IDs for these registered type names. IDs below 4096 are ignored.
    pub fn with_types<'a>(mut self, types: impl IntoIterator<Item = (&'a str, u16)>) -> Self {
        let names = self.type_names.get_or_insert_with(Default::default);
        for (name, id) in types {
            if id >= TYPE_CACHE_MIN {
                names.insert(name.into(), id);
            }
        }
        self.rebuild_type_index();
        self
    }

    /// Uses this process's registration order as type-cache IDs (`4096 + index`) for every type
    /// registered so far: what a node announces in its handshake.
    pub fn with_registered_types(self) -> Self {
        let all = registry::registered_types();
        let pairs: Vec<(String, u16)> = all
            .iter()
            .filter_map(|t| t.cache_id().map(|id| (t.name().to_string(), id)))
            .collect();
        self.with_types(pairs.iter().map(|(n, id)| (n.as_str(), *id)))
    }

    /// Re-resolves type names to registry indexes (call after registering more types).
    pub fn rebuild_type_index(&mut self) {
        let Some(names) = &self.type_names else {
            return;
        };
        let mut by_index = Vec::new();
        for (name, id) in names {
            if let Some(info) = registry::lookup(name) {
                let i = info.index() as usize;
                if by_index.len() <= i {
                    by_index.resize(i + 1, 0);
                }
                by_index[i] = *id;
            }
        }
        self.types = Some(by_index);
    }

    /// Uses error-cache IDs for these errors. IDs below 32768 are ignored.
    pub fn with_errors(mut self, errors: impl IntoIterator<Item = (GoError, u16)>) -> Self {
        let m = self.errors.get_or_insert_with(Default::default);
        for (e, id) in errors {
            if (ERROR_CACHE_MIN..0xffff).contains(&id) {
                m.insert(Arc::from(e.text()), id);
            }
        }
        self
    }

    /// Uses the error-cache IDs of every registered error (the 15 framework errors first).
    pub fn with_registered_errors(self) -> Self {
        self.with_errors(
            crate::goerror::registered_errors()
                .into_iter()
                .map(|(id, e)| (e, id)),
        )
    }

    #[inline]
    pub(crate) fn type_id_for(&self, name: &str, index: Option<u32>) -> Option<u16> {
        if let (Some(types), Some(i)) = (&self.types, index) {
            return match types.get(i as usize) {
                Some(0) | None => None,
                Some(id) => Some(*id),
            };
        }
        self.type_names.as_ref()?.get(name).copied()
    }
}

/// A type-cache entry announced by a peer.
#[derive(Clone, Debug)]
pub enum CachedType {
    /// A name this process has registered.
    Known(Arc<TypeInfo>),
    /// A name this process does not know: decoding a value of it fails.
    Unknown(Box<str>),
}

/// The dictionaries a peer announced, used when decoding its bytes.
#[derive(Clone, Default, Debug)]
pub struct DecodeCaches {
    pub(crate) atoms: Option<Vec<Option<Atom>>>,
    pub(crate) atom_mapping: Option<AtomMap<Atom>>,
    pub(crate) types: Option<Vec<Option<CachedType>>>,
    pub(crate) errors: Option<Vec<Option<GoError>>>,
}

static NO_DECODE_CACHES: std::sync::LazyLock<DecodeCaches> =
    std::sync::LazyLock::new(DecodeCaches::default);

fn put<T: Clone>(v: &mut Vec<Option<T>>, i: usize, x: T) {
    if v.len() <= i {
        v.resize(i + 1, None);
    }
    v[i] = Some(x);
}

impl DecodeCaches {
    /// No caches: any cache ID in the input is an error.
    pub fn none() -> &'static DecodeCaches {
        &NO_DECODE_CACHES
    }

    /// The peer's atom cache. IDs below 256 are ignored.
    pub fn with_atoms(mut self, atoms: impl IntoIterator<Item = (u16, Atom)>) -> Self {
        let v = self.atoms.get_or_insert_with(Vec::new);
        for (id, a) in atoms {
            if id >= ATOM_CACHE_MIN {
                put(v, usize::from(id - ATOM_CACHE_MIN), a);
            }
        }
        self
    }

    /// Replaces atoms after reading them (the reverse of the sender's mapping).
    pub fn with_atom_mapping(mut self, mapping: impl IntoIterator<Item = (Atom, Atom)>) -> Self {
        self.atom_mapping
            .get_or_insert_with(Default::default)
            .extend(mapping);
        self
    }

    /// The peer's type cache, by name; names resolve through this process's registry now.
    pub fn with_types<'a>(mut self, types: impl IntoIterator<Item = (u16, &'a str)>) -> Self {
        let v = self.types.get_or_insert_with(Vec::new);
        for (id, name) in types {
            if id >= TYPE_CACHE_MIN {
                let entry = match registry::lookup(name) {
                    Some(info) => CachedType::Known(info),
                    None => CachedType::Unknown(name.into()),
                };
                put(v, usize::from(id - TYPE_CACHE_MIN), entry);
            }
        }
        self
    }

    /// The peer's error cache.
    pub fn with_errors(mut self, errors: impl IntoIterator<Item = (u16, GoError)>) -> Self {
        let v = self.errors.get_or_insert_with(Vec::new);
        for (id, e) in errors {
            if (ERROR_CACHE_MIN..0xffff).contains(&id) {
                put(v, usize::from(id - ERROR_CACHE_MIN), e);
            }
        }
        self
    }

    /// This process's registered errors (the 15 framework errors first).
    pub fn with_registered_errors(self) -> Self {
        self.with_errors(crate::goerror::registered_errors())
    }

    /// The atom the sender cached under `id` (ENP headers name processes and events by it).
    pub fn atom(&self, id: u16) -> Result<Atom, crate::DecodeError> {
        let atoms = self
            .atoms
            .as_ref()
            .ok_or(crate::DecodeError::NoAtomCache(id))?;
        match id
            .checked_sub(ATOM_CACHE_MIN)
            .and_then(|i| atoms.get(usize::from(i)))
        {
            Some(Some(a)) => Ok(*a),
            _ => Err(crate::DecodeError::UnknownAtomId(id)),
        }
    }
}
