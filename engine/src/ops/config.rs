//! A node's options from a TOML file, every key overridable by an environment variable
//! `ERGO_<SECTION>_<KEY>` (`ERGO_METRICS_LISTEN=127.0.0.1:9100` sets `[metrics] listen`).
//!
//! [`load`] reads a file and the process environment; [`load_str`] takes both as arguments
//! (for tests and for programs that get their config elsewhere). The result is a
//! [`NodeConfig`]: the node's name, its [`NodeOptions`] and the log settings, ready for
//! [`NodeConfig::start`]. Every key, its type, default and meaning is in [`KEYS`] (what
//! `ergo-node --help` prints). A bad config is a [`ConfigError`] that names the key, where
//! its value came from (the file or the variable) and why it is refused.
//!
//! Environment values are read as the key's type: text as is, numbers and booleans parsed,
//! lists comma-separated (`ERGO_NETWORK_ACCEPTORS=127.0.0.1:15000,127.0.0.1:15001`).
//! `ERGO_ENV_<NAME>` sets the node environment variable `NAME`. Variables that start with
//! `ERGO_` but name no section are ignored; a known section with an unknown key is an error.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::registrar::RegistrarOptions;
use crate::{
    AcceptorOptions, AcceptorTls, LogLevel, NetworkMode, NetworkOptions, Node, NodeOptions,
    OpsOptions, TlsCertificate, TlsDialOptions,
};

/// The type of a key's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// Text.
    Str,
    /// A whole number.
    Int,
    /// A number (seconds, for durations).
    Float,
    /// `true` or `false`.
    Bool,
    /// A list of text (comma-separated in an environment variable).
    List,
}

/// One key of the config file.
#[derive(Clone, Copy, Debug)]
pub struct KeyInfo {
    /// Its section (`[metrics]`).
    pub section: &'static str,
    /// Its name in the section (`listen`).
    pub key: &'static str,
    /// Its type.
    pub kind: KeyKind,
    /// Its default, as written in the file (empty: none).
    pub default: &'static str,
    /// What it does.
    pub help: &'static str,
}

impl KeyInfo {
    /// The environment variable that overrides it.
    pub fn env_var(&self) -> String {
        format!(
            "ERGO_{}_{}",
            self.section.to_ascii_uppercase(),
            self.key.to_ascii_uppercase()
        )
    }
}

const fn k(
    section: &'static str,
    key: &'static str,
    kind: KeyKind,
    default: &'static str,
    help: &'static str,
) -> KeyInfo {
    KeyInfo {
        section,
        key,
        kind,
        default,
        help,
    }
}

use KeyKind::{Bool, Float, Int, List, Str};

