//! What a scenario measured: one [`Outcome`] per output line, printed as a table row or (with
//! `--json`) as one JSON object, and the median of several runs.

use hdrhistogram::Histogram;
use serde_json::json;

use crate::latency::Percentiles;

/// One line of output: a scenario (or one sub-variant of it) and its figures.
pub enum Outcome {
    /// Messages through actors (`local-*`, `network-*`).
    Throughput {
        scenario: &'static str,
        messages: u64,
        elapsed_s: f64,
        cpu_s: f64,
        /// Network scenarios: messages per TCP send on the sending node's links.
        frames_per_send: Option<f64>,
    },
    /// Spawn speed and resident memory per idle process (`memusage`).
    Memory {
        processes: u64,
        spawn_seconds: f64,
        bytes_per_process: f64,
    },
    /// One event published to subscribers on other nodes (`pubsub`).
    Pubsub(PubsubFigures),
    /// Request/response latency (`call-latency-*`, and `load`).
    Latency(Box<LatencyFigures>),
    /// EDF encode or decode of one value (`serial-*`).
    Serial(SerialFigures),
}

/// The figures of `pubsub`.
#[derive(Clone, Debug)]
pub struct PubsubFigures {
    pub consumer_nodes: u64,
    pub subscribers: u64,
    pub delivered: u64,
    pub subscribe_seconds: f64,
    pub publish_seconds: f64,
    pub delivery_seconds: f64,
    /// Event frames the producer node sent to consumer nodes for the one event.
    pub network_messages: u64,
}

/// The figures of one latency run.
#[derive(Clone, Debug)]
pub struct LatencyFigures {
    /// `call-latency-network-1`, `call-latency-local-closed`, `load`, ...
    pub scenario: String,
    /// `network` or `local`.
    pub transport: &'static str,
    /// `call`, `send` (round trip through `echo`) or `sink` (one way).
    pub mode: &'static str,
    pub callers: usize,
    /// Offered rate (calls or messages per second, all callers together); `None`: closed loop.
    pub offered_per_sec: Option<f64>,
    /// Calls answered (or messages returned by `echo`, or counted by `sink`).
    pub completed: u64,
    /// Requests (or messages) sent.
    pub sent: u64,
    /// Calls that failed or timed out; messages that did not come back.
    pub errors: u64,
    pub elapsed_s: f64,
    pub latency: Percentiles,
    /// The whole run's histogram (nanoseconds), for plots; not printed.
    pub hist: Histogram<u64>,
}

/// The figures of one EDF case and operation.
#[derive(Clone, Debug)]
pub struct SerialFigures {
    /// `string`, `map`, `complex`, `nested`.
    pub case: &'static str,
    /// `encode` or `decode`.
    pub op: &'static str,
    /// Encoded with a connection's caches (atom, type and error caches).
    pub cached: bool,
    pub ns_per_op: f64,
    pub allocs_per_op: f64,
    pub bytes: usize,
    pub iterations: u64,
}

impl SerialFigures {
    /// `serial-<case>-<op>` or `serial-<case>-<op>-cached`.
    pub fn scenario(&self) -> String {
        let c = if self.cached { "-cached" } else { "" };
        format!("serial-{}-{}{c}", self.case, self.op)
    }
}

impl Outcome {
    /// The figure the median of several runs is taken on.
    fn key(&self) -> f64 {
        match self {
            Outcome::Throughput { elapsed_s, .. } => *elapsed_s,
            Outcome::Memory { spawn_seconds, .. } => *spawn_seconds,
            Outcome::Pubsub(p) => p.delivery_seconds,
            Outcome::Latency(l) => l.latency.p99_us,
            Outcome::Serial(s) => s.ns_per_op,
        }
    }

    /// The `--json` object of this outcome.
    pub fn json(&self, runs: usize) -> serde_json::Value {
        match self {
            Outcome::Throughput {
                scenario,
                messages,
                elapsed_s,
                cpu_s,
                frames_per_send,
            } => {
                let mut j = json!({
                    "scenario": scenario, "messages": messages, "elapsed_s": elapsed_s,
                    "msgs_per_sec": (*messages as f64 / elapsed_s.max(1e-9)).round(), "runs": runs, "receiver_shard_cpu_s": cpu_s,
                });
                if let Some(f) = frames_per_send {
                    j["frames_per_send"] = json!((f * 10.0).round() / 10.0);
                }
                j
            }
            Outcome::Memory {
                processes,
                spawn_seconds,
                bytes_per_process,
            } => json!({
                "scenario": "memusage", "processes": processes, "spawn_seconds": spawn_seconds,
                "bytes_per_process": bytes_per_process.round(), "runs": runs,
            }),
            Outcome::Pubsub(p) => json!({
                "scenario": "pubsub", "consumer_nodes": p.consumer_nodes, "subscribers": p.subscribers,
                "delivered": p.delivered, "subscribe_seconds": p.subscribe_seconds,
                "publish_seconds": p.publish_seconds, "delivery_seconds": p.delivery_seconds,
                "msgs_per_sec": (p.delivered as f64 / p.delivery_seconds.max(1e-9)).round(),
                "network_messages": p.network_messages, "runs": runs,
            }),
            Outcome::Latency(l) => {
                let p = &l.latency;
                // Nothing timed (one-way `sink` loads): no percentiles rather than zeros.
                let us = |v: f64| (p.samples > 0).then_some(v);
                json!({
                    "scenario": l.scenario, "transport": l.transport, "mode": l.mode, "callers": l.callers,
                    "loop": if l.offered_per_sec.is_some() { "open" } else { "closed" },
                    "offered_per_sec": l.offered_per_sec, "sent": l.sent, "completed": l.completed,
                    "errors": l.errors, "elapsed_s": l.elapsed_s,
                    "calls_per_sec": (l.completed as f64 / l.elapsed_s.max(1e-9)).round(),
                    "samples": p.samples, "p50_us": us(p.p50_us), "p90_us": us(p.p90_us),
                    "p99_us": us(p.p99_us), "p999_us": us(p.p999_us), "max_us": us(p.max_us),
                    "mean_us": us(p.mean_us), "runs": runs,
                })
            }
            Outcome::Serial(s) => json!({
                "scenario": s.scenario(), "case": s.case, "op": s.op,
                "caches": if s.cached { "cached" } else { "plain" },
                "ns_per_op": (s.ns_per_op * 10.0).round() / 10.0, "allocs_per_op": s.allocs_per_op,
                "bytes": s.bytes, "iterations": s.iterations, "runs": runs,
            }),
        }
    }

