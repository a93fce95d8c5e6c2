//! The request, response and event types of Go Ergo 3.1's `app/system/inspect`, with Go's
//! names (`#ergo.services/ergo/app/system/inspect/...`) and field layouts, registered in Go's
//! order ([`register_inspect_types`]).
//!
//! The flow (as Go's Observer uses it): a `call` of `Request*` to the process
//! `system_inspect` on the inspected node answers `Response*` carrying an [`Event`]; the caller
//! then monitors that event and receives `MessageInspect*` values about once a second while it
//! stays subscribed. The `RequestDo*` calls act at once and answer `Response*` with an error
//! field (nil on success).

use ergo_edf::{ensure_registered, Alias, Atom, Edf, Event, GoError, Pid, RegisterError, Value};
use ergo_proto::gen::{LogLevel, MessagePriority, Version};

use super::gen_types::{
    ApplicationInfo, MetaInfo, NetworkInfo, NodeInfo, ProcessInfo, ProcessShortInfo,
    RemoteNodeInfo, StringMap,
};

macro_rules! unit_request {
    ($(#[$doc:meta] $name:ident = $go:literal;)*) => {$(
        #[$doc]
        #[derive(Edf, Debug, Clone, Copy, PartialEq, Eq, Default)]
        #[edf(name = $go)]
        pub struct $name {}
    )*};
}

macro_rules! event_response {
    ($(#[$doc:meta] $name:ident = $go:literal;)*) => {$(
        #[$doc]
        #[derive(Edf, Debug, Clone, PartialEq, Eq)]
        #[edf(name = $go)]
        pub struct $name {
            /// The event to monitor for the periodic `MessageInspect*` values.
            pub event: Event,
        }
    )*};
}

unit_request! {
    /// `inspect.RequestInspectNode`.
    RequestInspectNode = "#ergo.services/ergo/app/system/inspect/RequestInspectNode";
    /// `inspect.RequestInspectNetwork`.
    RequestInspectNetwork = "#ergo.services/ergo/app/system/inspect/RequestInspectNetwork";
    /// `inspect.RequestInspectApplicationList`.
    RequestInspectApplicationList = "#ergo.services/ergo/app/system/inspect/RequestInspectApplicationList";
}

/// `inspect.ResponseInspectNode`.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/ResponseInspectNode")]
pub struct ResponseInspectNode {
    /// The node name's CRC32 (Go's `Atom.CRC32`, hex).
    pub crc32: String,
    /// The event of periodic `MessageInspectNode`.
    pub event: Event,
    /// Operating system (Go's `runtime.GOOS` spelling).
    pub os: String,
    /// Architecture (Go's `runtime.GOARCH` spelling).
    pub arch: String,
    /// CPU cores.
    pub cores: isize,
    /// The node's version.
    pub version: Version,
    /// Creation.
    pub creation: i64,
}

/// `inspect.MessageInspectNode`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/MessageInspectNode")]
pub struct MessageInspectNode {
    /// Node.
    pub node: Atom,
    /// Figures.
    pub info: NodeInfo,
}

/// `inspect.ResponseInspectNetwork`.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/ResponseInspectNetwork")]
pub struct ResponseInspectNetwork {
    /// The event of periodic `MessageInspectNetwork`.
    pub event: Event,
    /// The network is stopped.
    pub stopped: bool,
    /// Its figures.
    pub info: NetworkInfo,
}

/// `inspect.MessageInspectNetwork`.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/MessageInspectNetwork")]
pub struct MessageInspectNetwork {
    /// Node.
    pub node: Atom,
    /// The network is stopped.
    pub stopped: bool,
    /// Figures.
    pub info: NetworkInfo,
}

/// `inspect.RequestInspectConnection`.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestInspectConnection")]
pub struct RequestInspectConnection {
    /// The peer.
    pub remote_node: Atom,
}

/// `inspect.ResponseInspectConnection`.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/ResponseInspectConnection")]
pub struct ResponseInspectConnection {
    /// The event of periodic `MessageInspectConnection`.
    pub event: Event,
    /// Not connected.
    pub disconnected: bool,
    /// Figures.
    pub info: RemoteNodeInfo,
}

/// `inspect.MessageInspectConnection`.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/MessageInspectConnection")]
pub struct MessageInspectConnection {
    /// Node.
    pub node: Atom,
    /// Not connected (any more).
    pub disconnected: bool,
    /// Figures.
    pub info: RemoteNodeInfo,
}

