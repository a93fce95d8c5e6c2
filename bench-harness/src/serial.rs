//! `serial`: EDF encode and decode, ns/op and heap allocations per op, for the four cases of Go
//! Ergo's serial benchmark (String, Map, Complex, Nested), without caches (`plain`) and with a
//! connection's caches (`cached`: atom `node1` = 256, every registered type and error).
//!
//! The values are the shapes of `edf/benches/serial.rs` (Go's cached-benchmark values), with
//! Go's type names, so plain encodings are byte for byte what Go writes. Encoding appends to one
//! reused buffer, cleared each time, so the codec is measured rather than the allocator.
//! One output line per case, operation and cache mode: `serial-<case>-<op>[-cached]`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ergo_edf::{DecodeCaches, Edf, EncodeCaches};

use crate::alloc_count;
use crate::outcome::{Outcome, SerialFigures};
use crate::progress::Progress;

#[path = "../../edf/benches/serial/values.rs"]
mod values;

use values::{complex_value, map_value, nested_value, string_value};

struct Caches {
    encode: EncodeCaches,
    decode: DecodeCaches,
}

fn caches() -> Result<Caches, String> {
    values::register().map_err(|e| format!("registering: {e}"))?;
    let (encode, decode) = values::caches();
    Ok(Caches { encode, decode })
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
