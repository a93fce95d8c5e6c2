//! Go Ergo's `gen` info types as they travel in inspect answers (`gen.NodeInfo`,
//! `gen.ProcessInfo`, `gen.ProcessShortInfo`, `gen.NetworkInfo`, `gen.RemoteNodeInfo`,
//! `gen.ApplicationInfo`, `gen.MetaInfo` and what they contain), with Go's field order, widths
//! and registration names. Go registers all of them on every node; so do we, nested types first
//! ([`register_gen_info_types`]).
//!
//! Go `[]T` fields are `Option<Vec<T>>` (nil and empty differ on the wire), `map[gen.Env]any`
//! is [`EnvMap`], `int` is `isize`.

use std::collections::HashMap;

use ergo_edf::{ensure_registered, Alias, Atom, Edf, Event, Pid, ProcessId, RegisterError, Time};
use ergo_proto::gen::{
    ApplicationMode, Compression, EnvMap, LogLevel, MessagePriority, NetworkFlags,
    NetworkProxyFlags, ProcessFallback, Version,
};

/// `gen.ProcessState` (int32): 1 init, 2 sleep, 4 running, 8 wait-response, 16 terminated,
/// 32 zombee.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/ProcessState")]
pub struct ProcessState(pub i32);

/// `gen.MetaState` (int32): 1 sleep, 2 running, 4 terminated.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/MetaState")]
pub struct MetaState(pub i32);

/// `gen.NetworkMode` (int): 0 enabled, 1 hidden, -1 disabled.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/NetworkMode")]
pub struct NetworkMode(pub isize);

/// `gen.ApplicationState` (int32): 1 loaded, 2 running, 3 stopping; the protocol crate's type,
/// registered with the framework types.
pub use ergo_proto::gen::ApplicationState;

/// `gen.ApplicationDepends`.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/ApplicationDepends")]
pub struct ApplicationDepends {
    /// Applications that must run first.
    pub applications: Option<Vec<Atom>>,
    /// Needs the network.
    pub network: bool,
}

/// `gen.LoggerInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/LoggerInfo")]
pub struct LoggerInfo {
    /// Logger name.
    pub name: String,
    /// Its behavior (a type name).
    pub behavior: String,
    /// Levels it receives.
    pub levels: Option<Vec<LogLevel>>,
}

/// `gen.CronJobInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Default)]
#[edf(name = "#ergo.services/ergo/gen/CronJobInfo")]
pub struct CronJobInfo {
    /// Disabled.
    pub disabled: bool,
    /// Name.
    pub name: Atom,
    /// Crontab spec.
    pub spec: String,
    /// Time zone.
    pub location: String,
    /// What it does.
    pub action_info: String,
    /// Last run.
    pub last_run: Time,
    /// Last error text.
    pub last_err: String,
    /// Fallback.
    pub fallback: ProcessFallback,
}

/// `gen.CronInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Default)]
#[edf(name = "#ergo.services/ergo/gen/CronInfo")]
pub struct CronInfo {
    /// Next run.
    pub next: Time,
    /// Jobs due next.
    pub spool: Option<Vec<Atom>>,
    /// Jobs.
    pub jobs: Option<Vec<CronJobInfo>>,
}

/// `gen.CronSchedule`.
#[derive(Edf, Debug, Clone, PartialEq, Default)]
#[edf(name = "#ergo.services/ergo/gen/CronSchedule")]
pub struct CronSchedule {
    /// When.
    pub time: Time,
    /// Which jobs.
    pub jobs: Option<Vec<Atom>>,
}

