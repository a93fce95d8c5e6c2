//! `ergo-bench`: benchmark scenarios for the Rust Ergo node.
//!
//! `ergo-bench run local-1-1 local-n-n memusage [--json] [--runs N]` runs the local scenarios
//! (the shapes of the Go Ergo benchmarks) and prints one line per scenario: a table row, or with
//! `--json` one JSON object. With `--runs N` each scenario runs N times and the median is
//! printed.

#![deny(unsafe_op_in_unsafe_fn)]

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod compare;
mod golog;
mod local;
mod network;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "ergo-bench", about = "Benchmarks for the Rust Ergo node")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run scenarios.
    Run {
        /// Scenarios to run, in order.
        #[arg(required = true)]
        scenarios: Vec<Scenario>,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
        /// Run each scenario this many times and report the median.
        #[arg(long, default_value_t = 1)]
        runs: usize,
        /// Shards (0 = one per core).
        #[arg(long, default_value_t = 0)]
        shards: usize,
        /// Measure memusage in this OS process (by default each memusage run gets a fresh one,
        /// since memory freed by earlier scenarios stays with the allocator and hides growth).
        #[arg(long, hide = true)]
        in_process: bool,
    },
    /// Go Ergo benchmark logs beside our figures (from a saved `run --json`, or measured now).
    Compare {
        /// Logs of the Go Ergo benchmarks (ping, memusage, pub/sub), with or without dates.
        #[arg(long = "go-log", required = true)]
        go_log: Vec<String>,
        /// Our figures: the output of `ergo-bench run ... --json`. Without it, the local and
        /// network scenarios are measured now.
        #[arg(long)]
        ours: Option<String>,
    },
}

/// The scenarios.
#[derive(Clone, Copy, Debug, ValueEnum)]
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Compare { go_log, ours } => {
            let ours_json = match ours {
                Some(path) => match std::fs::read_to_string(&path) {
                    Ok(t) => t,
                    Err(e) => {
                        eprintln!("ergo-bench: {path}: {e}");
                        return ExitCode::FAILURE;
                    }
                },
                None => {
                    let mut lines = String::new();
                    let measured = [
                        local::one_to_one(0, 3_000_000, false),
                        local::n_to_n(0, 1_000_000),
                        local::memusage_in_child(0),
                        network::run(1, 3_000_000),
                    ];
                    for r in measured {
                        match r {
                            Ok(o) => lines.push_str(&o.json_line(1)),
                            Err(e) => eprintln!("ergo-bench: measuring: {e}"),
                        }
                        lines.push('\n');
                    }
                    lines
                }
            };
            match compare::run(&go_log, &ours_json) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("ergo-bench: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::Run {
            scenarios,
            json,
            runs,
            shards,
            in_process,
        } => {
            let runs = runs.max(1);
            if !json {
                println!(
                    "{:<16} {:>12} {:>12} {:>16}",
                    "scenario", "count", "seconds", "rate / size"
                );
            }
            for s in scenarios {
                let r = match s {
                    Scenario::Local11 => {
                        local::median(runs, || local::one_to_one(shards, 3_000_000, false))
                    }
                    Scenario::Local11Cross => {
                        local::median(runs, || local::one_to_one(shards, 3_000_000, true))
                    }
                    Scenario::LocalNN => local::median(runs, || local::n_to_n(shards, 1_000_000)),
                    Scenario::MemUsage if in_process => {
                        local::median(runs, || local::memusage(shards, 1_000_000))
                    }
                    Scenario::MemUsage => local::median(runs, || local::memusage_in_child(shards)),
                    Scenario::Network11 => local::median(runs, || network::run(1, 3_000_000)),
                    Scenario::NetworkNN => {
                        let n = std::thread::available_parallelism()
                            .map(|n| n.get())
                            .unwrap_or(2);
                        local::median(runs, || network::run(n, 1_000_000))
                    }
                };
                match r {
                    Ok(r) => r.print(json, runs),
                    Err(e) => {
                        eprintln!("ergo-bench: {s:?}: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            ExitCode::SUCCESS
        }
    }
}
