//! The node: its name and creation, its shards, the node-wide read-mostly tables (registered
//! names, events), and the API for threads outside the node.
//!
//! Calls on [`Node`] are meant for threads that are not shards (a `main`, a test): those that
//! wait (`spawn`, `call`, `inspect`, `stop`) block the calling thread. Inside an actor, use
//! [`crate::Context`], which never blocks its shard.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ergo_edf::{Atom, AtomMap, Pid, Ref};

use crate::event::Events;
use crate::process::{Envelope, ExitVia, Kind};
use crate::shard::{self, Item, ShardCore, ShardRemote, EXTERNAL_ID, NODE_ID};
use crate::{Actor, Error, Message, MessageOptions, Priority, Reason, SpawnOptions, Target};

/// How a node starts.
#[derive(Clone, Debug)]
pub struct NodeOptions {
    /// Number of shards (OS threads); 0 = one per available core.
    pub shards: usize,
    /// Pin shard `i` to core `(first_core + i) mod cores`.
    pub pin: bool,
    /// The core of shard 0 when pinning (several nodes in one OS process can use different
    /// cores).
    pub first_core: usize,
    /// How long `stop` waits for processes to finish after asking them to shut down, before it
    /// terminates the rest by force (reason `shutdown` in both cases).
    pub stop_timeout: Duration,
    /// The node's log level, and the default of its processes.
    pub log_level: crate::LogLevel,
    /// Networking (`None`: this node talks to no other node).
    pub network: Option<crate::net::NetworkOptions>,
    /// Bounds of the blocking pool ([`crate::Context::spawn_blocking`]).
    pub blocking: crate::BlockingOptions,
    /// Extra shards, after the `shards` ones, that no default placement uses (neither
    /// `Node::spawn`'s round robin nor network links) and that are never pinned: the place for a
    /// process that must block its thread (a synchronous library, a long loop), which then stalls
    /// only its own shard. Spawn there with `SpawnOptions::shard = Some(node.dedicated_shard(i))`
    /// (see [`Node::dedicated_shard`]); its children stay there too.
    pub dedicated_shards: usize,
    /// Node environment variables: every process sees them (under its own and its
    /// parent's, see [`crate::EnvVars`]).
    pub env: crate::EnvVars,
    /// Metrics and health probes over HTTP (off unless `ops.listen` is set).
    pub ops: crate::OpsOptions,
}

impl Default for NodeOptions {
    fn default() -> Self {
        NodeOptions {
            shards: 0,
            pin: true,
            first_core: 0,
            stop_timeout: Duration::from_secs(5),
            log_level: crate::LogLevel::Info,
            network: None,
            blocking: crate::BlockingOptions::default(),
            dedicated_shards: 0,
            env: crate::EnvVars::default(),
            ops: crate::OpsOptions::default(),
        }
    }
}

/// A node's figures (`Node::info`).
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// `name@host`.
    pub name: Atom,
    /// Creation (Unix seconds at start).
    pub creation: i64,
    /// Time since start.
    pub uptime: Duration,
    /// Processes alive.
    pub processes: usize,
    /// Registered names.
    pub names: usize,
    /// Registered events.
    pub events: usize,
    /// Resident memory of the OS process, bytes (0 if unknown).
    pub memory_rss: u64,
    /// Per shard.
    pub shards: Vec<ShardInfo>,
}

