//! Reading the logs of Go Ergo's benchmark programs (ping, memusage, distributed pub/sub, and the
//! serial benchmark's `go test -bench` lines), with or without a date/time prefix (the colored
//! logger's `2025-12-01 16:20:01` or the standard logger's `2024/01/02 15:04:05`), into figures
//! comparable with ours.

/// One figure read from a Go log.
#[derive(Debug, Clone, PartialEq)]
pub struct GoFigure {
    /// Our scenario name (`local-1-1`, `local-n-n`, `network-1-1`, `network-n-n`, `memusage`,
    /// `pubsub`, `serial-<case>-<op>[-cached]`).
    pub scenario: String,
    /// Our JSON field name (`msgs_per_sec`, `bytes_per_process`, `spawn_seconds`,
    /// `delivery_seconds`, `publish_seconds`, `subscribe_seconds`, `network_messages`,
    /// `ns_per_op`, `allocs_per_op`).
    pub metric: &'static str,
    /// The value, in our units (messages/s, bytes, seconds).
    pub value: f64,
}

/// What a Go benchmark log says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GoLog {
    /// The `CPU:` line (the machine the Go figures were taken on).
    pub cpu: Option<String>,
    /// The Go version line.
    pub go_version: Option<String>,
    /// Figures, in log order.
    pub figures: Vec<GoFigure>,
}

/// Parses a Go duration (`342.414375ms`, `1.842276s`, `64.125µs`, `1m2.5s`, `10s`) into seconds.
pub fn parse_go_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let (unit, len) = [
            ("ns", 1e-9),
            ("µs", 1e-6),
            ("us", 1e-6),
            ("μs", 1e-6),
            ("ms", 1e-3),
            ("s", 1.0),
            ("m", 60.0),
            ("h", 3600.0),
        ]
        .iter()
        .find(|(u, _)| rest.starts_with(*u))
        .map(|(u, f)| (*f, u.len()))?;
        total += n * unit;
        rest = &rest[len..];
    }
    Some(total)
}

/// The first number (digits, `.`) in `s`.
fn first_number(s: &str) -> Option<f64> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let t = &s[start..];
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    t[..end].parse().ok()
}

/// The text after `marker` in `line`.
fn after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.find(marker).map(|i| &line[i + marker.len()..])
}

/// Reads a whole log.
pub fn parse(text: &str) -> GoLog {
    let mut log = GoLog::default();
    let mut scenario: Option<&'static str> = None;
    for line in text.lines() {
        for (banner, name) in [
            ("LOCAL 1-1", "local-1-1"),
            ("LOCAL N-N", "local-n-n"),
            ("NETWORK 1-1", "network-1-1"),
            ("NETWORK N-N", "network-n-n"),
        ] {
            if line.contains(banner) {
                scenario = Some(name);
            }
        }
        let mut push = |scenario: &str, metric: &'static str, value: f64| {
            log.figures.push(GoFigure {
                scenario: scenario.to_string(),
                metric,
                value,
            });
        };
        if let Some(rest) = after(line, "CPU:").or_else(|| line.strip_prefix("cpu: ")) {
            log.cpu.get_or_insert_with(|| rest.trim().to_string());
        } else if let Some(rest) =
            after(line, "Go Version :").or_else(|| after(line, "Go Version:"))
        {
            log.go_version
                .get_or_insert_with(|| rest.trim().to_string());
        }
        if line.contains("msg/sec") && line.contains("received") {
            // "received 3000000 messages. 6086924.32 msg/sec"
            if let (Some(sc), Some(rate)) =
                (scenario, after(line, "messages.").and_then(first_number))
            {
                push(sc, "msgs_per_sec", rate);
            }
        } else if let Some(rest) = after(line, "memory per process ~") {
            // "(memory per process ~2.57 Kb)"
            if let Some(kb) = first_number(rest) {
                let unit = rest
                    .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
                    .trim_start();
                let factor = if unit.starts_with("Mb") || unit.starts_with("MB") {
                    1024.0 * 1024.0
                } else if unit.starts_with('b') || unit.starts_with('B') {
                    1.0
                } else {
                    1024.0
                };
                push("memusage", "bytes_per_process", kb * factor);
            }
        } else if line.contains("processes is started") {
            // "1M processes is started. Elapsed: 10.2s"
            if let Some(d) = after(line, "Elapsed:")
                .and_then(|r| parse_go_duration(r.split_whitespace().next()?))
            {
                push("memusage", "spawn_seconds", d);
            }
        } else if let Some(rest) = after(line, "Time to deliver all:") {
            if let Some(d) = parse_go_duration(rest) {
                push("pubsub", "delivery_seconds", d);
            }
        } else if let Some(rest) = after(line, "Delivery rate:") {
            if let Some(r) = first_number(rest) {
                push("pubsub", "msgs_per_sec", r);
            }
        } else if let Some(rest) = after(line, "Time to publish:") {
            if let Some(d) = parse_go_duration(rest) {
                push("pubsub", "publish_seconds", d);
            }
        } else if let Some(rest) = after(line, "Network messages sent:") {
            if let Some(n) = first_number(rest) {
                push("pubsub", "network_messages", n);
            }
        } else if line.contains("consumers subscribed in") {
            // "All 1000000 consumers subscribed in 1.842276s"
            if let Some(d) = after(line, "subscribed in")
                .and_then(|r| parse_go_duration(r.split_whitespace().next()?))
            {
                push("pubsub", "subscribe_seconds", d);
            }
        } else if let Some((scenario, figures)) = go_bench_line(line) {
            for (metric, value) in figures {
                push(&scenario, metric, value);
            }
        }
    }
    log
}

