//! `call-latency`: request/response latency between two nodes over loopback TCP, and on one
//! node, at a fixed offered rate (open loop, coordinated-omission corrected) for 1 and 16
//! concurrent callers, and the most calls per second 16 callers get back to back (closed loop).
//!
//! One output line per variant: `call-latency-<network|local>-<1|16|closed>`.

use std::time::Duration;

use ergo_engine::{Error, Node, NodeOptions, SpawnOptions, Target};

use crate::driver::{drive, Mode, Run, Spec};
use crate::latency::percentiles;
use crate::local::Stopping;
use crate::network::net_node;
use crate::outcome::{LatencyFigures, Outcome};
use crate::progress::Progress;
use crate::servers::{Echo, ECHO};

/// Sizes of a `call-latency` run.
#[derive(Clone, Debug)]
pub struct Params {
    /// Length of each variant.
    pub duration: Duration,
    /// Offered rate of the single caller (calls/s).
    pub rate_one: f64,
    /// Offered rate of the many callers together (calls/s).
    pub rate_many: f64,
    /// How many callers "many" is.
    pub many: usize,
    /// Shards of the local variants' node (0 = one per core).
    pub shards: usize,
}

/// The figures of one driven load.
pub fn figures(scenario: String, transport: &'static str, spec: &Spec, run: Run) -> Outcome {
    Outcome::Latency(Box::new(LatencyFigures {
        scenario,
        transport,
        mode: spec.mode.name(),
        callers: spec.callers,
        offered_per_sec: spec.rate,
        completed: run.completed,
        sent: run.sent,
        errors: run.errors,
        elapsed_s: run.elapsed.as_secs_f64(),
        latency: percentiles(&run.total),
        hist: run.total,
    }))
}

/// The three variants against `target`, driven from `node`.
fn variants(
    node: &Node,
    target: Target,
    transport: &'static str,
    p: &Params,
) -> Result<Vec<Outcome>, Error> {
    let mut out = Vec::new();
    let cases = [
        (1, Some(p.rate_one), "1".to_string()),
        (p.many, Some(p.rate_many), p.many.to_string()),
        (p.many, None, "closed".to_string()),
    ];
    for (callers, rate, suffix) in cases {
        let spec = Spec {
            target,
            mode: Mode::Call,
            callers,
            rate,
            duration: p.duration,
            timeout: Duration::from_secs(5),
        };
        let name = format!("call-latency-{transport}-{suffix}");
        let progress = Progress::timed(p.duration, &name);
        let run = drive(node, &spec, &progress)?;
        out.push(figures(name, transport, &spec, run));
    }
    Ok(out)
}

/// Runs every variant: network first, then local.
pub fn run(p: &Params) -> Result<Vec<Outcome>, Error> {
    let mut out = Vec::new();
    {
        let b = Stopping(net_node("latency-b@localhost", None)?);
        let a = Stopping(net_node("latency-a@localhost", Some(&b))?);
        let echo = b.spawn_register(ECHO, Echo, SpawnOptions::default())?;
        // Connect before the clock starts.
        a.call(echo, 0u64, Duration::from_secs(10))?;
        out.extend(variants(&a, echo.into(), "network", p)?);
    }
    {
        let node = Stopping(crate::metrics_switch::start(
            "latency@localhost",
            NodeOptions {
                shards: p.shards,
                ..Default::default()
            },
        )?);
        let echo = node.spawn_register(ECHO, Echo, SpawnOptions::default())?;
        out.extend(variants(&node, echo.into(), "local", p)?);
    }
    Ok(out)
}
