//! Our figures in Go's types: processes, the node, the network, connections, applications.
//! Fields this engine does not have (meta processes, cron, proxies, leaders) get Go's zero
//! value, exactly what a Go node with nothing there would send.

use std::sync::Arc;

use ergo_edf::{Atom, Pid};
use ergo_proto::gen::{LogLevel as GoLogLevel, MessagePriority, ProcessFallback, Version};

use super::gen_types as go;
use super::ProcessShortInfo;
use crate::node::NodeShared;
use crate::{LogLevel, Priority, ProcessInfo, ProcessState};

/// Go's `gen.ProcessState` value.
pub(crate) fn process_state(s: ProcessState) -> go::ProcessState {
    go::ProcessState(match s {
        ProcessState::Init => 1,
        ProcessState::Sleep => 2,
        ProcessState::Running => 4,
        ProcessState::WaitResponse => 8,
        ProcessState::Terminated => 16,
    })
}

/// Go's `gen.LogLevel` value.
pub(crate) fn log_level(l: LogLevel) -> GoLogLevel {
    GoLogLevel(match l {
        LogLevel::Trace => -2,
        LogLevel::Debug => -1,
        LogLevel::Info => 1,
        LogLevel::Warning => 2,
        LogLevel::Error => 3,
        LogLevel::Panic => 4,
        LogLevel::Disabled => 5,
    })
}

/// Our level for Go's `gen.LogLevel` (`None`: not one a process can be set to).
pub(crate) fn from_go_level(l: GoLogLevel) -> Option<LogLevel> {
    Some(match l.0 {
        -2 => LogLevel::Trace,
        -1 => LogLevel::Debug,
        1 => LogLevel::Info,
        2 => LogLevel::Warning,
        3 => LogLevel::Error,
        4 => LogLevel::Panic,
        5 => LogLevel::Disabled,
        _ => return None,
    })
}

fn priority(p: Priority) -> MessagePriority {
    MessagePriority(match p {
        Priority::Normal => 0,
        Priority::High => 1,
        Priority::Max => 2,
    })
}

fn atom(a: Option<Atom>) -> Atom {
    a.unwrap_or_default()
}

fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// The leader Go reports for a process with no group leader: the node's core process.
fn leader(node: &NodeShared) -> Pid {
    node.node_pid()
}

/// `gen.ProcessShortInfo`.
pub(crate) fn short_info(node: &NodeShared, p: &ProcessShortInfo) -> go::ProcessShortInfo {
    go::ProcessShortInfo {
        pid: p.pid,
        name: atom(p.name),
        application: atom(p.application),
        behavior: p.behavior.to_string(),
        messages_in: p.messages_in,
        messages_out: p.messages_out,
        messages_mailbox: p.mailbox as u64,
        running_time: p.running_time.as_nanos() as u64,
        uptime: p.uptime,
        state: process_state(p.state),
        parent: p.parent.unwrap_or_else(|| node.node_pid()),
        leader: leader(node),
        log_level: log_level(p.log_level),
    }
}

/// `gen.ProcessInfo`.
pub(crate) fn process_info(node: &NodeShared, p: &ProcessInfo) -> go::ProcessInfo {
    let q = p.mailbox_queues;
    go::ProcessInfo {
        pid: p.pid,
        name: atom(p.name),
        application: atom(p.application),
        behavior: p.behavior.to_string(),
        mailbox_size: i64::from(p.mailbox_limit),
        mailbox_queues: go::MailboxQueues {
            main: q.main as i64,
            system: q.system as i64,
            urgent: q.urgent as i64,
            log: q.log as i64,
        },
        messages_in: p.messages_in,
        messages_out: p.messages_out,
        running_time: p.running_time.as_nanos() as u64,
        compression: Default::default(),
        message_priority: priority(p.priority),
        uptime: p.uptime,
        state: process_state(p.state),
        parent: p.parent.unwrap_or_else(|| node.node_pid()),
        leader: leader(node),
        fallback: match p.fallback {
            Some((name, tag)) => ProcessFallback {
                enable: true,
                name,
                tag: tag.as_str().to_string(),
            },
            None => ProcessFallback::default(),
        },
        env: None,
        aliases: non_empty(p.alias_list.clone()),
        events: non_empty(p.events.clone()),
        links_pid: non_empty(p.linked.clone()),
        monitors_event: non_empty(
            p.events_monitored
                .iter()
                .map(|e| ergo_edf::Event {
                    name: *e,
                    node: node.name,
                })
                .collect(),
        ),
        log_level: log_level(p.log_level),
        ..Default::default()
    }
}

