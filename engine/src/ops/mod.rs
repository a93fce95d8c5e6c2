//! Operations: what an operator runs a node with.
//!
//! - [`counters`]: the shard-local counters (plain cells on the shard; no atomics on the
//!   message path), [`net_counters`]: the network's control-plane counters, [`snapshot`]:
//!   [`crate::Node::metrics`], which asks every shard for a copy and sums them;
//! - [`health`]: the live and ready probes, with user checks;
//! - `metrics` (feature `ops`): the Prometheus text encoding of a snapshot
//!   (`prometheus-client`);
//! - `http` (feature `ops`): the minimal HTTP/1.1 listener serving `/metrics`,
//!   `/health/live` and `/health/ready` from one control thread (hyper on a current-thread
//!   tokio runtime that never leaves that thread);
//! - `config` (feature `ops`): a node's options from a TOML file with `ERGO_<SECTION>_<KEY>`
//!   environment overrides.
//!
//! Nothing in this module runs on a shard thread except the counter updates and the snapshot
//! closures; nothing here may block a shard.

pub mod counters;
pub mod health;
pub(crate) mod net_counters;
pub mod snapshot;

#[cfg(feature = "ops")]
pub mod config;
#[cfg(feature = "ops")]
mod http;
#[cfg(feature = "ops")]
pub mod metrics;

use std::net::SocketAddr;
use std::time::Duration;

use ergo_edf::Atom;

/// Metrics and health over HTTP (`NodeOptions::ops`).
#[derive(Clone, Debug)]
pub struct OpsOptions {
    /// Where the HTTP listener binds (`None`: no listener; port 0 picks a free port, see
    /// `Node::ops_address`).
    pub listen: Option<SocketAddr>,
    /// Serve `/metrics` (the switch for metrics: off, the path answers 404 and no shard is
    /// ever asked for its counters).
    pub metrics: bool,
    /// Serve `/health/live` and `/health/ready`.
    pub health: bool,
    /// Applications that must run for the node to be ready.
    pub required_applications: Vec<Atom>,
    /// HTTP connections served at once; more are closed at once.
    pub max_connections: usize,
    /// How long a client may take to send its request headers, and how long a connection
    /// may stay open at all.
    pub request_timeout: Duration,
    /// How long a scrape waits for each shard's counters.
    pub scrape_timeout: Duration,
}

impl Default for OpsOptions {
    fn default() -> Self {
        OpsOptions {
            listen: None,
            metrics: true,
            health: true,
            required_applications: Vec::new(),
            max_connections: 64,
            request_timeout: Duration::from_secs(5),
            scrape_timeout: Duration::from_secs(1),
        }
    }
}

pub use net_counters::AcceptorMetrics;

#[cfg(feature = "ops")]
pub(crate) use http::Server;

/// Without the `ops` feature there is no HTTP listener: asking for one is an error.
#[cfg(not(feature = "ops"))]
pub(crate) struct Server;

#[cfg(not(feature = "ops"))]
impl Server {
    pub(crate) fn start(_: &crate::Node, _: &OpsOptions) -> Result<Server, crate::Error> {
        Err(crate::Error::Invalid(
            "ops.listen is set but ergo-engine was built without the `ops` feature",
        ))
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        SocketAddr::from(([0, 0, 0, 0], 0))
    }
}
