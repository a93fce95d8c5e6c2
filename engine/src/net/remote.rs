//! Links, monitors and events across nodes; remote spawn and application start; node down.
//!
//! Two sides, as in Go Ergo (wire-spec §6.8 and §6.12):
//!
//! * **Consumer side** (a local process links to or monitors something on a peer): the watch is
//!   recorded in the node's watch table under the peer and the target, and one request (199)
//!   goes to the peer per (consumer, target) pair. The peer answers with a `MessageResult`; a
//!   failure turns into the exit signal or down message a local target that does not exist
//!   would give. When the target goes away the peer sends one terminate frame (181–186) for all
//!   of this node's consumers, which is fanned out here to every watcher of that target. When
//!   the connection is lost, every watcher of every target on that peer hears `no connection`.
//!   Events published by the peer arrive once per node (105) and are fanned out here to every
//!   local subscriber.
//! * **Target side** (a peer's process links to or monitors one of ours): the remote consumer is
//!   kept in the target process's own link and monitor lists (so it is handled on the target's
//!   shard, race-free, like a local one); when the target terminates, its remote consumers are
//!   grouped by node and each node gets one terminate frame. Event subscribers from peers are
//!   kept in the event registry; a publication goes out once per subscribing node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use ergo_edf::{Alias, Atom, Event, GoError, Pid, ProcessId, Ref, Value};
use ergo_proto::connection::{Control, RemoteTarget, RemoteTargetOf};
use ergo_proto::control::*;
use ergo_proto::frame::order_for;
use ergo_proto::gen::NetworkFlags;

use super::Conn;
use crate::message::{Message, MessageDownEvent, MessageEvent};
use crate::process::{Envelope, ExitVia, Kind, MonitorKind};
use crate::shard::{down_message, Fail, ShardCore};
use crate::{Error, Priority, Reason};

mod target;

/// The reason watchers of a lost node hear (Go's `ErrNoConnection`, never on the wire).
pub(crate) fn no_connection() -> Reason {
    Reason::custom("no connection")
}

/// A target on a peer, as terminate frames name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Pid(u64),
    Name(Atom),
    Alias([u64; 3]),
    Event(Atom),
}

fn key_of(t: &RemoteTarget) -> Key {
    match t {
        RemoteTarget::Pid(p) => Key::Pid(p.id),
        RemoteTarget::Name(n) => Key::Name(n.name),
        RemoteTarget::Alias(a) => Key::Alias(a.id),
        RemoteTarget::Event(e) => Key::Event(e.name),
    }
}

fn node_of(t: &RemoteTarget) -> Atom {
    match t {
        RemoteTarget::Pid(p) => p.node,
        RemoteTarget::Name(n) => n.node,
        RemoteTarget::Alias(a) => a.node,
        RemoteTarget::Event(e) => e.node,
    }
}

/// One local process watching a remote target.
#[derive(Clone, Copy, Debug)]
struct Watcher {
    pid: Pid,
    link: bool,
    r: Ref,
}

struct Watched {
    target: RemoteTarget,
    watchers: Vec<Watcher>,
}

/// What a `MessageResult` answers.
enum Request {
    /// A link or monitor request of a local process.
    Watch {
        peer: Atom,
        key: Key,
        pid: Pid,
        link: bool,
    },
    /// Spawn or application start: the result goes to `to` as a call response.
    Reply { peer: Atom, to: Pid, spawn: bool },
}

type SpawnFn = Arc<
    dyn Fn(
            &std::rc::Rc<ShardCore>,
            crate::SpawnOptions,
            Option<Pid>,
            &[Value],
        ) -> Result<Pid, Error>
        + Send
        + Sync,
>;

struct SpawnEntry {
    spawn: SpawnFn,
    /// `None`: any node may spawn it.
    nodes: Option<Vec<Atom>>,
}