/// `gen.NodeInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Default)]
#[edf(name = "#ergo.services/ergo/gen/NodeInfo")]
pub struct NodeInfo {
    /// Node name.
    pub name: Atom,
    /// Seconds since start.
    pub uptime: i64,
    /// The application's version.
    pub version: Version,
    /// The framework's version.
    pub framework: Version,
    /// Commercial packages.
    pub commercial: Option<Vec<Version>>,
    /// Environment (shown only when the node exposes it).
    pub env: EnvMap,
    /// Node log level.
    pub log_level: LogLevel,
    /// Loggers.
    pub loggers: Option<Vec<LoggerInfo>>,
    /// Cron.
    pub cron: CronInfo,
    /// Processes alive.
    pub processes_total: i64,
    /// Processes running now.
    pub processes_running: i64,
    /// Zombie processes.
    pub processes_zombee: i64,
    /// Aliases.
    pub registered_aliases: i64,
    /// Names.
    pub registered_names: i64,
    /// Events.
    pub registered_events: i64,
    /// Applications loaded.
    pub applications_total: i64,
    /// Applications running.
    pub applications_running: i64,
    /// Memory used, bytes.
    pub memory_used: u64,
    /// Memory allocated, bytes.
    pub memory_alloc: u64,
    /// User CPU time, ns.
    pub user_time: i64,
    /// System CPU time, ns.
    pub system_time: i64,
}

/// `gen.MailboxQueues`: messages waiting per queue.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/MailboxQueues")]
pub struct MailboxQueues {
    /// Main.
    pub main: i64,
    /// System.
    pub system: i64,
    /// Urgent.
    pub urgent: i64,
    /// Log.
    pub log: i64,
}

/// `gen.ProcessInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Default)]
#[edf(name = "#ergo.services/ergo/gen/ProcessInfo")]
pub struct ProcessInfo {
    /// PID.
    pub pid: Pid,
    /// Registered name.
    pub name: Atom,
    /// Application.
    pub application: Atom,
    /// Behavior (type name).
    pub behavior: String,
    /// Main-queue bound.
    pub mailbox_size: i64,
    /// Queue lengths.
    pub mailbox_queues: MailboxQueues,
    /// Messages received.
    pub messages_in: u64,
    /// Messages sent.
    pub messages_out: u64,
    /// Running time, ns.
    pub running_time: u64,
    /// Compression of its remote sends.
    pub compression: Compression,
    /// Priority of its sends.
    pub message_priority: MessagePriority,
    /// Seconds since spawn.
    pub uptime: i64,
    /// State.
    pub state: ProcessState,
    /// Parent.
    pub parent: Pid,
    /// Group leader.
    pub leader: Pid,
    /// Fallback.
    pub fallback: ProcessFallback,
    /// Environment.
    pub env: EnvMap,
    /// Its aliases.
    pub aliases: Option<Vec<Alias>>,
    /// Events it owns.
    pub events: Option<Vec<Atom>>,
    /// Its meta processes.
    pub metas: Option<Vec<Alias>>,
    /// Processes it monitors by PID.
    pub monitors_pid: Option<Vec<Pid>>,
    /// ... by name.
    pub monitors_process_id: Option<Vec<ProcessId>>,
    /// Aliases it monitors.
    pub monitors_alias: Option<Vec<Alias>>,
    /// Events it monitors.
    pub monitors_event: Option<Vec<Event>>,
    /// Nodes it monitors.
    pub monitors_node: Option<Vec<Atom>>,
    /// Processes it is linked with by PID.
    pub links_pid: Option<Vec<Pid>>,
    /// ... by name.
    pub links_process_id: Option<Vec<ProcessId>>,
    /// Aliases it is linked with.
    pub links_alias: Option<Vec<Alias>>,
    /// Events it is linked with.
    pub links_event: Option<Vec<Event>>,
    /// Nodes it is linked with.
    pub links_node: Option<Vec<Atom>>,
    /// Log level.
    pub log_level: LogLevel,
    /// Keeps network order.
    pub keep_network_order: bool,
    /// Important delivery.
    pub important_delivery: bool,
}

/// `gen.ProcessShortInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Default)]
#[edf(name = "#ergo.services/ergo/gen/ProcessShortInfo")]
pub struct ProcessShortInfo {
    /// PID.
    pub pid: Pid,
    /// Registered name.
    pub name: Atom,
    /// Application.
    pub application: Atom,
    /// Behavior (type name).
    pub behavior: String,
    /// Messages received.
    pub messages_in: u64,
    /// Messages sent.
    pub messages_out: u64,
    /// Messages waiting.
    pub messages_mailbox: u64,
    /// Running time, ns.
    pub running_time: u64,
    /// Seconds since spawn.
    pub uptime: i64,
    /// State.
    pub state: ProcessState,
    /// Parent.
    pub parent: Pid,
    /// Group leader.
    pub leader: Pid,
    /// Log level.
    pub log_level: LogLevel,
}

