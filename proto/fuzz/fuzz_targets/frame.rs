//! ENP receive path on arbitrary bytes: cut frames from a stream with a size limit, parse each,
//! inflate compressed ones (bounded), and decode payloads with a peer's caches.
#![no_main]

use std::sync::OnceLock;

use ergo_edf::{Atom, DecodeCaches, Decoder, Value};
use ergo_proto::frame::{frame_len, Frame, Message};

fn caches() -> &'static DecodeCaches {
    static C: OnceLock<DecodeCaches> = OnceLock::new();
    C.get_or_init(|| {
        ergo_proto::register_framework_types().unwrap();
        let types: Vec<(u16, String)> = ergo_edf::registry::registered_types()
            .iter()
            .filter_map(|t| Some((t.cache_id()?, t.name().to_string())))
            .collect();
        DecodeCaches::default()
            .with_atoms([(256, Atom::new("peer@localhost"))])
            .with_types(types.iter().map(|(id, n)| (*id, n.as_str())))
            .with_registered_errors()
    })
}

fn payload(f: &Frame<'_>) {
    let mut d = Decoder::new(f.payload, caches());
    let _ = Value::decode_tagged(&mut d);
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut buf = data;
    while let Ok(Some(n)) = frame_len(buf, 1 << 20) {
        if n > buf.len() {
            break;
        }
        let (one, rest) = buf.split_at(n);
        buf = rest;
        let Ok(f) = Frame::parse(one) else { continue };
        if let Message::Compressed { algorithm, original_len } = f.message {
            if let Ok(inner) = ergo_proto::compression::decompress(algorithm, original_len, f.payload, 1 << 20) {
                if let Ok(fi) = Frame::parse(&inner) {
                    payload(&fi);
                }
            }
        } else {
            payload(&f);
        }
    }
});
