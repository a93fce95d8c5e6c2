//! The `ergo-bench` binary as a user runs it: the JSON lines of `run`, the charts, `compare`
//! over Go logs, and `serve` + `load` against each other on loopback.
//!
//! Sizes are the hidden `--tiny` preset: these tests check shapes and counts, never speed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ergo-bench");

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ergo-bench-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the binary, killing it if it outlives `limit`.
fn run(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain the pipes on threads so a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut v).unwrap();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut v).unwrap();
        v
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ergo-bench {args:?} did not finish in {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

fn has_numbers(v: &Value, fields: &[&str]) {
    for f in fields {
        assert!(v[*f].is_number(), "{f} missing or not a number in {v}");
    }
}

#[test]
fn run_prints_one_json_object_per_scenario_line_and_draws_charts() {
    let dir = scratch("run");
    let plots = dir.join("plots");
    let out = run(
        &["run", "--tiny", "--json", "--plot", plots.to_str().unwrap()],
        Duration::from_secs(120),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines = json_lines(&out);
    let mut by_name: BTreeMap<String, Value> = BTreeMap::new();
    for v in lines {
        let name = v["scenario"]
            .as_str()
            .expect("every line names its scenario");
        assert!(
            by_name.insert(name.to_string(), v.clone()).is_none(),
            "{name} twice"
        );
    }

    for s in ["local-1-1", "local-n-n", "network-1-1", "network-n-n"] {
        let v = &by_name[s];
        has_numbers(
            v,
            &[
                "messages",
                "elapsed_s",
                "msgs_per_sec",
                "receiver_shard_cpu_s",
                "runs",
            ],
        );
        assert!(v["messages"].as_u64().unwrap() > 0);
    }
    for s in ["network-1-1", "network-n-n"] {
        has_numbers(&by_name[s], &["frames_per_send"]);
        assert!(by_name[s]["frames_per_send"].as_f64().unwrap() >= 1.0);
    }
    has_numbers(
        &by_name["memusage"],
        &["processes", "spawn_seconds", "bytes_per_process"],
    );
    assert_eq!(by_name["memusage"]["processes"], 10_000);

    // pubsub: its figures.
    let p = &by_name["pubsub"];
    has_numbers(
        p,
        &[
            "subscribers",
            "delivered",
            "delivery_seconds",
            "msgs_per_sec",
            "publish_seconds",
            "subscribe_seconds",
        ],
    );
    assert_eq!(p["subscribers"], p["delivered"]);
    assert_eq!(p["consumer_nodes"], 2);
    // One network message per consumer node, however many subscribers each has.
    assert_eq!(p["network_messages"], p["consumer_nodes"]);
    assert!(out.status.success(), "{stderr}");

    // call-latency: one line per transport and variant.
    for transport in ["network", "local"] {
        for variant in ["1", "16", "closed"] {
            let name = format!("call-latency-{transport}-{variant}");
            let v = by_name
                .get(&name)
                .unwrap_or_else(|| panic!("{name} missing: {stderr}"));
            has_numbers(
                v,
                &[
                    "p50_us",
                    "p90_us",
                    "p99_us",
                    "p999_us",
                    "max_us",
                    "mean_us",
                    "calls_per_sec",
                    "completed",
                    "sent",
                    "errors",
                    "samples",
                ],
            );
            assert_eq!(v["transport"], transport);
            assert_eq!(v["mode"], "call");
            let completed = v["completed"].as_u64().unwrap();
            assert!(
                completed > 0 && completed <= v["sent"].as_u64().unwrap(),
                "{v}"
            );
            let p = |k: &str| v[k].as_f64().unwrap();
            assert!(p("p50_us") <= p("p90_us") && p("p90_us") <= p("p99_us"));
            assert!(p("p99_us") <= p("p999_us") && p("p999_us") <= p("max_us"));
            if variant == "closed" {
                assert_eq!(v["loop"], "closed");
                assert!(v["offered_per_sec"].is_null());
            } else {
                assert_eq!(v["loop"], "open");
                has_numbers(v, &["offered_per_sec"]);
                // Open loop: at least one sample per completed call (more when corrected).
                assert!(v["samples"].as_u64().unwrap() >= completed);
            }
        }
    }

    // serial: 4 cases x encode/decode x plain/cached.
    let mut serial = BTreeSet::new();
    for (name, v) in &by_name {
        if name.starts_with("serial-") {
            has_numbers(v, &["ns_per_op", "allocs_per_op", "bytes", "iterations"]);
            let case = v["case"].as_str().unwrap();
            let op = v["op"].as_str().unwrap();
            let caches = v["caches"].as_str().unwrap();
            let suffix = if caches == "cached" { "-cached" } else { "" };
            assert_eq!(name, &format!("serial-{case}-{op}{suffix}"));
            if op == "decode" {
                // Every case decodes at least one String: the counting allocator sees it.
                assert!(v["allocs_per_op"].as_f64().unwrap() >= 1.0, "{v}");
            }
            serial.insert((case.to_string(), op.to_string(), caches.to_string()));
        }
    }
    assert_eq!(serial.len(), 16, "{serial:?}");

    for chart in ["throughput.svg", "latency.svg", "serial.svg"] {
        let svg = std::fs::read_to_string(plots.join(chart)).unwrap();
        assert!(svg.contains("<svg"), "{chart}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_without_json_prints_a_table() {
    let out = run(
        &["run", "--tiny", "serial", "local-1-1"],
        Duration::from_secs(60),
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[0].starts_with("scenario"), "{text}");
    assert_eq!(rows.len(), 1 + 16 + 1, "{text}");
    assert!(rows
        .iter()
        .any(|r| r.starts_with("serial-nested-decode-cached") && r.contains("ns/op")));
    assert!(rows
        .iter()
        .any(|r| r.starts_with("local-1-1") && r.contains("M msg/s")));
}

#[test]
fn compare_reads_go_logs_beside_saved_figures() {
    let dir = scratch("compare");
    let go = dir.join("go.log");
    std::fs::write(
        &go,
        "2024/01/02 15:04:05 -------------------------- LOCAL 1-1 (start) ---------------\n\
         2024/01/02 15:04:05 CPU: Some CPU (Physical Cores: 2)\n\
         2024/01/02 15:04:06 received 3000000 messages. 5000000 msg/sec\n\
         [info] 3BA2E807: -------------------------- NETWORK 1-1 (start) --------------\n\
         [info] 3BA2E807: received 3000000 messages. 2000000 msg/sec\n\
         Time to deliver all:     400ms\n\
         Delivery rate:           2500000 msg/sec\n\
         BenchmarkDecodeStringCached-2   10000000   100.0 ns/op   16 B/op   1 allocs/op\n",
    )
    .unwrap();
    let ours = dir.join("ours.json");
    std::fs::write(
        &ours,
        "{\"scenario\":\"local-1-1\",\"msgs_per_sec\":25000000.0}\n\
         {\"scenario\":\"network-1-1\",\"msgs_per_sec\":4000000.0}\n\
         {\"scenario\":\"pubsub\",\"error\":\"remote events not supported by this engine build\"}\n\
         {\"scenario\":\"serial-string-decode-cached\",\"ns_per_op\":20.0,\"allocs_per_op\":1.0}\n",
    )
    .unwrap();
    let plots = dir.join("plots");
    let out = run(
        &[
            "compare",
            "--go-log",
            go.to_str().unwrap(),
            "--ours",
            ours.to_str().unwrap(),
            "--plot",
            plots.to_str().unwrap(),
        ],
        Duration::from_secs(30),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = |scenario: &str, metric: &str| {
        text.lines()
            .find(|l| l.starts_with(scenario) && l.contains(metric))
            .unwrap_or_else(|| panic!("no {scenario} {metric} row in\n{text}"))
            .to_string()
    };
    assert!(row("local-1-1", "msgs_per_sec").ends_with("5.00x"));
    assert!(row("network-1-1", "msgs_per_sec").ends_with("2.00x"));
    assert!(row("pubsub", "delivery_seconds").contains("n/a"));
    assert!(row("pubsub", "msgs_per_sec").contains("n/a"));
    assert!(row("serial-string-decode-cached", "ns_per_op").ends_with("5.00x"));
    assert!(row("serial-string-decode-cached", "allocs_per_op").ends_with("1.00x"));
    assert!(text.contains("Go log CPU: Some CPU"));
    for chart in ["throughput.svg", "serial.svg"] {
        let svg = std::fs::read_to_string(plots.join(chart)).unwrap();
        assert!(svg.contains("<svg"), "{chart}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `serve` child, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn load_drives_serve_over_loopback() {
    let dir = scratch("load");
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--name",
            "bench-serve@localhost",
            "--no-registrar",
            "--listen",
            "127.0.0.1:0",
            "--shards",
            "1",
            "--for",
            "60s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let addr = first
        .split_whitespace()
        .skip_while(|w| *w != "on")
        .nth(1)
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();

    let hist = dir.join("call.hlog");
    let load = |mode: &str, rate: &str, callers: &str, extra: &[&str]| {
        let mut args = vec![
            "load",
            "--target",
            "bench-serve@localhost",
            "--route",
            &addr,
            "--mode",
            mode,
            "--rate",
            rate,
            "--callers",
            callers,
            "--duration",
            "1s",
            "--shards",
            "1",
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = run(&args, Duration::from_secs(40));
        assert!(
            out.status.success(),
            "load {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines = json_lines(&out);
        assert_eq!(lines.len(), 1);
        lines.into_iter().next().unwrap()
    };

    let call = load("call", "400", "4", &["--hist", hist.to_str().unwrap()]);
    assert_eq!(call["scenario"], "load");
    assert_eq!(call["mode"], "call");
    assert_eq!(call["callers"], 4);
    assert_eq!(call["errors"], 0, "{call}");
    assert!(call["completed"].as_u64().unwrap() > 0);
    assert_eq!(call["completed"], call["sent"]);
    assert!(call["samples"].as_u64().unwrap() >= call["completed"].as_u64().unwrap());
    has_numbers(&call, &["p50_us", "p90_us", "p99_us", "p999_us", "max_us"]);

    let log = std::fs::read_to_string(&hist).unwrap();
    assert!(log.contains("#[StartTime: "), "{log}");
    assert!(log.contains("#[MaxValueDivisor: "), "{log}");
    let intervals = log.lines().filter(|l| l.starts_with("Tag=call,")).count();
    assert!(intervals >= 1, "{log}");

    let send = load("send", "1000", "2", &[]);
    assert_eq!(send["mode"], "send");
    assert!(send["sent"].as_u64().unwrap() > 0);
    assert_eq!(
        send["completed"], send["sent"],
        "every message comes back: {send}"
    );
    assert_eq!(send["samples"], send["completed"]);

    let sink = load("sink", "1000", "1", &[]);
    assert_eq!(sink["mode"], "sink");
    assert!(sink["sent"].as_u64().unwrap() > 0);
    assert_eq!(
        sink["completed"], sink["sent"],
        "the sink counted every message: {sink}"
    );
    assert!(sink["p50_us"].is_null());

    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn load_reports_an_unreachable_target() {
    // Port 1 on loopback: nothing listens there.
    let out = run(
        &[
            "load",
            "--target",
            "nobody@localhost",
            "--route",
            "127.0.0.1:1",
            "--rate",
            "10",
            "--duration",
            "1s",
        ],
        Duration::from_secs(40),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach 'echo' on nobody@localhost"),
        "{err}"
    );
}
