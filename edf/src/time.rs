//! `Time`: Go's `time.Time` as it travels in EDF (`MarshalBinary` format, wire-spec §3.7).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds from 0001-01-01T00:00:00Z to the Unix epoch.
pub const UNIX_TO_INTERNAL: i64 = 62_135_596_800;

/// A point in time with the zone offset Go attached to it.
///
/// Kept exactly as Go marshals it, so a time decoded from Go re-encodes to the same bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Time {
    /// Seconds since 0001-01-01T00:00:00Z.
    pub seconds: i64,
    /// Nanoseconds within the second (0..1e9).
    pub nanos: i32,
    /// The zone: `None` is UTC; `Some(offset_seconds)` a fixed offset east of UTC.
    pub offset: Option<i32>,
}

impl Time {
    /// The zero time (0001-01-01T00:00:00Z), Go's `time.Time{}`.
    pub const ZERO: Time = Time {
        seconds: 0,
        nanos: 0,
        offset: None,
    };

    /// A UTC time from Unix seconds and nanoseconds.
    pub fn from_unix(secs: i64, nanos: u32) -> Time {
        Time {
            seconds: secs + UNIX_TO_INTERNAL,
            nanos: nanos as i32,
            offset: None,
        }
    }

    /// The current time, UTC.
    pub fn now() -> Time {
        Time::from(SystemTime::now())
    }

    /// Unix seconds.
    pub fn unix_seconds(&self) -> i64 {
        self.seconds - UNIX_TO_INTERNAL
    }

    /// Writes the Go `MarshalBinary` body (15 or 16 bytes), as Go's `Time.MarshalBinary`:
    /// minutes = offset / 60 truncated toward zero (i16), and for an offset that is not whole
    /// minutes a version-2 body whose last byte is offset % 60 as a signed i8. Fails where Go
    /// fails: offsets whose minutes are -1 (-60 s to -119 s: -1 is Go's UTC marker) or do not
    /// fit an i16.
    pub(crate) fn marshal(&self, out: &mut Vec<u8>) -> Result<(), crate::EncodeError> {
        let (version, minutes, secs) = match self.offset {
            None => (1u8, -1i16, 0i8),
            Some(off) => {
                let minutes = off / 60;
                if minutes == -1 {
                    return Err(crate::EncodeError::BadTime(
                        "zone offset of -1 minute (Go's UTC marker)",
                    ));
                }
                let minutes = i16::try_from(minutes)
                    .map_err(|_| crate::EncodeError::BadTime("zone offset out of range"))?;
                // |off % 60| < 60, so it always fits an i8.
                let secs = (off % 60) as i8;
                (if secs != 0 { 2 } else { 1 }, minutes, secs)
            }
        };
        out.push(version);
        out.extend_from_slice(&self.seconds.to_be_bytes());
        out.extend_from_slice(&self.nanos.to_be_bytes());
        out.extend_from_slice(&minutes.to_be_bytes());
        if version == 2 {
            out.push(secs as u8);
        }
        Ok(())
    }

    /// Parses a Go `MarshalBinary` body as Go's `Time.UnmarshalBinary` does: offset =
    /// minutes * 60 + the version-2 seconds byte read as a signed i8, and a total of -60 s
    /// means UTC. A body Go wrote re-encodes to the same bytes; like Go, a decoded offset that
    /// Go's encoder refuses (e.g. -61 s) is refused again when it is encoded.
    pub(crate) fn unmarshal(b: &[u8]) -> Result<Time, crate::DecodeError> {
        use crate::DecodeError::BadTime;
        let (&version, rest) = b.split_first().ok_or(BadTime("empty"))?;
        let want = match version {
            1 => 14,
            2 => 15,
            _ => return Err(BadTime("unsupported version")),
        };
        if rest.len() != want {
            return Err(BadTime("invalid length"));
        }
        let seconds = i64::from_be_bytes(rest[0..8].try_into().map_err(|_| BadTime("seconds"))?);
        let nanos = i32::from_be_bytes(rest[8..12].try_into().map_err(|_| BadTime("nanos"))?);
        if !(0..1_000_000_000).contains(&nanos) {
            return Err(BadTime("nanoseconds out of range"));
        }
        let minutes = i16::from_be_bytes([rest[12], rest[13]]);
        let extra = if version == 2 {
            i32::from(rest[14] as i8)
        } else {
            0
        };
        let total = i32::from(minutes) * 60 + extra;
        let offset = if total == -60 { None } else { Some(total) };
        Ok(Time {
            seconds,
            nanos,
            offset,
        })
    }
}