/// One process's figures (`Node::process_info`).
#[derive(Clone, Debug)]
pub struct ProcessInfo {
    /// Its PID.
    pub pid: Pid,
    /// Its registered name.
    pub name: Option<Atom>,
    /// Its state.
    pub state: crate::ProcessState,
    /// The shard it runs on.
    pub shard: usize,
    /// Its parent, if another process spawned it.
    pub parent: Option<Pid>,
    /// Messages waiting in all four queues.
    pub mailbox: usize,
    /// The Main-queue bound (0 = unbounded).
    pub mailbox_limit: u32,
    /// Processes linked to it.
    pub links: usize,
    /// Monitors held on it.
    pub monitored_by: usize,
    /// Its aliases.
    pub aliases: usize,
    /// Whether it traps exits.
    pub trap_exit: bool,
    /// Its log level.
    pub log_level: crate::LogLevel,
    /// The application it runs under.
    pub application: Option<Atom>,
    /// Its actor's type name.
    pub behavior: &'static str,
    /// Messages it took from its mailbox.
    pub messages_in: u64,
    /// Messages its handlers sent.
    pub messages_out: u64,
    /// Time its task spent running.
    pub running_time: Duration,
    /// Seconds since spawn.
    pub uptime: i64,
    /// Messages waiting per queue.
    pub mailbox_queues: crate::inspect::MailboxQueues,
    /// Processes linked to it by PID.
    pub linked: Vec<Pid>,
    /// Its aliases.
    pub alias_list: Vec<ergo_edf::Alias>,
    /// Events it owns.
    pub events: Vec<Atom>,
    /// Events it monitors or is linked to.
    pub events_monitored: Vec<Atom>,
    /// Its mailbox-full fallback (process name, tag).
    pub fallback: Option<(Atom, Atom)>,
    /// The default priority of its sends.
    pub priority: Priority,
}

/// One shard's figures.
#[derive(Clone, Debug)]
pub struct ShardInfo {
    /// Shard index.
    pub index: usize,
    /// Processes alive on it.
    pub processes: usize,
    /// Processes spawned on it since start.
    pub spawned: usize,
}

type ReplySender = SyncSender<Result<Message, Error>>;

/// The state shared by all shards and handles of a node.
pub(crate) struct NodeShared {
    pub(crate) name: Atom,
    pub(crate) creation: i64,
    pub(crate) started: Instant,
    pub(crate) shards: Vec<Arc<ShardRemote>>,
    /// Shards `0..placed` take default placements; the rest are dedicated shards.
    pub(crate) placed: usize,
    pub(crate) blocking: crate::blocking::BlockingPool,
    pub(crate) names: RwLock<AtomMap<Pid>>,
    pub(crate) events: Events,
    pub(crate) external: Mutex<HashMap<Ref, ReplySender>>,
    pub(crate) ext_ref: AtomicU64,
    pub(crate) rr: AtomicUsize,
    pub(crate) stopping: AtomicBool,
    pub(crate) stop_timeout: Duration,
    pub(crate) log_level: std::sync::atomic::AtomicU8,
    /// Logger processes and the lowest level each wants.
    pub(crate) loggers: RwLock<Vec<(Pid, crate::LogLevel)>>,
    pub(crate) threads: Mutex<Vec<JoinHandle<()>>>,
    pub(crate) apps: crate::application::Apps,
    pub(crate) network: std::sync::OnceLock<Arc<crate::net::Network>>,
    /// Node environment variables.
    pub(crate) env: crate::env::NodeEnv,
    /// Required applications and user checks of the health probes.
    pub(crate) health: crate::ops::health::Health,
    /// The metrics/health HTTP listener, if one runs.
    pub(crate) ops_server: Mutex<Option<crate::ops::Server>>,
    /// Set (and signalled) once the shards have stopped (`Node::wait`).
    pub(crate) stopped: (Mutex<bool>, std::sync::Condvar),
}

impl NodeShared {
    /// Delivers an envelope from a thread that is not a shard of this node.
    pub(crate) fn deliver_from_outside(&self, to: Pid, env: Envelope) {
        if to.id < crate::shard::FIRST_ID {
            let _ = self.deliver_reserved(to.id, env);
        } else if let Some(s) = self.shards.get(crate::shard::shard_of(to.id)) {
            s.publish(vec![Item::Deliver {
                to: to.id,
                prio: Priority::High,
                env,
            }]);
        }
    }