/// Every key of the config file, by section.
pub const KEYS: &[KeyInfo] = &[
    k(
        "node",
        "name",
        Str,
        "",
        "the node's name, name@host (required)",
    ),
    k(
        "node",
        "cookie",
        Str,
        "",
        "the cluster's shared secret (required when the network is on)",
    ),
    k(
        "node",
        "stop_timeout",
        Float,
        "5",
        "seconds a graceful stop waits for processes before it terminates them",
    ),
    k(
        "shards",
        "count",
        Int,
        "0",
        "shards (threads, one io_uring each); 0: one per available core",
    ),
    k(
        "shards",
        "pin",
        Bool,
        "true",
        "pin shard i to core (first_core + i) mod cores",
    ),
    k(
        "shards",
        "first_core",
        Int,
        "0",
        "the core of shard 0 when pinning",
    ),
    k(
        "network",
        "mode",
        Str,
        "enabled",
        "enabled | hidden (dial out only) | disabled (no network at all)",
    ),
    k(
        "network",
        "acceptors",
        List,
        "[\"127.0.0.1:15000\"]",
        "addresses the acceptors listen on (port 0: any free port)",
    ),
    k(
        "network",
        "pool_size",
        Int,
        "3",
        "links per connection our acceptors ask dialers to open",
    ),
    k(
        "network",
        "max_message_size",
        Int,
        "0",
        "largest frame accepted from peers, bytes (0: unlimited)",
    ),
    k(
        "network",
        "handshake_timeout",
        Float,
        "1",
        "seconds each handshake message may take",
    ),
    k("tls", "enable", Bool, "false", "acceptors speak TLS"),
    k(
        "tls",
        "cert_file",
        Str,
        "",
        "PEM certificate chain of the acceptors (empty with enable: self-signed)",
    ),
    k("tls", "key_file", Str, "", "PEM private key of cert_file"),
    k(
        "tls",
        "ca_file",
        Str,
        "",
        "PEM roots the dialer verifies acceptors against (empty: any certificate, as Go)",
    ),
    k(
        "tls",
        "check_fingerprint",
        Bool,
        "true",
        "check the acceptor's certificate digest in the handshake",
    ),
    k(
        "registrar",
        "enable",
        Bool,
        "false",
        "register with (or become) the host's built-in registrar",
    ),
    k(
        "registrar",
        "port",
        Int,
        "4499",
        "the registrar's TCP and UDP port",
    ),
    k(
        "registrar",
        "tcp_host",
        Str,
        "127.0.0.1",
        "address the registrar server's TCP listener binds",
    ),
    k(
        "registrar",
        "udp_host",
        Str,
        "0.0.0.0",
        "address the registrar server's UDP socket binds",
    ),
    k(
        "metrics",
        "listen",
        Str,
        "",
        "address of the HTTP listener for /metrics and /health/* (empty: none)",
    ),
    k(
        "metrics",
        "enable",
        Bool,
        "true",
        "serve /metrics (off: 404, and no counters are collected)",
    ),
    k(
        "metrics",
        "scrape_timeout",
        Float,
        "1",
        "seconds a scrape waits for each shard's counters",
    ),
    k(
        "metrics",
        "max_connections",
        Int,
        "64",
        "HTTP connections served at once",
    ),
    k(
        "health",
        "enable",
        Bool,
        "true",
        "serve /health/live and /health/ready",
    ),
    k(
        "health",
        "required_applications",
        List,
        "[]",
        "applications that must run for the node to be ready",
    ),
    k(
        "log",
        "level",
        Str,
        "info",
        "trace | debug | info | warning | error | panic | disabled",
    ),
    k("log", "format", Str, "text", "text | json"),
];

const SECTIONS: &[&str] = &[
    "node",
    "shards",
    "network",
    "tls",
    "registrar",
    "metrics",
    "health",
    "log",
    "env",
];

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The config file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// The default.
    Default,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File(p) => write!(f, "in {}", p.display()),
            Origin::Env(v) => write!(f, "from ${v}"),
            Origin::Default => write!(f, "by default"),
        }
    }
}

/// Why a config is refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not TOML.
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A key has a bad value (or is unknown).
    #[error("config key `{key}` ({origin}): {reason}")]
    Key {
        /// `section.key`.
        key: String,
        /// Where its value came from.
        origin: Origin,
        /// Why it is refused.
        reason: String,
    },
}

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The log settings of a config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// The node's log level (and the filter of the subscriber `ergo-node` installs).
    pub level: LogLevel,
    /// Text or JSON.
    pub format: LogFormat,
}

/// A loaded config: what [`NodeConfig::start`] starts.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// `name@host`.
    pub name: String,
    /// The node's options.
    pub options: NodeOptions,
    /// Log level and format.
    pub log: LogConfig,
}

impl NodeConfig {
    /// Starts the node.
    pub fn start(&self) -> Result<Node, crate::Error> {
        Node::start(&self.name, self.options.clone())
    }
}

// ---- the file's shape (serde) -----------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct File {
    node: NodeSection,
    shards: ShardsSection,
    network: NetworkSection,
    tls: TlsSection,
    registrar: RegistrarSection,
    metrics: MetricsSection,
    health: HealthSection,
    log: LogSection,
    env: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct NodeSection {
    name: String,
    cookie: String,
    stop_timeout: f64,
}

