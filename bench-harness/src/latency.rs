//! Latency histograms: HdrHistogram in nanoseconds, the percentiles every latency figure
//! reports, coordinated-omission corrected recording, and the standard interval log.
//!
//! Open-loop callers record with [`record_corrected`]: a response that took longer than the
//! caller's interval between requests also stands for the requests the caller could not send
//! meanwhile (HdrHistogram's `record_correct` fills them in, each one interval younger), so a
//! stall weighs in the percentiles as it would for users arriving at the offered rate.

use std::io::Write;
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer, V2Serializer};
use hdrhistogram::Histogram;

/// Highest latency tracked: one minute (larger values are clamped to it).
pub const MAX_NS: u64 = 60_000_000_000;

/// An empty latency histogram: 1 ns to one minute, 3 significant digits.
pub fn new_hist() -> Histogram<u64> {
    // The bounds are constants that `new_with_bounds` accepts (low >= 1, high >= 2 * low,
    // sigfig <= 5).
    Histogram::new_with_bounds(1, MAX_NS, 3).expect("constant histogram bounds")
}

/// Records one latency.
pub fn record(h: &mut Histogram<u64>, latency: Duration) {
    h.saturating_record(clamp_ns(latency));
}

/// Records one latency of a caller that sends one request every `interval` (open loop), filling
/// in the requests a slow response held back (coordinated-omission correction).
/// A zero interval records without correction. Each filled-in sample costs a step, so the
/// interval must not be tiny beside the latency (the driver keeps it at 1 µs or more).
pub fn record_corrected(h: &mut Histogram<u64>, latency: Duration, interval: Duration) {
    let v = clamp_ns(latency);
    if interval.is_zero() || h.record_correct(v, clamp_ns(interval)).is_err() {
        h.saturating_record(v);
    }
}

fn clamp_ns(d: Duration) -> u64 {
    (d.as_nanos().min(u128::from(MAX_NS)) as u64).max(1)
}

/// The percentiles every latency line reports, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    /// Values recorded (including those filled in by the coordinated-omission correction).
    pub samples: u64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
}

/// The percentiles of a histogram of nanoseconds.
pub fn percentiles(h: &Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    let us = |ns: u64| (ns as f64 / 1000.0 * 100.0).round() / 100.0;
    Percentiles {
        samples: h.len(),
        p50_us: us(h.value_at_quantile(0.50)),
        p90_us: us(h.value_at_quantile(0.90)),
        p99_us: us(h.value_at_quantile(0.99)),
        p999_us: us(h.value_at_quantile(0.999)),
        max_us: us(h.max()),
        mean_us: (h.mean() / 1000.0 * 100.0).round() / 100.0,
    }
}

/// The percentile curve of a histogram for plots: (percentile, microseconds) pairs from the
/// minimum to the maximum, spaced evenly on the "number of nines" scale.
pub fn curve(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut nines = 0.0_f64;
    while nines <= 5.0 {
        let q = 1.0 - 10f64.powf(-nines);
        out.push((q * 100.0, h.value_at_quantile(q) as f64 / 1000.0));
        nines += 0.05;
    }
    out.push((100.0, h.max() as f64 / 1000.0));
    out
}

/// One interval of a run: its start (offset from the run's start), length and histogram.
pub struct Interval {
    pub start: Duration,
    pub length: Duration,
    pub hist: Histogram<u64>,
}

/// Writes `intervals` as an HdrHistogram interval log (V2 histograms, base64, one line per
/// interval; values in nanoseconds, "max" column in milliseconds as the usual tools expect).
/// `compressed`: V2 + DEFLATE, the only encoding Java's `HistogramLogReader` accepts.
pub fn write_interval_log(
    out: &mut impl Write,
    started: SystemTime,
    comment: &str,
    tag: &str,
    intervals: &[Interval],
    compressed: bool,
) -> Result<(), String> {
    if compressed {
        write_log_with(
            &mut V2DeflateSerializer::new(),
            out,
            started,
            comment,
            tag,
            intervals,
        )
    } else {
        write_log_with(
            &mut V2Serializer::new(),
            out,
            started,
            comment,
            tag,
            intervals,
        )
    }
}

