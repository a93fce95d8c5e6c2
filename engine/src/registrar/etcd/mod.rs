//! The etcd registrar: discovery, cluster-wide configuration and cluster events kept in etcd,
//! with the data layout of Go's `ergo.services/registrar/etcd` ([`layout`]), so Rust and Go
//! nodes using it see one cluster.
//!
//! ```no_run
//! use ergo_engine::registrar::etcd::EtcdOptions;
//! use ergo_engine::{NetworkOptions, Node, NodeOptions};
//!
//! let mut net = NetworkOptions::new("cookie");
//! net.registrar = Some(EtcdOptions {
//!     endpoints: vec!["127.0.0.1:2379".into()],
//!     cluster: "production".into(),
//!     ..Default::default()
//! }.into());
//! let node = Node::start("web1@host1", NodeOptions { network: Some(net), ..Default::default() })?;
//! let registrar = node.network().registrar()?;
//! println!("cluster nodes: {:?}", registrar.nodes()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What a user may rely on:
//! - **Registration** puts the node's routes under a lease of `lease_ttl` seconds kept alive
//!   by the registrar; only if the key is free (a name held by a live node is refused at
//!   start with [`EtcdError::Taken`]). A clean stop revokes the lease: the node's keys and
//!   its applications' keys go at once. A killed node's keys go when its lease expires.
//! - **etcd unreachable**: the node goes on serving its connections; the registrar retries
//!   with backoff ([`EtcdOptions::retry_min`] doubling up to [`EtcdOptions::retry_max`]) and
//!   registers again under a new lease; if another node took the name meanwhile, it logs an
//!   error, publishes nothing more and [`RegistrarClient::info`] says it is not registered
//!   ([`EtcdRegistrar::state`] is [`RegistrationState::Taken`]).
//! - **Threads**: the etcd client and its tokio runtime live on one thread of their own
//!   (`ergo-etcd-registrar`); nothing of them runs on a shard. The blocking calls of
//!   [`RegistrarClient`] send the work to that thread and wait for the answer.
//! - **Events** ([`events`]): a change of a node's or application's key, or of a
//!   configuration item's effective value for this node, is published on the registrar
//!   event to local subscribers. The route events carry Go's registered EDF names;
//!   [`EventConfigUpdate`] holds a [`ConfigValue`] and stays on this node.
//!
//! Not done: a node that only resolves (hidden, or without acceptors) has no event and does
//! not load the configuration; events missed while etcd was unreachable are not replayed
//! (as Go), but the configuration is read afresh after each re-registration.

pub mod events;
pub mod layout;
mod session;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ergo_edf::{Atom, Event};
use ergo_proto::gen::{ApplicationRoute, Route, Version};
use thiserror::Error;

use self::layout::{ConfigStore, Paths};
use super::{
    ConfigValue, RegistrarClient, RegistrarError, RegistrarInfo, Registration, StartRegistrar,
};
use crate::Node;

pub use self::events::{
    EventApplicationLoaded, EventApplicationStarted, EventApplicationStopped,
    EventApplicationStopping, EventApplicationUnloaded, EventConfigUpdate, EventNodeJoined,
    EventNodeLeft,
};

/// TLS towards etcd (PEM texts).
#[derive(Debug, Clone, Default)]
pub struct EtcdTls {
    /// The CA that signed etcd's certificate (`None`: the system's roots are not loaded, so
    /// give one).
    pub ca_pem: Option<String>,
    /// A client certificate and key, when etcd asks for one.
    pub identity: Option<(String, String)>,
    /// The name to verify etcd's certificate against (default: the endpoint's host).
    pub domain: Option<String>,
}

/// How to reach etcd and where the node lives in it (Go's `etcd.Options`).
#[derive(Debug, Clone)]
pub struct EtcdOptions {
    /// etcd endpoints, `host:port` (or `https://host:port` with TLS). Default
    /// `localhost:2379`.
    pub endpoints: Vec<String>,
    /// The cluster's name (default `default`).
    pub cluster: String,
    /// Lease time-to-live in seconds (default 10).
    pub lease_ttl: i64,
    /// How long connecting may take (default 10 s).
    pub dial_timeout: Duration,
    /// How long one request may take (default 10 s).
    pub request_timeout: Duration,
    /// HTTP/2 keep-alive interval and timeout towards etcd (`None`: a third of the lease TTL,
    /// at least 1 s, as Go).
    pub keep_alive: Option<Duration>,
    /// User and password, when etcd has authentication enabled.
    pub user: Option<(String, String)>,
    /// TLS towards etcd.
    pub tls: Option<EtcdTls>,
    /// First wait before retrying after etcd became unreachable (default 1 s).
    pub retry_min: Duration,
    /// Longest wait between retries (default 10 s).
    pub retry_max: Duration,
}

