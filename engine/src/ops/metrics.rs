//! The Prometheus text format (0.0.4) of a node's figures, encoded with `prometheus-client`.
//!
//! Each scrape takes a fresh [`NodeMetrics`] snapshot and encodes it through a collector, so
//! no metric object lives between scrapes and nothing is updated on the message path (the
//! measurements behind this choice are in `docs/operations.md`). Metric names start with
//! `ergo_`; counters end in `_total`.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::ops::counters::LATENCY_BUCKETS;
use crate::ops::snapshot::NodeMetrics;
use crate::Node;

/// The `Content-Type` of what [`Scraper::scrape`] returns.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

const PRIORITIES: [&str; 3] = ["normal", "high", "max"];

/// Scrapes a node: snapshot, then text. Keeps the previous scrape's busy times, so the busy
/// ratio gauge covers the time since the previous scrape.
#[derive(Default)]
pub struct Scraper {
    last_busy: Mutex<Vec<(Duration, Duration)>>,
}

impl Scraper {
    /// The node's metrics in the Prometheus text format, each shard given at most
    /// `shard_timeout` to answer.
    pub fn scrape(&self, node: &Node, shard_timeout: Duration) -> String {
        let m = node.metrics(shard_timeout);
        let ratios = {
            let mut last = self.last_busy.lock().unwrap_or_else(|p| p.into_inner());
            let ratios: Vec<f64> = m
                .shards
                .iter()
                .map(|s| {
                    let (up0, busy0) = last.get(s.index).copied().unwrap_or_default();
                    let dt = s.uptime.saturating_sub(up0).as_secs_f64();
                    if dt <= 0.0 {
                        0.0
                    } else {
                        (s.busy.saturating_sub(busy0).as_secs_f64() / dt).clamp(0.0, 1.0)
                    }
                })
                .collect();
            last.clear();
            for s in &m.shards {
                if last.len() <= s.index {
                    last.resize(s.index + 1, Default::default());
                }
                last[s.index] = (s.uptime, s.busy);
            }
            ratios
        };
        encode(m, ratios)
    }
}

/// Encodes `m` (with the shards' busy ratios) as Prometheus text.
pub fn encode(m: NodeMetrics, busy_ratios: Vec<f64>) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(NodeCollector { m, busy_ratios }));
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
    out
}

#[derive(Debug)]
struct NodeCollector {
    m: NodeMetrics,
    busy_ratios: Vec<f64>,
}

type Labels = Vec<(&'static str, String)>;

fn family<M: EncodeMetric>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    ty: MetricType,
    series: impl IntoIterator<Item = (Labels, M)>,
) -> Result<(), std::fmt::Error> {
    let mut e: MetricEncoder = enc.encode_descriptor(name, help, None, ty)?;
    for (labels, v) in series {
        v.encode(e.encode_family(&labels)?)?;
    }
    Ok(())
}

fn single<M: EncodeMetric>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    v: M,
) -> Result<(), std::fmt::Error> {
    let e = enc.encode_descriptor(name, help, None, v.metric_type())?;
    v.encode(e)
}

fn counter(v: u64) -> ConstCounter<u64> {
    ConstCounter::new(v)
}

fn gauge(v: i64) -> ConstGauge<i64> {
    ConstGauge::new(v)
}

