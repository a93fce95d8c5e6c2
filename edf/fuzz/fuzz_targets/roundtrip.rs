//! If arbitrary bytes decode to a `Value`, re-encoding it must succeed and decode to an equal
//! value (compared through the re-encoded bytes, so NaN floats compare equal).
#![no_main]

use ergo_edf_fuzz::{cache_pairs, check_value_roundtrip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for (dc, ec) in cache_pairs() {
        check_value_roundtrip(data, dc, ec);
    }
});
