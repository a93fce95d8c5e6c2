//! Compressed frames (ENP type 200, wire-spec §6.9 and §7): the *whole* original frame, header
//! included, compressed with GZIP or ZLIB (`flate2`) or LZW (`weezl`, LSB bit order, 8-bit
//! literals, as Go's `compress/lzw`).
//!
//! Decompression is bounded: the announced original length is checked against the caller's
//! limit before anything is allocated, and the stream is cut off one byte past it (a frame whose
//! stream inflates to more or fewer bytes than announced is an error), so a small hostile frame
//! cannot inflate into unbounded memory.

use std::io::{Read, Write};

use crate::frame::{self, FrameError, Message};

/// Compression algorithms of type-200 frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Go `compress/lzw`, LSB, literal width 8 (byte 100).
    Lzw,
    /// RFC 1950 (byte 101).
    Zlib,
    /// RFC 1952 (byte 102).
    Gzip,
}

impl Algorithm {
    /// The algorithm byte.
    pub fn byte(self) -> u8 {
        match self {
            Algorithm::Lzw => 100,
            Algorithm::Zlib => 101,
            Algorithm::Gzip => 102,
        }
    }
    /// From the algorithm byte.
    pub fn from_byte(b: u8) -> Option<Algorithm> {
        match b {
            100 => Some(Algorithm::Lzw),
            101 => Some(Algorithm::Zlib),
            102 => Some(Algorithm::Gzip),
            _ => None,
        }
    }
    /// From Go's `gen.CompressionType` text ("gzip", "zlib", "lzw"); anything else is GZIP, as in Go.
    pub fn from_go_name(s: &str) -> Algorithm {
        match s {
            "lzw" => Algorithm::Lzw,
            "zlib" => Algorithm::Zlib,
            _ => Algorithm::Gzip,
        }
    }
}

/// Go's compression levels: 0 default, 1 best speed, 2 best size.
fn flate_level(level: isize) -> flate2::Compression {
    match level {
        1 => flate2::Compression::fast(),
        2 => flate2::Compression::best(),
        _ => flate2::Compression::default(),
    }
}

fn compression_error(e: impl std::fmt::Display) -> FrameError {
    FrameError::Compression(e.to_string())
}

/// Compresses `bytes` (a whole frame) with `algorithm` at Go `level`.
pub fn compress(bytes: &[u8], algorithm: Algorithm, level: isize) -> Result<Vec<u8>, FrameError> {
    match algorithm {
        Algorithm::Lzw => weezl::encode::Encoder::new(weezl::BitOrder::Lsb, 8)
            .encode(bytes)
            .map_err(compression_error),
        Algorithm::Zlib => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate_level(level));
            e.write_all(bytes).map_err(compression_error)?;
            e.finish().map_err(compression_error)
        }
        Algorithm::Gzip => {
            let mut e = flate2::GzBuilder::new()
                .operating_system(255)
                .write(Vec::new(), flate_level(level));
            e.write_all(bytes).map_err(compression_error)?;
            e.finish().map_err(compression_error)
        }
    }
}

/// Wraps a whole frame into a type-200 frame appended to `out` (the order byte is copied).
pub fn compress_frame(
    frame_bytes: &[u8],
    algorithm: Algorithm,
    level: isize,
    out: &mut Vec<u8>,
) -> Result<(), FrameError> {
    let order = *frame_bytes
        .get(6)
        .ok_or(FrameError::BadLength(frame_bytes.len() as u32))?;
    let original_len =
        u32::try_from(frame_bytes.len()).map_err(|_| FrameError::BadLength(u32::MAX))?;
    let data = compress(frame_bytes, algorithm, level)?;
    let start = frame::begin(
        order,
        &Message::Compressed {
            algorithm: algorithm.byte(),
            original_len,
        },
        out,
    )?;
    out.extend_from_slice(&data);
    frame::finish(out, start)
}

