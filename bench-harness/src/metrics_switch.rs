//! `run --metrics`: every node a scenario starts serves `/metrics` and is scraped once a second
//! while it runs (a scrape every second is 15 times Prometheus's default rate), so that the
//! figures show what metrics cost. The switch travels in an environment variable so the
//! memusage child processes inherit it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use ergo_engine::{Error, Node, NodeOptions};

const VAR: &str = "ERGO_BENCH_METRICS";

/// How often a node is scraped.
pub(crate) const SCRAPE_EVERY: Duration = Duration::from_secs(1);

/// Turns metrics on for every node started after this (and in child processes).
pub(crate) fn enable() {
    std::env::set_var(VAR, "1");
}

/// Whether `--metrics` is on.
pub(crate) fn enabled() -> bool {
    std::env::var_os(VAR).is_some_and(|v| v == "1")
}

/// `Node::start`, with the metrics listener and a scraper when the switch is on.
pub(crate) fn start(name: &str, mut options: NodeOptions) -> Result<Node, Error> {
    if enabled() {
        options.ops.listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    }
    let node = Node::start(name, options)?;
    if let Some(addr) = node.ops_address() {
        let _ = std::thread::Builder::new()
            .name("bench-scraper".into())
            .spawn(move || scrape_until_gone(addr));
    }
    Ok(node)
}

/// Scrapes `addr` every [`SCRAPE_EVERY`] until the listener is gone (the node stopped).
fn scrape_until_gone(addr: SocketAddr) {
    loop {
        std::thread::sleep(SCRAPE_EVERY);
        let Ok(mut s) = TcpStream::connect(addr) else {
            return;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let req = "GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
        if s.write_all(req.as_bytes()).is_err() {
            return;
        }
        let mut out = Vec::new();
        if s.read_to_end(&mut out).is_err() || !out.starts_with(b"HTTP/1.1 200") {
            return;
        }
    }
}