/// `gen.ApplicationInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Default)]
#[edf(name = "#ergo.services/ergo/gen/ApplicationInfo")]
pub struct ApplicationInfo {
    /// Name.
    pub name: Atom,
    /// Weight.
    pub weight: isize,
    /// Description.
    pub description: String,
    /// Version.
    pub version: Version,
    /// Environment.
    pub env: EnvMap,
    /// Dependencies.
    pub depends: ApplicationDepends,
    /// Mode.
    pub mode: ApplicationMode,
    /// State.
    pub state: ApplicationState,
    /// Parent application.
    pub parent: Atom,
    /// Seconds since start.
    pub uptime: i64,
    /// Members.
    pub group: Option<Vec<Pid>>,
}

/// `gen.MetaInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Default)]
#[edf(name = "#ergo.services/ergo/gen/MetaInfo")]
pub struct MetaInfo {
    /// Its alias.
    pub id: Alias,
    /// Its parent.
    pub parent: Pid,
    /// Application.
    pub application: Atom,
    /// Behavior.
    pub behavior: String,
    /// Mailbox bound.
    pub mailbox_size: i64,
    /// Queue lengths.
    pub mailbox_queues: MailboxQueues,
    /// Priority.
    pub message_priority: MessagePriority,
    /// Messages received.
    pub messages_in: u64,
    /// Messages sent.
    pub messages_out: u64,
    /// Log level.
    pub log_level: LogLevel,
    /// Seconds since start.
    pub uptime: i64,
    /// State.
    pub state: MetaState,
}

/// `gen.RegistrarInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/RegistrarInfo")]
pub struct RegistrarInfo {
    /// Server address.
    pub server: String,
    /// This node runs the registrar server.
    pub embedded_server: bool,
    /// Proxy registration.
    pub support_register_proxy: bool,
    /// Application registration.
    pub support_register_application: bool,
    /// Configuration.
    pub support_config: bool,
    /// Events.
    pub support_event: bool,
    /// Version.
    pub version: Version,
}

/// `gen.AcceptorInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/AcceptorInfo")]
pub struct AcceptorInfo {
    /// `host:port`.
    pub interface: String,
    /// Largest accepted frame.
    pub max_message_size: isize,
    /// Flags announced.
    pub flags: NetworkFlags,
    /// TLS.
    pub tls: bool,
    /// Has its own registrar.
    pub custom_registrar: bool,
    /// Registrar server.
    pub registrar_server: String,
    /// Registrar version.
    pub registrar_version: Version,
    /// Handshake version.
    pub handshake_version: Version,
    /// Protocol version.
    pub proto_version: Version,
}

/// `gen.RouteInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/RouteInfo")]
pub struct RouteInfo {
    /// Node-name pattern.
    pub match_: String,
    /// Weight.
    pub weight: isize,
    /// Resolved through the registrar.
    pub use_resolver: bool,
    /// Own cookie.
    pub use_custom_cookie: bool,
    /// Own certificate.
    pub use_custom_cert: bool,
    /// Flags.
    pub flags: NetworkFlags,
    /// Handshake version.
    pub handshake_version: Version,
    /// Protocol version.
    pub proto_version: Version,
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
}

/// `gen.ProxyRouteInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/ProxyRouteInfo")]
pub struct ProxyRouteInfo {
    /// Node-name pattern.
    pub match_: String,
    /// Weight.
    pub weight: isize,
    /// Resolved through the registrar.
    pub use_resolver: bool,
    /// Own cookie.
    pub use_custom_cookie: bool,
    /// Flags.
    pub flags: NetworkProxyFlags,
    /// Hop limit.
    pub max_hop: isize,
    /// Proxy node.
    pub proxy: Atom,
}

