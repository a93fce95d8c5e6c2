//! The values of Go Ergo's serial benchmark (`ergo.services/benchmarks/serial`, the cached
//! variant's values) under Go's type names, so plain encodings are byte for byte what Go writes.
//! Shared by the criterion bench (`edf/benches/serial.rs`, as its module `values`) and `ergo-bench run serial`
//! (`bench-harness/src/serial.rs`), which include this file.

use std::collections::HashMap;

use ergo_edf::{Atom, DecodeCaches, Edf, EncodeCaches, Pid, ProcessId, RegisterError};

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/benchmarks/serial/SimpleStructValue")]
pub struct Item {
    pub name: String,
    pub id: i32,
}

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/benchmarks/serial/ComplexStructValue")]
pub struct Complex {
    pub name: String,
    pub id: i32,
    pub tags: Vec<String>,
    pub metadata: HashMap<String, String>,
    pub pid: Pid,
    pub process_id: ProcessId,
}

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/benchmarks/serial/NestedStructValue")]
pub struct Nested {
    pub name: String,
    pub id: i32,
    pub complex: Complex,
    pub complex_map: HashMap<String, Complex>,
    pub nested_map: HashMap<String, String>,
}

pub fn strings(kv: &[(&str, &str)]) -> HashMap<String, String> {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn string_value() -> String {
    "Ergo Framework".to_string()
}

pub fn map_value() -> HashMap<String, Item> {
    let item = |name: &str, id| Item {
        name: name.into(),
        id,
    };
    HashMap::from([
        ("key1".to_string(), item("test1", 123)),
        ("key2".to_string(), item("test2", 456)),
    ])
}

pub fn complex_value() -> Complex {
    let node1 = Atom::new("node1");
    Complex {
        name: "test".into(),
        id: 123,
        tags: vec!["tag1".into(), "tag2".into()],
        metadata: strings(&[("key1", "value1"), ("key2", "value2")]),
        pid: Pid::new(node1, 1, 1),
        process_id: ProcessId::new(Atom::new("process1"), node1),
    }
}

pub fn nested_value() -> Nested {
    let node = Atom::new("nested_node");
    let small = |name: &str, id: i32, tag: &str, key: &str, value: &str| Complex {
        name: name.into(),
        id,
        tags: vec![tag.into()],
        metadata: strings(&[(key, value)]),
        pid: Pid::default(),
        process_id: ProcessId::default(),
    };
    Nested {
        name: "nested_test".into(),
        id: 456,
        complex: Complex {
            name: "complex_value".into(),
            id: 789,
            tags: vec!["nested_tag1".into(), "nested_tag2".into()],
            metadata: strings(&[("nested_key", "nested_value")]),
            pid: Pid::new(node, 2, 2),
            process_id: ProcessId::new(Atom::new("nested_process"), node),
        },
        complex_map: HashMap::from([
            (
                "complex1".to_string(),
                small("complex1", 100, "tag1", "key1", "value1"),
            ),
            (
                "complex2".to_string(),
                small("complex2", 200, "tag2", "key2", "value2"),
            ),
        ]),
        nested_map: strings(&[("key1", "value1"), ("key2", "value2")]),
    }
}

/// Registers the three types, nested ones first.
pub fn register() -> Result<(), RegisterError> {
    ergo_edf::ensure_registered::<Item>()?;
    ergo_edf::ensure_registered::<Complex>()?;
    ergo_edf::ensure_registered::<Nested>()?;
    Ok(())
}

/// A connection's caches: atom `node1` = 256, every type registered so far, every registered
/// error.
pub fn caches() -> (EncodeCaches, DecodeCaches) {
    let node1 = Atom::new("node1");
    let types: Vec<(u16, String)> = ergo_edf::registry::registered_types()
        .iter()
        .filter_map(|t| t.cache_id().map(|id| (id, t.name().to_string())))
        .collect();
    (
        EncodeCaches::default()
            .with_atoms([(node1, 256)])
            .with_registered_types()
            .with_registered_errors(),
        DecodeCaches::default()
            .with_atoms([(256, node1)])
            .with_types(types.iter().map(|(id, name)| (*id, name.as_str())))
            .with_registered_errors(),
    )
}