    /// The `--json` line of this outcome.
    pub fn json_line(&self, runs: usize) -> String {
        self.json(runs).to_string()
    }

    /// The table header printed before the rows.
    pub fn header() -> String {
        format!(
            "{:<28} {:>12} {:>10} {:>16}",
            "scenario", "count", "seconds", "rate / size"
        )
    }

    /// The table row of this outcome.
    pub fn row(&self) -> String {
        match self {
            Outcome::Throughput {
                scenario,
                messages,
                elapsed_s,
                cpu_s,
                frames_per_send,
            } => {
                let rate = *messages as f64 / elapsed_s.max(1e-9);
                let batching = frames_per_send
                    .map(|f| format!(", {f:.0} frames per TCP send"))
                    .unwrap_or_default();
                format!(
                    "{scenario:<28} {messages:>12} {elapsed_s:>10.3} {:>10.2} M msg/s  (receiving shards used {cpu_s:.3} s CPU{batching})",
                    rate / 1e6
                )
            }
            Outcome::Memory {
                processes,
                spawn_seconds,
                bytes_per_process,
            } => format!(
                "{:<28} {processes:>12} {spawn_seconds:>10.3} {:>10.0} B/proc",
                "memusage", bytes_per_process
            ),
            Outcome::Pubsub(p) => {
                let rate = p.delivered as f64 / p.delivery_seconds.max(1e-9);
                let net = p.network_messages;
                format!(
                    "{:<28} {:>12} {:>10.3} {:>10.2} M msg/s  ({} consumer nodes, {net} network messages, publish {:.1} us, subscribe {:.2} s)",
                    "pubsub",
                    p.delivered,
                    p.delivery_seconds,
                    rate / 1e6,
                    p.consumer_nodes,
                    p.publish_seconds * 1e6,
                    p.subscribe_seconds
                )
            }
            Outcome::Latency(l) => {
                let p = &l.latency;
                let offered = l
                    .offered_per_sec
                    .map_or("closed loop".to_string(), |r| format!("offered {r:.0}/s"));
                let lat = if p.samples == 0 {
                    "no latency (one way)".to_string()
                } else {
                    format!(
                        "p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1} us",
                        p.p50_us, p.p90_us, p.p99_us, p.p999_us, p.max_us
                    )
                };
                format!(
                    "{:<28} {:>12} {:>10.3} {:>10.0} /s  {lat}  ({} {}, {offered}, {} errors)",
                    l.scenario,
                    l.completed,
                    l.elapsed_s,
                    l.completed as f64 / l.elapsed_s.max(1e-9),
                    l.callers,
                    if l.callers == 1 { "caller" } else { "callers" },
                    l.errors
                )
            }
            Outcome::Serial(s) => format!(
                "{:<28} {:>12} {:>10.3} {:>10.1} ns/op  {} allocs/op  {} bytes",
                s.scenario(),
                s.iterations,
                s.ns_per_op * s.iterations as f64 / 1e9,
                s.ns_per_op,
                s.allocs_per_op,
                s.bytes
            ),
        }
    }

    /// Prints the row or the JSON line.
    pub fn print(&self, json: bool, runs: usize) {
        if json {
            println!("{}", self.json_line(runs));
        } else {
            println!("{}", self.row());
        }
    }
}

/// Runs `f` `runs` times; returns the run with the median key figure (time, p99, ns/op), with
/// the median memory figure for `memusage`.
pub fn median<E>(runs: usize, mut f: impl FnMut() -> Result<Outcome, E>) -> Result<Outcome, E> {
    let mut all = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        all.push(f()?);
    }
    Ok(median_of(all))
}

/// The median of outcomes of the same scenario (see [`median`]).
pub fn median_of(mut all: Vec<Outcome>) -> Outcome {
    all.sort_by(|a, b| a.key().total_cmp(&b.key()));
    let mid = all.len() / 2;
    let mut bytes: Vec<f64> = all
        .iter()
        .filter_map(|o| match o {
            Outcome::Memory {
                bytes_per_process, ..
            } => Some(*bytes_per_process),
            _ => None,
        })
        .collect();
    bytes.sort_by(|a, b| a.total_cmp(b));
    let mut out = all.swap_remove(mid);
    if let Outcome::Memory {
        bytes_per_process, ..
    } = &mut out
    {
        if let Some(b) = bytes.get(mid) {
            *bytes_per_process = *b;
        }
    }
    out
}

/// Medians of runs that each produce several lines (one per sub-variant): line `i` of the
/// result is the median of line `i` of every run.
pub fn median_lines(mut runs: Vec<Vec<Outcome>>) -> Vec<Outcome> {
    let n = runs.iter().map(Vec::len).min().unwrap_or(0);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let column: Vec<Outcome> = runs.iter_mut().map(|r| r.remove(0)).collect();
        out.push(median_of(column));
    }
    out
}
