//! Replays transcripts of real Go nodes (`net_*.json`, `registrar.json` schema) through the
//! sans-IO protocol code:
//!
//! - every recorded byte stream is cut into handshake messages, ENP frames or registrar packets
//!   by our readers, at exactly the offsets Go's frames were recorded at;
//! - every handshake message decodes and re-encodes (maps compared after decoding: Go's map order
//!   is random), and every digest verifies with the transcript's cookie;
//! - every ENP frame parses, its fixed part re-encodes to the same bytes (the unused delivery-ID
//!   slot masked), and its EDF payload decodes with the sender's announced caches and re-encodes
//!   with them; compressed frames inflate to the recorded original;
//! - every registrar packet decodes and re-encodes to the same bytes.
//!
//! A frame whose payload holds a registered type this process does not know is skipped.

use std::collections::HashMap;
use std::path::Path;

use ergo_edf::{DecodeCaches, DecodeError, Decoder, EncodeCaches, Value};
use ergo_proto::compression;
use ergo_proto::frame::{self, Frame, Message as Enp};
use ergo_proto::handshake::{self, digest, Message as Hs, MessageIntroduce, Peer};
use ergo_proto::registrar::Packet;
use serde_json::Value as Json;

/// What a run found.
#[derive(Default, Debug)]
pub struct Summary {
    /// Frames that behaved.
    pub passed: usize,
    /// `file/frame: reason`.
    pub failed: Vec<String>,
    /// `file/frame: reason`.
    pub skipped: Vec<String>,
}

impl Summary {
    /// The last line.
    pub fn line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed,
            self.failed.len(),
            self.skipped.len()
        )
    }
}

enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

/// One direction of one recorded TCP connection (or one UDP datagram).
struct Stream {
    conn: u64,
    direction: String,
    transport: String,
    bytes: Vec<u8>,
}

fn streams(json: &Json) -> Result<Vec<Stream>, String> {
    let mut out = Vec::new();
    for c in json["connections"].as_array().ok_or("no connections")? {
        let mut bytes = Vec::new();
        for ch in c["chunks"].as_array().ok_or("no chunks")? {
            bytes.extend(
                hex::decode(ch["hex"].as_str().ok_or("chunk without hex")?)
                    .map_err(|e| e.to_string())?,
            );
        }
        out.push(Stream {
            conn: c["index"].as_u64().ok_or("connection without index")?,
            direction: c["direction"].as_str().unwrap_or("").to_string(),
            transport: c["transport"].as_str().unwrap_or("tcp").to_string(),
            bytes,
        });
    }
    Ok(out)
}

