//! Total equality, order and hashing of [`Value`] and [`TypeDesc`], so a `Value` can key a
//! `HashMap` or `BTreeMap` (the typed form of Go's `map[any]V`).
//!
//! Floats compare by their bits (`total_cmp`): `NaN == NaN` when the bits are the same, and
//! `0.0 != -0.0`. That is "the same encoded value", which is what a codec needs to be total; Go's
//! own key rules (every NaN a new key, `-0 == +0`) are [`GoMap`](crate::GoMap)'s job. Maps
//! compare entry by entry in their stored order (use [`Value::canonical`] to ignore order).

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use crate::desc::TypeDesc;
use crate::value::Value;

impl Value {
    /// The variant's rank in the total order.
    fn rank(&self) -> u8 {
        match self {
            Value::Nil => 0,
            Value::Bool(_) => 1,
            Value::Int8(_) => 2,
            Value::Int16(_) => 3,
            Value::Int32(_) => 4,
            Value::Int64(_) => 5,
            Value::Int(_) => 6,
            Value::Uint8(_) => 7,
            Value::Uint16(_) => 8,
            Value::Uint32(_) => 9,
            Value::Uint64(_) => 10,
            Value::Uint(_) => 11,
            Value::Float32(_) => 12,
            Value::Float64(_) => 13,
            Value::String(_) => 14,
            Value::GoString(_) => 15,
            Value::Binary(_) => 16,
            Value::Atom(_) => 17,
            Value::Error(_) => 18,
            Value::Pid(_) => 19,
            Value::ProcessId(_) => 20,
            Value::Ref(_) => 21,
            Value::Alias(_) => 22,
            Value::Event(_) => 23,
            Value::Time(_) => 24,
            Value::Slice { .. } => 25,
            Value::Array { .. } => 26,
            Value::Map { .. } => 27,
            Value::Registered(..) => 28,
            Value::Struct(_) => 29,
            Value::Custom(_) => 30,
        }
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        use Value::*;
        match (self, other) {
            (Nil, Nil) => Ordering::Equal,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int8(a), Int8(b)) => a.cmp(b),
            (Int16(a), Int16(b)) => a.cmp(b),
            (Int32(a), Int32(b)) => a.cmp(b),
            (Int64(a), Int64(b)) | (Int(a), Int(b)) => a.cmp(b),
            (Uint8(a), Uint8(b)) => a.cmp(b),
            (Uint16(a), Uint16(b)) => a.cmp(b),
            (Uint32(a), Uint32(b)) => a.cmp(b),
            (Uint64(a), Uint64(b)) | (Uint(a), Uint(b)) => a.cmp(b),
            (Float32(a), Float32(b)) => a.total_cmp(b),
            (Float64(a), Float64(b)) => a.total_cmp(b),
            (String(a), String(b)) => a.cmp(b),
            (GoString(a), GoString(b)) => a.cmp(b),
            (Binary(a), Binary(b)) => a.cmp(b),
            (Atom(a), Atom(b)) => a.as_str().cmp(b.as_str()),
            (Error(a), Error(b)) => a
                .as_ref()
                .map(|e| e.text())
                .cmp(&b.as_ref().map(|e| e.text())),
            (Pid(a), Pid(b)) => a.cmp(b),
            (ProcessId(a), ProcessId(b)) => a.cmp(b),
            (Ref(a), Ref(b)) => a.cmp(b),
            (Alias(a), Alias(b)) => a.cmp(b),
            (Event(a), Event(b)) => a.cmp(b),
            (Time(a), Time(b)) => a.cmp(b),
            (
                Slice {
                    elem: e1,
                    items: i1,
                },
                Slice {
                    elem: e2,
                    items: i2,
                },
            ) => e1.cmp(e2).then_with(|| i1.cmp(i2)),
            (
                Array {
                    elem: e1,
                    items: i1,
                },
                Array {
                    elem: e2,
                    items: i2,
                },
            ) => e1.cmp(e2).then_with(|| i1.cmp(i2)),
            (
                Map {
                    key: k1,
                    value: v1,
                    entries: n1,
                },
                Map {
                    key: k2,
                    value: v2,
                    entries: n2,
                },
            ) => k1.cmp(k2).then_with(|| v1.cmp(v2)).then_with(|| n1.cmp(n2)),
            (Registered(t1, b1), Registered(t2, b2)) => {
                t1.name().cmp(t2.name()).then_with(|| b1.cmp(b2))
            }
            (Struct(a), Struct(b)) => a.cmp(b),
            (Custom(a), Custom(b)) => a.cmp(b),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, h: &mut H) {
        use Value::*;
        h.write_u8(self.rank());
        match self {
            Nil => {}
            Bool(v) => v.hash(h),
            Int8(v) => v.hash(h),
            Int16(v) => v.hash(h),
            Int32(v) => v.hash(h),
            Int64(v) | Int(v) => v.hash(h),
            Uint8(v) => v.hash(h),
            Uint16(v) => v.hash(h),
            Uint32(v) => v.hash(h),
            Uint64(v) | Uint(v) => v.hash(h),
            Float32(v) => v.to_bits().hash(h),
            Float64(v) => v.to_bits().hash(h),
            String(v) => v.hash(h),
            GoString(v) => v.hash(h),
            Binary(v) => v.hash(h),
            Atom(v) => v.as_str().hash(h),
            Error(v) => v.as_ref().map(|e| e.text()).hash(h),
            Pid(v) => v.hash(h),
            ProcessId(v) => v.hash(h),
            Ref(v) => v.hash(h),
            Alias(v) => v.hash(h),
            Event(v) => v.hash(h),
            Time(v) => v.hash(h),
            Slice { elem, items } => {
                elem.hash(h);
                items.hash(h);
            }
            Array { elem, items } => {
                elem.hash(h);
                items.hash(h);
            }
            Map {
                key,
                value,
                entries,
            } => {
                key.hash(h);
                value.hash(h);
                entries.hash(h);
            }
            Registered(t, b) => {
                t.name().hash(h);
                b.hash(h);
            }
            Struct(v) => v.hash(h),
            Custom(v) => v.hash(h),
        }
    }
}

