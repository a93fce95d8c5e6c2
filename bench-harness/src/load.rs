//! `ergo-bench load`: drives an open-loop load of calls or messages against `echo` / `sink` on a
//! running node (`ergo-bench serve`, or any node hosting processes with those names and
//! behaviour), and reports throughput and the latency histogram.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ergo_engine::{Atom, NetworkOptions, Node, NodeOptions, ProcessId, Target};

use crate::call_latency::figures;
use crate::driver::{drive, Mode, Spec};
use crate::latency::write_interval_log;
use crate::outcome::Outcome;
use crate::progress::Progress;
use crate::servers::{ECHO, SINK};

/// What `load` needs.
pub struct LoadArgs {
    pub target: String,
    pub cookie: String,
    /// A static route to the target's acceptor; `None`: ask the registrar of its host.
    pub route: Option<SocketAddr>,
    /// This node's name (`None`: `ergo-bench-load-<pid>@localhost`).
    pub name: Option<String>,
    pub mode: Mode,
    pub rate: f64,
    pub duration: Duration,
    pub callers: usize,
    pub timeout: Duration,
    pub shards: usize,
    pub hist: Option<PathBuf>,
    /// Write the log's histograms compressed (V2 + DEFLATE).
    pub hist_compressed: bool,
    pub plot: Option<PathBuf>,
    pub json: bool,
}

/// Runs the load and prints what it measured.
pub fn load(a: LoadArgs) -> Result<(), String> {
    if a.rate.is_nan() || a.rate <= 0.0 {
        return Err("--rate must be above 0".into());
    }
    let target = Atom::new(&a.target);
    let mut net = NetworkOptions::new(&a.cookie);
    if let Some(r) = a.route {
        net.routes.insert(target, r.into());
    }
    let name = a
        .name
        .clone()
        .unwrap_or_else(|| format!("ergo-bench-load-{}@localhost", std::process::id()));
    let node = crate::metrics_switch::start(
        &name,
        NodeOptions {
            shards: a.shards,
            network: Some(net),
            ..Default::default()
        },
    )
    .map_err(|e| format!("starting node {name}: {e}"))?;
    let r = load_on(&node, &a);
    node.stop();
    r
}

/// Asks `sink` how many messages it has received.
fn sink_count(node: &Node, sink: ProcessId, timeout: Duration) -> Result<u64, String> {
    node.call(sink, 0u64, timeout)
        .map_err(|e| format!("asking {sink:?} for its count: {e}"))?
        .downcast::<u64>()
        .map_err(|_| "sink answered something else than a count".to_string())
}

fn load_on(node: &Node, a: &LoadArgs) -> Result<(), String> {
    let target_node = Atom::new(&a.target);
    let echo = ProcessId::new(Atom::new(ECHO), target_node);
    let sink = ProcessId::new(Atom::new(SINK), target_node);
    // Connect (and check the target is there) before the clock starts.
    let connect = Duration::from_secs(10).max(a.timeout);
    node.call(echo, 0u64, connect)
        .map_err(|e| format!("cannot reach '{ECHO}' on {}: {e}", a.target))?;
    let before = if a.mode == Mode::Sink {
        sink_count(node, sink, connect)?
    } else {
        0
    };
    let spec = Spec {
        target: Target::ProcessId(if a.mode == Mode::Sink { sink } else { echo }),
        mode: a.mode,
        callers: a.callers.max(1),
        rate: Some(a.rate),
        duration: a.duration,
        timeout: a.timeout,
    };
    let progress = Progress::timed(a.duration, "load");
    let mut run = drive(node, &spec, &progress).map_err(|e| format!("driving the load: {e}"))?;
    drop(progress);
    if a.mode == Mode::Sink {
        // Messages still on the wire arrive before a call that follows them on the same link;
        // poll a little in case they travel on another.
        let wait_until = Instant::now() + a.timeout;
        let mut got = sink_count(node, sink, connect)?.saturating_sub(before);
        while got < run.sent && Instant::now() < wait_until {
            std::thread::sleep(Duration::from_millis(50));
            got = sink_count(node, sink, connect)?.saturating_sub(before);
        }
        run.completed = got;
        run.errors += run.sent.saturating_sub(got + run.errors);
    }
    if let Some(path) = &a.hist {
        let mut f = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let comment = format!(
            "ergo-bench load --target {} --mode {} --rate {} --callers {}",
            a.target,
            a.mode.name(),
            a.rate,
            spec.callers
        );
        write_interval_log(
            &mut f,
            run.started,
            &comment,
            a.mode.name(),
            &run.intervals,
            a.hist_compressed,
        )?;
    }
    let outcome = figures("load".to_string(), "network", &spec, run);
    if a.json {
        outcome.print(true, 1);
    } else {
        println!("{}", Outcome::header());
        outcome.print(false, 1);
        if let Outcome::Latency(l) = &outcome {
            if !l.hist.is_empty() {
                println!();
                println!(
                    "{:>12} {:>14} {:>12}",
                    "percentile", "latency (us)", "count"
                );
                for q in [0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0] {
                    let v = l.hist.value_at_quantile(q);
                    let below = l.hist.count_between(0, v);
                    println!(
                        "{:>11.3}% {:>14.1} {:>12}",
                        q * 100.0,
                        v as f64 / 1000.0,
                        below
                    );
                }
            }
        }
    }
    if let Some(dir) = &a.plot {
        if let Outcome::Latency(l) = &outcome {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let p = dir.join("load-latency.svg");
            let title = format!("{} latency, {} at {}/s", a.target, a.mode.name(), a.rate);
            crate::plot::latency_chart(&p, &title, &[("load".to_string(), &l.hist)])?;
            eprintln!("wrote {}", p.display());
        }
    }
    Ok(())
}
