//! `ergo-bench`: benchmark scenarios and load tests for the Rust Ergo node, beside Go Ergo's
//! figures.
//!
//! - `ergo-bench run [SCENARIO...] [--json] [--full] [--runs N] [--plot DIR]`: the scenarios
//!   (the default suite without any), one line each (a table row, or with `--json` one JSON
//!   object per line; see `bench-harness/README.md` for the fields).
//! - `ergo-bench compare --go-log FILE... [--ours FILE] [--plot DIR]`: Go benchmark logs beside
//!   our figures.
//! - `ergo-bench serve --name NODE@HOST` and `ergo-bench load --target NODE@HOST --rate R
//!   --duration D`: load testing a real deployment.

#![deny(unsafe_op_in_unsafe_fn)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

mod alloc_count;
mod call_latency;
mod compare;
mod driver;
mod golog;
mod latency;
mod load;
mod local;
mod metrics_switch;
mod network;
mod outcome;
mod plot;
mod progress;
mod pubsub;
mod serial;
mod serve;
mod servers;

use outcome::{median, median_lines, Outcome};

#[global_allocator]
static GLOBAL: alloc_count::CountingMimalloc = alloc_count::CountingMimalloc;

#[derive(Parser)]
#[command(
    name = "ergo-bench",
    about = "Benchmarks and load tests for the Rust Ergo node"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run scenarios (the default suite when none is named).
    Run {
        /// Scenarios to run, in order.
        scenarios: Vec<Scenario>,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
        /// Go Ergo's sizes (1M subscribers, longer latency runs, ...) instead of the reduced
        /// default ones.
        #[arg(long)]
        full: bool,
        /// Run each scenario this many times and report the median.
        #[arg(long, default_value_t = 1)]
        runs: usize,
        /// Shards of the local scenarios' nodes (local-*, memusage, call-latency-local-*;
        /// 0 = one per core).
        #[arg(long, default_value_t = 0)]
        shards: usize,
        /// Write SVG charts into this directory.
        #[arg(long)]
        plot: Option<PathBuf>,
        /// Go benchmark logs whose figures the throughput charts show beside ours.
        #[arg(long = "go-log")]
        go_log: Vec<String>,
        /// Measure memusage in this OS process (by default each memusage run gets a fresh one,
        /// since memory freed by earlier scenarios stays with the allocator and hides growth).
        #[arg(long, hide = true)]
        in_process: bool,
        /// Processes spawned by memusage (overrides the size preset).
        #[arg(long, hide = true)]
        processes: Option<u64>,
        /// Tiny sizes, for tests of the output (figures meaningless).
        #[arg(long, hide = true)]
        tiny: bool,
        /// pubsub: consumer nodes (overrides the size preset).
        #[arg(long)]
        consumer_nodes: Option<usize>,
        /// pubsub: subscribers per consumer node (overrides the size preset).
        #[arg(long)]
        subscribers_per_node: Option<u64>,
        /// Every node serves /metrics and is scraped once a second (to measure the cost of
        /// metrics: compare with a run without it).
        #[arg(long)]
        metrics: bool,
    },
    /// Go Ergo benchmark logs beside our figures (from a saved `run --json`, or measured now).
    Compare {
        /// Logs of the Go Ergo benchmarks (ping, memusage, pub/sub, `go test -bench` of serial),
        /// with or without dates.
        #[arg(long = "go-log", required = true)]
        go_log: Vec<String>,
        /// Our figures: the output of `ergo-bench run ... --json`. Without it, the default suite
        /// is measured now.
        #[arg(long)]
        ours: Option<String>,
        /// With `--ours` absent: measure at Go's sizes.
        #[arg(long)]
        full: bool,
        /// Write SVG charts into this directory.
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// Start a node hosting `echo` and `sink` for `load` to drive; runs until SIGINT / SIGTERM.
    Serve {
        /// Node name, NODE@HOST.
        #[arg(long)]
        name: String,
        /// Cluster cookie.
        #[arg(long, default_value = "ergo-bench")]
        cookie: String,
        /// Acceptor address (default 127.0.0.1, any port).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Do not run or join the host's registrar (static routes only).
        #[arg(long)]
        no_registrar: bool,
        /// Registrar port.
        #[arg(long, default_value_t = 4499)]
        registrar_port: u16,
        /// Shards (0 = one per core).
        #[arg(long, default_value_t = 0)]
        shards: usize,
        /// Stop after this long (`30s`, `5m`; default: run until signalled).
        #[arg(long = "for", value_parser = parse_duration)]
        run_for: Option<Duration>,
    },
    /// Drive an open-loop load against `echo` / `sink` on a node; print throughput and the
    /// latency histogram.
    Load {
        /// The node to load, NODE@HOST.
        #[arg(long)]
        target: String,
        /// Offered rate, calls or messages per second (all callers together).
        #[arg(long)]
        rate: f64,
        /// How long (`10s`, `500ms`, `2m`, or seconds).
        #[arg(long, value_parser = parse_duration)]
        duration: Duration,
        /// Concurrent callers.
        #[arg(long, default_value_t = 1)]
        callers: usize,
        /// `call`: calls to `echo`; `send`: messages to `echo`, which returns them (round-trip
        /// latency); `sink`: one-way messages to `sink` (throughput only).
        #[arg(long, value_enum, default_value_t = LoadMode::Call)]
        mode: LoadMode,
        /// Static route to the target's acceptor (otherwise its host's registrar, port 4499).
        #[arg(long)]
        route: Option<SocketAddr>,
        /// Cluster cookie.
        #[arg(long, default_value = "ergo-bench")]
        cookie: String,
        /// This node's name (default ergo-bench-load-<pid>@localhost).
        #[arg(long)]
        name: Option<String>,
        /// Timeout of one call (and how long `send` waits for the last returns).
        #[arg(long, value_parser = parse_duration, default_value = "5s")]
        timeout: Duration,
        /// Shards of the load node (0 = one per core).
        #[arg(long, default_value_t = 0)]
        shards: usize,
        /// Write the HdrHistogram interval log (V2, one histogram per second) here.
        #[arg(long)]
        hist: Option<PathBuf>,
        /// Compress the log's histograms (V2 + DEFLATE: what Java's HistogramLogReader and
        /// HistogramLogAnalyzer read).
        #[arg(long)]
        hist_compressed: bool,
        /// One JSON object instead of the table.
        #[arg(long)]
        json: bool,
        /// Write the latency chart into this directory.
        #[arg(long)]
        plot: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LoadMode {
    Call,
    Send,
    Sink,
}

/// The scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// 1 sender -> 1 receiver on one shard, 3M small integers.
    #[value(name = "local-1-1")]
    Local11,
    /// N pairs (N = shards), one pair per shard, 1M messages each.
    #[value(name = "local-n-n")]
    LocalNN,
    /// 1 sender -> 1 receiver on different shards, 3M small integers (cross-shard path).
    #[value(name = "local-1-1-cross")]
    Local11Cross,
    /// Spawn 1M idle processes; time and resident bytes per process.
    #[value(name = "memusage")]
    MemUsage,
    /// Two nodes over loopback TCP: 1 sender -> 1 remote receiver, 3M small integers.
    #[value(name = "network-1-1")]
    Network11,
    /// Two nodes over loopback TCP: N (= cores) senders -> N remote receivers, 1M each.
    #[value(name = "network-n-n")]
    NetworkNN,
    /// 1 producer node, 10 consumer nodes x 10k subscribers (--full: 100k), one event.
    #[value(name = "pubsub")]
    Pubsub,
    /// Call latency between two nodes and on one, 1 and 16 callers at a fixed rate, and
    /// closed-loop calls/s.
    #[value(name = "call-latency")]
    CallLatency,
    /// EDF encode/decode ns/op and allocations: String, Map, Complex, Nested.
    #[value(name = "serial")]
    Serial,
}

/// The default suite, in order.
const SUITE: [Scenario; 8] = [
    Scenario::Local11,
    Scenario::LocalNN,
    Scenario::MemUsage,
    Scenario::Network11,
    Scenario::NetworkNN,
    Scenario::Pubsub,
    Scenario::CallLatency,
    Scenario::Serial,
];

/// How big each scenario runs.
#[derive(Clone, Debug)]
struct Sizes {
    local_one: u64,
    local_each: u64,
    processes: u64,
    network_one: u64,
    network_each: u64,
    pubsub: pubsub::Params,
    latency: call_latency::Params,
    serial_budget: Duration,
}

impl Sizes {
    /// Go's sizes where they are cheap (ping, memusage), reduced pub/sub, latency and serial
    /// runs: the whole suite in well under 2 minutes on 2 cores.
    fn default_suite() -> Sizes {
        Sizes {
            local_one: 3_000_000,
            local_each: 1_000_000,
            processes: 1_000_000,
            network_one: 3_000_000,
            network_each: 1_000_000,
            pubsub: pubsub::Params {
                consumer_nodes: 10,
                per_node: 10_000,
            },
            latency: call_latency::Params {
                duration: Duration::from_secs(2),
                rate_one: 2_000.0,
                rate_many: 10_000.0,
                many: 16,
                shards: 0,
            },
            serial_budget: Duration::from_millis(200),
        }
    }

    /// Go's sizes.
    fn full() -> Sizes {
        Sizes {
            pubsub: pubsub::Params {
                consumer_nodes: 10,
                per_node: 100_000,
            },
            latency: call_latency::Params {
                duration: Duration::from_secs(10),
                ..Sizes::default_suite().latency
            },
            serial_budget: Duration::from_secs(1),
            ..Sizes::default_suite()
        }
    }

    /// Just enough to exercise every code path (tests of the output).
    fn tiny() -> Sizes {
        Sizes {
            local_one: 20_000,
            local_each: 10_000,
            processes: 10_000,
            network_one: 20_000,
            network_each: 10_000,
            pubsub: pubsub::Params {
                consumer_nodes: 2,
                per_node: 100,
            },
            latency: call_latency::Params {
                duration: Duration::from_millis(300),
                rate_one: 200.0,
                rate_many: 1600.0,
                many: 16,
                shards: 0,
            },
            serial_budget: Duration::from_millis(5),
        }
    }
}

/// `10s`, `500ms`, `1m30s` (Go's duration syntax), or a plain number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let secs = match s.trim().parse::<f64>() {
        Ok(n) => n,
        Err(_) => golog::parse_go_duration(s).ok_or(format!("not a duration: {s:?}"))?,
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("not a duration: {s:?}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Runs one scenario `runs` times; its lines (medians over the runs).
fn run_scenario(
    s: Scenario,
    sizes: &Sizes,
    runs: usize,
    shards: usize,
    in_process: bool,
) -> Result<Vec<Outcome>, String> {
    let e = |e: ergo_engine::Error| e.to_string();
    let one = |r: Result<Outcome, String>| r.map(|o| vec![o]);
    match s {
        Scenario::Local11 => {
            one(median(runs, || local::one_to_one(shards, sizes.local_one, false)).map_err(e))
        }
        Scenario::Local11Cross => {
            one(median(runs, || local::one_to_one(shards, sizes.local_one, true)).map_err(e))
        }
        Scenario::LocalNN => {
            one(median(runs, || local::n_to_n(shards, sizes.local_each)).map_err(e))
        }
        Scenario::MemUsage if in_process => {
            one(median(runs, || local::memusage(shards, sizes.processes)).map_err(e))
        }
        Scenario::MemUsage => {
            one(median(runs, || local::memusage_in_child(shards, sizes.processes)).map_err(e))
        }
        Scenario::Network11 => one(median(runs, || network::run(1, sizes.network_one)).map_err(e)),
        Scenario::NetworkNN => {
            let n = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2);
            one(median(runs, || network::run(n, sizes.network_each)).map_err(e))
        }
        Scenario::Pubsub => one(median(runs, || pubsub::run(&sizes.pubsub))),
        Scenario::CallLatency => {
            let mut all = Vec::with_capacity(runs);
            for _ in 0..runs.max(1) {
                all.push(call_latency::run(&sizes.latency).map_err(e)?);
            }
            Ok(median_lines(all))
        }
        Scenario::Serial => {
            let mut all = Vec::with_capacity(runs);
            for _ in 0..runs.max(1) {
                all.push(serial::run(sizes.serial_budget)?);
            }
            Ok(median_lines(all))
        }
    }
}

/// The name a scenario's failure is reported under.
fn scenario_name(s: Scenario) -> String {
    s.to_possible_value()
        .map_or(format!("{s:?}"), |v| v.get_name().to_string())
}

/// Runs `scenarios`, printing each line as it comes; returns every line and whether all ran.
fn run_all(
    scenarios: &[Scenario],
    sizes: &Sizes,
    runs: usize,
    shards: usize,
    in_process: bool,
    json: bool,
) -> (Vec<Outcome>, bool) {
    let mut all = Vec::new();
    let mut ok = true;
    for &s in scenarios {
        match run_scenario(s, sizes, runs, shards, in_process) {
            Ok(lines) => {
                for l in &lines {
                    l.print(json, runs);
                }
                all.extend(lines);
            }
            Err(err) => {
                ok = false;
                let name = scenario_name(s);
                eprintln!("ergo-bench: {name}: {err}");
                if json {
                    println!("{}", serde_json::json!({ "scenario": name, "error": err }));
                }
            }
        }
    }
    (all, ok)
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("ergo-bench: {msg}");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run {
            scenarios,
            json,
            full,
            runs,
            shards,
            plot,
            go_log,
            in_process,
            processes,
            tiny,
            consumer_nodes,
            subscribers_per_node,
            metrics,
        } => {
            if metrics {
                metrics_switch::enable();
            }
            let mut sizes = if tiny {
                Sizes::tiny()
            } else if full {
                Sizes::full()
            } else {
                Sizes::default_suite()
            };
            if let Some(p) = processes {
                sizes.processes = p;
            }
            sizes.latency.shards = shards;
            if let Some(n) = consumer_nodes {
                sizes.pubsub.consumer_nodes = n.max(1);
            }
            if let Some(n) = subscribers_per_node {
                sizes.pubsub.per_node = n.max(1);
            }
            let scenarios = if scenarios.is_empty() {
                SUITE.to_vec()
            } else {
                scenarios
            };
            if !json {
                println!("{}", Outcome::header());
            }
            let (outcomes, ok) = run_all(&scenarios, &sizes, runs.max(1), shards, in_process, json);
            if let Some(dir) = plot {
                let go = match compare::read_go_logs(&go_log) {
                    Ok((figures, _)) => figures,
                    Err(e) => return fail(e),
                };
                match plot::run_charts(&dir, &outcomes, &go) {
                    Ok(paths) => {
                        for p in paths {
                            eprintln!("wrote {}", p.display());
                        }
                    }
                    Err(e) => return fail(e),
                }
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Cmd::Compare {
            go_log,
            ours,
            full,
            plot,
        } => {
            let ours_json = match ours {
                Some(path) => match std::fs::read_to_string(&path) {
                    Ok(t) => t,
                    Err(e) => return fail(format!("{path}: {e}")),
                },
                None => {
                    let sizes = if full {
                        Sizes::full()
                    } else {
                        Sizes::default_suite()
                    };
                    // Every scenario with a Go counterpart (call-latency has none).
                    let measured = [
                        Scenario::Local11,
                        Scenario::LocalNN,
                        Scenario::MemUsage,
                        Scenario::Network11,
                        Scenario::NetworkNN,
                        Scenario::Pubsub,
                        Scenario::Serial,
                    ];
                    let mut lines = String::new();
                    for s in measured {
                        match run_scenario(s, &sizes, 1, 0, false) {
                            Ok(outs) => {
                                for o in outs {
                                    lines.push_str(&o.json_line(1));
                                    lines.push('\n');
                                }
                            }
                            Err(e) => eprintln!("ergo-bench: measuring {}: {e}", scenario_name(s)),
                        }
                    }
                    lines
                }
            };
            match compare::run(&go_log, &ours_json, plot.as_deref()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
        Cmd::Serve {
            name,
            cookie,
            listen,
            no_registrar,
            registrar_port,
            shards,
            run_for,
        } => {
            let args = serve::ServeArgs {
                name,
                cookie,
                listen,
                registrar_port: (!no_registrar).then_some(registrar_port),
                shards,
                run_for,
            };
            match serve::serve(args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
        Cmd::Load {
            target,
            rate,
            duration,
            callers,
            mode,
            route,
            cookie,
            name,
            timeout,
            shards,
            hist,
            hist_compressed,
            json,
            plot,
        } => {
            let args = load::LoadArgs {
                target,
                cookie,
                route,
                name,
                mode: match mode {
                    LoadMode::Call => driver::Mode::Call,
                    LoadMode::Send => driver::Mode::Send,
                    LoadMode::Sink => driver::Mode::Sink,
                },
                rate,
                duration,
                callers,
                timeout,
                shards,
                hist,
                hist_compressed,
                plot,
                json,
            };
            match load::load(args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1").is_err());
    }

    #[test]
    fn the_cli_parses() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
