//! `Value::decode_tagged` over arbitrary bytes, without caches and with a connection's caches:
//! must return `Ok` or `Err`, never panic, hang or blow up memory.
#![no_main]

use ergo_edf::{DecodeCaches, Decoder, Value};
use ergo_edf_fuzz::caches;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for dc in [DecodeCaches::none(), &caches().decode] {
        let mut dec = Decoder::new(data, dc);
        if Value::decode_tagged(&mut dec).is_ok() {
            assert!(dec.position() <= data.len());
        }
    }
});