/// The node's remote-watch state.
#[derive(Default)]
pub(crate) struct Remote {
    watch: Mutex<HashMap<Atom, HashMap<Key, Watched>>>,
    requests: Mutex<HashMap<Ref, Request>>,
    spawn: RwLock<HashMap<Atom, SpawnEntry>>,
    apps: RwLock<HashMap<Atom, Option<Vec<Atom>>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Remote {
    /// Lets peers spawn processes made by `spawn` under `name` (all peers, or only `nodes`).
    pub(crate) fn enable_spawn(&self, name: Atom, spawn: SpawnFn, nodes: Option<Vec<Atom>>) {
        self.spawn
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, SpawnEntry { spawn, nodes });
    }

    pub(crate) fn disable_spawn(&self, name: Atom) -> bool {
        self.spawn
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&name)
            .is_some()
    }

    pub(crate) fn enable_application_start(&self, name: Atom, nodes: Option<Vec<Atom>>) {
        self.apps
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, nodes);
    }

    pub(crate) fn disable_application_start(&self, name: Atom) -> bool {
        self.apps
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&name)
            .is_some()
    }

    /// Registers a spawn or application-start request whose result goes to `to`.
    pub(crate) fn expect_reply(&self, peer: Atom, r: Ref, to: Pid, spawn: bool) {
        lock(&self.requests).insert(r, Request::Reply { peer, to, spawn });
    }

    pub(crate) fn forget_request(&self, r: &Ref) {
        lock(&self.requests).remove(r);
    }

    fn add(&self, target: RemoteTarget, w: Watcher) {
        let mut t = lock(&self.watch);
        t.entry(node_of(&target))
            .or_default()
            .entry(key_of(&target))
            .or_insert_with(|| Watched {
                target,
                watchers: Vec::new(),
            })
            .watchers
            .push(w);
    }

    /// Removes `pid`'s watchers of a target (links or monitors); returns whether any was there.
    fn remove(&self, peer: Atom, key: Key, pid: Pid, link: bool) -> bool {
        let mut t = lock(&self.watch);
        let Some(m) = t.get_mut(&peer) else {
            return false;
        };
        let Some(w) = m.get_mut(&key) else {
            return false;
        };
        let before = w.watchers.len();
        w.watchers.retain(|x| !(x.pid == pid && x.link == link));
        let removed = w.watchers.len() != before;
        if w.watchers.is_empty() {
            m.remove(&key);
        }
        removed
    }

    /// Takes every watcher of one target.
    fn take(&self, peer: Atom, key: Key) -> Option<Watched> {
        let mut t = lock(&self.watch);
        let m = t.get_mut(&peer)?;
        let w = m.remove(&key);
        if m.is_empty() {
            t.remove(&peer);
        }
        w
    }

    /// The connection to `peer` is gone: every watcher of its targets, and the requesters
    /// of spawns and application starts still waiting for it.
    fn node_down(&self, peer: Atom) -> (Vec<Watched>, Vec<(Ref, Pid)>) {
        let watched = lock(&self.watch)
            .remove(&peer)
            .map(|m| m.into_values().collect())
            .unwrap_or_default();
        let mut waiting = Vec::new();
        lock(&self.requests).retain(|r, req| match *req {
            Request::Watch { peer: p, .. } => p != peer,
            Request::Reply { peer: p, to, .. } if p == peer => {
                waiting.push((*r, to));
                false
            }
            _ => true,
        });
        (watched, waiting)
    }
}