/// A `go test -bench` result line of the serial benchmark
/// (`BenchmarkDecodeMapCached-8   1000000   736.2 ns/op   312 B/op   5 allocs/op`): our scenario
/// name (`serial-map-decode-cached`) and its ns/op and allocs/op. Other benchmarks of that suite
/// (PID, Struct, Protobuf, Gob, ...) have no counterpart here and give `None`.
fn go_bench_line(line: &str) -> Option<(String, Vec<(&'static str, f64)>)> {
    let mut words = line.split_whitespace();
    let name = words.find_map(|w| w.strip_prefix("Benchmark"))?;
    // "-8": GOMAXPROCS.
    let name = match name.rsplit_once('-') {
        Some((n, procs)) if procs.chars().all(|c| c.is_ascii_digit()) => n,
        _ => name,
    };
    let (op, rest) = if let Some(r) = name.strip_prefix("Encode") {
        ("encode", r)
    } else {
        ("decode", name.strip_prefix("Decode")?)
    };
    let (rest, cached) = match rest.strip_suffix("Cached") {
        Some(r) => (r, true),
        None => (rest.strip_suffix("EDF").unwrap_or(rest), false),
    };
    let case = match rest {
        "String" => "string",
        "Map" => "map",
        "ComplexStruct" => "complex",
        "NestedStruct" => "nested",
        _ => return None,
    };
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut figures = Vec::new();
    for w in words.windows(2) {
        let metric = match w[1] {
            "ns/op" => "ns_per_op",
            "allocs/op" => "allocs_per_op",
            _ => continue,
        };
        if let Ok(v) = w[0].parse::<f64>() {
            figures.push((metric, v));
        }
    }
    if figures.is_empty() {
        return None;
    }
    let c = if cached { "-cached" } else { "" };
    Some((format!("serial-{case}-{op}{c}"), figures))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PING: &str = "\
2025-12-01 16:20:01 [info] 2887105A: -------------------------- LOCAL 1-1 (start) ----------------------------------
2025-12-01 16:20:01 [info] 2887105A: Go Version : go1.23.4
2025-12-01 16:20:01 [info] 2887105A: CPU: AMD EPYC 7B13 (Physical Cores: 1)
2025-12-01 16:20:01 [info] 2887105A: BENCHMARK: 1 process sends 3000000 messages to 1 process
2025-12-01 16:20:02 [info] 2887105A: received 3000000 messages. 6086924.32 msg/sec
[info] 3BA2E807: -------------------------- LOCAL N-N (start) ----------------------------------
[info] 3BA2E807: received 2000000 messages. 5700000.000000 msg/sec
[info] 3BA2E807: -------------------------- NETWORK 1-1 (start) ----------------------------------
[info] 3BA2E807: received 3000000 messages. 1890000.5 msg/sec
[info] 3BA2E807: -------------------------- NETWORK N-N (start) ----------------------------------
[info] 3BA2E807: received 2000000 messages. 1900000 msg/sec
";

    #[test]
    fn ping_logs_with_and_without_a_date_prefix() {
        let log = parse(PING);
        assert_eq!(
            log.cpu.as_deref(),
            Some("AMD EPYC 7B13 (Physical Cores: 1)")
        );
        assert_eq!(log.go_version.as_deref(), Some("go1.23.4"));
        let f: Vec<(&str, f64)> = log
            .figures
            .iter()
            .map(|f| (f.scenario.as_str(), f.value))
            .collect();
        assert_eq!(
            f,
            vec![
                ("local-1-1", 6086924.32),
                ("local-n-n", 5700000.0),
                ("network-1-1", 1890000.5),
                ("network-n-n", 1900000.0)
            ]
        );
        assert!(log.figures.iter().all(|f| f.metric == "msgs_per_sec"));
    }

    #[test]
    fn memusage_and_pubsub_lines() {
        let text = "\
2025-12-01 16:26:05 [info] 9E2174F9: Total processes: 1000001 (memory per process ~2.57 Kb)
[info] 9E2174F9: 1M processes is started. Elapsed: 10.2s
Time to deliver all:     342.414375ms
Delivery rate:           2920438 msg/sec
";
        let log = parse(text);
        assert_eq!(
            log.figures,
            vec![
                GoFigure {
                    scenario: "memusage".into(),
                    metric: "bytes_per_process",
                    value: 2.57 * 1024.0
                },
                GoFigure {
                    scenario: "memusage".into(),
                    metric: "spawn_seconds",
                    value: 10.2
                },
                GoFigure {
                    scenario: "pubsub".into(),
                    metric: "delivery_seconds",
                    value: 0.342414375
                },
                GoFigure {
                    scenario: "pubsub".into(),
                    metric: "msgs_per_sec",
                    value: 2920438.0
                },
            ]
        );
    }

    #[test]
    fn standard_logger_prefix_and_full_pubsub_report() {
        // The Go standard logger's prefix, as `log.Printf` writes it.
        let text = "\
2024/01/02 15:04:05 -------------------------- LOCAL 1-1 (start) --------------------------
2024/01/02 15:04:05 CPU: Intel(R) Xeon(R) CPU @ 2.20GHz (Physical Cores: 2)
2024/01/02 15:04:06 received 3000000 messages. 4912345.5 msg/sec
2024/01/02 15:04:07 [info] 336B493D: All 1000000 consumers subscribed in 1.842276s
2024/01/02 15:04:07 Time to publish:         64.125µs
2024/01/02 15:04:07 Time to deliver all:     342.414375ms
2024/01/02 15:04:07 Network messages sent:   10 (1 per consumer node)
2024/01/02 15:04:07 Delivery rate:           2920438 msg/sec
";
        let log = parse(text);
        assert_eq!(
            log.cpu.as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz (Physical Cores: 2)")
        );
        let f: Vec<(&str, &str, f64)> = log
            .figures
            .iter()
            .map(|f| (f.scenario.as_str(), f.metric, f.value))
            .collect();
        assert_eq!(
            f,
            vec![
                ("local-1-1", "msgs_per_sec", 4912345.5),
                ("pubsub", "subscribe_seconds", 1.842276),
                ("pubsub", "publish_seconds", 64.125e-6),
                ("pubsub", "delivery_seconds", 0.342414375),
                ("pubsub", "network_messages", 10.0),
                ("pubsub", "msgs_per_sec", 2920438.0),
            ]
        );
    }

    #[test]
    fn go_test_bench_lines_of_the_serial_benchmark() {
        let text = "\
goos: linux
goarch: amd64
pkg: ergo.services/benchmarks/serial
cpu: AMD EPYC 7B13
BenchmarkEncodeStringCached-2       \t31053848\t        37.11 ns/op\t       0 B/op\t       0 allocs/op
BenchmarkDecodeMapCached-2          \t 1628298\t       736.2 ns/op\t     312 B/op\t       5 allocs/op
BenchmarkDecodeComplexStructEDF-2   \t  969210\t      1049 ns/op\t     776 B/op\t      40 allocs/op
BenchmarkEncodeNestedStructCached   \t 1000000\t      1129 ns/op
BenchmarkEncodeStringProtobuf-2     \t27291862\t        44.37 ns/op\t      32 B/op\t       1 allocs/op
BenchmarkDecodeNestedMapEDF-2       \t  500000\t      2000 ns/op
BenchmarkEncodePID-2                \t20000000\t        60.1 ns/op
PASS
";
        let f: Vec<(String, &str, f64)> = parse(text)
            .figures
            .into_iter()
            .map(|f| (f.scenario, f.metric, f.value))
            .collect();
        let s = |x: &str| x.to_string();
        assert_eq!(
            f,
            vec![
                (s("serial-string-encode-cached"), "ns_per_op", 37.11),
                (s("serial-string-encode-cached"), "allocs_per_op", 0.0),
                (s("serial-map-decode-cached"), "ns_per_op", 736.2),
                (s("serial-map-decode-cached"), "allocs_per_op", 5.0),
                (s("serial-complex-decode"), "ns_per_op", 1049.0),
                (s("serial-complex-decode"), "allocs_per_op", 40.0),
                (s("serial-nested-encode-cached"), "ns_per_op", 1129.0),
            ]
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("64.125µs"), Some(64.125e-6));
        assert_eq!(parse_go_duration("1m2.5s"), Some(62.5));
        assert_eq!(parse_go_duration("1.842276s"), Some(1.842276));
        assert_eq!(parse_go_duration("3h"), Some(10800.0));
        assert_eq!(parse_go_duration("fast"), None);
        assert_eq!(parse_go_duration("12"), None);
    }
}
