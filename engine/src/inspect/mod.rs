//! Inspection: what a node can tell about itself, locally and to Go's Observer.
//!
//! - [`Node::process_list_short_info`](crate::Node::process_list_short_info) and friends
//!   (module `api`): paged process lists, one process's figures, an application's processes,
//!   gathered from the shards in bounded slices.
//! - Per-process counters (`counters`): messages in and out, running time, uptime, kept as
//!   plain cells by the process's own shard.
//! - [`SystemInspect`]: the `system_inspect` process that answers Go Ergo 3.1's
//!   `app/system/inspect` requests in Go's types ([`messages`], [`gen_types`]), so that Go's
//!   Observer running on a Go node can browse this node.
//!
//! This module reads the process table and the network; it never changes what it inspects,
//! except through the `RequestDo*` commands Go defines (send, exit, kill, log level).

mod api;
mod convert;
pub(crate) mod counters;
mod gather;
pub mod gen_types;
pub(crate) mod local;
pub mod messages;
mod system;
mod workers;

use std::time::Duration;

use ergo_edf::{Atom, Pid};

pub use system::{SystemInspect, SYSTEM_INSPECT};

/// Messages waiting in each queue of a mailbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MailboxQueues {
    /// Main (normal priority).
    pub main: usize,
    /// System (high priority, down messages).
    pub system: usize,
    /// Urgent (max priority, exit signals).
    pub urgent: usize,
    /// Log.
    pub log: usize,
}

/// One process in a process list (Go's `gen.ProcessShortInfo`).
#[derive(Clone, Debug, PartialEq)]
pub struct ProcessShortInfo {
    /// Its PID.
    pub pid: Pid,
    /// Its registered name.
    pub name: Option<Atom>,
    /// The application it runs under.
    pub application: Option<Atom>,
    /// Its actor's type name.
    pub behavior: &'static str,
    /// Messages it took from its mailbox.
    pub messages_in: u64,
    /// Messages its handlers sent.
    pub messages_out: u64,
    /// Messages waiting in its four queues.
    pub mailbox: usize,
    /// Time its task spent running.
    pub running_time: Duration,
    /// Seconds since it was spawned.
    pub uptime: i64,
    /// Its state.
    pub state: crate::ProcessState,
    /// Its parent, if a process spawned it.
    pub parent: Option<Pid>,
    /// Its log level.
    pub log_level: crate::LogLevel,
}

/// Registers the Go types `system_inspect` speaks (idempotent). [`SystemInspect`] does it
/// when it starts; call it first to decode inspect values elsewhere.
pub fn register_types() -> Result<(), ergo_edf::RegisterError> {
    ergo_proto::register_framework_types()?;
    messages::register_inspect_types()
}