impl TypeDesc {
    fn rank(&self) -> u8 {
        match self {
            TypeDesc::Any => 0,
            TypeDesc::Basic(_) => 1,
            TypeDesc::Slice(_) => 2,
            TypeDesc::Array(..) => 3,
            TypeDesc::Map(..) => 4,
            TypeDesc::Registered(_) => 5,
        }
    }
}

impl Ord for TypeDesc {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (TypeDesc::Any, TypeDesc::Any) => Ordering::Equal,
            (TypeDesc::Basic(a), TypeDesc::Basic(b)) => a.cmp(b),
            (TypeDesc::Slice(a), TypeDesc::Slice(b)) => a.cmp(b),
            (TypeDesc::Array(n, a), TypeDesc::Array(m, b)) => n.cmp(m).then_with(|| a.cmp(b)),
            (TypeDesc::Map(k, v), TypeDesc::Map(k2, v2)) => k.cmp(k2).then_with(|| v.cmp(v2)),
            (TypeDesc::Registered(a), TypeDesc::Registered(b)) => a.name().cmp(b.name()),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

impl PartialOrd for TypeDesc {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Hash for TypeDesc {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u8(self.rank());
        match self {
            TypeDesc::Any => {}
            TypeDesc::Basic(t) => t.hash(h),
            TypeDesc::Slice(e) => e.hash(h),
            TypeDesc::Array(n, e) => {
                n.hash(h);
                e.hash(h);
            }
            TypeDesc::Map(k, v) => {
                k.hash(h);
                v.hash(h);
            }
            TypeDesc::Registered(info) => info.name().hash(h),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::*;

    #[test]
    fn equal_values_hash_alike_and_floats_compare_by_bits() {
        let nan = Value::Float64(f64::NAN);
        assert_eq!(nan, nan.clone());
        assert_ne!(Value::Float64(0.0), Value::Float64(-0.0));
        assert_ne!(
            Value::Int(1),
            Value::Int64(1),
            "Go int and int64 are other types"
        );
        let mut m = HashMap::new();
        m.insert(Value::from("a"), 1);
        m.insert(Value::Int(1), 2);
        m.insert(nan.clone(), 3);
        assert_eq!(m[&Value::from("a")], 1);
        assert_eq!(m[&nan], 3);
        let b: BTreeMap<Value, i32> = m.into_iter().collect();
        let keys: Vec<_> = b.keys().cloned().collect();
        assert_eq!(
            keys,
            vec![Value::Int(1), Value::Float64(f64::NAN), Value::from("a")]
        );
    }
}
