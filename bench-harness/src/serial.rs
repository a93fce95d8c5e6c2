//! `serial`: EDF encode and decode, ns/op and heap allocations per op, for the four cases of Go
//! Ergo's serial benchmark (String, Map, Complex, Nested), without caches (`plain`) and with a
//! connection's caches (`cached`: atom `node1` = 256, every registered type and error).
//!
//! The values are the shapes of `edf/benches/serial.rs` (Go's cached-benchmark values), with
//! Go's type names, so plain encodings are byte for byte what Go writes. Encoding appends to one
//! reused buffer, cleared each time, so the codec is measured rather than the allocator.
//! One output line per case, operation and cache mode: `serial-<case>-<op>[-cached]`.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use ergo_edf::{Atom, DecodeCaches, Edf, EncodeCaches, Pid, ProcessId};

use crate::alloc_count;
use crate::outcome::{Outcome, SerialFigures};
use crate::progress::Progress;

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/benchmarks/serial/SimpleStructValue")]
struct Item {
    name: String,
    id: i32,
}

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/benchmarks/serial/ComplexStructValue")]
struct Complex {
    name: String,
    id: i32,
    tags: Vec<String>,
    metadata: HashMap<String, String>,
    pid: Pid,
    process_id: ProcessId,
}

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/benchmarks/serial/NestedStructValue")]
struct Nested {
    name: String,
    id: i32,
    complex: Complex,
    complex_map: HashMap<String, Complex>,
    nested_map: HashMap<String, String>,
}

fn strings(kv: &[(&str, &str)]) -> HashMap<String, String> {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn string_value() -> String {
    "Ergo Framework".to_string()
}

fn map_value() -> HashMap<String, Item> {
    let item = |name: &str, id| Item {
        name: name.into(),
        id,
    };
    HashMap::from([
        ("key1".to_string(), item("test1", 123)),
        ("key2".to_string(), item("test2", 456)),
    ])
}

fn complex_value() -> Complex {
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

fn nested_value() -> Nested {
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

struct Caches {
    encode: EncodeCaches,
    decode: DecodeCaches,
}

fn caches() -> Result<Caches, String> {
    // Nested types before the types that contain them.
    let reg = |r: Result<_, ergo_edf::RegisterError>| r.map_err(|e| format!("registering: {e}"));
    reg(ergo_edf::ensure_registered::<Item>())?;
    reg(ergo_edf::ensure_registered::<Complex>())?;
    reg(ergo_edf::ensure_registered::<Nested>())?;
    let node1 = Atom::new("node1");
    let types: Vec<(u16, String)> = ergo_edf::registry::registered_types()
        .iter()
        .filter_map(|t| t.cache_id().map(|id| (id, t.name().to_string())))
        .collect();
    Ok(Caches {
        encode: EncodeCaches::default()
            .with_atoms([(node1, 256)])
            .with_registered_types()
            .with_registered_errors(),
        decode: DecodeCaches::default()
            .with_atoms([(256, node1)])
            .with_types(types.iter().map(|(id, name)| (*id, name.as_str())))
            .with_registered_errors(),
    })
}

/// Runs `f` for about `budget`: the median ns per call of five timed batches, and the calls
/// made in all.
fn time_op(budget: Duration, mut f: impl FnMut()) -> (f64, u64) {
    // Warm up, and find a batch size that takes about a fifth of the budget.
    let mut batch = 1u64;
    let slice = budget / 5;
    loop {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        let e = t.elapsed();
        if e >= slice / 4 || batch >= 1 << 30 {
            let scale = slice.as_secs_f64() / e.as_secs_f64().max(1e-9);
            batch = ((batch as f64 * scale) as u64).max(1);
            break;
        }
        batch *= 2;
    }
    let mut per_op = Vec::with_capacity(5);
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        per_op.push(t.elapsed().as_nanos() as f64 / batch as f64);
    }
    per_op.sort_by(|a, b| a.total_cmp(b));
    (per_op[2], batch * 5)
}

/// Encode and decode of one value, plain and cached.
fn case<T: Edf + PartialEq + std::fmt::Debug>(
    name: &'static str,
    value: &T,
    caches: &Caches,
    budget: Duration,
    out: &mut Vec<Outcome>,
) -> Result<(), String> {
    let modes: [(bool, &EncodeCaches, &DecodeCaches); 2] = [
        (false, EncodeCaches::none(), DecodeCaches::none()),
        (true, &caches.encode, &caches.decode),
    ];
    for (cached, ec, dc) in modes {
        let mut buf = Vec::with_capacity(1024);
        ergo_edf::encode(value, &mut buf, ec).map_err(|e| format!("{name}: encode: {e}"))?;
        let bytes = buf.clone();
        let (back, used) =
            ergo_edf::decode::<T>(&bytes, dc).map_err(|e| format!("{name}: decode: {e}"))?;
        if &back != value || used != bytes.len() {
            return Err(format!("{name}: the value did not survive a round trip"));
        }

        let mut encode = || {
            buf.clear();
            let r = ergo_edf::encode(black_box(value), &mut buf, ec);
            black_box(r.is_ok());
        };
        let (allocs, ()) = alloc_count::count(&mut encode);
        let (ns, iterations) = time_op(budget, &mut encode);
        out.push(Outcome::Serial(SerialFigures {
            case: name,
            op: "encode",
            cached,
            ns_per_op: ns,
            allocs_per_op: allocs as f64,
            bytes: bytes.len(),
            iterations,
        }));

        let decode = || {
            let r = ergo_edf::decode::<T>(black_box(&bytes), dc);
            black_box(r.is_ok());
        };
        let (allocs, ()) = alloc_count::count(decode);
        let (ns, iterations) = time_op(budget, decode);
        out.push(Outcome::Serial(SerialFigures {
            case: name,
            op: "decode",
            cached,
            ns_per_op: ns,
            allocs_per_op: allocs as f64,
            bytes: bytes.len(),
            iterations,
        }));
    }
    Ok(())
}

/// Every case, each operation timed for about `budget`.
pub fn run(budget: Duration) -> Result<Vec<Outcome>, String> {
    let caches = caches()?;
    let progress = Progress::items(4, "serial");
    let mut out = Vec::with_capacity(16);
    case("string", &string_value(), &caches, budget, &mut out)?;
    progress.set(1);
    case("map", &map_value(), &caches, budget, &mut out)?;
    progress.set(2);
    case("complex", &complex_value(), &caches, budget, &mut out)?;
    progress.set(3);
    case("nested", &nested_value(), &caches, budget, &mut out)?;
    Ok(out)
}