/// `inspect.RequestInspectProcessList`: `Start` is a PID id (below 1000 means 1000), `Limit`
/// the page size (below 1 means 1000).
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestInspectProcessList")]
pub struct RequestInspectProcessList {
    /// First PID id.
    pub start: isize,
    /// Page size.
    pub limit: isize,
}

/// `inspect.MessageInspectProcessList`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/MessageInspectProcessList")]
pub struct MessageInspectProcessList {
    /// Node.
    pub node: Atom,
    /// The page, by PID.
    pub processes: Option<Vec<ProcessShortInfo>>,
}

/// `inspect.RequestInspectLog`: the levels to stream (empty: debug to panic).
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestInspectLog")]
pub struct RequestInspectLog {
    /// Levels.
    pub levels: Option<Vec<LogLevel>>,
}

/// `inspect.MessageInspectLogNode`.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/MessageInspectLogNode")]
pub struct MessageInspectLogNode {
    /// Node.
    pub node: Atom,
    /// Its creation.
    pub creation: i64,
    /// Unix ns.
    pub timestamp: i64,
    /// Level.
    pub level: LogLevel,
    /// Text.
    pub message: String,
}

/// `inspect.MessageInspectLogProcess`.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/MessageInspectLogProcess")]
pub struct MessageInspectLogProcess {
    /// Node.
    pub node: Atom,
    /// Process name.
    pub name: Atom,
    /// Process.
    pub pid: Pid,
    /// Unix ns.
    pub timestamp: i64,
    /// Level.
    pub level: LogLevel,
    /// Text.
    pub message: String,
}

/// `inspect.MessageInspectLogNetwork`.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/MessageInspectLogNetwork")]
pub struct MessageInspectLogNetwork {
    /// Node.
    pub node: Atom,
    /// Peer.
    pub peer: Atom,
    /// Unix ns.
    pub timestamp: i64,
    /// Level.
    pub level: LogLevel,
    /// Text.
    pub message: String,
}

/// `inspect.MessageInspectLogMeta`.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/MessageInspectLogMeta")]
pub struct MessageInspectLogMeta {
    /// Node.
    pub node: Atom,
    /// Parent process.
    pub parent: Pid,
    /// Meta process.
    pub meta: Alias,
    /// Unix ns.
    pub timestamp: i64,
    /// Level.
    pub level: LogLevel,
    /// Text.
    pub message: String,
}

/// `inspect.RequestInspectProcess`.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestInspectProcess")]
pub struct RequestInspectProcess {
    /// The process.
    pub pid: Pid,
}

/// `inspect.MessageInspectProcess`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/MessageInspectProcess")]
pub struct MessageInspectProcess {
    /// Node.
    pub node: Atom,
    /// Figures (zero when terminated).
    pub info: ProcessInfo,
    /// The process is gone.
    pub terminated: bool,
}

/// `inspect.RequestInspectProcessState`.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestInspectProcessState")]
pub struct RequestInspectProcessState {
    /// The process.
    pub pid: Pid,
}

/// `inspect.MessageInspectProcessState`: the process's `handle_inspect` figures.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/MessageInspectProcessState")]
pub struct MessageInspectProcessState {
    /// Node.
    pub node: Atom,
    /// Process.
    pub pid: Pid,
    /// Its state.
    pub state: StringMap,
}

/// `inspect.RequestInspectMeta`.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestInspectMeta")]
pub struct RequestInspectMeta {
    /// The meta process.
    pub meta: Alias,
}

/// `inspect.MessageInspectMeta`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/MessageInspectMeta")]
pub struct MessageInspectMeta {
    /// Node.
    pub node: Atom,
    /// Figures.
    pub info: MetaInfo,
    /// Gone.
    pub terminated: bool,
}

/// `inspect.RequestInspectMetaState`.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestInspectMetaState")]
pub struct RequestInspectMetaState {
    /// The meta process.
    pub meta: Alias,
}

/// `inspect.MessageInspectMetaState`.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/MessageInspectMetaState")]
pub struct MessageInspectMetaState {
    /// Node.
    pub node: Atom,
    /// Meta process.
    pub meta: Alias,
    /// Its state.
    pub state: StringMap,
}

