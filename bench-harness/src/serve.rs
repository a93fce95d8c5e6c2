//! `ergo-bench serve`: a node hosting `echo` and `sink` (see [`crate::servers`]) for `load` (or
//! any Ergo node, Go or Rust) to drive. It runs until SIGINT or SIGTERM (or `--for` elapses).

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ergo_engine::registrar::RegistrarOptions;
use ergo_engine::{AcceptorOptions, NetworkOptions, NodeOptions, SpawnOptions};

use crate::servers::{Echo, Sink, ECHO, SINK};

/// What `serve` needs.
pub struct ServeArgs {
    pub name: String,
    pub cookie: String,
    pub listen: Option<SocketAddr>,
    /// Run or join the host's registrar on this port (`None`: static routes only).
    pub registrar_port: Option<u16>,
    pub shards: usize,
    /// Stop after this long (`None`: at SIGINT / SIGTERM).
    pub run_for: Option<Duration>,
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

fn catch_signals() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic (async-signal-safe); `signal` has no
        // other preconditions.
        unsafe {
            libc::signal(sig, handler);
        }
    }
}

/// Starts the node and serves until told to stop.
pub fn serve(a: ServeArgs) -> Result<(), String> {
    let mut net = NetworkOptions::new(&a.cookie);
    if let Some(l) = a.listen {
        net.acceptors = vec![AcceptorOptions::new(l)];
    }
    net.registrar = a.registrar_port.map(|port| {
        RegistrarOptions {
            port,
            ..Default::default()
        }
        .into()
    });
    catch_signals();
    let node = crate::metrics_switch::start(
        &a.name,
        NodeOptions {
            shards: a.shards,
            network: Some(net),
            ..Default::default()
        },
    )
    .map_err(|e| format!("starting node {}: {e}", a.name))?;
    let spawned = node
        .spawn_register(ECHO, Echo, SpawnOptions::default())
        .and_then(|_| node.spawn_register(SINK, Sink::default(), SpawnOptions::default()));
    if let Err(e) = spawned {
        node.stop();
        return Err(format!("spawning echo and sink: {e}"));
    }
    let addr = node
        .network_address()
        .map_or("?".to_string(), |a| a.to_string());
    let registrar = a.registrar_port.map_or("no registrar".to_string(), |p| {
        format!("registrar port {p}")
    });
    println!(
        "ergo-bench serve: node {} listening on {addr} ({registrar}); processes '{ECHO}' and '{SINK}'",
        node.name()
    );
    let _ = std::io::stdout().flush();
    let until = a.run_for.map(|d| Instant::now() + d);
    while !STOP.load(Ordering::Relaxed) && until.is_none_or(|u| Instant::now() < u) {
        std::thread::sleep(Duration::from_millis(50));
    }
    node.stop();
    eprintln!("ergo-bench serve: stopped");
    Ok(())
}
