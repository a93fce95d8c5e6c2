//! The four cases of Go Ergo's serial benchmark (`ergo.services/benchmarks/serial`): String, Map,
//! Complex and Nested, each encoded and decoded, without caches and with a connection's caches
//! (atom `node1` = 256, every registered type, every registered error). The same values with
//! `CompactString` in place of `String` are also decoded (`edf/decode/<case>_compact/...`).
//!
//! Encoding appends to one reused buffer (cleared each iteration), so the codec is measured, not
//! the allocator. At start the number of heap allocations per encode and per decode of each case
//! is printed (counted by a global allocator wrapper that only counts while asked to).

use std::alloc::{GlobalAlloc, Layout};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use criterion::{criterion_group, criterion_main, Criterion};
use ergo_edf::{CompactString, DecodeCaches, Edf, EncodeCaches, Pid, ProcessId};

// ---------------------------------------------------------------------------------------------
// Allocation counting
// ---------------------------------------------------------------------------------------------

struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to mimalloc (the allocator the project's binaries use).
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to mimalloc (the allocator the project's binaries use).
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to mimalloc (the allocator the project's binaries use).
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to mimalloc (the allocator the project's binaries use).
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Heap allocations (allocs + reallocs) made by `f`.
fn count_allocs<R>(f: impl FnOnce() -> R) -> usize {
    ALLOCS.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let r = f();
    COUNTING.store(false, Ordering::Relaxed);
    drop(black_box(r));
    ALLOCS.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------------------------------------
// The benchmark's types and values
// ---------------------------------------------------------------------------------------------

#[path = "serial/values.rs"]
mod values;

use values::{complex_value, map_value, nested_value, string_value, Complex, Item, Nested};

// The same values with `CompactString` (no allocation up to 24 bytes) instead of `String`;
// decode-only benchmarks `<case>_compact`.

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/benchmarks/serial/CompactItem")]
struct CompactItem {
    name: CompactString,
    id: i32,
}

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/benchmarks/serial/CompactComplex")]
struct CompactComplex {
    name: CompactString,
    id: i32,
    tags: Vec<CompactString>,
    metadata: HashMap<CompactString, CompactString>,
    pid: Pid,
    process_id: ProcessId,
}

#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/benchmarks/serial/CompactNested")]
struct CompactNested {
    name: CompactString,
    id: i32,
    complex: CompactComplex,
    complex_map: HashMap<CompactString, CompactComplex>,
    nested_map: HashMap<CompactString, CompactString>,
}

fn compact(s: &str) -> CompactString {
    CompactString::from(s)
}

fn compact_map(m: &HashMap<String, String>) -> HashMap<CompactString, CompactString> {
    m.iter().map(|(k, v)| (compact(k), compact(v))).collect()
}

fn compact_complex(c: &Complex) -> CompactComplex {
    CompactComplex {
        name: compact(&c.name),
        id: c.id,
        tags: c.tags.iter().map(|t| compact(t)).collect(),
        metadata: compact_map(&c.metadata),
        pid: c.pid,
        process_id: c.process_id,
    }
}

fn compact_item_map(m: &HashMap<String, Item>) -> HashMap<CompactString, CompactItem> {
    m.iter()
        .map(|(k, v)| {
            (
                compact(k),
                CompactItem {
                    name: compact(&v.name),
                    id: v.id,
                },
            )
        })
        .collect()
}

fn compact_nested(n: &Nested) -> CompactNested {
    CompactNested {
        name: compact(&n.name),
        id: n.id,
        complex: compact_complex(&n.complex),
        complex_map: n
            .complex_map
            .iter()
            .map(|(k, v)| (compact(k), compact_complex(v)))
            .collect(),
        nested_map: compact_map(&n.nested_map),
    }
}

// ---------------------------------------------------------------------------------------------
// Caches
// ---------------------------------------------------------------------------------------------

struct Caches {
    encode: EncodeCaches,
    decode: DecodeCaches,
}

fn caches() -> Caches {
    values::register().unwrap();
    ergo_edf::ensure_registered::<CompactItem>().unwrap();
    ergo_edf::ensure_registered::<CompactComplex>().unwrap();
    ergo_edf::ensure_registered::<CompactNested>().unwrap();
    let (encode, decode) = values::caches();
    Caches { encode, decode }
}

// ---------------------------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------------------------

/// Encode (unless `decode_only`) and decode benchmarks of one case, without and with caches.
fn bench_case<T: Edf + PartialEq + std::fmt::Debug>(
    c: &mut Criterion,
    name: &str,
    value: &T,
    caches: &Caches,
    decode_only: bool,
) {
    let modes: [(&str, &EncodeCaches, &DecodeCaches); 2] = [
        ("plain", EncodeCaches::none(), DecodeCaches::none()),
        ("cached", &caches.encode, &caches.decode),
    ];
    for (mode, ec, dc) in modes {
        let mut buf = Vec::with_capacity(1024);
        ergo_edf::encode(value, &mut buf, ec).unwrap();
        let bytes = buf.clone();
        let (back, used) = ergo_edf::decode::<T>(&bytes, dc).unwrap();
        assert_eq!(&back, value);
        assert_eq!(used, bytes.len());

        let enc_allocs = count_allocs(|| {
            buf.clear();
            ergo_edf::encode(value, &mut buf, ec).unwrap();
        });
        let dec_allocs = count_allocs(|| ergo_edf::decode::<T>(&bytes, dc).unwrap());
        eprintln!(
            "edf/{name}/{mode}: {} bytes; allocations per encode (reused buffer): {enc_allocs}, per decode: {dec_allocs}",
            bytes.len()
        );

        if !decode_only {
            c.benchmark_group(format!("edf/encode/{name}"))
                .bench_function(mode, |b| {
                    b.iter(|| {
                        buf.clear();
                        ergo_edf::encode(black_box(value), &mut buf, ec).unwrap();
                        black_box(buf.len())
                    })
                });
        }
        c.benchmark_group(format!("edf/decode/{name}"))
            .bench_function(mode, |b| {
                b.iter(|| ergo_edf::decode::<T>(black_box(&bytes), dc).unwrap())
            });
    }
}

fn serial(c: &mut Criterion) {
    let caches = caches();
    let (string, map, complex, nested) =
        (string_value(), map_value(), complex_value(), nested_value());
    bench_case(c, "string", &string, &caches, false);
    bench_case(c, "map", &map, &caches, false);
    bench_case(c, "complex", &complex, &caches, false);
    bench_case(c, "nested", &nested, &caches, false);
    bench_case(c, "string_compact", &compact(&string), &caches, true);
    bench_case(c, "map_compact", &compact_item_map(&map), &caches, true);
    bench_case(
        c,
        "complex_compact",
        &compact_complex(&complex),
        &caches,
        true,
    );
    bench_case(c, "nested_compact", &compact_nested(&nested), &caches, true);
}

criterion_group!(benches, serial);
criterion_main!(benches);