impl Default for EtcdOptions {
    fn default() -> Self {
        EtcdOptions {
            endpoints: vec!["localhost:2379".into()],
            cluster: "default".into(),
            lease_ttl: 10,
            dial_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
            keep_alive: None,
            user: None,
            tls: None,
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(10),
        }
    }
}

/// Failures of the etcd registrar.
#[derive(Debug, Error)]
pub enum EtcdError {
    /// etcd answered with an error, or could not be reached.
    #[error("etcd: {0}")]
    Client(#[from] etcd_client::Error),
    /// A request took longer than the request timeout.
    #[error("etcd: no answer within {0:?}")]
    Timeout(Duration),
    /// The node's name is registered in the cluster by a live node.
    #[error("node name {node} is already registered in etcd cluster {cluster:?} by a live node")]
    Taken {
        /// The name.
        node: Atom,
        /// The cluster.
        cluster: String,
    },
    /// A stored value that does not decode (or ours that does not encode).
    #[error("etcd: bad value: {0}")]
    Value(String),
    /// No node of that name is registered in the cluster.
    #[error("etcd: node {0} is not registered in the cluster")]
    NoRoute(Atom),
    /// The registrar is stopped.
    #[error("etcd registrar: stopped")]
    Stopped,
    /// The options make no sense.
    #[error("etcd registrar: {0}")]
    Options(String),
    /// Its thread could not be started.
    #[error("etcd registrar: {0}")]
    Io(#[from] std::io::Error),
}

/// Where a node's registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RegistrationState {
    /// Only resolving (hidden node, or no acceptor).
    Unregistered = 0,
    /// Registered, lease kept alive.
    Registered = 1,
    /// etcd unreachable or the lease lost: retrying.
    Retrying = 2,
    /// Another node took the name while we were away; not retrying.
    Taken = 3,
    /// Stopped.
    Stopped = 4,
}

impl RegistrationState {
    fn from_u8(v: u8) -> RegistrationState {
        match v {
            1 => RegistrationState::Registered,
            2 => RegistrationState::Retrying,
            3 => RegistrationState::Taken,
            4 => RegistrationState::Stopped,
            _ => RegistrationState::Unregistered,
        }
    }
}

/// State shared between the handle and the registrar's thread.
pub(crate) struct Shared {
    pub(crate) options: EtcdOptions,
    pub(crate) paths: Paths,
    pub(crate) me: Atom,
    pub(crate) node: Node,
    pub(crate) routes: Vec<Route>,
    pub(crate) apps: Mutex<HashMap<Atom, ApplicationRoute>>,
    pub(crate) config: RwLock<ConfigStore>,
    pub(crate) state: AtomicU8,
    /// The lease the registration is under now (0: none).
    pub(crate) lease: std::sync::atomic::AtomicI64,
    /// The etcd revision the configuration was last read at (0: never): the watch starts just
    /// after it, so no change between the read and the watch is lost.
    pub(crate) config_revision: std::sync::atomic::AtomicI64,
    pub(crate) event: Option<(Event, crate::Pid)>,
}

impl Shared {
    pub(crate) fn set_state(&self, s: RegistrationState) {
        self.state.store(s as u8, Ordering::Release);
    }
    pub(crate) fn state(&self) -> RegistrationState {
        RegistrationState::from_u8(self.state.load(Ordering::Acquire))
    }
    pub(crate) fn config_item(&self, item: &str) -> Option<ConfigValue> {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .lookup(&self.paths.cluster, self.me, item)
    }
}

/// A node's etcd registrar (what `Network::registrar` returns for it).
pub struct EtcdRegistrar {
    shared: Arc<Shared>,
    session: session::Handle,
}

impl EtcdRegistrar {
    /// Where the registration stands.
    pub fn state(&self) -> RegistrationState {
        self.shared.state()
    }
}

impl StartRegistrar for EtcdOptions {
    fn start(
        &self,
        node: &Node,
        registration: Option<Registration>,
    ) -> Result<Arc<dyn RegistrarClient>, RegistrarError> {
        Ok(Arc::new(EtcdRegistrar::start(self, node, registration)?))
    }
}

impl EtcdRegistrar {
    /// Connects, registers (when `registration` is given) and starts keeping the lease and
    /// watching the cluster.
    pub fn start(
        options: &EtcdOptions,
        node: &Node,
        registration: Option<Registration>,
    ) -> Result<EtcdRegistrar, EtcdError> {
        if options.endpoints.is_empty() {
            return Err(EtcdError::Options("no endpoints".into()));
        }
        if options.lease_ttl < 1 {
            return Err(EtcdError::Options("lease_ttl must be at least 1 s".into()));
        }
        if options.cluster.is_empty() || options.cluster.contains('/') {
            return Err(EtcdError::Options(format!(
                "bad cluster name {:?}",
                options.cluster
            )));
        }
        events::register_types().map_err(|e| EtcdError::Value(e.to_string()))?;
        let paths = Paths::new(&options.cluster);
        let (routes, apps) = match &registration {
            Some(r) => (r.routes.clone(), r.applications.clone()),
            None => (Vec::new(), Vec::new()),
        };
        let event = if registration.is_some() {
            let owner = events::EventOwner {
                name: Atom::new(&paths.routes),
                token: None,
            };
            let ev = owner.event(node.name());
            let pid = node
                .spawn(owner, crate::SpawnOptions::default())
                .map_err(|e| EtcdError::Options(format!("registrar event: {e}")))?;
            Some((ev, pid))
        } else {
            None
        };
        let shared = Arc::new(Shared {
            options: options.clone(),
            paths,
            me: node.name(),
            node: node.clone(),
            routes,
            apps: Mutex::new(apps.into_iter().map(|a| (a.name, a)).collect()),
            config: RwLock::new(ConfigStore::default()),
            state: AtomicU8::new(RegistrationState::Unregistered as u8),
            lease: std::sync::atomic::AtomicI64::new(0),
            config_revision: std::sync::atomic::AtomicI64::new(0),
            event,
        });
        let session = match session::start(shared.clone(), registration.is_some()) {
            Ok(s) => s,
            Err(e) => {
                if let Some((_, pid)) = shared.event {
                    let _ = node.kill(pid);
                }
                return Err(e);
            }
        };
        Ok(EtcdRegistrar { shared, session })
    }
}

impl RegistrarClient for EtcdRegistrar {
    fn is_registered(&self) -> bool {
        self.state() == RegistrationState::Registered
    }