impl From<SystemTime> for Time {
    fn from(t: SystemTime) -> Time {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Time::from_unix(d.as_secs() as i64, d.subsec_nanos()),
            Err(e) => {
                let d = e.duration();
                let mut secs = -(d.as_secs() as i64);
                let mut nanos = d.subsec_nanos();
                if nanos > 0 {
                    secs -= 1;
                    nanos = 1_000_000_000 - nanos;
                }
                Time::from_unix(secs, nanos)
            }
        }
    }
}

impl From<Time> for SystemTime {
    fn from(t: Time) -> SystemTime {
        let secs = t.unix_seconds();
        if secs >= 0 {
            UNIX_EPOCH + Duration::new(secs as u64, t.nanos as u32)
        } else {
            UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
                + Duration::from_nanos(t.nanos as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_time_marshals_like_go() {
        // 2024-01-02T03:04:05.000000006Z
        let t = Time {
            seconds: 0x0e_dd25_7425,
            nanos: 6,
            offset: None,
        };
        let mut out = Vec::new();
        t.marshal(&mut out).unwrap();
        assert_eq!(hexs(&out), "010000000edd25742500000006ffff");
        assert_eq!(Time::unmarshal(&out).unwrap(), t);
    }

    #[test]
    fn offset_with_seconds_uses_version_2() {
        let t = Time {
            seconds: 5,
            nanos: 0,
            offset: Some(3600 + 3),
        };
        let mut out = Vec::new();
        t.marshal(&mut out).unwrap();
        assert_eq!(out.len(), 16);
        assert_eq!(out[0], 2);
        assert_eq!(Time::unmarshal(&out).unwrap(), t);
    }

    fn body(t: Time) -> Result<String, crate::EncodeError> {
        let mut out = Vec::new();
        t.marshal(&mut out)?;
        Ok(hexs(&out[13..]))
    }

    fn at(offset: i32) -> Time {
        Time {
            seconds: 1,
            nanos: 0,
            offset: Some(offset),
        }
    }

    #[test]
    fn odd_offsets_marshal_as_go_truncating() {
        // minutes = offset / 60 toward zero; seconds = offset % 60 as a signed byte.
        assert_eq!(body(at(-3601)).unwrap(), "ffc4ff");
        assert_eq!(body(at(3601)).unwrap(), "003c01");
        assert_eq!(body(at(-59)).unwrap(), "0000c5");
        assert_eq!(body(at(-3600)).unwrap(), "ffc4");
        // Go refuses the offsets whose minutes truncate to -1 (its UTC marker).
        for off in [-60, -61, -119] {
            assert!(body(at(off)).is_err(), "{off}");
        }
        assert!(body(at(-120)).is_ok());
        assert!(body(at(32768 * 60)).is_err());
    }

    #[test]
    fn odd_offsets_unmarshal_with_a_signed_seconds_byte() {
        for off in [-3601, 3601, -1, 1, -59, 59, -3599, 19830, -43201] {
            let mut out = Vec::new();
            at(off).marshal(&mut out).unwrap();
            let back = Time::unmarshal(&out).unwrap();
            assert_eq!(back.offset, Some(off));
            let mut again = Vec::new();
            back.marshal(&mut again).unwrap();
            assert_eq!(again, out);
        }
        // minutes -1 with 0 seconds, and minutes 0 with -60 seconds, both mean UTC (Go).
        let mut utc2 = vec![2u8];
        utc2.extend_from_slice(&[0; 12]);
        utc2.extend_from_slice(&[0x00, 0x00, 0xc4]);
        assert_eq!(Time::unmarshal(&utc2).unwrap().offset, None);
        // minutes -1 and seconds -1 is -61 s: Go decodes it, and (like Go) we refuse to encode it.
        let mut odd = vec![2u8];
        odd.extend_from_slice(&[0; 12]);
        odd.extend_from_slice(&[0xff, 0xff, 0xff]);
        let t = Time::unmarshal(&odd).unwrap();
        assert_eq!(t.offset, Some(-61));
        assert!(t.marshal(&mut Vec::new()).is_err());
    }

    #[test]
    fn bad_bodies_are_errors() {
        assert!(Time::unmarshal(&[]).is_err());
        assert!(Time::unmarshal(&[3; 15]).is_err());
        assert!(Time::unmarshal(&[1; 10]).is_err());
    }

    #[test]
    fn system_time_roundtrip() {
        let now = SystemTime::now();
        let t = Time::from(now);
        assert_eq!(SystemTime::from(t), now);
    }

    fn hexs(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