/// Tells one watcher that its remote target went away.
fn fire(core: &ShardCore, target: &RemoteTarget, w: &Watcher, reason: Reason) {
    let (from, via, down) = match *target {
        RemoteTarget::Pid(p) => (p, ExitVia::Pid, Some(MonitorKind::Pid)),
        RemoteTarget::Name(n) => (
            Pid::new(n.node, 1, 0),
            ExitVia::ProcessId(n),
            Some(MonitorKind::ProcessId(n)),
        ),
        RemoteTarget::Alias(a) => (
            Pid::new(a.node, a.id[0], a.creation),
            ExitVia::Alias(a),
            Some(MonitorKind::Alias(a)),
        ),
        RemoteTarget::Event(e) => (Pid::new(e.node, 1, 0), ExitVia::Event(e), None),
    };
    let env = if w.link {
        Envelope {
            from,
            kind: Kind::Exit(Box::new((reason, via))),
        }
    } else {
        let msg = match (down, *target) {
            (Some(kind), _) => down_message(from, w.r, kind, reason),
            (None, RemoteTarget::Event(event)) => Message::new(MessageDownEvent {
                event,
                r: w.r,
                reason,
            }),
            (None, _) => return,
        };
        Envelope {
            from,
            kind: Kind::System(msg),
        }
    };
    let prio = if w.link {
        Priority::Max
    } else {
        Priority::High
    };
    let _ = core.send_pid(w.pid, env, prio);
}

/// A reason from the wire.
pub(crate) fn reason_of(e: &GoError) -> Reason {
    match e.text() {
        "normal" => Reason::Normal,
        "shutdown" => Reason::Shutdown,
        "kill" => Reason::Kill,
        "panic" => Reason::Panic,
        // What a missing local target gives, whichever way it was named.
        "unknown process" | "unknown alias" => Reason::NoProc,
        t => Reason::custom(t),
    }
}

/// A reason as Go sees it (framework reasons travel as their cached errors).
pub(crate) fn reason_error(r: &Reason) -> GoError {
    match r {
        Reason::Normal => ergo_edf::errors::TerminateReasonNormal(),
        Reason::Shutdown => ergo_edf::errors::TerminateReasonShutdown(),
        Reason::Kill => ergo_edf::errors::TerminateReasonKill(),
        Reason::Panic => ergo_edf::errors::TerminateReasonPanic(),
        Reason::NoProc => ergo_edf::errors::ErrProcessUnknown(),
        Reason::Custom(s) => GoError::new(&**s),
    }
}

/// An engine error as a `MessageResult` error (framework errors by their cached values).
fn error_of(e: &Error) -> GoError {
    use ergo_edf::errors as ge;
    match e {
        Error::ProcessUnknown => ge::ErrProcessUnknown(),
        Error::NameUnknown(_) => ge::ErrNameUnknown(),
        Error::Taken(_) => ge::ErrTaken(),
        Error::Timeout => ge::ErrTimeout(),
        Error::Terminated(_) => ge::ErrProcessTerminated(),
        Error::ApplicationUnknown(_) => ge::ErrApplicationUnknown(),
        other => GoError::new(other.to_string()),
    }
}

/// A `MessageResult` error as an engine error.
fn engine_error(e: &GoError) -> Error {
    match e.text() {
        "unknown process" => Error::ProcessUnknown,
        "timed out" => Error::Timeout,
        "process terminated" => Error::Terminated(Reason::NoProc),
        t => Error::Network(t.to_string()),
    }
}

/// The typed `[]gen.MessageEvent` a link/monitor-event result carries.
fn events_value(events: &[MessageEvent]) -> Result<Value, String> {
    let info = ergo_edf::registry::lookup("#ergo.services/ergo/gen/MessageEvent")
        .ok_or("gen.MessageEvent is not registered")?;
    let mut items = Vec::with_capacity(events.len());
    for ev in events {
        let v: &(dyn std::any::Any + Send) = &*ev.message;
        let mut bytes = Vec::new();
        let caches = ergo_edf::EncodeCaches::default();
        ergo_edf::encode_any(v, &mut ergo_edf::Encoder::new(&mut bytes, &caches))
            .map_err(|e| e.to_string())?;
        let (message, _) = ergo_edf::decode::<Value>(&bytes, &ergo_edf::DecodeCaches::default())
            .map_err(|e| e.to_string())?;
        items.push(Value::Registered(
            info.clone(),
            Box::new(Value::Struct(vec![
                Value::Event(ev.event),
                Value::Int64(ev.timestamp),
                message,
            ])),
        ));
    }
    // Go sends a nil (but typed) slice for an empty buffer.
    Ok(Value::Slice {
        elem: ergo_edf::TypeDesc::Registered(info),
        items: (!items.is_empty()).then_some(items),
    })
}