/// `inspect.RequestDoSend`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestDoSend")]
pub struct RequestDoSend {
    /// Recipient.
    pub pid: Pid,
    /// Priority.
    pub priority: MessagePriority,
    /// The message.
    pub message: Value,
}

/// `inspect.RequestDoSendMeta`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestDoSendMeta")]
pub struct RequestDoSendMeta {
    /// Recipient.
    pub meta: Alias,
    /// The message.
    pub message: Value,
}

/// `inspect.RequestDoSendExit`.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestDoSendExit")]
pub struct RequestDoSendExit {
    /// Recipient.
    pub pid: Pid,
    /// Reason.
    pub reason: Option<GoError>,
}

/// `inspect.RequestDoSendExitMeta`.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestDoSendExitMeta")]
pub struct RequestDoSendExitMeta {
    /// Recipient.
    pub meta: Alias,
    /// Reason.
    pub reason: Option<GoError>,
}

/// `inspect.RequestDoKill`.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestDoKill")]
pub struct RequestDoKill {
    /// The process.
    pub pid: Pid,
}

/// `inspect.RequestDoSetLogLevel`.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestDoSetLogLevel")]
pub struct RequestDoSetLogLevel {
    /// The node's new level.
    pub level: LogLevel,
}

/// `inspect.RequestDoSetLogLevelProcess`.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestDoSetLogLevelProcess")]
pub struct RequestDoSetLogLevelProcess {
    /// The process.
    pub pid: Pid,
    /// Its new level.
    pub level: LogLevel,
}

/// `inspect.RequestDoSetLogLevelMeta`.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestDoSetLogLevelMeta")]
pub struct RequestDoSetLogLevelMeta {
    /// The meta process.
    pub meta: Alias,
    /// Its new level.
    pub level: LogLevel,
}

macro_rules! error_response {
    ($(#[$doc:meta] $name:ident = $go:literal;)*) => {$(
        #[$doc]
        #[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
        #[edf(name = $go)]
        pub struct $name {
            /// `None` on success.
            pub error: Option<GoError>,
        }
    )*};
}

error_response! {
    /// `inspect.ResponseDoSend`.
    ResponseDoSend = "#ergo.services/ergo/app/system/inspect/ResponseDoSend";
    /// `inspect.ResponseDoSendMeta`.
    ResponseDoSendMeta = "#ergo.services/ergo/app/system/inspect/ResponseDoSendMeta";
    /// `inspect.ResponseDoSendExit` (also the answer to `RequestDoSendExitMeta`, as in Go).
    ResponseDoSendExit = "#ergo.services/ergo/app/system/inspect/ResponseDoSendExit";
    /// `inspect.ResponseDoSendExitMeta` (registered; Go answers `ResponseDoSendExit`).
    ResponseDoSendExitMeta = "#ergo.services/ergo/app/system/inspect/ResponseDoSendExitMeta";
    /// `inspect.ResponseDoKill`.
    ResponseDoKill = "#ergo.services/ergo/app/system/inspect/ResponseDoKill";
    /// `inspect.ResponseDoSetLogLevel`.
    ResponseDoSetLogLevel = "#ergo.services/ergo/app/system/inspect/ResponseDoSetLogLevel";
}

/// `inspect.MessageInspectApplicationList`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/MessageInspectApplicationList")]
pub struct MessageInspectApplicationList {
    /// Node.
    pub node: Atom,
    /// Applications by name.
    pub applications: Option<std::collections::HashMap<Atom, ApplicationInfo>>,
}

/// `inspect.RequestInspectApplicationTree`.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/RequestInspectApplicationTree")]
pub struct RequestInspectApplicationTree {
    /// The application.
    pub application: Atom,
    /// At most this many processes besides the members (below 1 means 1000).
    pub limit: isize,
}

/// `inspect.MessageInspectApplicationTree`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/app/system/inspect/MessageInspectApplicationTree")]
pub struct MessageInspectApplicationTree {
    /// Node.
    pub node: Atom,
    /// Application.
    pub application: Atom,
    /// Its processes.
    pub processes: Option<Vec<ProcessShortInfo>>,
}