/// `gen.NetworkSpawnInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/NetworkSpawnInfo")]
pub struct NetworkSpawnInfo {
    /// Name enabled for remote spawn.
    pub name: Atom,
    /// Behavior.
    pub behavior: String,
    /// Nodes allowed (nil: any).
    pub nodes: Option<Vec<Atom>>,
}

/// `gen.NetworkApplicationStartInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/NetworkApplicationStartInfo")]
pub struct NetworkApplicationStartInfo {
    /// Application enabled for remote start.
    pub name: Atom,
    /// Nodes allowed (nil: any).
    pub nodes: Option<Vec<Atom>>,
}

/// `gen.NetworkInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/NetworkInfo")]
pub struct NetworkInfo {
    /// Mode.
    pub mode: NetworkMode,
    /// Registrar.
    pub registrar: RegistrarInfo,
    /// Acceptors.
    pub acceptors: Option<Vec<AcceptorInfo>>,
    /// Largest frame.
    pub max_message_size: isize,
    /// Handshake version.
    pub handshake_version: Version,
    /// Protocol version.
    pub proto_version: Version,
    /// Connected peers.
    pub nodes: Option<Vec<Atom>>,
    /// Static routes.
    pub routes: Option<Vec<RouteInfo>>,
    /// Proxy routes.
    pub proxy_routes: Option<Vec<ProxyRouteInfo>>,
    /// Flags.
    pub flags: NetworkFlags,
    /// Remote spawn enabled for.
    pub enabled_spawn: Option<Vec<NetworkSpawnInfo>>,
    /// Remote application start enabled for.
    pub enabled_application_start: Option<Vec<NetworkApplicationStartInfo>>,
}

/// `gen.RemoteNodeInfo`.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/RemoteNodeInfo")]
pub struct RemoteNodeInfo {
    /// Peer name.
    pub node: Atom,
    /// Peer uptime, s.
    pub uptime: i64,
    /// Connection uptime, s.
    pub connection_uptime: i64,
    /// Peer version.
    pub version: Version,
    /// Handshake version.
    pub handshake_version: Version,
    /// Protocol version.
    pub proto_version: Version,
    /// Peer flags.
    pub network_flags: NetworkFlags,
    /// Links.
    pub pool_size: isize,
    /// Link addresses.
    pub pool_dsn: Option<Vec<String>>,
    /// Peer's frame limit.
    pub max_message_size: isize,
    /// Messages received.
    pub messages_in: u64,
    /// Messages sent.
    pub messages_out: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Proxy bytes in.
    pub transit_bytes_in: u64,
    /// Proxy bytes out.
    pub transit_bytes_out: u64,
}

/// A `map[string]string` (process state); `None` is Go's nil map.
pub type StringMap = Option<HashMap<String, String>>;

/// Registers the types of this module in Go's order, nested types first (idempotent).
pub fn register_gen_info_types() -> Result<(), RegisterError> {
    ensure_registered::<ProcessState>()?;
    ensure_registered::<MetaState>()?;
    ensure_registered::<NetworkMode>()?;
    ensure_registered::<ApplicationDepends>()?;
    ensure_registered::<LoggerInfo>()?;
    ensure_registered::<CronJobInfo>()?;
    ensure_registered::<CronInfo>()?;
    ensure_registered::<CronSchedule>()?;
    ensure_registered::<NodeInfo>()?;
    ensure_registered::<MailboxQueues>()?;
    ensure_registered::<ProcessInfo>()?;
    ensure_registered::<ProcessShortInfo>()?;
    ensure_registered::<ApplicationInfo>()?;
    ensure_registered::<MetaInfo>()?;
    ensure_registered::<RegistrarInfo>()?;
    ensure_registered::<AcceptorInfo>()?;
    ensure_registered::<RouteInfo>()?;
    ensure_registered::<ProxyRouteInfo>()?;
    ensure_registered::<NetworkSpawnInfo>()?;
    ensure_registered::<NetworkApplicationStartInfo>()?;
    ensure_registered::<NetworkInfo>()?;
    ensure_registered::<RemoteNodeInfo>()?;
    Ok(())
}