/// The events of a link/monitor-event result, as local subscribers get them.
fn events_of(v: &Value) -> Vec<MessageEvent> {
    let Value::Slice {
        items: Some(items), ..
    } = v
    else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let fields = match item {
            Value::Struct(f) => f,
            Value::Registered(_, b) => match &**b {
                Value::Struct(f) => f,
                _ => continue,
            },
            _ => continue,
        };
        let [Value::Event(event), Value::Int64(timestamp), message] = &fields[..] else {
            continue;
        };
        out.push(MessageEvent {
            event: *event,
            timestamp: *timestamp,
            message: value_to_any(message),
        });
    }
    out
}

/// A decoded `Value` as the Rust value a local sender would have used (registered Rust types
/// become themselves again).
fn value_to_any(v: &Value) -> Arc<dyn std::any::Any + Send + Sync> {
    let mut bytes = Vec::new();
    let caches = ergo_edf::EncodeCaches::default();
    if v.encode_tagged(&mut ergo_edf::Encoder::new(&mut bytes, &caches))
        .is_ok()
    {
        let dc = ergo_edf::DecodeCaches::default();
        if let Ok(b) = ergo_edf::decode_any(&mut ergo_edf::Decoder::new(&bytes, &dc)) {
            return Arc::from(b);
        }
    }
    Arc::new(v.clone())
}

impl ShardCore {
    fn remote(&self) -> Option<&Remote> {
        self.node.network.get().map(|n| &n.remote)
    }

    // ---- consumer side ---------------------------------------------------------------------

    /// A local process links to (`link`) or monitors a target on another node.
    pub(crate) fn net_watch(
        &self,
        target: RemoteTarget,
        pid: Pid,
        link: bool,
        r: Ref,
    ) -> Result<(), Error> {
        let Some(net) = self.node.network.get() else {
            return Err(Error::NoConnection(node_of(&target)));
        };
        let peer = node_of(&target);
        let key = key_of(&target);
        net.remote.add(target, Watcher { pid, link, r });
        lock(&net.remote.requests).insert(
            r,
            Request::Watch {
                peer,
                key,
                pid,
                link,
            },
        );
        let sent = self.net_request(pid, target, link, true, r);
        if let Err(e) = sent {
            net.remote.remove(peer, key, pid, link);
            net.remote.forget_request(&r);
            return Err(e.into());
        }
        Ok(())
    }

    /// Ends a link or monitor of a remote target.
    pub(crate) fn net_unwatch(&self, target: RemoteTarget, pid: Pid, link: bool) {
        let Some(net) = self.node.network.get() else {
            return;
        };
        if net
            .remote
            .remove(node_of(&target), key_of(&target), pid, link)
        {
            // Nothing waits for the answer: a result for an unknown ref is dropped.
            let r = self.make_ref();
            let _ = self.net_request(pid, target, link, false, r);
        }
    }

