//! Go Ergo's framework types that travel on the wire (`#ergo.services/ergo/gen/...`,
//! wire-spec §3.15), with their exact field order and widths.

use std::collections::HashMap;

use ergo_edf::{ensure_registered, Atom, Edf, EdfCustom, Event, Pid, RegisterError, Value};

/// `gen.Env`: an environment variable name (a registered string).
#[derive(Edf, Debug, Clone, PartialEq, Eq, Hash, Default)]
#[edf(name = "#ergo.services/ergo/gen/Env")]
pub struct Env(pub String);

/// `gen.LogLevel` (a registered int): -100 system, -2 trace, -1 debug, 0 default, 1 info,
/// 2 warning, 3 error, 4 panic, 5 disabled.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/LogLevel")]
pub struct LogLevel(pub isize);

/// `gen.MessagePriority` (a registered int): 0 normal, 1 high, 2 max.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/MessagePriority")]
pub struct MessagePriority(pub isize);

/// `gen.CompressionType` (a registered string): "gzip", "zlib", "lzw" or "".
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/CompressionType")]
pub struct CompressionType(pub String);

/// `gen.CompressionLevel` (a registered int): 0 default, 1 best speed, 2 best size.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/CompressionLevel")]
pub struct CompressionLevel(pub isize);

/// `gen.ApplicationMode` (a registered int): 1 temporary, 2 transient, 3 permanent
/// (0 in a start request: the application's own default).
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/ApplicationMode")]
pub struct ApplicationMode(pub isize);

/// `gen.ApplicationState` (a registered int32): 1 loaded, 2 running, 3 stopping.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/ApplicationState")]
pub struct ApplicationState(pub i32);

impl ApplicationState {
    /// Loaded, not running.
    pub const LOADED: ApplicationState = ApplicationState(1);
    /// Running.
    pub const RUNNING: ApplicationState = ApplicationState(2);
    /// Stopping.
    pub const STOPPING: ApplicationState = ApplicationState(3);
}

/// `gen.Version`.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/Version")]
pub struct Version {
    /// Name.
    pub name: String,
    /// Release.
    pub release: String,
    /// Commit.
    pub commit: String,
    /// License.
    pub license: String,
}

impl Version {
    /// A version with name, release and license.
    pub fn new(name: &str, release: &str, license: &str) -> Version {
        Version {
            name: name.into(),
            release: release.into(),
            commit: String::new(),
            license: license.into(),
        }
    }
}

/// `gen.NetworkFlags`: a custom-marshaled 8-byte bit set (wire-spec §8.1).
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/gen/NetworkFlags", custom)]
pub struct NetworkFlags(pub u64);

impl NetworkFlags {
    /// The set is meaningful.
    pub const ENABLE: u64 = 0x01;
    /// Accepts remote spawn.
    pub const REMOTE_SPAWN: u64 = 0x02;
    /// Accepts remote application start.
    pub const REMOTE_APPLICATION_START: u64 = 0x04;
    /// Fragmentation (advertised only in 3.x).
    pub const FRAGMENTATION: u64 = 0x08;
    /// Proxy transit (advertised only in 3.x).
    pub const PROXY_TRANSIT: u64 = 0x10;
    /// Proxy accept (advertised only in 3.x).
    pub const PROXY_ACCEPT: u64 = 0x20;
    /// Answers important-delivery requests.
    pub const IMPORTANT_DELIVERY: u64 = 0x40;
    /// Go's default set (0x67).
    pub const GO_DEFAULT: NetworkFlags = NetworkFlags(0x67);

    /// Whether `bit` is set, honouring the Enable bit as Go does.
    pub fn has(&self, bit: u64) -> bool {
        self.0 & Self::ENABLE != 0 && self.0 & bit != 0
    }
}

impl Default for NetworkFlags {
    fn default() -> Self {
        NetworkFlags::GO_DEFAULT
    }
}

impl EdfCustom for NetworkFlags {
    fn marshal(&self, out: &mut Vec<u8>) -> Result<(), String> {
        out.extend_from_slice(&self.0.to_be_bytes());
        Ok(())
    }
    /// Lenient as Go: extra bytes are ignored; fewer than 8 is an error.
    fn unmarshal(b: &[u8]) -> Result<Self, String> {
        let a: [u8; 8] = b
            .get(..8)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| format!("NetworkFlags: {} bytes", b.len()))?;
        Ok(NetworkFlags(u64::from_be_bytes(a)))
    }
}

/// `gen.NetworkProxyFlags`: registered by Go, carries no bytes.
#[derive(Edf, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/NetworkProxyFlags", custom)]
pub struct NetworkProxyFlags;

impl EdfCustom for NetworkProxyFlags {
    fn marshal(&self, _out: &mut Vec<u8>) -> Result<(), String> {
        Ok(())
    }
    fn unmarshal(_b: &[u8]) -> Result<Self, String> {
        Ok(NetworkProxyFlags)
    }
}

/// `gen.Route`: how to reach a node's acceptor.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/Route")]
pub struct Route {
    /// Host; empty means "the host part of the node name".
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// The acceptor uses TLS.
    pub tls: bool,
    /// Must be EHS R1.
    pub handshake_version: Version,
    /// Must be ENP R1.
    pub proto_version: Version,
}

/// `gen.ApplicationRoute`: an application on a node, as registrars that support application
/// routes keep it (the etcd registrar stores it under `routes/applications/{app}/{node}`).
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/ApplicationRoute")]
pub struct ApplicationRoute {
    /// The node running (or having loaded) it.
    pub node: Atom,
    /// The application's name.
    pub name: Atom,
    /// Its weight among the nodes offering it (Go's `int`).
    pub weight: isize,
    /// The mode it runs in.
    pub mode: ApplicationMode,
    /// Loaded, running or stopping.
    pub state: ApplicationState,
}