/// Runs one transcript file.
pub fn run_file(path: &Path, summary: &mut Summary) -> Result<(), String> {
    crate::twins::register_all().map_err(|e| format!("registering types: {e}"))?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: Json = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let frames = json["frames"].as_array().ok_or("no frames")?;
    let mut replay = Replay {
        cookie: json["cookie"].as_str().unwrap_or("").to_string(),
        ..Default::default()
    };
    let recorded = streams(&json)?;
    // Frames in recorded order; handshakes come before the ENP frames that need their caches.
    let mut order: Vec<&Json> = frames.iter().collect();
    order.sort_by(|a, b| {
        a["t_ms"]
            .as_f64()
            .partial_cmp(&b["t_ms"].as_f64())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    for f in &order {
        let label = format!(
            "{file}/conn{}/{}#{} {}",
            f["conn"],
            f["direction"].as_str().unwrap_or(""),
            f["seq"],
            f["type_name"].as_str().unwrap_or("")
        );
        // The recorded stream is authoritative (a frame's own `hex` is abridged for big frames).
        let bytes = recorded
            .iter()
            .find(|s| {
                f["conn"].as_u64() == Some(s.conn)
                    && f["direction"].as_str() == Some(s.direction.as_str())
            })
            .and_then(|s| {
                let at = f["stream_offset"].as_u64()? as usize;
                s.bytes.get(at..at + f["length"].as_u64()? as usize)
            });
        let Some(bytes) = bytes else {
            summary
                .failed
                .push(format!("{label}: not found in the recorded streams"));
            continue;
        };
        match replay.frame(f, bytes) {
            Outcome::Pass => summary.passed += 1,
            Outcome::Fail(r) => summary.failed.push(format!("{label}: {r}")),
            Outcome::Skip(r) => summary.skipped.push(format!("{label}: {r}")),
        }
    }
    // Our readers must cut every recorded stream exactly where Go's frames are.
    for s in recorded {
        let label = format!("{file}/conn{}/{} stream", s.conn, s.direction);
        let recorded: Vec<(usize, usize)> = frames
            .iter()
            .filter(|f| {
                f["conn"].as_u64() == Some(s.conn)
                    && f["direction"].as_str() == Some(s.direction.as_str())
            })
            .map(|f| {
                (
                    f["stream_offset"].as_u64().unwrap_or(0) as usize,
                    f["length"].as_u64().unwrap_or(0) as usize,
                )
            })
            .collect();
        match cut(&s) {
            Ok(ours) if ours == recorded => summary.passed += 1,
            Ok(ours) => summary
                .failed
                .push(format!("{label}: cut into {ours:?}, recorded {recorded:?}")),
            Err(e) => summary.failed.push(format!("{label}: {e}")),
        }
    }
    Ok(())
}

/// Cuts a stream with our readers: `(offset, length)` of every message.
fn cut(s: &Stream) -> Result<Vec<(usize, usize)>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    let b = &s.bytes;
    while at < b.len() {
        let rest = &b[at..];
        let n = match rest[0] {
            handshake::MAGIC => {
                match handshake::decode(rest).map_err(|e| format!("at {at}: {e}"))? {
                    Some((_, n)) => n,
                    None => return Err(format!("incomplete handshake message at {at}")),
                }
            }
            frame::MAGIC => match frame::frame_len(rest, 0).map_err(|e| format!("at {at}: {e}"))? {
                Some(n) if n <= rest.len() => n,
                _ => return Err(format!("incomplete ENP frame at {at}")),
            },
            ergo_proto::registrar::VERSION => {
                Packet::decode(rest).map_err(|e| format!("at {at}: {e}"))?.1
            }
            x => return Err(format!("unknown byte 0x{x:02x} at {at}")),
        };
        out.push((at, n));
        at += n;
        if s.transport == "udp" {
            break;
        }
    }
    Ok(out)
}

#[derive(Default)]
struct Replay {
    cookie: String,
    /// Per connection: the dialer's Hello digest and the acceptor's salt.
    hello_digest: HashMap<u64, String>,
    acceptor_salt: HashMap<u64, String>,
    join_digest: HashMap<u64, String>,
    /// Per sending side ("a"/"b" = first letter of the direction): its Introduce.
    introduced: HashMap<String, (DecodeCaches, EncodeCaches)>,
}

fn sender(direction: &str) -> String {
    direction.split("->").next().unwrap_or("").to_string()
}

fn encode_caches_of(intro: &MessageIntroduce) -> EncodeCaches {
    let mut c = EncodeCaches::default();
    if let Some(a) = &intro.atom_cache {
        c = c.with_atoms(a.iter().map(|(id, a)| (*a, *id)));
    }
    if let Some(r) = &intro.reg_cache {
        c = c.with_types(r.iter().map(|(id, n)| (n.as_str(), *id)));
    }
    if let Some(e) = &intro.err_cache {
        c = c.with_errors(e.iter().map(|(id, e)| (e.clone(), *id)));
    }
    c
}

impl Replay {
    fn frame(&mut self, f: &Json, bytes: &[u8]) -> Outcome {
        match f["layer"].as_str().unwrap_or("") {
            "handshake" => self.handshake(f, bytes),
            "enp" => self.enp(f, bytes),
            l if l.starts_with("registrar") => registrar(bytes),
            l => Outcome::Skip(format!("layer {l}")),
        }
    }

    fn handshake(&mut self, f: &Json, bytes: &[u8]) -> Outcome {
        let conn = f["conn"].as_u64().unwrap_or(0);
        let direction = f["direction"].as_str().unwrap_or("");
        let msg = match handshake::decode(bytes) {
            Ok(Some((m, n))) if n == bytes.len() => m,
            Ok(Some((_, n))) => {
                return Outcome::Fail(format!("message took {n} of {} bytes", bytes.len()))
            }
            Ok(None) => return Outcome::Fail("incomplete".into()),
            Err(e) => return Outcome::Fail(e.to_string()),
        };
        let mut again = Vec::new();
        if let Err(e) = handshake::encode(&msg, &mut again) {
            return Outcome::Fail(format!("re-encode: {e}"));
        }
        if again != bytes {
            // Only map order may differ (the caches of Introduce).
            match handshake::decode(&again) {
                Ok(Some((m2, _))) if m2 == msg && matches!(msg, Hs::Introduce(_)) => {}
                _ => return Outcome::Fail("re-encoded bytes differ".into()),
            }
        }
        let cookie = self.cookie.clone();
        let check = |ok: bool, what: &str| {
            if ok {
                Outcome::Pass
            } else {
                Outcome::Fail(format!("{what} digest mismatch"))
            }
        };
        match msg {
            Hs::Hello(h) if !self.hello_digest.contains_key(&conn) => {
                self.hello_digest.insert(conn, h.digest.clone());
                check(h.digest == digest::hello(&h.salt, &cookie), "dialer hello")
            }
            Hs::Hello(h) => {
                self.acceptor_salt.insert(conn, h.salt.clone());
                let ok =
                    h.digest == digest::hello_reply(&h.salt, &self.hello_digest[&conn], &cookie);
                check(ok && h.digest_cert.is_empty(), "acceptor hello")
            }
            Hs::Introduce(intro) => {
                let outcome = if intro.digest.is_empty() {
                    Outcome::Pass // the acceptor's Introduce carries no digest
                } else {
                    match self.acceptor_salt.get(&conn) {
                        Some(salt) => check(
                            intro.digest == digest::introduce(salt, &cookie),
                            "introduce",
                        ),
                        None => Outcome::Fail("introduce before the acceptor's hello".into()),
                    }
                };
                let enc = encode_caches_of(&intro);
                let peer = Peer::from_introduce(*intro);
                self.introduced
                    .insert(sender(direction), (peer.decode_caches, enc));
                outcome
            }
            Hs::Join(j) => {
                self.join_digest.insert(conn, j.digest.clone());
                check(
                    j.digest == digest::join(&j.connection_id, &j.salt, &cookie),
                    "join",
                )
            }
            Hs::Accept(a) => match self.join_digest.get(&conn) {
                Some(jd) => check(a.digest == digest::join_reply(jd, &cookie), "join accept"),
                None => check(a.digest.is_empty(), "accept"),
            },
        }
    }

    fn enp(&mut self, f: &Json, bytes: &[u8]) -> Outcome {
        let direction = f["direction"].as_str().unwrap_or("");
        let Some((dec, enc)) = self.introduced.get(&sender(direction)) else {
            return Outcome::Fail("ENP frame before the sender's Introduce".into());
        };
        let parsed = match Frame::parse(bytes) {
            Ok(p) => p,
            Err(e) => return Outcome::Fail(format!("parse: {e}")),
        };
        // The fixed part re-encodes to the same bytes (delivery slot masked when unused).
        let mut again = Vec::new();
        if let Err(e) = parsed.write(&mut again) {
            return Outcome::Fail(format!("write: {e}"));
        }
        if mask(bytes, &parsed) != mask(&again, &parsed) {
            return Outcome::Fail(format!(
                "re-written frame differs:\n want {}\n got  {}",
                hex::encode(bytes),
                hex::encode(&again)
            ));
        }
        if let Enp::Compressed {
            algorithm,
            original_len,
        } = parsed.message
        {
            let inner = match compression::decompress(algorithm, original_len, parsed.payload, 0) {
                Ok(i) => i,
                Err(e) => return Outcome::Fail(format!("decompress: {e}")),
            };
            if f["inner_hex"]
                .as_str()
                .map(hex::decode)
                .and_then(Result::ok)
                .as_deref()
                != Some(inner.as_slice())
            {
                return Outcome::Fail("inflated frame differs from the recorded original".into());
            }
            // Ours inflates back too.
            let Some(alg) = compression::Algorithm::from_byte(algorithm) else {
                return Outcome::Fail("unknown algorithm".into());
            };
            let mut z = Vec::new();
            if let Err(e) = compression::compress_frame(&inner, alg, 0, &mut z) {
                return Outcome::Fail(format!("compress: {e}"));
            }
            match Frame::parse(&z) {
                Ok(Frame {
                    message:
                        Enp::Compressed {
                            original_len: n, ..
                        },
                    payload,
                    ..
                }) => match compression::decompress(algorithm, n, payload, 0) {
                    Ok(b) if b == inner => {}
                    _ => return Outcome::Fail("our compressed frame does not inflate back".into()),
                },
                _ => return Outcome::Fail("our compressed frame does not parse".into()),
            }
            let inner_parsed = match Frame::parse(&inner) {
                Ok(p) => p,
                Err(e) => return Outcome::Fail(format!("inner parse: {e}")),
            };
            return payload_round_trip(&inner_parsed, dec, enc);
        }
        payload_round_trip(&parsed, dec, enc)
    }
}

/// The frame with its unused delivery-ID slot (garbage in Go's frames) zeroed.
fn mask(bytes: &[u8], f: &Frame<'_>) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let unused = match f.message {
        Enp::SendPid { delivery, .. }
        | Enp::SendName { delivery, .. }
        | Enp::SendAlias { delivery, .. } => delivery.is_none(),
        _ => false,
    };
    if unused && b.len() >= 25 {
        b[17..25].fill(0);
    }
    b
}

