//! `Value::decode_tagged` over arbitrary bytes, without caches and with a connection's caches:
//! must return `Ok` or `Err`, never panic, hang or blow up memory. The bytes allocated while
//! decoding are counted: more than `AMPLIFICATION` times the input (plus a floor) is a failure,
//! so inputs that make the decoder build far more than they carry are caught while small.
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ergo_edf::{DecodeCaches, Decoder, Value};
use ergo_edf_fuzz::caches;
use libfuzzer_sys::fuzz_target;

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            BYTES.fetch_add(new_size, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allowed bytes allocated per input byte. A `Value` is a few dozen bytes, so honest inputs stay
/// well below this.
const AMPLIFICATION: usize = 8192;
/// Allowed allocation regardless of the input size: the decoder may make up to
/// `MAX_EMPTY_ELEMENTS` (4096) elements without bytes (`[N][0]T`), a few dozen bytes each.
const FLOOR: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    for dc in [DecodeCaches::none(), &caches().decode] {
        BYTES.store(0, Ordering::Relaxed);
        COUNTING.store(true, Ordering::Relaxed);
        let mut dec = Decoder::new(data, dc);
        let r = Value::decode_tagged(&mut dec);
        COUNTING.store(false, Ordering::Relaxed);
        let allocated = BYTES.load(Ordering::Relaxed);
        assert!(
            allocated <= FLOOR + AMPLIFICATION * data.len(),
            "decoding {} bytes allocated {allocated} bytes",
            data.len()
        );
        if r.is_ok() {
            assert!(dec.position() <= data.len());
        }
        drop(r);
    }
});