    /// Sends the link/monitor (`on`) or unlink/demonitor request for `target`.
    fn net_request(
        &self,
        source: Pid,
        target: RemoteTarget,
        link: bool,
        on: bool,
        reference: Ref,
    ) -> Result<(), Fail> {
        let peer = node_of(&target);
        let sel = u64::from(order_for(source.id));
        macro_rules! req {
            ($t:ident, $target:expr, $order:expr) => {{
                let m = $t {
                    source,
                    target: $target,
                    reference,
                };
                let order = $order;
                self.net_send(peer, sel, true, move |conn: &Conn, buf: &mut Vec<u8>| {
                    conn.codec
                        .control(sel, order, &m, buf)
                        .map(|_| ())
                        .map_err(|e| Fail::Network(e.to_string()))
                })
            }};
        }
        match (target, link, on) {
            (RemoteTarget::Pid(p), true, true) => req!(MessageLinkPid, p, order_for(p.id)),
            (RemoteTarget::Pid(p), true, false) => req!(MessageUnlinkPid, p, order_for(p.id)),
            (RemoteTarget::Pid(p), false, true) => req!(MessageMonitorPid, p, 0),
            (RemoteTarget::Pid(p), false, false) => req!(MessageDemonitorPid, p, 0),
            (RemoteTarget::Name(n), true, true) => req!(MessageLinkProcessId, n, 0),
            (RemoteTarget::Name(n), true, false) => req!(MessageUnlinkProcessId, n, 0),
            (RemoteTarget::Name(n), false, true) => req!(MessageMonitorProcessId, n, 0),
            (RemoteTarget::Name(n), false, false) => req!(MessageDemonitorProcessId, n, 0),
            (RemoteTarget::Alias(a), true, true) => req!(MessageLinkAlias, a, order_for(a.id[1])),
            (RemoteTarget::Alias(a), true, false) => {
                req!(MessageUnlinkAlias, a, order_for(a.id[1]))
            }
            (RemoteTarget::Alias(a), false, true) => {
                req!(MessageMonitorAlias, a, order_for(a.id[1]))
            }
            (RemoteTarget::Alias(a), false, false) => {
                req!(MessageDemonitorAlias, a, order_for(a.id[1]))
            }
            (RemoteTarget::Event(e), true, true) => req!(MessageLinkEvent, e, 0),
            (RemoteTarget::Event(e), true, false) => req!(MessageUnlinkEvent, e, 0),
            (RemoteTarget::Event(e), false, true) => req!(MessageMonitorEvent, e, 0),
            (RemoteTarget::Event(e), false, false) => req!(MessageDemonitorEvent, e, 0),
        }
    }

    /// A target of the peer went away: tell every local watcher.
    pub(crate) fn net_terminated(&self, target: RemoteTarget, reason: &GoError) {
        let Some(remote) = self.remote() else { return };
        let Some(w) = remote.take(node_of(&target), key_of(&target)) else {
            // Nobody here watches it any more (consumers that died leave stale entries on the
            // peer; Go does the same).
            return;
        };
        let reason = reason_of(reason);
        // Aliases and PIDs: the target's creation comes from the frame; names and events
        // carry the node only.
        for x in &w.watchers {
            fire(self, &w.target, x, reason.clone());
        }
    }

    /// The connection to `peer` is gone: `no connection` to everything watching its targets.
    pub(crate) fn net_node_down(&self, peer: Atom) {
        let Some(remote) = self.remote() else { return };
        self.node_watchers_down(peer);
        let (watched, waiting) = remote.node_down(peer);
        for w in watched {
            for x in &w.watchers {
                fire(self, &w.target, x, no_connection());
            }
        }
        for (r, to) in waiting {
            let env = Envelope {
                from: Pid::new(peer, 0, 0),
                kind: Kind::Response(Box::new((r, Err(Error::NoConnection(peer))))),
            };
            self.send_reply(to, env);
        }
    }

    /// An event published on the peer: one frame for all of this node's subscribers.
    pub(crate) fn net_event_in(
        &self,
        event: Event,
        producer: Pid,
        timestamp: i64,
        value: Box<dyn std::any::Any + Send + Sync>,
    ) {
        let Some(remote) = self.remote() else { return };
        let pids: Vec<Pid> = {
            let t = lock(&remote.watch);
            match t
                .get(&event.node)
                .and_then(|m| m.get(&Key::Event(event.name)))
            {
                Some(w) => w.watchers.iter().map(|x| x.pid).collect(),
                None => return,
            }
        };
        let ev = MessageEvent {
            event,
            timestamp,
            message: Arc::from(value),
        };
        for pid in pids {
            let env = Envelope {
                from: producer,
                kind: Kind::Event(Box::new(ev.clone())),
            };
            let _ = self.send_pid(pid, env, Priority::Normal);
        }
    }

