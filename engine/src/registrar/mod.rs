//! Registrars: how a node makes itself known to its cluster and finds its peers.
//!
//! One seam, several implementations: [`StartRegistrar`] starts a registrar for a node and
//! returns its [`RegistrarClient`], which the network asks for a peer's routes when it dials,
//! and which applications tell about their routes. The node picks one with
//! [`NetworkOptions::registrar`](crate::NetworkOptions) ([`RegistrarConfig`]):
//! - [`RegistrarOptions`] — the built-in registrar ([`builtin`]): UDP/TCP port 4499 on each
//!   host, Go-compatible as client and server;
//! - `etcd::EtcdOptions` (cargo feature `etcd`, on by default) — Go's etcd registrar layout
//!   under `services/ergo/...`, with cluster-wide configuration and events;
//! - [`RegistrarConfig::Custom`] — any other implementation of [`StartRegistrar`], without
//!   touching the engine.
//!
//! This module owns the seam only (traits, shared value types, the error); each
//! implementation lives in its own module and runs on its own threads, never on a shard.

pub mod builtin;
mod builtin_client;
#[cfg(feature = "etcd")]
pub mod etcd;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use ergo_edf::{Atom, Event};
use ergo_proto::gen::{Route, Version};
use thiserror::Error;

use crate::Node;

pub use builtin::{
    host_of, resolve, Error, Registrar, RegistrarOptions, REGISTER_TIMEOUT, RESOLVE_TIMEOUT, RETRY,
};
pub use ergo_proto::gen::{ApplicationRoute, ApplicationState as RouteState};

/// Failures of any registrar behind the seam.
#[derive(Debug, Error)]
pub enum RegistrarError {
    /// The built-in registrar failed.
    #[error(transparent)]
    Builtin(#[from] builtin::Error),
    /// The etcd registrar failed.
    #[cfg(feature = "etcd")]
    #[error(transparent)]
    Etcd(#[from] etcd::EtcdError),
    /// The registrar does not offer this (e.g. config on the built-in registrar).
    #[error("the {registrar} registrar does not support {what}")]
    Unsupported {
        /// Which registrar.
        registrar: &'static str,
        /// What was asked.
        what: &'static str,
    },
    /// A failure of another implementation.
    #[error("registrar: {0}")]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// A configuration value kept by a registrar (Go's `any`: string, `int64`, `float64`, `bool`).
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    /// A plain string.
    String(String),
    /// From `int:<n>`.
    Int(i64),
    /// From `float:<x>`.
    Float(f64),
    /// From `bool:<b>`.
    Bool(bool),
}

/// What a registrar offers (Go's `gen.RegistrarInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarInfo {
    /// Where it lives, for humans (e.g. `127.0.0.1:4499`, or the etcd endpoints).
    pub server: String,
    /// This node runs the registrar's server.
    pub embedded_server: bool,
    /// Name and release of the implementation.
    pub version: Version,
    /// [`RegistrarClient::config_item`] works.
    pub support_config: bool,
    /// [`RegistrarClient::event`] works.
    pub support_event: bool,
    /// [`RegistrarClient::register_application_route`] works.
    pub support_register_application: bool,
}

/// What a node registers: one route per acceptor.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    /// The node's acceptors.
    pub routes: Vec<Route>,
    /// Applications already loaded or running.
    pub applications: Vec<ApplicationRoute>,
}