    pub(crate) fn whereis(&self, name: Atom) -> Option<Pid> {
        self.names
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&name)
            .copied()
    }

    pub(crate) fn register_name(&self, name: Atom, pid: Pid) -> Result<(), Error> {
        let mut m = self.names.write().unwrap_or_else(|p| p.into_inner());
        if m.contains_key(&name) {
            return Err(Error::Taken(name));
        }
        m.insert(name, pid);
        Ok(())
    }

    pub(crate) fn unregister_name_of(&self, name: Atom, pid: Pid) {
        let mut m = self.names.write().unwrap_or_else(|p| p.into_inner());
        if m.get(&name) == Some(&pid) {
            m.remove(&name);
        }
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// Mail for the reserved PIDs: responses to outside callers.
    pub(crate) fn deliver_reserved(
        &self,
        id: u64,
        env: Envelope,
    ) -> Result<(), crate::shard::Fail> {
        if id == EXTERNAL_ID {
            if let Kind::Response(b) = env.kind {
                let (r, result) = *b;
                let tx = self
                    .external
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&r);
                if let Some(tx) = tx {
                    let _ = tx.try_send(result);
                }
            }
            return Ok(());
        }
        // The node's own PID swallows what is sent to it (exit signals from linked processes,
        // down messages).
        Ok(())
    }

    /// The `MessageLog` envelopes for the loggers that want `level` (never to the source).
    pub(crate) fn log_envelopes(
        &self,
        level: crate::LogLevel,
        source: Option<Pid>,
        args: std::fmt::Arguments<'_>,
    ) -> Vec<(Pid, Envelope)> {
        let loggers = self.loggers.read().unwrap_or_else(|p| p.into_inner());
        if loggers.is_empty() {
            return Vec::new();
        }
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0);
        let text = args.to_string();
        loggers
            .iter()
            .filter(|(p, min)| level >= *min && Some(*p) != source)
            .map(|(p, _)| {
                let m = crate::log::MessageLog {
                    level,
                    node: self.name,
                    source,
                    time,
                    text: text.clone(),
                };
                let from = source.unwrap_or_else(|| self.node_pid());
                (
                    *p,
                    Envelope {
                        from,
                        kind: Kind::Log(Message::new(m)),
                    },
                )
            })
            .collect()
    }

    pub(crate) fn node_pid(&self) -> Pid {
        Pid::new(self.name, NODE_ID, self.creation)
    }

    pub(crate) fn processes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.processes.load(Ordering::Relaxed))
            .sum()
    }
}

/// A running node. Cheap to clone; every clone is the same node.
///
/// ```
/// use ergo_engine::{Actor, Node, NodeOptions, SpawnOptions};
/// struct Idle;
/// impl Actor for Idle {}
/// let node = Node::start("demo@localhost", NodeOptions::default()).unwrap();
/// let pid = node.spawn(Idle, SpawnOptions::default()).unwrap();
/// node.send(pid, 42u64).unwrap();
/// node.stop();
/// ```
#[derive(Clone)]
pub struct Node(pub(crate) Arc<NodeShared>);

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Node({})", self.0.name)
    }
}

impl Node {
    pub(crate) fn from_shared(s: Arc<NodeShared>) -> Node {
        Node(s)
    }

