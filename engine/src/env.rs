//! Environment variables of the node, of applications and of processes (Go Ergo's `gen.Env`).
//!
//! Names are case-insensitive (Go upper-cases them). A process sees, from the highest priority
//! to the lowest: its own variables (`SpawnOptions::env`, [`Context::set_env`]), those of its
//! parent at the time it was spawned (which include the parent's own inheritance, so an
//! application's variables reach every process of the application through its master, the
//! group leader), then the node's ([`Node::set_env`], `NodeOptions::env`). As in Go, a child
//! copies its parent's variables when it is spawned; unlike Go, the node's variables are
//! looked up when read, so a node variable set later is seen by processes already running.

use std::any::Any;
use std::sync::{Arc, RwLock};

use ergo_edf::Atom;

use crate::{Context, Node, SpawnOptions};

/// One variable's value.
pub type EnvValue = Arc<dyn Any + Send + Sync>;

/// An environment variable's name as Go stores it (upper case).
pub fn env_name(name: impl Into<Atom>) -> Atom {
    let a = name.into();
    if a.as_str().bytes().any(|b| b.is_ascii_lowercase()) {
        Atom::new(&a.as_str().to_ascii_uppercase())
    } else {
        a
    }
}

/// A set of environment variables (the node's in `NodeOptions::env`, an application's in
/// `ApplicationSpec::env`).
///
/// ```
/// use ergo_engine::EnvVars;
/// let mut env = EnvVars::default();
/// env.set("db_url", "postgres://localhost".to_string());
/// assert_eq!(env.get::<String>("DB_URL").as_deref().map(String::as_str), Some("postgres://localhost"));
/// ```
#[derive(Clone, Default)]
pub struct EnvVars(pub(crate) Vec<(Atom, EnvValue)>);

impl std::fmt::Debug for EnvVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, _)| n))
            .finish()
    }
}

impl EnvVars {
    /// Sets (or replaces) `name`.
    pub fn set(&mut self, name: impl Into<Atom>, value: impl Any + Send + Sync) {
        let name = env_name(name);
        self.0.retain(|(n, _)| *n != name);
        self.0.push((name, Arc::new(value)));
    }

    /// The value of `name`, if it is a `T`.
    pub fn get<T: Any + Send + Sync>(&self, name: impl Into<Atom>) -> Option<Arc<T>> {
        lookup(&self.0, env_name(name))?.downcast::<T>().ok()
    }

    /// The names, in the order set.
    pub fn names(&self) -> Vec<Atom> {
        self.0.iter().map(|(n, _)| *n).collect()
    }

    /// Whether it holds no variable.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn lookup(list: &[(Atom, EnvValue)], name: Atom) -> Option<EnvValue> {
    list.iter()
        .rev()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.clone())
}

/// The node's variables (read by every shard, written rarely).
#[derive(Default)]
pub(crate) struct NodeEnv(RwLock<Vec<(Atom, EnvValue)>>);

impl NodeEnv {
    pub(crate) fn new(vars: EnvVars) -> NodeEnv {
        NodeEnv(RwLock::new(vars.0))
    }

    fn get(&self, name: Atom) -> Option<EnvValue> {
        lookup(&self.0.read().unwrap_or_else(|p| p.into_inner()), name)
    }

    fn list(&self) -> Vec<(Atom, EnvValue)> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Merges `over` onto `base` (later entries win; names already normalized).
fn overlay(mut base: Vec<(Atom, EnvValue)>, over: &[(Atom, EnvValue)]) -> Vec<(Atom, EnvValue)> {
    for (n, v) in over {
        base.retain(|(m, _)| m != n);
        base.push((*n, v.clone()));
    }
    base
}

/// The options of a child of `ctx`'s process: the parent's variables first, the child's own
/// on top (names normalized).
pub(crate) fn inherit(ctx: &Context, mut options: SpawnOptions) -> SpawnOptions {
    let own: Vec<(Atom, EnvValue)> = options
        .env
        .drain(..)
        .map(|(n, v)| (env_name(n), v))
        .collect();
    let parent = ctx.own_env();
    options.env = overlay(parent, &own);
    options
}

impl Context {
    fn own_env(&self) -> Vec<(Atom, EnvValue)> {
        self.cell
            .ext
            .borrow()
            .as_ref()
            .map(|e| e.env.clone())
            .unwrap_or_default()
    }

    /// An environment variable, if it is set and is a `T`: the process's own (set or
    /// inherited from its parent and application), else the node's. Names are
    /// case-insensitive.
    pub fn env<T: Any + Send + Sync>(&self, name: impl Into<Atom>) -> Option<Arc<T>> {
        let name = env_name(name);
        let own = self
            .cell
            .ext
            .borrow()
            .as_ref()
            .and_then(|e| lookup(&e.env, name));
        own.or_else(|| self.shard.node.env.get(name))?
            .downcast::<T>()
            .ok()
    }

    /// [`Context::env`], or `default` when it is not set (or not a `T`), as Go's `EnvDefault`.
    pub fn env_default<T: Any + Send + Sync>(&self, name: impl Into<Atom>, default: T) -> Arc<T> {
        self.env(name).unwrap_or_else(|| Arc::new(default))
    }

    /// Every variable this process sees (the node's, overlaid by its own), as Go's `EnvList`.
    pub fn env_list(&self) -> Vec<(Atom, EnvValue)> {
        overlay(self.shard.node.env.list(), &self.own_env())
    }

    /// Sets an environment variable of this process (its children spawned later inherit it).
    pub fn set_env(&mut self, name: impl Into<Atom>, value: impl Any + Send + Sync) {
        let name = env_name(name);
        let mut e = self.cell.ext();
        e.env.retain(|(n, _)| *n != name);
        e.env.push((name, Arc::new(value)));
    }
}

impl Node {
    /// A node environment variable, if it is set and is a `T`.
    pub fn env<T: Any + Send + Sync>(&self, name: impl Into<Atom>) -> Option<Arc<T>> {
        self.0.env.get(env_name(name))?.downcast::<T>().ok()
    }

    /// [`Node::env`], or `default`.
    pub fn env_default<T: Any + Send + Sync>(&self, name: impl Into<Atom>, default: T) -> Arc<T> {
        self.env(name).unwrap_or_else(|| Arc::new(default))
    }

    /// Sets (or replaces) a node environment variable; every process that has no variable of
    /// that name sees it.
    pub fn set_env(&self, name: impl Into<Atom>, value: impl Any + Send + Sync) {
        let name = env_name(name);
        let mut e = self.0.env.0.write().unwrap_or_else(|p| p.into_inner());
        e.retain(|(n, _)| *n != name);
        e.push((name, Arc::new(value)));
    }

    /// Removes a node environment variable.
    pub fn unset_env(&self, name: impl Into<Atom>) {
        let name = env_name(name);
        self.0
            .env
            .0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(n, _)| *n != name);
    }

    /// The node's variables.
    pub fn env_list(&self) -> Vec<(Atom, EnvValue)> {
        self.0.env.list()
    }
}
