//! Health probes (what `/health/live` and `/health/ready` answer, as Go's `radar` does):
//! the node's own conditions plus the checks a user adds.
//!
//! - **live**: the node is not stopping and every shard thread runs; and every user check
//!   registered for [`Probe::Live`] passes.
//! - **ready**: live, and the acceptors listen (when the network is enabled with acceptors), the
//!   registrar registration holds (when a registrar is configured), the applications marked as
//!   required run, and every user check registered for [`Probe::Ready`] passes.
//!
//! Checks run on the thread that asks (the HTTP control thread), never on a shard: a check
//! must be quick and must not block on the node (no `Node::call` inside a check).

use std::sync::{Arc, RwLock};

use ergo_edf::Atom;

use crate::Node;

/// Which probe a check belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// `/health/live`: the process should be restarted when this fails.
    Live,
    /// `/health/ready`: traffic should not be sent to the node while this fails.
    Ready,
}

/// A user check: `Ok(())` when healthy, `Err(why)` otherwise.
pub type HealthCheckFn = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// The outcome of a probe ([`Node::health`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthReport {
    /// Whether every check passed.
    pub ok: bool,
    /// Every check, by name, with why it failed.
    pub checks: Vec<(String, Result<(), String>)>,
}

impl HealthReport {
    /// One line per check: `ok NAME` or `fail NAME: WHY`.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for (name, r) in &self.checks {
            match r {
                Ok(()) => s.push_str(&format!("ok {name}\n")),
                Err(why) => s.push_str(&format!("fail {name}: {why}\n")),
            }
        }
        s
    }
}

/// The node's health configuration: required applications and user checks.
#[derive(Default)]
pub(crate) struct Health {
    required: RwLock<Vec<Atom>>,
    checks: RwLock<Vec<(String, Probe, HealthCheckFn)>>,
}

impl Health {
    pub(crate) fn new(required: Vec<Atom>) -> Health {
        Health {
            required: RwLock::new(required),
            checks: RwLock::default(),
        }
    }
}

impl Node {
    /// Adds a user check to `probe` (replacing one of the same name and probe).
    ///
    /// ```
    /// use ergo_engine::{Node, NodeOptions, Probe};
    /// let node = Node::start("health@localhost", NodeOptions { shards: 1, ..Default::default() }).unwrap();
    /// node.health_check_add("database", Probe::Ready, || Err("not connected".into()));
    /// assert!(!node.health(Probe::Ready).ok);
    /// assert!(node.health(Probe::Live).ok);
    /// node.stop();
    /// ```
    pub fn health_check_add(
        &self,
        name: impl Into<String>,
        probe: Probe,
        check: impl Fn() -> Result<(), String> + Send + Sync + 'static,
    ) {
        let name = name.into();
        let mut c = self
            .0
            .health
            .checks
            .write()
            .unwrap_or_else(|p| p.into_inner());
        c.retain(|(n, p, _)| !(*n == name && *p == probe));
        c.push((name, probe, Arc::new(check)));
    }

    /// Removes a user check.
    pub fn health_check_remove(&self, name: &str, probe: Probe) {
        self.0
            .health
            .checks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(n, p, _)| !(n == name && *p == probe));
    }

    /// Marks an application as required: the node is not ready unless it runs.
    pub fn health_require_application(&self, name: impl Into<Atom>) {
        let name = name.into();
        let mut r = self
            .0
            .health
            .required
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if !r.contains(&name) {
            r.push(name);
        }
    }

    /// Runs a probe.
    pub fn health(&self, probe: Probe) -> HealthReport {
        let s = &self.0;
        let mut checks: Vec<(String, Result<(), String>)> = Vec::new();
        let running = if s.is_stopping() {
            Err("the node is stopping".to_string())
        } else if s
            .shards
            .iter()
            .any(|r| r.closed.load(std::sync::atomic::Ordering::Acquire))
        {
            Err("a shard thread has ended".to_string())
        } else {
            Ok(())
        };
        checks.push(("node".into(), running));
        if probe == Probe::Ready {
            if let Some(net) = s.network.get() {
                if let Some(r) = net.acceptors_listening() {
                    checks.push(("acceptors".into(), r));
                }
                if let Some(registered) = net.registrar_registered() {
                    checks.push((
                        "registrar".into(),
                        if registered {
                            Ok(())
                        } else {
                            Err("not registered with the registrar".into())
                        },
                    ));
                }
            }
            let required = s.health.required.read().unwrap_or_else(|p| p.into_inner());
            if !required.is_empty() {
                let up = self.applications_running();
                for app in required.iter() {
                    checks.push((
                        format!("application {app}"),
                        if up.contains(app) {
                            Ok(())
                        } else {
                            Err("not running".into())
                        },
                    ));
                }
            }
        }
        let user: Vec<(String, HealthCheckFn)> = s
            .health
            .checks
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, p, _)| *p == probe || (probe == Probe::Ready && *p == Probe::Live))
            .map(|(n, _, f)| (n.clone(), f.clone()))
            .collect();
        for (name, f) in user {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f()))
                .unwrap_or_else(|_| Err("the check panicked".into()));
            checks.push((name, r));
        }
        HealthReport {
            ok: checks.iter().all(|(_, r)| r.is_ok()),
            checks,
        }
    }
}
