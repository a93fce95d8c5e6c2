//! `prometheus-client` against `metrics` + `metrics-exporter-prometheus`: the cost of one
//! counter increment on a hot path, and of encoding a scrape of a node's figures (4 shards,
//! 16 connections, 4 acceptors: ~330 series). The engine's own hot path is the first line: a
//! shard-local `Cell`. Figures and the choice: `docs/operations.md`.

use std::cell::Cell;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ergo_engine::ops::counters::ShardMetrics;
use ergo_engine::ops::snapshot::{ConnectionMetrics, NodeMetrics};
use ergo_engine::Atom;

fn increments(c: &mut Criterion) {
    let mut g = c.benchmark_group("increment");
    let cell = Cell::new(0u64);
    g.bench_function("shard-local Cell (engine)", |b| {
        b.iter(|| cell.set(black_box(cell.get()) + 1))
    });
    let pc: prometheus_client::metrics::counter::Counter = Default::default();
    g.bench_function("prometheus-client Counter::inc", |b| b.iter(|| pc.inc()));
    type Fam = prometheus_client::metrics::family::Family<
        Vec<(String, String)>,
        prometheus_client::metrics::counter::Counter,
    >;
    let fam = Fam::default();
    let labels = vec![("priority".to_string(), "normal".to_string())];
    g.bench_function("prometheus-client Family lookup + inc", |b| {
        b.iter(|| fam.get_or_create(black_box(&labels)).inc())
    });
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    metrics::with_local_recorder(&recorder, || {
        let handle = metrics::counter!("ergo_bench", "priority" => "normal");
        g.bench_function("metrics Counter handle increment", |b| {
            b.iter(|| handle.increment(1))
        });
        g.bench_function("metrics counter! macro (lookup) + increment", |b| {
            b.iter(|| metrics::counter!("ergo_bench", "priority" => "normal").increment(1))
        });
    });
    g.finish();
}

fn sample() -> NodeMetrics {
    NodeMetrics {
        node: Atom::new("bench@localhost"),
        shards: (0..4)
            .map(|i| ShardMetrics {
                index: i,
                iterations: 123_456_789,
                sent: [1_000_000, 2000, 30],
                received: [999_000, 2000, 30],
                net_calls: ergo_engine::Histogram {
                    buckets: vec![5; ergo_engine::ops::counters::LATENCY_BUCKETS.len() + 1],
                    sum_seconds: 1.5,
                },
                ..Default::default()
            })
            .collect(),
        connections: (0..16)
            .map(|i| ConnectionMetrics {
                peer: Atom::new(&format!("peer{i}@host")),
                links: 3,
                bytes_in: 1 << 30,
                bytes_out: 1 << 31,
                frames_in: 1 << 20,
                sends: 1 << 12,
                ..Default::default()
            })
            .collect(),
        acceptors: (0..4)
            .map(|i| ergo_engine::ops::AcceptorMetrics {
                addr: format!("127.0.0.1:{}", 15000 + i),
                handshakes_ok: 10,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn encoding(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode scrape");
    let m = sample();
    g.bench_function("prometheus-client (engine's encoder)", |b| {
        b.iter(|| black_box(ergo_engine::ops::metrics::encode(m.clone(), vec![0.5; 4])).len())
    });
    g.bench_function("metrics-exporter-prometheus (set all, render)", |b| {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        b.iter(|| {
            metrics::with_local_recorder(&recorder, || {
                for s in &m.shards {
                    let shard = s.index.to_string();
                    metrics::counter!("ergo_shard_loop_iterations_total", "shard" => shard.clone())
                        .absolute(s.iterations);
                    for (i, p) in ["normal", "high", "max"].iter().enumerate() {
                        metrics::counter!("ergo_shard_sent_total", "shard" => shard.clone(), "priority" => *p)
                            .absolute(s.sent[i]);
                        metrics::counter!("ergo_shard_received_total", "shard" => shard.clone(), "priority" => *p)
                            .absolute(s.received[i]);
                    }
                    for name in [
                        "ergo_shard_parks_total",
                        "ergo_shard_wakeups_total",
                        "ergo_shard_inbox_batches_total",
                        "ergo_shard_inbox_items_total",
                        "ergo_shard_ring_submits_total",
                        "ergo_shard_ring_sqes_total",
                        "ergo_shard_ring_completions_total",
                    ] {
                        metrics::counter!(name, "shard" => shard.clone()).absolute(s.parks);
                    }
                    for name in ["ergo_shard_run_queue_length", "ergo_shard_inbox_depth", "ergo_shard_processes", "ergo_shard_busy_ratio"] {
                        metrics::gauge!(name, "shard" => shard.clone()).set(s.run_queue as f64);
                    }
                }
                for cm in &m.connections {
                    let peer = cm.peer.to_string();
                    for name in [
                        "ergo_connection_bytes_in_total",
                        "ergo_connection_bytes_out_total",
                        "ergo_connection_frames_in_total",
                        "ergo_connection_sends_total",
                        "ergo_connection_send_pauses_total",
                        "ergo_connection_reconnects_total",
                        "ergo_connection_link_errors_total",
                    ] {
                        metrics::counter!(name, "peer" => peer.clone()).absolute(cm.bytes_in);
                    }
                    metrics::gauge!("ergo_connection_links", "peer" => peer).set(cm.links as f64);
                }
            });
            black_box(handle.render()).len()
        })
    });
    g.finish();
}

/// What a scrape costs a running node: every shard copies its counters (a closure through its
/// inbound queue, a wake-up when it was parked), then the text is encoded.
fn scrape(c: &mut Criterion) {
    let mut g = c.benchmark_group("scrape a node");
    let node = ergo_engine::Node::start(
        "bench-scrape@localhost",
        ergo_engine::NodeOptions {
            shards: 2,
            pin: false,
            ..Default::default()
        },
    )
    .expect("node starts");
    let timeout = std::time::Duration::from_secs(1);
    g.bench_function("Node::metrics, 2 idle shards", |b| {
        b.iter(|| black_box(node.metrics(timeout)).shards.len())
    });
    let scraper = ergo_engine::ops::metrics::Scraper::default();
    g.bench_function("snapshot + Prometheus text, 2 idle shards", |b| {
        b.iter(|| black_box(scraper.scrape(&node, timeout)).len())
    });
    g.finish();
    node.stop();
}

criterion_group!(benches, increments, encoding, scrape);
criterion_main!(benches);