fn payload_round_trip(f: &Frame<'_>, dec: &DecodeCaches, enc: &EncodeCaches) -> Outcome {
    if let Enp::ResponseError { code, .. } = f.message {
        if code != 255 {
            return if f.payload.is_empty() {
                Outcome::Pass
            } else {
                Outcome::Fail("code without value has a payload".into())
            };
        }
    }
    let mut d = Decoder::new(f.payload, dec);
    let v = match Value::decode_tagged(&mut d) {
        Ok(v) => v,
        Err(DecodeError::UnknownRegType(t)) => {
            return Outcome::Skip(format!("registered type {t} unknown here"))
        }
        Err(e) => return Outcome::Fail(format!("payload decode: {e}")),
    };
    if d.position() != f.payload.len() {
        return Outcome::Fail(format!(
            "payload decode used {} of {} bytes",
            d.position(),
            f.payload.len()
        ));
    }
    let mut again = Vec::new();
    if let Err(e) = ergo_edf::encode(&v, &mut again, enc) {
        return Outcome::Fail(format!("payload re-encode: {e}"));
    }
    if again == f.payload {
        return Outcome::Pass;
    }
    match ergo_edf::decode::<Value>(&again, dec) {
        Ok((v2, _)) if v2.canonical() == v.canonical() => Outcome::Pass,
        _ => Outcome::Fail(format!(
            "payload re-encodes differently:\n want {}\n got  {}",
            hex::encode(f.payload),
            hex::encode(&again)
        )),
    }
}

fn registrar(bytes: &[u8]) -> Outcome {
    match Packet::decode(bytes) {
        Ok((p, n)) if n == bytes.len() => match p.encode() {
            Ok(again) if again == bytes => Outcome::Pass,
            Ok(again) => {
                Outcome::Fail(format!("re-encoded packet differs: {}", hex::encode(again)))
            }
            Err(e) => Outcome::Fail(format!("re-encode: {e}")),
        },
        Ok((_, n)) => Outcome::Fail(format!("packet took {n} of {} bytes", bytes.len())),
        Err(e) => Outcome::Fail(e.to_string()),
    }
}