    /// The answer to one of our requests.
    fn net_result(&self, m: MessageResult) {
        let Some(remote) = self.remote() else { return };
        let req = lock(&remote.requests).remove(&m.reference);
        match req {
            None => {}
            Some(Request::Watch {
                peer,
                key,
                pid,
                link,
            }) => match m.error {
                Some(e) => {
                    // As for a local target that does not exist: an exit signal or a down
                    // message with the reason the peer gave.
                    let target = {
                        let t = lock(&remote.watch);
                        t.get(&peer).and_then(|x| x.get(&key)).map(|w| w.target)
                    };
                    if remote.remove(peer, key, pid, link) {
                        if let Some(target) = target {
                            let w = Watcher {
                                pid,
                                link,
                                r: m.reference,
                            };
                            fire(self, &target, &w, reason_of(&e));
                        }
                    }
                }
                None => {
                    if let Key::Event(_) = key {
                        // The event's buffered messages, delivered as events.
                        for ev in events_of(&m.result) {
                            let env = Envelope {
                                from: Pid::new(peer, 1, 0),
                                kind: Kind::Event(Box::new(ev)),
                            };
                            let _ = self.send_pid(pid, env, Priority::Normal);
                        }
                    }
                }
            },
            Some(Request::Reply { to, spawn, .. }) => {
                let result = match (m.error, spawn, &m.result) {
                    (Some(e), ..) => Err(engine_error(&e)),
                    (None, true, Value::Pid(p)) => Ok(Message::new(*p)),
                    (None, true, _) => Err(Error::Network("malformed spawn result".into())),
                    (None, false, _) => Ok(Message::new(())),
                };
                let env = Envelope {
                    from: to,
                    kind: Kind::Response(Box::new((m.reference, result))),
                };
                self.send_reply(to, env);
            }
        }
    }

    /// A response to a process, or to the node's external PID (a blocked outside caller).
    fn send_reply(&self, to: Pid, env: Envelope) {
        if to.node == self.node.name && to.id == crate::shard::EXTERNAL_ID {
            self.node.deliver_from_outside(to, env);
        } else {
            let _ = self.send_pid(to, env, Priority::Max);
        }
    }

    // ---- notifications going out -----------------------------------------------------------

    /// A local target went away: its consumers on other nodes are taken out of `links` and
    /// `monitors`, and each of their nodes gets one terminate frame per way it named the target.
    pub(crate) fn net_notify_gone(
        &self,
        pid: Pid,
        links: &mut Vec<(Pid, ExitVia)>,
        monitors: &mut Vec<crate::process::MonitorIn>,
        reason: &Reason,
    ) {
        let local = self.node.name;
        if links.iter().all(|(p, _)| p.node == local) && monitors.iter().all(|m| m.by.node == local)
        {
            return;
        }
        let mut out: Vec<(Atom, RemoteTargetOf)> = Vec::new();
        let target_of = |via: ExitVia| match via {
            ExitVia::Pid => RemoteTargetOf::Pid(pid.id),
            ExitVia::ProcessId(n) => RemoteTargetOf::Name(n.name),
            ExitVia::Alias(a) => RemoteTargetOf::Alias(a.id),
            ExitVia::Event(e) => RemoteTargetOf::Event(e.name),
            // Node links are held by the linking process, never by their target.
            ExitVia::Node(_) => RemoteTargetOf::Pid(pid.id),
        };
        links.retain(|(p, via)| {
            if p.node == local {
                return true;
            }
            let t = (p.node, target_of(*via));
            if !out.contains(&t) {
                out.push(t);
            }
            false
        });
        monitors.retain(|m| {
            if m.by.node == local {
                return true;
            }
            let via = match m.kind {
                MonitorKind::Pid => ExitVia::Pid,
                MonitorKind::ProcessId(n) => ExitVia::ProcessId(n),
                MonitorKind::Alias(a) => ExitVia::Alias(a),
            };
            let t = (m.by.node, target_of(via));
            if !out.contains(&t) {
                out.push(t);
            }
            false
        });
        let e = reason_error(reason);
        for (node, t) in out {
            self.net_terminate_out(node, t, &e);
        }
    }