/// Inflates `data` that must decompress to exactly `original_len` bytes, at most `max_len`
/// (0 = no limit other than the u32 length).
pub fn decompress(
    algorithm: u8,
    original_len: u32,
    data: &[u8],
    max_len: u64,
) -> Result<Vec<u8>, FrameError> {
    let want = original_len as usize;
    if max_len > 0 && u64::from(original_len) > max_len {
        return Err(FrameError::TooLarge {
            len: u64::from(original_len),
            max: max_len,
        });
    }
    let algorithm = Algorithm::from_byte(algorithm)
        .ok_or_else(|| FrameError::Compression(format!("unknown algorithm {algorithm}")))?;
    // Never trust the announced length for the initial allocation beyond what a sane ratio allows.
    let cap = want.min(data.len().saturating_mul(64).max(4096));
    let mut out = Vec::with_capacity(cap);
    let limit = u64::from(original_len) + 1;
    match algorithm {
        Algorithm::Zlib => {
            flate2::read::ZlibDecoder::new(data)
                .take(limit)
                .read_to_end(&mut out)
                .map_err(compression_error)?;
        }
        Algorithm::Gzip => {
            flate2::read::GzDecoder::new(data)
                .take(limit)
                .read_to_end(&mut out)
                .map_err(compression_error)?;
        }
        Algorithm::Lzw => {
            let mut dec = weezl::decode::Decoder::new(weezl::BitOrder::Lsb, 8);
            let mut input = data;
            let mut chunk = [0u8; 8192];
            loop {
                let r = dec.decode_bytes(input, &mut chunk);
                input = &input[r.consumed_in..];
                out.extend_from_slice(&chunk[..r.consumed_out]);
                if out.len() > want {
                    break;
                }
                match r.status.map_err(compression_error)? {
                    weezl::LzwStatus::Done => break,
                    weezl::LzwStatus::NoProgress if input.is_empty() => break,
                    weezl::LzwStatus::NoProgress if r.consumed_out == 0 && r.consumed_in == 0 => {
                        return Err(FrameError::Compression(
                            "LZW stream makes no progress".into(),
                        ))
                    }
                    _ => {}
                }
            }
        }
    }
    if out.len() != want {
        return Err(FrameError::Compression(format!(
            "inflated to {}{} bytes, announced {want}",
            out.len().min(want + 1),
            if out.len() > want { "+" } else { "" }
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hexv(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const TOBE: &[u8] = b"TOBEORNOTTOBEORTOBEORNOT";

    #[test]
    fn go_vectors_of_the_spec_decompress() {
        // The bytes after offset 13 of type-200 frames Go produced (wire-spec section 7).
        let lzw = hexv("00 a9 3c 11 52 e4 89 14 27 4f a8 08 24 68 70 61 c1 83 09 03 02");
        assert_eq!(decompress(100, 24, &lzw, 0).unwrap(), TOBE);
        let a32 = hexv("00 c3 08 1c 48 b0 a0 c1 83 04 03 02");
        assert_eq!(decompress(100, 32, &a32, 0).unwrap(), vec![b'a'; 32]);
        let zlib =
            hexv("78 9c 0a f1 77 72 f5 0f f2 f3 0f 81 30 e0 5c 40 00 00 00 ff ff 5a 97 07 44");
        assert_eq!(decompress(101, 24, &zlib, 0).unwrap(), TOBE);
        let gzip = hexv("1f 8b 08 00 00 00 00 00 00 ff 0a f1 77 72 f5 0f f2 f3 0f 81 30 e0 5c 40 00 00 00 ff ff f1 4e 3d 2d 18 00 00 00");
        assert_eq!(decompress(102, 24, &gzip, 0).unwrap(), TOBE);
    }

    #[test]
    fn every_algorithm_round_trips() {
        let data: Vec<u8> = (0..50_000u32)
            .map(|i| (i % 251) as u8 ^ (i / 1000) as u8)
            .collect();
        for a in [Algorithm::Lzw, Algorithm::Zlib, Algorithm::Gzip] {
            for level in 0..3 {
                let c = compress(&data, a, level).unwrap();
                assert!(c.len() < data.len());
                assert_eq!(
                    decompress(a.byte(), data.len() as u32, &c, 0).unwrap(),
                    data,
                    "{a:?} {level}"
                );
            }
        }
    }

    #[test]
    fn a_lying_length_or_a_bomb_is_refused() {
        let zeros = vec![0u8; 1 << 20];
        let c = compress(&zeros, Algorithm::Zlib, 2).unwrap();
        // Announced 1 KiB, inflates to 1 MiB: stops at 1 KiB + 1 and fails.
        assert!(matches!(
            decompress(101, 1024, &c, 0),
            Err(FrameError::Compression(_))
        ));
        // Announced above the limit: refused before inflating.
        assert!(matches!(
            decompress(101, 1 << 20, &c, 4096),
            Err(FrameError::TooLarge { .. })
        ));
        // Garbage.
        assert!(decompress(102, 10, b"not gzip at all", 0).is_err());
        assert!(decompress(100, 10, &[0xff; 20], 0).is_err());
        assert!(decompress(7, 10, &[0; 20], 0).is_err());
    }
}