/// The framework version we report (Go reports "Ergo Framework" and its release).
pub(crate) fn framework_version() -> Version {
    Version::new("ergo-rs", env!("CARGO_PKG_VERSION"), "MIT")
}

/// The handshake version (Go's `EHS R1`).
pub(crate) fn handshake_version() -> Version {
    Version::new("EHS", "R1", "MIT")
}

/// The protocol version (Go's `ENP R1`).
pub(crate) fn proto_version() -> Version {
    Version::new("ENP", "R1", "MIT")
}

/// `gen.NodeInfo`.
pub(crate) fn node_info(node: &crate::Node) -> go::NodeInfo {
    let s = &node.0;
    let info = node.info();
    let apps = node.applications();
    let running = apps
        .iter()
        .filter(|a| matches!(a.state, crate::ApplicationState::Running { .. }))
        .count();
    let loggers = s
        .loggers
        .read()
        .map(|l| {
            l.iter()
                .map(|(pid, level)| go::LoggerInfo {
                    name: pid.to_string(),
                    behavior: String::new(),
                    levels: Some(levels_from(*level)),
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let (user, system) = cpu_times();
    go::NodeInfo {
        name: s.name,
        uptime: info.uptime.as_secs() as i64,
        version: framework_version(),
        framework: framework_version(),
        commercial: None,
        env: None,
        log_level: log_level(node.log_level()),
        loggers: non_empty(loggers),
        cron: Default::default(),
        processes_total: info.processes as i64,
        processes_running: 0,
        processes_zombee: 0,
        registered_aliases: 0,
        registered_names: info.names as i64,
        registered_events: info.events as i64,
        applications_total: apps.len() as i64,
        applications_running: running as i64,
        memory_used: info.memory_rss,
        memory_alloc: info.memory_rss,
        user_time: user,
        system_time: system,
    }
}

/// The levels a logger registered at `min` receives, in Go's values.
fn levels_from(min: LogLevel) -> Vec<GoLogLevel> {
    [
        LogLevel::Trace,
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warning,
        LogLevel::Error,
        LogLevel::Panic,
    ]
    .into_iter()
    .filter(|l| *l >= min)
    .map(log_level)
    .collect()
}

/// User and system CPU time of the OS process, ns.
fn cpu_times() -> (i64, i64) {
    // SAFETY: getrusage fills the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; RUSAGE_SELF is always valid.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return (0, 0);
    }
    let ns = |t: libc::timeval| t.tv_sec * 1_000_000_000 + t.tv_usec * 1000;
    (ns(ru.ru_utime), ns(ru.ru_stime))
}

/// `gen.NetworkInfo` (`None`: the node has no network, Go's `ErrNetworkStopped`).
pub(crate) fn network_info(node: &crate::Node) -> Option<go::NetworkInfo> {
    let net: &Arc<crate::net::Network> = node.0.network.get()?;
    let o = net.options();
    let mode = match o.mode {
        crate::NetworkMode::Enabled => 0,
        crate::NetworkMode::Hidden => 1,
        crate::NetworkMode::Disabled => -1,
    };
    let acceptors = o
        .acceptors
        .iter()
        .zip(net.listen_addrs.iter())
        .map(|(a, addr)| go::AcceptorInfo {
            interface: addr.to_string(),
            max_message_size: a.max_message_size.unwrap_or(o.max_message_size) as isize,
            flags: a.flags.unwrap_or(o.flags),
            tls: !matches!(a.tls, crate::AcceptorTls::Off),
            custom_registrar: false,
            registrar_server: String::new(),
            registrar_version: Version::default(),
            handshake_version: handshake_version(),
            proto_version: proto_version(),
        })
        .collect();
    // What the running registrar says of itself (built-in or etcd), as Go's RegistrarInfo.
    let registrar = match net.registrar() {
        Some(r) => {
            let i = r.info();
            go::RegistrarInfo {
                server: i.server,
                embedded_server: i.embedded_server,
                support_register_proxy: false,
                support_register_application: i.support_register_application,
                support_config: i.support_config,
                support_event: i.support_event,
                version: i.version,
            }
        }
        None => go::RegistrarInfo::default(),
    };
    let mut routes: Vec<go::RouteInfo> = o
        .routes
        .iter()
        .map(|(name, r)| go::RouteInfo {
            match_: name.as_str().to_string(),
            use_custom_cookie: r.cookie.is_some(),
            flags: o.flags,
            handshake_version: handshake_version(),
            proto_version: proto_version(),
            host: r.addr.ip().to_string(),
            port: r.addr.port(),
            ..Default::default()
        })
        .collect();
    routes.sort_by(|a, b| a.match_.cmp(&b.match_));
    let mut nodes = net.peers();
    nodes.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    Some(go::NetworkInfo {
        mode: go::NetworkMode(mode),
        registrar,
        acceptors: non_empty(acceptors),
        max_message_size: o.max_message_size as isize,
        handshake_version: handshake_version(),
        proto_version: proto_version(),
        nodes: non_empty(nodes),
        routes: non_empty(routes),
        proxy_routes: None,
        flags: o.flags,
        enabled_spawn: None,
        enabled_application_start: None,
    })
}

/// `gen.RemoteNodeInfo` of the connection to `peer` (`None`: not connected).
pub(crate) fn remote_node_info(
    net: &crate::net::Network,
    peer: Atom,
    bytes_out: u64,
) -> Option<go::RemoteNodeInfo> {
    let pool = net.pool(peer)?;
    let c = pool.send.first()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Some(go::RemoteNodeInfo {
        node: peer,
        uptime: now - c.codec.peer_creation(),
        connection_uptime: c.since.elapsed().as_secs() as i64,
        version: c.peer_version.clone(),
        handshake_version: handshake_version(),
        proto_version: proto_version(),
        network_flags: c.codec.peer_flags(),
        pool_size: pool.all.len() as isize,
        pool_dsn: None,
        max_message_size: c.codec.peer_max_message_size() as isize,
        bytes_out,
        ..Default::default()
    })
}

/// `gen.ApplicationInfo` of every loaded application, by name.
pub(crate) fn application_list(
    node: &crate::Node,
) -> std::collections::HashMap<Atom, go::ApplicationInfo> {
    node.applications()
        .into_iter()
        .map(|a| {
            let (state, mode) = match a.state {
                crate::ApplicationState::Loaded => (1, 0),
                crate::ApplicationState::Running { mode, .. } => (
                    2,
                    match mode {
                        crate::ApplicationMode::Temporary => 1,
                        crate::ApplicationMode::Transient => 2,
                        crate::ApplicationMode::Permanent => 3,
                    },
                ),
            };
            let info = go::ApplicationInfo {
                name: a.name,
                weight: 0,
                description: a.description.clone(),
                version: Version::new(a.name.as_str(), &a.version, ""),
                env: None,
                depends: go::ApplicationDepends {
                    applications: non_empty(a.depends.clone()),
                    network: false,
                },
                mode: ergo_proto::gen::ApplicationMode(mode),
                state: go::ApplicationState(state),
                parent: Atom::default(),
                uptime: 0,
                group: None,
            };
            (a.name, info)
        })
        .collect()
}

/// Go's `Atom.CRC32()`: the CRC-32 of the name with Go Ergo's table (reversed polynomial
/// 0xD5828281), as 8 upper-case hex digits; "" for "".
pub(crate) fn crc32(name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    let mut crc: u32 = !0;
    for b in name.bytes() {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xD582_8281
            } else {
                crc >> 1
            };
        }
    }
    format!("{:08X}", !crc)
}

#[cfg(test)]
mod tests {
    #[test]
    fn levels_round_trip_through_go_values() {
        use crate::LogLevel::*;
        for l in [Trace, Debug, Info, Warning, Error, Panic, Disabled] {
            assert_eq!(super::from_go_level(super::log_level(l)), Some(l));
        }
        assert_eq!(super::from_go_level(ergo_proto::gen::LogLevel(0)), None);
    }
}
