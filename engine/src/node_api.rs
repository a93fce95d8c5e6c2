//! What Go's `gen.Node` offers beyond start, spawn, send, call and stop: names registered for
//! any local process, node-owned events, versions, and per-process log levels, callable from any
//! thread that is not a shard of this node (they wait for the process's shard, as `spawn` does).

use ergo_edf::{Atom, Pid, Ref};
use ergo_proto::gen::Version;

use crate::shard::shard_of;
use crate::{Error, EventOptions, LogLevel, Node};

/// The framework's own version, as this node announces it to peers.
pub fn framework_version() -> Version {
    Version::new("ergo-rs", env!("CARGO_PKG_VERSION"), "MIT")
}

impl Node {
    /// Registers `name` for the local process `pid` (Go's `node.RegisterName`): it must be
    /// alive and have no name yet ([`Error::HasName`]); a taken name is [`Error::Taken`]. The
    /// name goes away with the process, or with [`Node::unregister_name`].
    pub fn register_name(&self, name: impl Into<Atom>, pid: Pid) -> Result<(), Error> {
        let name = name.into();
        if pid.node != self.0.name {
            return Err(Error::ProcessUnknown);
        }
        self.run_on(self.shard_of_pid(pid)?, move |core| {
            let cell = core
                .procs
                .borrow()
                .get(&pid.id)
                .cloned()
                .ok_or(Error::ProcessUnknown)?;
            let mut e = cell.ext();
            if e.name.is_some() {
                return Err(Error::HasName);
            }
            core.node.register_name(name, pid)?;
            e.name = Some(name);
            Ok(())
        })?
    }

    /// Removes a registered name, whoever holds it (Go's `node.UnregisterName`), and returns
    /// the PID that held it. Links and monitors made by name hear `unregistered` only when the
    /// process itself unregisters (`Context::unregister_name`).
    pub fn unregister_name(&self, name: impl Into<Atom>) -> Result<Pid, Error> {
        let name = name.into();
        let pid = self.whereis(name).ok_or(Error::NameUnknown(name))?;
        self.run_on(self.shard_of_pid(pid)?, move |core| {
            if let Some(cell) = core.procs.borrow().get(&pid.id) {
                let mut e = cell.ext();
                if e.name == Some(name) {
                    e.name = None;
                }
            }
            core.node.unregister_name_of(name, pid);
        })?;
        Ok(pid)
    }

    /// Registers an event owned by the node itself (Go's `node.RegisterEvent`); publish with
    /// [`Node::send_event`] and the returned token. It lives until [`Node::unregister_event`]
    /// or the node's stop.
    pub fn register_event(
        &self,
        name: impl Into<Atom>,
        options: EventOptions,
    ) -> Result<Ref, Error> {
        let (name, token, owner) = (name.into(), self.make_ref(), self.0.node_pid());
        self.0.events.register(name, owner, token, options)?;
        Ok(token)
    }

    /// Unregisters a node-owned event; subscribers hear `unregistered`.
    pub fn unregister_event(&self, name: impl Into<Atom>) -> Result<(), Error> {
        let (name, owner) = (name.into(), self.0.node_pid());
        self.run_on(0, move |core| {
            core.node
                .events
                .unregister(core, name, owner, crate::Reason::custom("unregistered"))
        })?
    }

    /// Publishes `message` to the subscribers of the node-owned event `name`.
    pub fn send_event<T: std::any::Any + Send + Sync>(
        &self,
        name: impl Into<Atom>,
        token: Ref,
        message: T,
    ) -> Result<(), Error> {
        let (name, owner) = (name.into(), self.0.node_pid());
        let message: std::sync::Arc<dyn std::any::Any + Send + Sync> = std::sync::Arc::new(message);
        self.run_on(0, move |core| {
            core.node.events.publish(core, name, token, owner, message)
        })?
    }

    /// The version this node announces to peers (Go's `node.Version`).
    pub fn version(&self) -> Version {
        framework_version()
    }

    /// The framework's version (Go's `node.FrameworkVersion`).
    pub fn framework_version(&self) -> Version {
        framework_version()
    }

    /// The log level of the local process `pid` (Go's `node.LogLevelProcess`).
    pub fn log_level_process(&self, pid: Pid) -> Result<LogLevel, Error> {
        self.run_on(self.shard_of_pid(pid)?, move |core| {
            core.procs
                .borrow()
                .get(&pid.id)
                .map(|c| LogLevel::from_u8(c.log_level.get()))
                .ok_or(Error::ProcessUnknown)
        })?
    }

    /// Sets the log level of the local process `pid` (Go's `node.SetLogLevelProcess`).
    pub fn set_log_level_process(&self, pid: Pid, level: LogLevel) -> Result<(), Error> {
        self.run_on(self.shard_of_pid(pid)?, move |core| {
            core.procs
                .borrow()
                .get(&pid.id)
                .map(|c| c.log_level.set(level.to_u8()))
                .ok_or(Error::ProcessUnknown)
        })?
    }

    fn shard_of_pid(&self, pid: Pid) -> Result<usize, Error> {
        if pid.node != self.0.name || pid.creation != self.0.creation {
            return Err(Error::ProcessUnknown);
        }
        let s = shard_of(pid.id);
        if s < self.0.shards.len() {
            Ok(s)
        } else {
            Err(Error::ProcessUnknown)
        }
    }
}