fn write_log_with<S: Serializer>(
    ser: &mut S,
    out: &mut impl Write,
    started: SystemTime,
    comment: &str,
    tag: &str,
    intervals: &[Interval],
) -> Result<(), String>
where
    S::SerializeError: std::fmt::Debug,
{
    let mut builder = IntervalLogWriterBuilder::new();
    builder
        .add_comment(comment)
        .add_comment("values in nanoseconds")
        .with_start_time(started)
        .with_base_time(started)
        .with_max_value_divisor(1_000_000.0);
    let mut w = builder
        .begin_log_with(out, ser)
        .map_err(|e| format!("writing the histogram log: {e}"))?;
    let tag = Tag::new(tag);
    for i in intervals {
        w.write_histogram(&i.hist, i.start, i.length, tag)
            .map_err(|e| format!("writing the histogram log: {e:?}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    use hdrhistogram::serialization::Deserializer;

    /// The value at percentile `q` of 1..=n is q*n, within the histogram's 3 significant digits.
    fn close(got: f64, want: f64) -> bool {
        (got - want).abs() <= want * 0.001 + 1.0
    }

    #[test]
    fn percentiles_of_a_uniform_distribution() {
        let mut h = new_hist();
        for v in 1..=10_000u64 {
            h.record(v * 1000).unwrap(); // 1..=10000 microseconds
        }
        let p = percentiles(&h);
        assert_eq!(p.samples, 10_000);
        assert!(close(p.p50_us, 5000.0), "{p:?}");
        assert!(close(p.p90_us, 9000.0), "{p:?}");
        assert!(close(p.p99_us, 9900.0), "{p:?}");
        assert!(close(p.p999_us, 9990.0), "{p:?}");
        assert!(close(p.max_us, 10_000.0), "{p:?}");
        assert!(close(p.mean_us, 5000.5), "{p:?}");
    }

    #[test]
    fn empty_histogram_has_zero_percentiles() {
        assert_eq!(percentiles(&new_hist()), Percentiles::default());
        assert!(curve(&new_hist()).is_empty());
    }

    #[test]
    fn a_stalled_response_fills_in_the_requests_it_held_back() {
        let interval = Duration::from_millis(1);
        let mut h = new_hist();
        // 99 responses in 100 us, then one that took 100 ms: the requests due every 1 ms
        // meanwhile would have waited 99 ms, 98 ms, ... 1 ms.
        for _ in 0..99 {
            record_corrected(&mut h, Duration::from_micros(100), interval);
        }
        record_corrected(&mut h, Duration::from_millis(100), interval);
        assert_eq!(h.len(), 99 + 100);
        let p = percentiles(&h);
        assert!(close(p.max_us, 100_000.0), "{p:?}");
        // Half the samples are the stall's: the median is no longer 100 us.
        assert!(p.p50_us > 1000.0, "{p:?}");

        let mut plain = new_hist();
        for _ in 0..99 {
            record(&mut plain, Duration::from_micros(100));
        }
        record(&mut plain, Duration::from_millis(100));
        assert_eq!(plain.len(), 100);
        assert!(close(percentiles(&plain).p99_us, 100.0));
    }

    #[test]
    fn a_fast_response_is_recorded_once() {
        let mut h = new_hist();
        record_corrected(&mut h, Duration::from_micros(10), Duration::from_millis(1));
        assert_eq!(h.len(), 1);
        record_corrected(&mut h, Duration::from_secs(3600), Duration::ZERO);
        assert_eq!(h.len(), 2);
        assert!(close(percentiles(&h).max_us, MAX_NS as f64 / 1000.0));
    }

    #[test]
    fn curve_rises_from_the_min_to_the_max() {
        let mut h = new_hist();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap();
        }
        let c = curve(&h);
        assert_eq!(c[0], (0.0, 1.0));
        let p90 = c.iter().find(|p| (p.0 - 90.0).abs() < 0.01).unwrap();
        assert!(close(p90.1, 900.0), "{p90:?}");
        assert!(c.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
        assert_eq!(c.last().map(|x| x.0), Some(100.0));
    }

    #[test]
    fn interval_log_reads_back() {
        interval_log_round_trip(false);
        interval_log_round_trip(true);
    }

    fn interval_log_round_trip(compressed: bool) {
        let mut a = new_hist();
        a.record(1500).unwrap();
        let mut b = new_hist();
        b.record(2_000_000).unwrap();
        b.record(3_000_000).unwrap();
        let intervals = [
            Interval {
                start: Duration::ZERO,
                length: Duration::from_secs(1),
                hist: a,
            },
            Interval {
                start: Duration::from_secs(1),
                length: Duration::from_secs(1),
                hist: b,
            },
        ];
        let mut out = Vec::new();
        write_interval_log(
            &mut out,
            SystemTime::now(),
            "test",
            "call",
            &intervals,
            compressed,
        )
        .unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.contains("#[StartTime: "), "{text}");
        let mut hists = Vec::new();
        for e in IntervalLogIterator::new(&out) {
            if let LogEntry::Interval(i) = e.unwrap() {
                assert_eq!(i.tag().map(|t| t.as_str()), Some("call"));
                let raw = base64_decode(i.encoded_histogram());
                let h: Histogram<u64> = Deserializer::new()
                    .deserialize(&mut raw.as_slice())
                    .unwrap();
                hists.push((i.start_timestamp(), i.max(), h.len()));
            }
        }
        assert_eq!(hists.len(), 2);
        assert_eq!(hists[1].0, Duration::from_secs(1));
        assert!((hists[1].1 - 3.0).abs() < 0.01, "max in ms: {}", hists[1].1);
        assert_eq!((hists[0].2, hists[1].2), (1, 2));
    }

    /// Standard base64 (the interval log's encoding), enough for the test.
    fn base64_decode(s: &str) -> Vec<u8> {
        let val = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            _ => 63,
        };
        let bytes: Vec<u8> = s.bytes().filter(|c| *c != b'=').collect();
        let mut out = Vec::new();
        for chunk in bytes.chunks(4) {
            let mut n = 0u32;
            for (i, c) in chunk.iter().enumerate() {
                n |= u32::from(val(*c)) << (18 - 6 * i);
            }
            let len = chunk.len() * 6 / 8;
            out.extend_from_slice(&n.to_be_bytes()[1..1 + len]);
        }
        out
    }
}
