//! # ergo-engine: the Ergo node
//!
//! A node runs Erlang-style processes ("actors") on *shards*: one pinned OS thread per core,
//! each with its own io_uring ring, its own run queue of process tasks, its own process table,
//! and one inbound queue that other shards publish *batches* to. A process lives on the shard
//! its PID maps to; a child starts on its parent's shard.
//!
//! What a user may rely on:
//! - **Ordering**: messages from one sender to one recipient arrive in the order sent, on the
//!   same shard or across shards. Across priorities, the recipient serves Urgent, then System,
//!   then Main, then Log.
//! - **Delivery**: same-shard sends are immediate and report a missing recipient
//!   ([`Error::ProcessUnknown`]) or a full bounded mailbox ([`Error::MailboxFull`]). Cross-shard
//!   sends are published once per shard-loop iteration; mail to a process that is gone by then
//!   is dropped (a pending `call` to it fails at once with `ProcessUnknown`).
//! - **Calls** wait at most their timeout; the callee may answer later from another handler.
//! - **Failures**: a panicking handler terminates its process with [`Reason::Panic`]; links,
//!   monitors and supervisors see it like any other termination. The shard goes on.
//! - **Shutdown**: [`Node::stop`] stops applications, then every process with reason
//!   `shutdown`, then the shards.
//!
//! ```
//! use ergo_engine::{Actor, Context, HandleResult, Message, Node, NodeOptions, Pid, SpawnOptions};
//! use std::time::Duration;
//!
//! struct Echo;
//! impl Actor for Echo {
//!     async fn handle_call(&mut self, _ctx: &mut Context, _from: Pid, _r: ergo_engine::Ref, req: Message)
//!         -> Result<Option<Message>, ergo_engine::Reason> {
//!         Ok(Some(req))
//!     }
//! }
//!
//! let node = Node::start("demo@localhost", NodeOptions::default()).unwrap();
//! let pid = node.spawn(Echo, SpawnOptions::default()).unwrap();
//! let reply = node.call(pid, 7u32, Duration::from_secs(1)).unwrap();
//! assert_eq!(reply.downcast::<u32>().ok(), Some(7));
//! node.stop();
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub use ergo_proto as proto;

mod actor;
pub mod application;
mod blocking;
mod confirm;
mod context;
mod context_calls;
mod env;
mod event;
mod inbox;
pub mod inspect;
mod log;
mod message;
mod net;
mod node;
mod node_api;
mod node_stop;
pub mod ops;
mod options;
pub mod pool;
mod process;
mod reason;
pub mod registrar;
mod ring;
mod shard;
mod spawn;
pub mod supervisor;
mod sync;
mod target;
mod timers;

pub use actor::{Actor, HandleResult};
pub use application::{ApplicationInfo, ApplicationMode, ApplicationSpec, ApplicationState};
pub use blocking::{BlockingOptions, BlockingTask};
pub use context::{Context, DEFAULT_CALL_TIMEOUT};
pub use env::{env_name, EnvValue, EnvVars};
pub use ergo_edf::{Alias, Atom, Event, Pid, ProcessId, Ref};
pub use event::EventOptions;
pub use log::{LogLevel, MessageLog};
pub use message::{
    Message, MessageDownAlias, MessageDownEvent, MessageDownNode, MessageDownPid,
    MessageDownProcessId, MessageEvent, MessageEventStart, MessageEventStop, MessageExitAlias,
    MessageExitEvent, MessageExitNode, MessageExitPid, MessageExitProcessId, MessageFallback,
    MessageOptions, Priority,
};
pub use net::api::{Network, RemoteNode, RemoteNodeInfo, DEFAULT_REQUEST_TIMEOUT};
pub use net::tls::{
    certificates_from_pem, AcceptorTls, TlsCertificate, TlsCertificateDer, TlsDialOptions, TlsError,
};
pub use net::{AcceptorOptions, NetworkMode, NetworkOptions, StaticRoute};
pub use node::{rss_bytes, Node, NodeInfo, NodeOptions, ProcessInfo, ShardInfo};
pub use node_api::framework_version;
pub use ops::counters::{Histogram, ShardMetrics};
pub use ops::health::{HealthReport, Probe};
pub use ops::snapshot::{ConnectionMetrics, NodeMetrics};
pub use ops::OpsOptions;
pub use options::{Compression, CompressionKind, Fallback, SpawnOptions};
pub use pool::Pool;
pub use process::ProcessState;
pub use reason::{Error, Reason};
pub use supervisor::{
    ChildSpec, RestartStrategy, StartChild, Supervisor, SupervisorRestart, SupervisorSpec,
    SupervisorType, WhichChildren,
};
pub use target::Target;
pub use timers::TimerRef;
