//! How many heap allocations a decode makes (the Go serial benchmark's Complex value: Go makes
//! 40). Counted with a counting global allocator; its own test binary.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;

use ergo_edf::{
    ensure_registered, Atom, CompactString, DecodeCaches, Edf, EncodeCaches, Pid, ProcessId,
};

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts calls on this thread.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCS.with(Cell::get);
    let r = f();
    (r, ALLOCS.with(Cell::get) - before)
}

#[derive(Edf, Debug, PartialEq)]
#[edf(name = "#alloc_test/Complex")]
struct Complex {
    name: String,
    id: i32,
    tags: Vec<String>,
    metadata: HashMap<String, String>,
    pid: Pid,
    process_id: ProcessId,
}

#[derive(Edf, Debug, PartialEq)]
#[edf(name = "#alloc_test/CompactComplex")]
struct CompactComplex {
    name: CompactString,
    id: i32,
    tags: Vec<CompactString>,
    metadata: HashMap<CompactString, CompactString>,
    pid: Pid,
    process_id: ProcessId,
}

fn caches() -> (EncodeCaches, DecodeCaches) {
    let node = Atom::new("node1");
    let enc = EncodeCaches::default()
        .with_atoms([(node, 256)])
        .with_registered_types();
    let ids: Vec<(u16, String)> = ergo_edf::registry::registered_types()
        .iter()
        .map(|t| (t.cache_id().unwrap(), t.name().to_string()))
        .collect();
    let dec = DecodeCaches::default()
        .with_atoms([(256, node)])
        .with_types(ids.iter().map(|(i, n)| (*i, n.as_str())));
    (enc, dec)
}

#[test]
fn complex_decode_allocates_once_per_owned_string_and_container() {
    ensure_registered::<Complex>().unwrap();
    ensure_registered::<CompactComplex>().unwrap();
    let node = Atom::new("node1");
    let _ = Atom::new("process1");
    let (enc, dec) = caches();

    let v = Complex {
        name: "test".into(),
        id: 123,
        tags: vec!["tag1".into(), "tag2".into()],
        metadata: HashMap::from([
            ("key1".into(), "value1".into()),
            ("key2".into(), "value2".into()),
        ]),
        pid: Pid::new(node, 1, 1),
        process_id: ProcessId::new(Atom::new("process1"), node),
    };
    let mut bytes = Vec::with_capacity(256);
    ergo_edf::encode(&v, &mut bytes, &enc).unwrap();
    let ((back, _), n) = count(|| ergo_edf::decode::<Complex>(&bytes, &dec).unwrap());
    assert_eq!(back, v);
    // 7 strings + the Vec + the HashMap table; atoms are interned, PIDs are plain values.
    assert_eq!(n, 9, "std String fields");

    let c = CompactComplex {
        name: "test".into(),
        id: 123,
        tags: vec!["tag1".into(), "tag2".into()],
        metadata: HashMap::from([
            ("key1".into(), "value1".into()),
            ("key2".into(), "value2".into()),
        ]),
        pid: Pid::new(node, 1, 1),
        process_id: ProcessId::new(Atom::new("process1"), node),
    };
    let mut cbytes = Vec::with_capacity(256);
    ergo_edf::encode(&c, &mut cbytes, &enc).unwrap();
    let ((cback, _), n) = count(|| ergo_edf::decode::<CompactComplex>(&cbytes, &dec).unwrap());
    assert_eq!(cback, c);
    assert_eq!(
        n, 2,
        "CompactString fields: only the Vec and the HashMap table"
    );

    // Encoding into a buffer with room allocates nothing.
    let mut out = Vec::with_capacity(256);
    let (_, n) = count(|| ergo_edf::encode(&v, &mut out, &enc).unwrap());
    assert_eq!(n, 0);
}