/// A node's running registrar (Go's `gen.Registrar` with its `gen.Resolver`). Its methods
/// block (network round trips with their own deadlines): call them from a control thread,
/// not from an actor's handler.
pub trait RegistrarClient: Send + Sync {
    /// What this registrar offers.
    fn info(&self) -> RegistrarInfo;
    /// Whether this node's registration holds now (false while it is lost and retried, and
    /// for a client that only resolves). The readiness probe reads it.
    fn is_registered(&self) -> bool;
    /// `node`'s routes, to dial it.
    fn resolve(&self, node: Atom) -> Result<Vec<Route>, RegistrarError>;
    /// The nodes offering application `app` (this node left out).
    fn resolve_application(&self, app: Atom) -> Result<Vec<ApplicationRoute>, RegistrarError> {
        let _ = app;
        Err(self.unsupported("application routes"))
    }
    /// Announces (or updates) one of this node's applications.
    fn register_application_route(&self, route: ApplicationRoute) -> Result<(), RegistrarError> {
        let _ = route;
        Err(self.unsupported("application routes"))
    }
    /// Withdraws one of this node's applications.
    fn unregister_application_route(&self, app: Atom) -> Result<(), RegistrarError> {
        let _ = app;
        Err(self.unsupported("application routes"))
    }
    /// The other nodes registered in the cluster.
    fn nodes(&self) -> Result<Vec<Atom>, RegistrarError> {
        Err(self.unsupported("listing nodes"))
    }
    /// The effective value of configuration item `item` for this node (`None`: not set).
    fn config_item(&self, item: &str) -> Result<Option<ConfigValue>, RegistrarError> {
        let _ = item;
        Err(self.unsupported("configuration"))
    }
    /// The effective values of `items` that are set.
    fn config(&self, items: &[&str]) -> Result<HashMap<String, ConfigValue>, RegistrarError> {
        let mut out = HashMap::new();
        for item in items {
            if let Some(v) = self.config_item(item)? {
                out.insert(item.to_string(), v);
            }
        }
        Ok(out)
    }
    /// The event this registrar publishes cluster changes on, for processes to link or
    /// monitor (Go's `Registrar.Event()`).
    fn event(&self) -> Result<Event, RegistrarError> {
        Err(self.unsupported("events"))
    }
    /// Leaves the cluster (unregisters) and stops the registrar's threads.
    fn stop(&self);
    /// The implementation itself, for what only it offers (e.g.
    /// `etcd::EtcdRegistrar::state`): `registrar.as_any()?.downcast_ref::<EtcdRegistrar>()`.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
    /// The error for an operation this registrar does not offer.
    fn unsupported(&self, what: &'static str) -> RegistrarError {
        RegistrarError::Unsupported {
            registrar: "this",
            what,
        }
    }
}

/// Starts a registrar for a node: what [`RegistrarConfig`] holds.
pub trait StartRegistrar: Send + Sync + fmt::Debug {
    /// Starts the registrar for `node`. With `registration` (network mode enabled, at least
    /// one acceptor) the node registers and a name already taken is refused; without it the
    /// client only resolves peers.
    fn start(
        &self,
        node: &Node,
        registration: Option<Registration>,
    ) -> Result<Arc<dyn RegistrarClient>, RegistrarError>;
}

/// Which registrar a node uses (see the module docs).
#[derive(Debug, Clone)]
pub enum RegistrarConfig {
    /// The built-in registrar (port 4499 on each host).
    Builtin(RegistrarOptions),
    /// The etcd registrar.
    #[cfg(feature = "etcd")]
    Etcd(Box<etcd::EtcdOptions>),
    /// Another implementation.
    Custom(Arc<dyn StartRegistrar>),
}

impl RegistrarConfig {
    /// The implementation that starts this registrar.
    pub fn starter(&self) -> &dyn StartRegistrar {
        match self {
            RegistrarConfig::Builtin(o) => o,
            #[cfg(feature = "etcd")]
            RegistrarConfig::Etcd(o) => o.as_ref(),
            RegistrarConfig::Custom(s) => s.as_ref(),
        }
    }
}

impl From<RegistrarOptions> for RegistrarConfig {
    fn from(o: RegistrarOptions) -> Self {
        RegistrarConfig::Builtin(o)
    }
}

#[cfg(feature = "etcd")]
impl From<etcd::EtcdOptions> for RegistrarConfig {
    fn from(o: etcd::EtcdOptions) -> Self {
        RegistrarConfig::Etcd(Box::new(o))
    }
}