impl Collector for NodeCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let m = &self.m;
        let enc = &mut enc;
        let c = MetricType::Counter;
        let g = MetricType::Gauge;
        // ---- node -------------------------------------------------------------------------
        single(
            enc,
            "ergo_node_uptime_seconds",
            "Time since the node started.",
            ConstGauge::new(m.uptime.as_secs_f64()),
        )?;
        single(
            enc,
            "ergo_node_processes",
            "Processes alive.",
            gauge(m.processes() as i64),
        )?;
        single(
            enc,
            "ergo_node_memory_rss_bytes",
            "Resident memory of the OS process.",
            gauge(m.rss_bytes as i64),
        )?;
        single(
            enc,
            "ergo_node_registered_names",
            "Registered process names.",
            gauge(m.names as i64),
        )?;
        single(
            enc,
            "ergo_node_applications_running",
            "Applications running.",
            gauge(m.applications_running as i64),
        )?;
        single(
            enc,
            "ergo_node_processes_spawned",
            "Processes spawned since start.",
            counter(m.shards.iter().map(|s| s.spawned).sum()),
        )?;
        single(
            enc,
            "ergo_node_processes_terminated",
            "Processes terminated since start.",
            counter(m.shards.iter().map(|s| s.terminated).sum()),
        )?;
        let (sent, received) = (m.sent(), m.received());
        family(
            enc,
            "ergo_node_messages_sent",
            "Envelopes sent by the node's processes (local and remote recipients), by priority.",
            c,
            (0..3).map(|i| {
                (
                    vec![("priority", PRIORITIES[i].to_string())],
                    counter(sent[i]),
                )
            }),
        )?;
        family(
            enc,
            "ergo_node_messages_received",
            "Envelopes put into the node's mailboxes, by priority.",
            c,
            (0..3).map(|i| {
                (
                    vec![("priority", PRIORITIES[i].to_string())],
                    counter(received[i]),
                )
            }),
        )?;
        single(
            enc,
            "ergo_node_mailbox_full_drops",
            "Messages refused because the recipient's bounded mailbox was full.",
            counter(m.shards.iter().map(|s| s.mailbox_full).sum()),
        )?;
        single(
            enc,
            "ergo_node_mailbox_fallbacks",
            "Messages redirected to a fallback process because the mailbox was full.",
            counter(m.shards.iter().map(|s| s.fallbacks).sum()),
        )?;
        single(
            enc,
            "ergo_scrape_shards_missing",
            "Shards that did not answer this scrape in time.",
            gauge(m.shards_missing as i64),
        )?;
        // ---- shards -----------------------------------------------------------------------
        let shard = |s: &crate::ops::counters::ShardMetrics| vec![("shard", s.index.to_string())];
        macro_rules! per_shard {
            ($name:expr, $help:expr, $ty:expr, $f:expr) => {
                family(
                    enc,
                    $name,
                    $help,
                    $ty,
                    m.shards.iter().map(|s| (shard(s), $f(s))),
                )?
            };
        }
        per_shard!(
            "ergo_shard_loop_iterations",
            "Turns of the shard loop.",
            c,
            |s: &crate::ops::counters::ShardMetrics| counter(s.iterations)
        );
        family(
            enc,
            "ergo_shard_busy_seconds",
            "Time the shard was not idle (rate() of it is the busy fraction).",
            c,
            m.shards
                .iter()
                .map(|s| (shard(s), ConstCounter::new(s.busy.as_secs_f64()))),
        )?;
        family(
            enc,
            "ergo_shard_busy_ratio",
            "Busy fraction of the shard since the previous scrape.",
            g,
            m.shards.iter().enumerate().map(|(i, s)| {
                let ratio = self.busy_ratios.get(i).copied().unwrap_or(0.0);
                (shard(s), ConstGauge::new(ratio))
            }),
        )?;
        per_shard!(
            "ergo_shard_run_queue_length",
            "Processes ready to run, waiting in the run queue.",
            g,
            |s: &crate::ops::counters::ShardMetrics| gauge(s.run_queue as i64)
        );
        per_shard!(
            "ergo_shard_inbox_depth",
            "Batches waiting in the shard's inbound cross-shard queue.",
            g,
            |s: &crate::ops::counters::ShardMetrics| gauge(s.inbox_depth as i64)
        );
        per_shard!(
            "ergo_shard_inbox_batches",
            "Batches taken from the inbound cross-shard queue.",
            c,
            |s: &crate::ops::counters::ShardMetrics| counter(s.inbox_batches)
        );
        per_shard!(
            "ergo_shard_inbox_items",
            "Items in the batches taken from the inbound queue.",
            c,
            |s: &crate::ops::counters::ShardMetrics| counter(s.inbox_items)
        );
        per_shard!(
            "ergo_shard_parks",
            "Times the shard parked in its ring.",
            c,
            |s: &crate::ops::counters::ShardMetrics| counter(s.parks)
        );
        per_shard!(
            "ergo_shard_wakeups",
            "Times another thread woke the shard.",
            c,
            |s: &crate::ops::counters::ShardMetrics| counter(s.wakeups)
        );
        per_shard!(
            "ergo_shard_ring_submits",
            "io_uring_enter calls that submitted entries.",
            c,
            |s: &crate::ops::counters::ShardMetrics| counter(s.ring_submits)
        );
        per_shard!(
            "ergo_shard_ring_sqes",
            "Submission entries handed to the kernel.",
            c,
            |s: &crate::ops::counters::ShardMetrics| counter(s.ring_sqes)
        );
        per_shard!(
            "ergo_shard_ring_completions",
            "Completions reaped from the ring.",
            c,
            |s: &crate::ops::counters::ShardMetrics| counter(s.ring_completions)
        );
        per_shard!(
            "ergo_shard_processes",
            "Processes alive on the shard.",
            g,
            |s: &crate::ops::counters::ShardMetrics| gauge(s.processes as i64)
        );
        // ---- network ----------------------------------------------------------------------
        single(
            enc,
            "ergo_net_frames_in",
            "Frames received from other nodes.",
            counter(m.shards.iter().map(|s| s.net_frames_in).sum()),
        )?;
        single(
            enc,
            "ergo_net_frames_out",
            "Frames encoded for other nodes.",
            counter(m.shards.iter().map(|s| s.net_frames_out).sum()),
        )?;
        single(
            enc,
            "ergo_net_send_pauses",
            "Times a process paused on a connection past its send-buffer high-water mark.",
            counter(m.shards.iter().map(|s| s.net_pauses).sum()),
        )?;
        let peer = |c: &crate::ops::snapshot::ConnectionMetrics| vec![("peer", c.peer.to_string())];
        macro_rules! per_conn {
            ($name:expr, $help:expr, $ty:expr, $f:expr) => {
                family(
                    enc,
                    $name,
                    $help,
                    $ty,
                    m.connections.iter().map(|x| (peer(x), $f(x))),
                )?
            };
        }
        type Cm = crate::ops::snapshot::ConnectionMetrics;
        per_conn!(
            "ergo_connection_links",
            "Links of the connection that are up.",
            g,
            |x: &Cm| gauge(x.links as i64)
        );
        per_conn!(
            "ergo_connection_bytes_in",
            "Bytes received on the connection's open links.",
            c,
            |x: &Cm| counter(x.bytes_in)
        );
        per_conn!(
            "ergo_connection_bytes_out",
            "Bytes sent on the connection's open links.",
            c,
            |x: &Cm| counter(x.bytes_out)
        );
        per_conn!(
            "ergo_connection_frames_in",
            "Frames received on the connection's open links.",
            c,
            |x: &Cm| counter(x.frames_in)
        );
        per_conn!(
            "ergo_connection_sends",
            "send operations submitted on the connection's open links.",
            c,
            |x: &Cm| counter(x.sends)
        );
        per_conn!(
            "ergo_connection_send_pauses",
            "Times senders paused on the connection past its high-water mark.",
            c,
            |x: &Cm| counter(x.pauses)
        );
        per_conn!(
            "ergo_connection_reconnects",
            "Times the connection was established again after the first time.",
            c,
            |x: &Cm| counter(x.connects.saturating_sub(1))
        );
        per_conn!(
            "ergo_connection_link_errors",
            "Links of the connection that closed (each takes the connection down).",
            c,
            |x: &Cm| counter(x.link_closes)
        );
        family(
            enc,
            "ergo_acceptor_handshakes",
            "Handshakes of each acceptor, by result and cause of failure.",
            c,
            m.acceptors.iter().flat_map(|a| {
                let ok = (
                    vec![
                        ("acceptor", a.addr.clone()),
                        ("result", "ok".to_string()),
                        ("cause", String::new()),
                    ],
                    counter(a.handshakes_ok),
                );
                std::iter::once(ok).chain(a.handshakes_failed.iter().map(|(cause, n)| {
                    (
                        vec![
                            ("acceptor", a.addr.clone()),
                            ("result", "failed".to_string()),
                            ("cause", cause.to_string()),
                        ],
                        counter(*n),
                    )
                }))
            }),
        )?;
        let h = m.net_calls();
        let mut e = enc.encode_descriptor(
            "ergo_net_call_duration_seconds",
            "Latency of calls made to processes on other nodes (answer, error or timeout).",
            None,
            MetricType::Histogram,
        )?;
        let mut buckets: Vec<(f64, u64)> = LATENCY_BUCKETS
            .iter()
            .copied()
            .zip(h.buckets.iter().copied())
            .collect();
        buckets.push((f64::INFINITY, h.buckets.last().copied().unwrap_or(0)));
        e.encode_histogram::<NoLabelSet>(h.sum_seconds, h.count(), &buckets, None)?;
        Ok(())
    }
}