    /// One terminate frame to `node` (dropped if it is not connected: it has no consumers
    /// left after a node down).
    pub(crate) fn net_terminate_out(&self, node: Atom, t: RemoteTargetOf, reason: &GoError) {
        let reason = reason.clone();
        let _ = self.net_send(node, 0, false, move |conn: &Conn, buf: &mut Vec<u8>| {
            conn.codec
                .terminate(&t, &reason, buf)
                .map(|_| ())
                .map_err(|e| Fail::Network(e.to_string()))
        });
    }

    /// One event frame to `node`, for all of its subscribers.
    pub(crate) fn net_event_out(
        &self,
        node: Atom,
        producer: Pid,
        name: Atom,
        timestamp: i64,
        value: &Arc<dyn std::any::Any + Send + Sync>,
    ) {
        let value = value.clone();
        let sel = u64::from(order_for(producer.id));
        let r = self.net_send(node, sel, false, move |conn: &Conn, buf: &mut Vec<u8>| {
            let v: &(dyn std::any::Any + Send) = &*value;
            conn.codec
                .event(
                    &producer,
                    name,
                    timestamp,
                    ergo_proto::connection::Priority::Normal,
                    &ergo_proto::connection::AnyPayload(v),
                    None,
                    buf,
                )
                .map(|_| ())
                .map_err(|e| Fail::Network(e.to_string()))
        });
        match r {
            Ok(()) => {
                if let Some(n) = self.node.network.get() {
                    n.events_out
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            Err(e) => tracing::warn!(node = %node, event = %name, error = ?e, "event not sent"),
        }
    }
}

/// A link or monitor target named by a peer's request.
#[derive(Clone, Copy)]
enum Wt {
    Pid(Pid),
    Name(ProcessId),
    Alias(Alias),
}

/// A peer's link/monitor request on its way to the target process's shard.
#[derive(Debug)]
pub(crate) struct RemoteWatch {
    pub(crate) link: bool,
    pub(crate) via: ExitVia,
    pub(crate) kind: MonitorKind,
    pub(crate) r: Ref,
    target_id: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffered_events_cross_as_a_typed_slice_and_come_back() {
        ergo_proto::register_framework_types().unwrap();
        let event = Event::new(Atom::new("prices"), Atom::new("b@localhost"));
        let evs = vec![
            MessageEvent {
                event,
                timestamp: 7,
                message: Arc::new("p2".to_string()),
            },
            MessageEvent {
                event,
                timestamp: 8,
                message: Arc::new(42i64),
            },
        ];
        let v = events_value(&evs).unwrap();
        let m = MessageResult {
            error: None,
            result: v,
            reference: Ref::default(),
        };
        let mut bytes = Vec::new();
        ergo_edf::encode(&m, &mut bytes, &ergo_edf::EncodeCaches::default()).unwrap();
        let (back, _) =
            ergo_edf::decode::<MessageResult>(&bytes, &ergo_edf::DecodeCaches::default()).unwrap();
        let got = events_of(&back.result);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].event, event);
        assert_eq!(got[0].timestamp, 7);
        assert_eq!(
            got[0].downcast_ref::<String>().map(String::as_str),
            Some("p2")
        );
        assert_eq!(got[1].downcast_ref::<i64>(), Some(&42));
        // An empty buffer is still a typed slice (Go checks the type).
        let empty = events_value(&[]).unwrap();
        let mut bytes = Vec::new();
        ergo_edf::encode(&empty, &mut bytes, &ergo_edf::EncodeCaches::default()).unwrap();
        // A type header (no cache here, so the name is inline), a slice, then nil.
        assert_eq!((bytes[0], bytes[3]), (0x82, 0x9d));
        assert_eq!(bytes.last(), Some(&0xff));
    }
}