    /// Starts a node named `name` (`name@host`): one pinned thread with its own io_uring ring
    /// per shard.
    pub fn start(name: &str, options: NodeOptions) -> Result<Node, Error> {
        if !name.contains('@') || name.starts_with('@') || name.len() > 255 {
            return Err(Error::Invalid(
                "node name must be name@host, at most 255 bytes",
            ));
        }
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let n = if options.shards == 0 {
            cores
        } else {
            options.shards
        };
        let placed = n;
        let n = n + options.dedicated_shards;
        if n > 1024 {
            return Err(Error::Invalid("at most 1024 shards"));
        }
        let creation = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(1)
            .max(1);
        let shards = (0..n)
            .map(|i| ShardRemote::new(i).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        let shared = Arc::new(NodeShared {
            name: Atom::new(name),
            creation,
            started: Instant::now(),
            shards,
            placed,
            blocking: crate::blocking::BlockingPool::new(options.blocking.clone()),
            names: RwLock::new(AtomMap::default()),
            events: Events::default(),
            external: Mutex::new(HashMap::new()),
            ext_ref: AtomicU64::new(0),
            rr: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            stop_timeout: options.stop_timeout,
            log_level: std::sync::atomic::AtomicU8::new(options.log_level.to_u8()),
            loggers: RwLock::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            apps: Default::default(),
            network: std::sync::OnceLock::new(),
            env: crate::env::NodeEnv::new(options.env.clone()),
            health: crate::ops::health::Health::new(options.ops.required_applications.clone()),
            ops_server: Mutex::new(None),
            stopped: (Mutex::new(false), std::sync::Condvar::new()),
        });
        let node = Node(shared.clone());
        for i in 0..n {
            let (tx, rx) = sync_channel(1);
            let s = shared.clone();
            let pin = (options.pin && i < placed).then_some((options.first_core + i) % cores);
            let h = std::thread::Builder::new()
                .name(format!("ergo-shard-{i}"))
                .spawn(move || shard::shard_main(s, i, pin, tx))?;
            node.0
                .threads
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(h);
            match rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    node.shutdown_threads();
                    return Err(e);
                }
                Err(_) => {
                    node.shutdown_threads();
                    return Err(Error::Os("shard thread died during start".into()));
                }
            }
        }
        if let Some(net_options) = options.network.clone() {
            match crate::net::Network::start(&shared, net_options) {
                Ok(net) => {
                    let _ = shared.network.set(net);
                }
                Err(e) => {
                    node.shutdown_threads();
                    return Err(e);
                }
            }
        }
        if options.ops.listen.is_some() {
            match crate::ops::Server::start(&node, &options.ops) {
                Ok(server) => {
                    *node.0.ops_server.lock().unwrap_or_else(|p| p.into_inner()) = Some(server);
                }
                Err(e) => {
                    node.shutdown_threads();
                    return Err(e);
                }
            }
        }
        tracing::info!(node = %name, shards = n, creation, "node started");
        Ok(node)
    }

    /// Where the metrics/health HTTP listener listens (`None`: it does not run).
    pub fn ops_address(&self) -> Option<std::net::SocketAddr> {
        self.0
            .ops_server
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|s| s.addr())
    }

    /// Where this node's first acceptor listens (`None` without networking, in the hidden and
    /// disabled modes, or without acceptors).
    pub fn network_address(&self) -> Option<std::net::SocketAddr> {
        self.0
            .network
            .get()
            .and_then(|n| n.listen_addrs.first().copied())
    }

    /// Where each of this node's acceptors listens, in the order configured.
    pub fn acceptor_addresses(&self) -> Vec<std::net::SocketAddr> {
        self.0
            .network
            .get()
            .map(|n| n.listen_addrs.clone())
            .unwrap_or_default()
    }

    /// Whether a connection to `peer` is up.
    pub fn is_connected(&self, peer: impl Into<Atom>) -> bool {
        let peer = peer.into();
        self.0.network.get().is_some_and(|n| n.is_connected(peer))
    }

    /// `name@host`.
    pub fn name(&self) -> Atom {
        self.0.name
    }

    /// Unix seconds at start (never zero).
    pub fn creation(&self) -> i64 {
        self.0.creation
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.0.shards.len()
    }

    /// The node's log level.
    pub fn log_level(&self) -> crate::LogLevel {
        crate::LogLevel::from_u8(self.0.log_level.load(Ordering::Relaxed))
    }

    /// Sets the node's log level (processes spawned later default to it).
    pub fn set_log_level(&self, level: crate::LogLevel) {
        self.0.log_level.store(level.to_u8(), Ordering::Relaxed);
    }

    /// Logs at `level` as the node (through `tracing`, if `level` passes the node's level).
    /// Returns whether the message was emitted.
    pub fn log(&self, level: crate::LogLevel, args: std::fmt::Arguments<'_>) -> bool {
        let emitted = crate::log::emit(
            self.log_level(),
            level,
            self.0.name.as_str(),
            None,
            None,
            args,
        );
        if emitted {
            for (logger, env) in self.0.log_envelopes(level, None, args) {
                let _ = self.route(Target::Pid(logger), env, Priority::Normal);
            }
        }
        emitted
    }

    /// Makes `pid` a logger: it receives every message logged on this node (by the node or a
    /// process) at `level` or above, as a `MessageLog` in its Log queue.
    pub fn logger_add_pid(&self, pid: Pid, level: crate::LogLevel) {
        let mut l = self.0.loggers.write().unwrap_or_else(|p| p.into_inner());
        l.retain(|(p, _)| *p != pid);
        l.push((pid, level));
    }

    /// Stops sending log messages to `pid`.
    pub fn logger_remove_pid(&self, pid: Pid) {
        self.0
            .loggers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(p, _)| *p != pid);
    }

    /// Whether `stop` has begun.
    pub fn is_stopping(&self) -> bool {
        self.0.is_stopping()
    }

    /// Runs `f` on shard `shard` and waits for its result. On that shard's own thread it runs
    /// inline.
    pub(crate) fn run_on<R: Send + 'static>(
        &self,
        shard: usize,
        f: impl FnOnce(&Rc<ShardCore>) -> R + Send + 'static,
    ) -> Result<R, Error> {
        self.run_on_within(shard, None, f)
    }

    /// [`Node::run_on`], giving up after `timeout` (a shard stuck in a handler that never
    /// returns must not hang `stop`).
    pub(crate) fn run_on_within<R: Send + 'static>(
        &self,
        shard: usize,
        timeout: Option<Duration>,
        f: impl FnOnce(&Rc<ShardCore>) -> R + Send + 'static,
    ) -> Result<R, Error> {
        if let Some(core) = shard::current() {
            if Arc::ptr_eq(&core.node, &self.0) && core.index == shard {
                return Ok(f(&core));
            }
        }
        let remote = self
            .0
            .shards
            .get(shard)
            .ok_or(Error::Invalid("no such shard"))?;
        if remote.closed.load(Ordering::Acquire) {
            return Err(Error::NodeTerminated);
        }
        let (tx, rx) = sync_channel(1);
        remote.publish(vec![Item::Run(Box::new(move |core| {
            let _ = tx.send(f(core));
        }))]);
        match timeout {
            None => rx.recv().map_err(|_| Error::NodeTerminated),
            Some(t) => rx.recv_timeout(t).map_err(|e| match e {
                std::sync::mpsc::RecvTimeoutError::Timeout => Error::Timeout,
                std::sync::mpsc::RecvTimeoutError::Disconnected => Error::NodeTerminated,
            }),
        }
    }

    /// Spawns a process with no parent, on `options.shard` or the next shard round robin. Its
    /// `init` has run when this returns.
    pub fn spawn<A: Actor>(&self, actor: A, options: SpawnOptions) -> Result<Pid, Error> {
        let n = self.0.shards.len();
        let shard = match options.shard {
            Some(s) if s < n => s,
            Some(_) => return Err(Error::Invalid("no such shard")),
            None => self.0.rr.fetch_add(1, Ordering::Relaxed) % self.0.placed,
        };
        self.run_on(shard, move |core| core.spawn(actor, options, None))?
    }

    /// Spawns a process registered under `name`.
    pub fn spawn_register<A: Actor>(
        &self,
        name: impl Into<Atom>,
        actor: A,
        options: SpawnOptions,
    ) -> Result<Pid, Error> {
        self.spawn(actor, options.register(name))
    }

    /// The PID registered under `name`.
    pub fn whereis(&self, name: impl Into<Atom>) -> Option<Pid> {
        self.0.whereis(name.into())
    }

    /// Routes one envelope from outside the shards (or from a shard thread: through its
    /// outbound batch).
    pub(crate) fn route(&self, to: Target, env: Envelope, prio: Priority) -> Result<(), Error> {
        if let Some(core) = shard::current() {
            if Arc::ptr_eq(&core.node, &self.0) {
                return Ok(core.send_env(to, env, prio)?);
            }
        }
        let s = &self.0;
        let remote_node = match to {
            Target::Pid(p) if p.node != s.name => Some(p.node),
            Target::ProcessId(p) if p.node != s.name => Some(p.node),
            Target::Alias(a) if a.node != s.name => Some(a.node),
            _ => None,
        };
        if let Some(peer) = remote_node {
            match s.network.get() {
                None => return Err(Error::NoConnection(peer)),
                Some(n) if n.mode() == crate::NetworkMode::Disabled => {
                    return Err(Error::Network(crate::net::DISABLED.into()))
                }
                Some(_) => {}
            }
            // Encoding and the connection belong to a shard: shard 0 takes every remote send
            // made from outside the node, so they stay in order. A call that cannot leave fails
            // at once instead of waiting for its timeout.
            let reply_to = match &env.kind {
                Kind::Request(b) | Kind::ImportantRequest(b) => Some((env.from, b.0)),
                _ => None,
            };
            s.shards[0].publish(vec![Item::Run(Box::new(move |core: &Rc<ShardCore>| {
                if let Err(f) = core.send_env(to, env, prio) {
                    if let Some((from, r)) = reply_to {
                        let reply = Envelope {
                            from: Pid::new(peer, 0, 0),
                            kind: Kind::Response(Box::new((r, Err(Error::from(f))))),
                        };
                        let _ = core.send_pid(from, reply, Priority::High);
                    }
                }
            }))]);
            return Ok(());
        }
        let pid = match to {
            Target::Pid(p) => p,
            Target::Name(n) => s.whereis(n).ok_or(Error::NameUnknown(n))?,
            Target::ProcessId(p) => {
                if p.node != s.name {
                    return Err(Error::NoConnection(p.node));
                }
                s.whereis(p.name).ok_or(Error::NameUnknown(p.name))?
            }
            Target::Alias(a) => {
                if a.node != s.name {
                    return Err(Error::NoConnection(a.node));
                }
                // An ID from outside may name a shard this node does not have.
                let shard = s
                    .shards
                    .get(shard::shard_of(a.id[0]))
                    .ok_or(Error::ProcessUnknown)?;
                shard.publish(vec![Item::DeliverAlias(Box::new((a, prio, env)))]);
                return Ok(());
            }
        };
        if pid.node != s.name {
            return Err(Error::NoConnection(pid.node));
        }
        if pid.creation != s.creation || pid.id < shard::FIRST_ID {
            return Err(Error::ProcessUnknown);
        }
        let shard = s
            .shards
            .get(shard::shard_of(pid.id))
            .ok_or(Error::ProcessUnknown)?;
        shard.publish(vec![Item::Deliver {
            to: pid.id,
            prio,
            env,
        }]);
        Ok(())
    }

    /// Sends `message` to `to` from the node itself.
    pub fn send<T: std::any::Any + Send>(
        &self,
        to: impl Into<Target>,
        message: T,
    ) -> Result<(), Error> {
        let env = Envelope {
            from: self.0.node_pid(),
            kind: Kind::Message(Message::new(message)),
        };
        self.route(to.into(), env, Priority::Normal)
    }

    /// Sends with options (priority).
    pub fn send_with_options<T: std::any::Any + Send>(
        &self,
        to: impl Into<Target>,
        message: T,
        options: MessageOptions,
    ) -> Result<(), Error> {
        let env = Envelope {
            from: self.0.node_pid(),
            kind: Kind::Message(Message::new(message)),
        };
        self.route(to.into(), env, options.priority)
    }

    /// Calls `to` from outside the node, blocking this thread up to `timeout`. Not for shard
    /// threads (use `Context::call`).
    pub fn call<T: std::any::Any + Send>(
        &self,
        to: impl Into<Target>,
        request: T,
        timeout: Duration,
    ) -> Result<Message, Error> {
        if let Some(core) = shard::current() {
            if Arc::ptr_eq(&core.node, &self.0) {
                return Err(Error::Invalid(
                    "Node::call blocks; use Context::call inside actors",
                ));
            }
        }
        let to = to.into();
        self.external_request(timeout, move |node, from, r| {
            let env = Envelope {
                from,
                kind: Kind::Request(Box::new((r, Message::new(request)))),
            };
            node.route(to, env, Priority::Normal)
        })
    }

    /// A reference unique on this node (Go's `node.MakeRef`), made from any thread.
    pub fn make_ref(&self) -> Ref {
        let s = &self.0;
        let seq = s.ext_ref.fetch_add(1, Ordering::Relaxed);
        Ref {
            node: s.name,
            creation: s.creation,
            id: [seq, u64::MAX, s.creation as u64],
        }
    }

    /// Makes a fresh ref, lets `send` send something whose answer comes back as a response
    /// to the node's external PID under that ref, and waits for it up to `timeout`.
    pub(crate) fn external_request(
        &self,
        timeout: Duration,
        send: impl FnOnce(&Node, Pid, Ref) -> Result<(), Error>,
    ) -> Result<Message, Error> {
        let s = &self.0;
        let r = self.make_ref();
        let (tx, rx) = sync_channel(1);
        s.external
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(r, tx);
        let from = Pid::new(s.name, EXTERNAL_ID, s.creation);
        if let Err(e) = send(self, from, r) {
            s.external
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&r);
            return Err(e);
        }
        let res = rx.recv_timeout(timeout);
        s.external
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&r);
        match res {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout),
        }
    }

    /// Sends an exit signal from the node to `pid`.
    pub fn send_exit(&self, pid: Pid, reason: Reason) -> Result<(), Error> {
        let env = Envelope {
            from: self.0.node_pid(),
            kind: Kind::Exit(Box::new((reason, ExitVia::Pid))),
        };
        self.route(Target::Pid(pid), env, Priority::Max)
    }

    /// Kills `pid`, as Go's `node.Kill`: it terminates with reason `kill` even when it traps
    /// exits, and its `terminate` runs with `kill`; its links and monitors get an ordinary,
    /// trappable exit signal / down message with reason `kill` (a kill does not spread). A process
    /// on another node gets an exit signal with reason `kill` (Go has no remote kill).
    pub fn kill(&self, pid: Pid) -> Result<(), Error> {
        if pid.node != self.0.name {
            return self.send_exit(pid, Reason::Kill);
        }
        let env = Envelope {
            from: self.0.node_pid(),
            kind: Kind::Kill,
        };
        self.route(Target::Pid(pid), env, Priority::Max)
    }

    /// Asks the process for its `handle_inspect` figures.
    pub fn inspect(&self, pid: Pid, timeout: Duration) -> Result<BTreeMap<String, String>, Error> {
        let (tx, rx) = sync_channel(1);
        let f = move |m: BTreeMap<String, String>| {
            let _ = tx.send(m);
        };
        let env = Envelope {
            from: self.0.node_pid(),
            kind: Kind::Inspect(Box::new(f)),
        };
        self.route(Target::Pid(pid), env, Priority::Max)?;
        rx.recv_timeout(timeout).map_err(|_| Error::Timeout)
    }

    /// Whether `pid` is alive (asks its shard).
    pub fn is_alive(&self, pid: Pid) -> bool {
        if pid.node != self.0.name || pid.creation != self.0.creation || pid.id < shard::FIRST_ID {
            return false;
        }
        let shard = shard::shard_of(pid.id);
        self.run_on(shard, move |core| core.procs.borrow().contains_key(&pid.id))
            .unwrap_or(false)
    }

    /// A process's figures (Go Ergo's `ProcessInfo`), asked of its shard; `ProcessUnknown` if
    /// it is gone.
    pub fn process_info(&self, pid: Pid) -> Result<ProcessInfo, Error> {
        if pid.node != self.0.name {
            return Err(Error::NoConnection(pid.node));
        }
        if pid.creation != self.0.creation || pid.id < shard::FIRST_ID {
            return Err(Error::ProcessUnknown);
        }
        let shard = shard::shard_of(pid.id);
        if shard >= self.0.shards.len() {
            return Err(Error::ProcessUnknown);
        }
        self.run_on(shard, move |core| core.process_info_local(pid))?
    }

    /// The node's figures.
    pub fn info(&self) -> NodeInfo {
        let s = &self.0;
        NodeInfo {
            name: s.name,
            creation: s.creation,
            uptime: s.started.elapsed(),
            processes: s.processes(),
            names: s.names.read().unwrap_or_else(|p| p.into_inner()).len(),
            events: s.events.len(),
            memory_rss: rss_bytes(),
            shards: s
                .shards
                .iter()
                .map(|r| ShardInfo {
                    index: r.index,
                    processes: r.processes.load(Ordering::Relaxed),
                    spawned: r.spawned.load(Ordering::Relaxed),
                })
                .collect(),
        }
    }
}

/// Resident set size of this OS process, from `/proc/self/statm`.
pub fn rss_bytes() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page.max(0) as u64
}