/// `gen.Compression`.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/Compression")]
pub struct Compression {
    /// Compression is on.
    pub enable: bool,
    /// Algorithm.
    pub kind: CompressionType,
    /// Level.
    pub level: CompressionLevel,
    /// Frames longer than this are compressed (Go minimum 1024).
    pub threshold: isize,
}

/// `gen.ProcessFallback`: where messages go when a mailbox is full.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/gen/ProcessFallback")]
pub struct ProcessFallback {
    /// Fallback is on.
    pub enable: bool,
    /// The fallback process name.
    pub name: Atom,
    /// A tag added to forwarded messages.
    pub tag: String,
}

/// An environment map (`map[gen.Env]any`); `None` is Go's nil map.
pub type EnvMap = Option<HashMap<Env, Value>>;

/// `gen.ProcessOptions`.
#[derive(Edf, Debug, Clone, PartialEq, Default)]
#[edf(name = "#ergo.services/ergo/gen/ProcessOptions")]
pub struct ProcessOptions {
    /// Mailbox size limit (0: unbounded).
    pub mailbox_size: i64,
    /// Group leader.
    pub leader: Pid,
    /// Environment.
    pub env: EnvMap,
    /// Compression of outgoing network messages.
    pub compression: Compression,
    /// Priority of outgoing messages.
    pub send_priority: MessagePriority,
    /// Important delivery for outgoing messages.
    pub important_delivery: bool,
    /// Mailbox-full fallback.
    pub fallback: ProcessFallback,
    /// Link to the parent.
    pub link_parent: bool,
    /// Link the children.
    pub link_child: bool,
    /// Log level.
    pub log_level: LogLevel,
}

/// `gen.ProcessOptionsExtra`: the options of a remote spawn.
#[derive(Edf, Debug, Clone, PartialEq, Default)]
#[edf(name = "#ergo.services/ergo/gen/ProcessOptionsExtra")]
pub struct ProcessOptionsExtra {
    /// The options.
    pub options: ProcessOptions,
    /// The spawning process (must be set).
    pub parent_pid: Pid,
    /// Its leader (must be set).
    pub parent_leader: Pid,
    /// Its environment.
    pub parent_env: EnvMap,
    /// Its log level.
    pub parent_log_level: LogLevel,
    /// Name to register the new process under.
    pub register: Atom,
    /// Application the process belongs to.
    pub application: Atom,
    /// Arguments of the process's init.
    pub args: Option<Vec<Value>>,
}

/// `gen.ApplicationOptions`.
#[derive(Edf, Debug, Clone, PartialEq, Default)]
#[edf(name = "#ergo.services/ergo/gen/ApplicationOptions")]
pub struct ApplicationOptions {
    /// Environment.
    pub env: EnvMap,
    /// Log level.
    pub log_level: LogLevel,
}

/// `gen.ApplicationOptionsExtra`: the options of a remote application start.
#[derive(Edf, Debug, Clone, PartialEq, Default)]
#[edf(name = "#ergo.services/ergo/gen/ApplicationOptionsExtra")]
pub struct ApplicationOptionsExtra {
    /// The options.
    pub options: ApplicationOptions,
    /// The requesting node's core PID.
    pub core_pid: Pid,
    /// Its environment.
    pub core_env: EnvMap,
    /// Its log level.
    pub core_log_level: LogLevel,
}

/// `gen.MessageEvent`: one published event as subscribers receive it.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/gen/MessageEvent")]
pub struct MessageEvent {
    /// The event.
    pub event: Event,
    /// Nanoseconds since the Unix epoch, taken by the producer.
    pub timestamp: i64,
    /// The payload.
    pub message: Value,
}

/// `gen.MessageEventStart`: the first subscriber arrived (to a producer with Notify).
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/gen/MessageEventStart")]
pub struct MessageEventStart {
    /// The event name.
    pub name: Atom,
}

/// `gen.MessageEventStop`: the last subscriber left.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/ergo/gen/MessageEventStop")]
pub struct MessageEventStop {
    /// The event name.
    pub name: Atom,
}

/// Registers the framework types of this module, in Go's order (idempotent).
pub fn register_gen_types() -> Result<(), RegisterError> {
    ensure_registered::<Env>()?;
    ensure_registered::<LogLevel>()?;
    ensure_registered::<MessagePriority>()?;
    ensure_registered::<CompressionType>()?;
    ensure_registered::<CompressionLevel>()?;
    ensure_registered::<ApplicationMode>()?;
    ensure_registered::<ApplicationState>()?;
    ensure_registered::<Version>()?;
    ensure_registered::<ProcessFallback>()?;
    ensure_registered::<Compression>()?;
    ensure_registered::<ProcessOptions>()?;
    ensure_registered::<ProcessOptionsExtra>()?;
    ensure_registered::<ApplicationOptions>()?;
    ensure_registered::<ApplicationOptionsExtra>()?;
    ensure_registered::<NetworkFlags>()?;
    ensure_registered::<NetworkProxyFlags>()?;
    ensure_registered::<Route>()?;
    ensure_registered::<ApplicationRoute>()?;
    ensure_registered::<MessageEvent>()?;
    ensure_registered::<MessageEventStart>()?;
    ensure_registered::<MessageEventStop>()?;
    Ok(())
}
