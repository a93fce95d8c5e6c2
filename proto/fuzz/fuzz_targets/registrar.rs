//! Registrar packets (TCP reads and UDP datagrams) from arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ergo_proto::register_framework_types().unwrap();
    let mut buf = data;
    while let Ok((p, n)) = ergo_proto::registrar::Packet::decode(buf) {
        let _ = p.encode();
        buf = &buf[n..];
    }
});