event_response! {
    /// `inspect.ResponseInspectProcessList`.
    ResponseInspectProcessList = "#ergo.services/ergo/app/system/inspect/ResponseInspectProcessList";
    /// `inspect.ResponseInspectLog`.
    ResponseInspectLog = "#ergo.services/ergo/app/system/inspect/ResponseInspectLog";
    /// `inspect.ResponseInspectProcess`.
    ResponseInspectProcess = "#ergo.services/ergo/app/system/inspect/ResponseInspectProcess";
    /// `inspect.ResponseInspectProcessState`.
    ResponseInspectProcessState = "#ergo.services/ergo/app/system/inspect/ResponseInspectProcessState";
    /// `inspect.ResponseInspectMeta`.
    ResponseInspectMeta = "#ergo.services/ergo/app/system/inspect/ResponseInspectMeta";
    /// `inspect.ResponseInspectMetaState`.
    ResponseInspectMetaState = "#ergo.services/ergo/app/system/inspect/ResponseInspectMetaState";
    /// `inspect.ResponseInspectApplicationList`.
    ResponseInspectApplicationList = "#ergo.services/ergo/app/system/inspect/ResponseInspectApplicationList";
    /// `inspect.ResponseInspectApplicationTree`.
    ResponseInspectApplicationTree = "#ergo.services/ergo/app/system/inspect/ResponseInspectApplicationTree";
}

/// Registers every inspect type (and the `gen` info types they hold) in Go's order
/// (idempotent).
pub fn register_inspect_types() -> Result<(), RegisterError> {
    super::gen_types::register_gen_info_types()?;
    ensure_registered::<RequestInspectNode>()?;
    ensure_registered::<ResponseInspectNode>()?;
    ensure_registered::<MessageInspectNode>()?;
    ensure_registered::<RequestInspectNetwork>()?;
    ensure_registered::<ResponseInspectNetwork>()?;
    ensure_registered::<MessageInspectNetwork>()?;
    ensure_registered::<RequestInspectConnection>()?;
    ensure_registered::<ResponseInspectConnection>()?;
    ensure_registered::<MessageInspectConnection>()?;
    ensure_registered::<RequestInspectProcessList>()?;
    ensure_registered::<ResponseInspectProcessList>()?;
    ensure_registered::<MessageInspectProcessList>()?;
    ensure_registered::<RequestInspectLog>()?;
    ensure_registered::<ResponseInspectLog>()?;
    ensure_registered::<MessageInspectLogNode>()?;
    ensure_registered::<MessageInspectLogNetwork>()?;
    ensure_registered::<MessageInspectLogProcess>()?;
    ensure_registered::<MessageInspectLogMeta>()?;
    ensure_registered::<RequestInspectProcess>()?;
    ensure_registered::<ResponseInspectProcess>()?;
    ensure_registered::<MessageInspectProcess>()?;
    ensure_registered::<RequestInspectProcessState>()?;
    ensure_registered::<ResponseInspectProcessState>()?;
    ensure_registered::<MessageInspectProcessState>()?;
    ensure_registered::<RequestInspectMeta>()?;
    ensure_registered::<ResponseInspectMeta>()?;
    ensure_registered::<MessageInspectMeta>()?;
    ensure_registered::<RequestInspectMetaState>()?;
    ensure_registered::<ResponseInspectMetaState>()?;
    ensure_registered::<MessageInspectMetaState>()?;
    ensure_registered::<RequestDoSend>()?;
    ensure_registered::<ResponseDoSend>()?;
    ensure_registered::<RequestDoSendMeta>()?;
    ensure_registered::<ResponseDoSendMeta>()?;
    ensure_registered::<RequestDoSendExit>()?;
    ensure_registered::<ResponseDoSendExit>()?;
    ensure_registered::<RequestDoSendExitMeta>()?;
    ensure_registered::<ResponseDoSendExitMeta>()?;
    ensure_registered::<RequestDoKill>()?;
    ensure_registered::<ResponseDoKill>()?;
    ensure_registered::<RequestDoSetLogLevel>()?;
    ensure_registered::<RequestDoSetLogLevelProcess>()?;
    ensure_registered::<RequestDoSetLogLevelMeta>()?;
    ensure_registered::<ResponseDoSetLogLevel>()?;
    ensure_registered::<RequestInspectApplicationList>()?;
    ensure_registered::<ResponseInspectApplicationList>()?;
    ensure_registered::<MessageInspectApplicationList>()?;
    ensure_registered::<RequestInspectApplicationTree>()?;
    ensure_registered::<ResponseInspectApplicationTree>()?;
    ensure_registered::<MessageInspectApplicationTree>()?;
    Ok(())
}