impl Default for NodeSection {
    fn default() -> Self {
        NodeSection {
            name: String::new(),
            cookie: String::new(),
            stop_timeout: 5.0,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ShardsSection {
    count: usize,
    pin: bool,
    first_core: usize,
}

impl Default for ShardsSection {
    fn default() -> Self {
        ShardsSection {
            count: 0,
            pin: true,
            first_core: 0,
        }
    }
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Enabled,
    Hidden,
    Disabled,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct NetworkSection {
    mode: Mode,
    acceptors: Vec<SocketAddr>,
    pool_size: usize,
    max_message_size: u64,
    handshake_timeout: f64,
}

impl Default for NetworkSection {
    fn default() -> Self {
        NetworkSection {
            mode: Mode::Enabled,
            acceptors: vec![SocketAddr::from(([127, 0, 0, 1], 15000))],
            pool_size: 3,
            max_message_size: 0,
            handshake_timeout: 1.0,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct TlsSection {
    enable: bool,
    cert_file: String,
    key_file: String,
    ca_file: String,
    check_fingerprint: bool,
}

impl Default for TlsSection {
    fn default() -> Self {
        TlsSection {
            enable: false,
            cert_file: String::new(),
            key_file: String::new(),
            ca_file: String::new(),
            check_fingerprint: true,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RegistrarSection {
    enable: bool,
    port: u16,
    tcp_host: IpAddr,
    udp_host: IpAddr,
}

impl Default for RegistrarSection {
    fn default() -> Self {
        let d = RegistrarOptions::default();
        RegistrarSection {
            enable: false,
            port: d.port,
            tcp_host: d.tcp_host,
            udp_host: d.udp_host,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct MetricsSection {
    listen: String,
    enable: bool,
    scrape_timeout: f64,
    max_connections: usize,
}

impl Default for MetricsSection {
    fn default() -> Self {
        MetricsSection {
            listen: String::new(),
            enable: true,
            scrape_timeout: 1.0,
            max_connections: 64,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct HealthSection {
    enable: bool,
    required_applications: Vec<String>,
}

impl Default for HealthSection {
    fn default() -> Self {
        HealthSection {
            enable: true,
            required_applications: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct LogSection {
    level: String,
    format: LogFormat,
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

// ---- loading ------------------------------------------------------------------------------

/// Loads `path`, with overrides from this process's `ERGO_*` environment variables.
pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    load_str(&text, path, std::env::vars())
}

/// Loads a config from `text` (named `path` in errors) with overrides from `env`
/// (`(name, value)` pairs; only `ERGO_*` ones are looked at).
pub fn load_str(
    text: &str,
    path: &Path,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<NodeConfig, ConfigError> {
    let mut table: toml::Table =
        text.parse()
            .map_err(|e: toml::de::Error| ConfigError::Syntax {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
    let overridden = apply_env(&mut table, env)?;
    let origin_of = |key: &str| match overridden.get(key) {
        Some(var) => Origin::Env(var.clone()),
        None => Origin::File(path.to_path_buf()),
    };
    let file: File = serde_path_to_error::deserialize(table).map_err(|e| {
        // `network.acceptors[0]`: the element; its origin is the key's.
        let key = e.path().to_string();
        let base = key.split('[').next().unwrap_or(&key).to_string();
        // The deserializer appends "in `key`" on a second line: the key is said already.
        let inner = e.inner().to_string();
        let reason = inner.lines().next().unwrap_or(&inner).to_string();
        // serde's message for an unknown key names it; the path is then its section.
        ConfigError::Key {
            origin: origin_of(&base),
            key,
            reason,
        }
    })?;
    build(file, &origin_of)
}

/// Writes the `ERGO_*` overrides into the table; returns which keys they set, with the
/// variable that set each.
fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<HashMap<String, String>, ConfigError> {
    let mut set = HashMap::new();
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("ERGO_"))
        .collect();
    vars.sort();
    for (var, value) in vars {
        let rest = &var["ERGO_".len()..];
        let Some(section) = SECTIONS.iter().find(|s| {
            rest.len() > s.len() + 1
                && rest[..s.len()].eq_ignore_ascii_case(s)
                && rest.as_bytes()[s.len()] == b'_'
        }) else {
            continue;
        };
        let name = &rest[section.len() + 1..];
        let sect = table
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(sect) = sect.as_table_mut() else {
            return Err(ConfigError::Key {
                key: section.to_string(),
                origin: Origin::Env(var.clone()),
                reason: "is not a table in the file, cannot override a key in it".into(),
            });
        };
        if *section == "env" {
            sect.insert(name.to_string(), toml::Value::String(value));
            set.insert(format!("env.{name}"), var);
            continue;
        }
        let key = name.to_ascii_lowercase();
        let full = format!("{section}.{key}");
        let Some(info) = KEYS.iter().find(|i| i.section == *section && i.key == key) else {
            return Err(ConfigError::Key {
                key: full,
                origin: Origin::Env(var),
                reason: "unknown key (see ergo-node --help for the keys)".into(),
            });
        };
        let bad = |what: &str| ConfigError::Key {
            key: full.clone(),
            origin: Origin::Env(var.clone()),
            reason: format!("expected {what}, got {value:?}"),
        };
        let v = match info.kind {
            Str => toml::Value::String(value.clone()),
            Int => toml::Value::Integer(value.trim().parse().map_err(|_| bad("a whole number"))?),
            Float => toml::Value::Float(value.trim().parse().map_err(|_| bad("a number"))?),
            Bool => toml::Value::Boolean(match value.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => return Err(bad("true or false")),
            }),
            List => toml::Value::Array(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| toml::Value::String(s.to_string()))
                    .collect(),
            ),
        };
        sect.insert(key, v);
        set.insert(full, var);
    }
    Ok(set)
}

fn seconds(key: &str, v: f64, origin: &dyn Fn(&str) -> Origin) -> Result<Duration, ConfigError> {
    Duration::try_from_secs_f64(v).map_err(|_| ConfigError::Key {
        key: key.into(),
        origin: origin(key),
        reason: format!("{v} is not a duration in seconds (must be >= 0)"),
    })
}

fn parse_level(s: &str) -> Option<LogLevel> {
    Some(match s.to_ascii_lowercase().as_str() {
        "trace" => LogLevel::Trace,
        "debug" => LogLevel::Debug,
        "info" => LogLevel::Info,
        "warning" | "warn" => LogLevel::Warning,
        "error" => LogLevel::Error,
        "panic" => LogLevel::Panic,
        "disabled" | "off" => LogLevel::Disabled,
        _ => return None,
    })
}

/// Checks the values and makes the options.
fn build(f: File, origin: &dyn Fn(&str) -> Origin) -> Result<NodeConfig, ConfigError> {
    let err = |key: &str, reason: String| ConfigError::Key {
        key: key.into(),
        origin: origin(key),
        reason,
    };
    let name = f.node.name.clone();
    match name.split_once('@') {
        Some((n, h)) if !n.is_empty() && !h.is_empty() && !h.contains('@') && name.len() <= 255 => {
        }
        _ if name.is_empty() => {
            return Err(ConfigError::Key {
                key: "node.name".into(),
                origin: Origin::Default,
                reason: "is required (name@host)".into(),
            })
        }
        _ => {
            return Err(err(
                "node.name",
                format!("{name:?} is not name@host (at most 255 bytes)"),
            ))
        }
    }
    if f.shards.count > 1024 {
        return Err(err(
            "shards.count",
            format!("{} is more than 1024", f.shards.count),
        ));
    }
    let level = parse_level(&f.log.level).ok_or_else(|| {
        err(
            "log.level",
            format!(
                "{:?} is not one of trace, debug, info, warning, error, panic, disabled",
                f.log.level
            ),
        )
    })?;
    let mut env = crate::EnvVars::default();
    for (k, v) in &f.env {
        env.set(k.as_str(), v.clone());
    }
    let mut ops = OpsOptions {
        metrics: f.metrics.enable,
        health: f.health.enable,
        required_applications: f
            .health
            .required_applications
            .iter()
            .map(|a| ergo_edf::Atom::new(a))
            .collect(),
        scrape_timeout: seconds("metrics.scrape_timeout", f.metrics.scrape_timeout, origin)?,
        ..OpsOptions::default()
    };
    if f.metrics.max_connections == 0 {
        return Err(err("metrics.max_connections", "must be at least 1".into()));
    }
    ops.max_connections = f.metrics.max_connections;
    if !f.metrics.listen.trim().is_empty() {
        ops.listen = Some(f.metrics.listen.trim().parse().map_err(|e| {
            err(
                "metrics.listen",
                format!("{:?} is not host:port ({e})", f.metrics.listen),
            )
        })?);
    }
    let network = match f.network.mode {
        Mode::Disabled => None,
        mode => {
            if f.node.cookie.is_empty() {
                return Err(ConfigError::Key {
                    key: "node.cookie".into(),
                    origin: match origin("node.cookie") {
                        Origin::Env(v) => Origin::Env(v),
                        _ => Origin::Default,
                    },
                    reason: "is required when the network is on (set network.mode = \"disabled\" for none)".into(),
                });
            }
            let mut n = NetworkOptions::new(&f.node.cookie);
            n.mode = match mode {
                Mode::Hidden => NetworkMode::Hidden,
                _ => NetworkMode::Enabled,
            };
            if f.network.pool_size == 0 || f.network.pool_size > 16 {
                return Err(err(
                    "network.pool_size",
                    format!("{} is not between 1 and 16", f.network.pool_size),
                ));
            }
            n.pool_size = f.network.pool_size;
            n.max_message_size = f.network.max_message_size;
            n.handshake_timeout = seconds(
                "network.handshake_timeout",
                f.network.handshake_timeout,
                origin,
            )?;
            if n.handshake_timeout.is_zero() {
                return Err(err(
                    "network.handshake_timeout",
                    "must be more than 0".into(),
                ));
            }
            let tls = tls_of(&f.tls, &err)?;
            n.acceptors = f
                .network
                .acceptors
                .iter()
                .map(|a| AcceptorOptions {
                    tls: tls.clone(),
                    ..AcceptorOptions::new(*a)
                })
                .collect();
            n.tls = TlsDialOptions {
                roots: if f.tls.ca_file.is_empty() {
                    None
                } else {
                    let pem = std::fs::read(&f.tls.ca_file)
                        .map_err(|e| err("tls.ca_file", format!("{}: {e}", f.tls.ca_file)))?;
                    Some(
                        crate::certificates_from_pem(&pem)
                            .map_err(|e| err("tls.ca_file", e.to_string()))?,
                    )
                },
                check_fingerprint: f.tls.check_fingerprint,
            };
            if f.registrar.enable {
                n.registrar = Some(crate::registrar::RegistrarConfig::Builtin(
                    RegistrarOptions {
                        port: f.registrar.port,
                        tcp_host: f.registrar.tcp_host,
                        udp_host: f.registrar.udp_host,
                    },
                ));
            }
            Some(n)
        }
    };
    let options = NodeOptions {
        shards: f.shards.count,
        pin: f.shards.pin,
        first_core: f.shards.first_core,
        stop_timeout: seconds("node.stop_timeout", f.node.stop_timeout, origin)?,
        log_level: level,
        network,
        env,
        ops,
        ..Default::default()
    };
    Ok(NodeConfig {
        name,
        options,
        log: LogConfig {
            level,
            format: f.log.format,
        },
    })
}

fn tls_of(
    t: &TlsSection,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<AcceptorTls, ConfigError> {
    if !t.enable {
        return Ok(AcceptorTls::Off);
    }
    match (t.cert_file.is_empty(), t.key_file.is_empty()) {
        (true, true) => Ok(AcceptorTls::SelfSigned),
        (false, true) => Err(err("tls.key_file", "is required with tls.cert_file".into())),
        (true, false) => Err(err("tls.cert_file", "is required with tls.key_file".into())),
        (false, false) => {
            for (key, p) in [
                ("tls.cert_file", &t.cert_file),
                ("tls.key_file", &t.key_file),
            ] {
                if let Err(e) = std::fs::metadata(p) {
                    return Err(err(key, format!("{p}: {e}")));
                }
            }
            TlsCertificate::from_pem_files(&t.cert_file, &t.key_file)
                .map(AcceptorTls::Certificate)
                .map_err(|e| err("tls.cert_file", e.to_string()))
        }
    }
}

/// The keys as `--help` shows them: one block per section.
pub fn keys_help() -> String {
    let mut s = String::new();
    let mut section = "";
    for i in KEYS {
        if i.section != section {
            section = i.section;
            s.push_str(&format!("\n[{section}]\n"));
        }
        let def = if i.default.is_empty() {
            String::new()
        } else {
            format!(" (default {})", i.default)
        };
        s.push_str(&format!(
            "  {:<22} {}{def}\n  {:<22} env: {}\n",
            i.key,
            i.help,
            "",
            i.env_var()
        ));
    }
    s.push_str(
        "\n[env]\n  NAME = \"value\"         a node environment variable (env: ERGO_ENV_NAME)\n",
    );
    s
}