    fn info(&self) -> RegistrarInfo {
        RegistrarInfo {
            server: self.shared.options.endpoints.join(","),
            embedded_server: false,
            version: Version::new("ETCD Client", "R1", "MIT"),
            support_config: true,
            support_event: self.shared.event.is_some(),
            support_register_application: true,
        }
    }

    fn resolve(&self, node: Atom) -> Result<Vec<Route>, RegistrarError> {
        Ok(self.session.resolve(node)?)
    }

    fn resolve_application(&self, app: Atom) -> Result<Vec<ApplicationRoute>, RegistrarError> {
        Ok(self.session.resolve_application(app)?)
    }

    /// Kept locally (and put again after every re-registration) and put under the lease;
    /// does not wait for etcd, so it may be called from anywhere.
    fn register_application_route(&self, route: ApplicationRoute) -> Result<(), RegistrarError> {
        if route.node != self.shared.me {
            return Err(EtcdError::Options(format!(
                "an application route of {} is not this node's",
                route.node
            ))
            .into());
        }
        self.shared
            .apps
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(route.name, route.clone());
        self.session.put_app(route);
        Ok(())
    }

    fn unregister_application_route(&self, app: Atom) -> Result<(), RegistrarError> {
        self.shared
            .apps
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&app);
        self.session.delete_app(app);
        Ok(())
    }

    fn nodes(&self) -> Result<Vec<Atom>, RegistrarError> {
        Ok(self.session.nodes()?)
    }

    fn config_item(&self, item: &str) -> Result<Option<ConfigValue>, RegistrarError> {
        if self.shared.state() == RegistrationState::Stopped {
            return Err(EtcdError::Stopped.into());
        }
        Ok(self.shared.config_item(item))
    }

    fn event(&self) -> Result<Event, RegistrarError> {
        self.shared
            .event
            .map(|(e, _)| e)
            .ok_or_else(|| self.unsupported("events on a node that is not registered"))
    }

    fn stop(&self) {
        self.session.stop();
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn unsupported(&self, what: &'static str) -> RegistrarError {
        RegistrarError::Unsupported {
            registrar: "etcd",
            what,
        }
    }
}

impl Drop for EtcdRegistrar {
    fn drop(&mut self) {
        self.session.stop();
    }
}
