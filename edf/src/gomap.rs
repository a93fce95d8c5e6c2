//! `GoMap`: a map with Go's key rules, the typed form of Go maps keyed by floats or by `any`
//! (`map[float64]V`, `map[float32]V`, `map[any]V`).
//!
//! Go compares map keys with `==`: `-0.0` and `+0.0` are one key, and NaN is unequal to
//! everything, itself included, so every `m[NaN] = v` adds a new entry that no lookup finds, and
//! Go writes all of them. A `HashMap` cannot hold such keys (its keys must equal themselves);
//! `GoMap` keeps them apart, so a Go map with three NaN keys decodes to three entries and
//! re-encodes to the same entries. A key wrapper type could not do that, which is why this is a
//! map type.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;

use crate::maps::EdfMap;
use crate::{Edf, Value};

/// A key type with Go's `==`: [`GoKey::go_key`] is the key's identity under Go's rules, or
/// `None` for a key that is not equal to itself (one holding a NaN).
pub trait GoKey: Edf {
    /// What equal keys have in common.
    type Identity: Hash + Eq;
    /// The identity, or `None` when Go's `==` says the key is not equal to itself.
    fn go_key(&self) -> Option<Self::Identity>;
}

impl GoKey for f64 {
    type Identity = u64;
    fn go_key(&self) -> Option<u64> {
        if self.is_nan() {
            None
        } else if *self == 0.0 {
            Some(0)
        } else {
            Some(self.to_bits())
        }
    }
}

impl GoKey for f32 {
    type Identity = u32;
    fn go_key(&self) -> Option<u32> {
        if self.is_nan() {
            None
        } else if *self == 0.0 {
            Some(0)
        } else {
            Some(self.to_bits())
        }
    }
}

impl GoKey for Value {
    type Identity = Value;
    fn go_key(&self) -> Option<Value> {
        go_identity(self)
    }
}

/// A value with `-0.0` made `+0.0` everywhere, or `None` if it holds a NaN.
fn go_identity(v: &Value) -> Option<Value> {
    Some(match v {
        Value::Float32(f) if f.is_nan() => return None,
        Value::Float64(f) if f.is_nan() => return None,
        Value::Float32(f) if *f == 0.0 => Value::Float32(0.0),
        Value::Float64(f) if *f == 0.0 => Value::Float64(0.0),
        Value::Array { elem, items } => Value::Array {
            elem: elem.clone(),
            items: items.iter().map(go_identity).collect::<Option<_>>()?,
        },
        Value::Struct(fields) => {
            Value::Struct(fields.iter().map(go_identity).collect::<Option<_>>()?)
        }
        Value::Registered(t, body) => Value::Registered(t.clone(), Box::new(go_identity(body)?)),
        other => other.clone(),
    })
}

/// A map with Go's key semantics (see the module docs). Iteration order is unspecified, as Go's.
///
/// ```
/// use ergo_edf::GoMap;
/// let mut m: GoMap<f64, i32> = GoMap::new();
/// m.insert(f64::NAN, 1);
/// m.insert(f64::NAN, 2);
/// m.insert(-0.0, 3);
/// m.insert(0.0, 4);
/// assert_eq!(m.len(), 3); // two NaN entries and one zero
/// assert_eq!(m.get(&f64::NAN), None);
/// assert_eq!(m.get(&-0.0), Some(&4));
/// let bytes = ergo_edf::to_vec(&m).unwrap();
/// let back: GoMap<f64, i32> = ergo_edf::from_slice(&bytes).unwrap();
/// assert_eq!(back, m);
/// ```
#[derive(Clone)]
pub struct GoMap<K: GoKey, V> {
    keyed: HashMap<K::Identity, (K, V)>,
    /// Entries whose key is not equal to itself: never found, never replaced.
    loose: Vec<(K, V)>,
}

impl<K: GoKey, V> GoMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        GoMap {
            keyed: HashMap::new(),
            loose: Vec::new(),
        }
    }

    /// Go's `m[k] = v`: replaces the entry of an equal key (and, as Go does for float keys, the
    /// stored key too) and returns the old value; a NaN key always adds an entry.
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        match k.go_key() {
            Some(id) => self.keyed.insert(id, (k, v)).map(|(_, old)| old),
            None => {
                self.loose.push((k, v));
                None
            }
        }
    }

    /// Go's `m[k]`: the value of an equal key; never found for a NaN key.
    pub fn get(&self, k: &K) -> Option<&V> {
        self.keyed.get(&k.go_key()?).map(|(_, v)| v)
    }

    /// Go's `delete(m, k)`: removes the entry of an equal key (a NaN key removes nothing).
    pub fn remove(&mut self, k: &K) -> Option<V> {
        self.keyed.remove(&k.go_key()?).map(|(_, v)| v)
    }

    /// Number of entries, NaN-keyed ones included.
    pub fn len(&self) -> usize {
        self.keyed.len() + self.loose.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.keyed
            .values()
            .map(|(k, v)| (k, v))
            .chain(self.loose.iter().map(|(k, v)| (k, v)))
    }
}

impl<K: GoKey, V> Default for GoMap<K, V> {
    fn default() -> Self {
        GoMap::new()
    }
}

impl<K: GoKey + fmt::Debug, V: fmt::Debug> fmt::Debug for GoMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: GoKey, V: PartialEq> PartialEq for GoMap<K, V> {
    /// The same entries: equal keys with equal values, and as many NaN-keyed entries with the
    /// same values (in any order).
    fn eq(&self, other: &Self) -> bool {
        if self.keyed.len() != other.keyed.len() || self.loose.len() != other.loose.len() {
            return false;
        }
        let keyed = self
            .keyed
            .iter()
            .all(|(id, (_, v))| other.keyed.get(id).is_some_and(|(_, w)| v == w));
        let mut unmatched: Vec<&V> = other.loose.iter().map(|(_, v)| v).collect();
        let loose = self
            .loose
            .iter()
            .all(|(_, v)| match unmatched.iter().position(|w| *w == v) {
                Some(i) => {
                    unmatched.swap_remove(i);
                    true
                }
                None => false,
            });
        keyed && loose
    }
}

impl<K: GoKey, V> FromIterator<(K, V)> for GoMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = GoMap::new();
        m.extend(iter);
        m
    }
}

impl<K: GoKey, V> Extend<(K, V)> for GoMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: GoKey, V: Edf> EdfMap for GoMap<K, V> {
    type K = K;
    type V = V;
    fn map_len(&self) -> usize {
        self.len()
    }
    fn map_iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.iter()
    }
    fn map_reserve(&mut self, n: usize) {
        self.keyed.reserve(n);
    }
    fn map_insert(&mut self, k: K, v: V) {
        self.insert(k, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_key_rules() {
        let mut m: GoMap<Value, i32> = GoMap::new();
        m.insert(Value::Float64(f64::NAN), 1);
        m.insert(Value::Float64(f64::NAN), 2);
        m.insert(Value::Float64(-0.0), 3);
        assert_eq!(m.insert(Value::Float64(0.0), 4), Some(3));
        m.insert(Value::from("k"), 5);
        assert_eq!(m.len(), 4);
        assert_eq!(m.get(&Value::Float64(-0.0)), Some(&4));
        assert_eq!(m.get(&Value::Float64(f64::NAN)), None);
        assert_eq!(m.remove(&Value::from("k")), Some(5));
        let other: GoMap<Value, i32> = [
            (Value::Float64(f64::NAN), 2),
            (Value::Float64(0.0), 4),
            (Value::Float64(f64::NAN), 1),
        ]
        .into_iter()
        .collect();
        assert_eq!(m, other);
    }
}
