//! Network transparency: connections to other nodes (Rust or Go), driven by the shards' rings.
//!
//! Control plane (a few threads per node, blocking sockets with deadlines): the acceptor, the
//! dialer (resolving through static routes or the registrar), the EHS handshake, and the
//! registrar. Data plane (the shards): once a link's handshake is done its socket moves to a
//! shard, whose ring reads it ([`link_io`]); frames are cut from the receive buffer, decoded with
//! the peer's caches and delivered to local processes; outgoing messages are encoded on the
//! sender's shard with our caches and appended to the link's write buffer, which goes out in one
//! send per loop iteration.
//!
//! A connection is a pool of links spread over the shards ([`Pool`]); a sender always uses the
//! link its PID selects, so its messages stay in order. Links, monitors, events, remote spawn
//! and application start go through [`remote`]; the public API is in [`api`]. A link whose
//! unsent bytes pile up pauses its senders ([`HIGH_WATER`]); a link hands its shard at most
//! [`FRAMES_PER_ROUND`] frames per loop iteration.
//!
//! A node has any number of acceptors ([`AcceptorOptions`]: address, TLS, cookie, limits), and
//! dials plain or TLS as the peer's route says ([`StaticRoute`], or the registrar). See the
//! [`tls`] module for what TLS checks.

pub(crate) mod acceptor;
pub(crate) mod api;
pub(crate) mod encode;
pub(crate) mod handshake_io;
pub(crate) mod link_io;
pub(crate) mod node_watch;
pub(crate) mod remote;
pub(crate) mod route;
pub(crate) mod shard_io;
pub(crate) mod tls;

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use ergo_edf::{Atom, GoError, Pid};
use ergo_proto::connection::{
    AnyPayload, ConnectionCodec, Incoming, LocalTarget, Priority as WirePriority, ResponseCode,
    SendOptions, Target as WireTarget,
};
use ergo_proto::frame;
use ergo_proto::gen::{NetworkFlags, Route, Version};
use ergo_proto::handshake::{Established, LocalNode};

use crate::message::Message;
use crate::node::NodeShared;
use crate::process::{Envelope, ExitVia, Kind};
use crate::registrar::{RegistrarClient, RegistrarConfig, Registration};
use crate::shard::{Fail, Item, ShardCore};
use crate::{Error, Priority, Reason};

use self::acceptor::Acceptor;
pub use self::acceptor::AcceptorOptions;
use self::link_io::{LinkEvent, LinkId, LinkIo};
use self::route::DialTarget;
pub use self::route::StaticRoute;

/// How a node takes part in the network (Go's `gen.NetworkMode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NetworkMode {
    /// Acceptors listen and are registered with the registrar (when one is configured).
    #[default]
    Enabled,
    /// No acceptor and no registration (nor an embedded registrar server); the node still
    /// dials out, resolving through the registrar over UDP, and established connections work
    /// both ways.
    Hidden,
    /// No networking at all: sends to other nodes fail with [`Error::Network`].
    Disabled,
}

/// Why a send to another node fails on a node whose network is disabled.
pub(crate) const DISABLED: &str = "networking is disabled on this node";

/// How a node takes part in the network.
#[derive(Debug, Clone)]
pub struct NetworkOptions {
    /// Enabled, hidden or disabled.
    pub mode: NetworkMode,
    /// The shared secret of the cluster.
    pub cookie: String,
    /// The acceptors (ignored unless the mode is `Enabled`). `Node::network_address` is the
    /// first one's.
    pub acceptors: Vec<AcceptorOptions>,
    /// The registrar to register with and resolve peers through: the built-in one
    /// (`RegistrarOptions::default().into()`: register with, or become, the host's registrar
    /// on port 4499), etcd, or another implementation. `None`: static routes, then the
    /// built-in registrar of the peer's host on the default port.
    pub registrar: Option<RegistrarConfig>,
    /// Static routes, tried before the registrar.
    pub routes: HashMap<Atom, StaticRoute>,
    /// How the dialer treats acceptors that speak TLS.
    pub tls: tls::TlsDialOptions,
    /// Capabilities announced to peers.
    pub flags: NetworkFlags,
    /// Largest frame accepted from peers (0: unlimited).
    pub max_message_size: u64,
    /// Messages kept per peer while its connection is being made.
    pub pending_limit: usize,
    /// How long each handshake message may take to arrive (Go: 1 s).
    pub handshake_timeout: Duration,
    /// A link whose sent data stays unacknowledged this long is closed (`TCP_USER_TIMEOUT`),
    /// so a pulled cable is noticed even when nothing is received.
    pub user_timeout: Duration,
    /// Links per connection our acceptors ask dialers to open (Go's default: 3); they are
    /// spread over the shards.
    pub pool_size: usize,
}

impl NetworkOptions {
    /// One plain acceptor on 127.0.0.1 (any port), no registrar, Go's default flags.
    pub fn new(cookie: &str) -> NetworkOptions {
        NetworkOptions {
            mode: NetworkMode::Enabled,
            cookie: cookie.to_string(),
            acceptors: vec![AcceptorOptions::default()],
            registrar: None,
            routes: HashMap::new(),
            tls: tls::TlsDialOptions::default(),
            flags: NetworkFlags(
                NetworkFlags::ENABLE
                    | NetworkFlags::PROXY_ACCEPT
                    | NetworkFlags::IMPORTANT_DELIVERY,
            ),
            max_message_size: 0,
            pending_limit: 100_000,
            user_timeout: Duration::from_secs(15),
            handshake_timeout: handshake_io::READ_TIMEOUT,
            pool_size: 3,
        }
    }
}

/// A link whose unsent bytes exceed this is congested: processes sending into it pause after
/// their handler until it is drained below [`LOW_WATER`] (memory stays bounded when senders
/// outrun the network).
pub(crate) const HIGH_WATER: usize = 1 << 20;
/// See [`HIGH_WATER`].
pub(crate) const LOW_WATER: usize = 256 << 10;
/// How often a shard with paused senders looks at their connections while idle.
pub(crate) const PAUSE_POLL: Duration = Duration::from_micros(200);
/// Frames of one link handled per loop iteration; the rest wait in the receive buffer (and
/// no more is read) until the next, so a fast sender cannot pile work up in mailboxes faster
/// than the processes handle it.
pub(crate) const FRAMES_PER_ROUND: usize = crate::process::BATCH as usize;

/// One link of a connection.
pub(crate) struct Conn {
    /// Too much is waiting to be sent (set and cleared by the link's shard).
    pub(crate) congested: AtomicBool,
    /// The connection's codec, shared by its links.
    pub(crate) codec: Arc<ConnectionCodec>,
    pub(crate) shard: usize,
    pub(crate) link: LinkId,
    /// When the handshake completed.
    pub(crate) since: std::time::Instant,
    /// What the peer introduced itself as.
    pub(crate) peer_version: Version,
    /// Largest frame accepted (what we announced on this connection).
    pub(crate) max_message_size: u64,
    /// Times a sender paused on this link past its high-water mark (counted on the cold
    /// path that pauses it).
    pub(crate) pauses: std::sync::atomic::AtomicU64,
}

/// Links a connection opens at most (Go's default pool is 3).
const MAX_POOL: usize = 16;

/// A connection to a peer: its links, spread over the shards.
pub(crate) struct Pool {
    /// The connection ID (what joining links name).
    id: String,
    /// The links messages go out on: a sender always uses the same one (chosen by its PID), so
    /// its messages stay in order. On the dialing side these are all the links, set before
    /// the first message; on the accepting side only the first link, since links joining
    /// later would move senders to another link mid-stream.
    pub(crate) send: Vec<Arc<Conn>>,
    /// Every link, the joined ones included (all of them are read).
    pub(crate) all: Vec<Arc<Conn>>,
}

impl Pool {
    /// The index in `send` of the link for link selector `sel` (Go: `sel mod pool size`).
    #[inline]
    fn index(&self, sel: u64) -> usize {
        let n = self.send.len();
        if n == 1 {
            0
        } else {
            (sel % n as u64) as usize
        }
    }

    /// The link for link selector `sel`.
    #[inline]
    pub(crate) fn link(&self, sel: u64) -> &Arc<Conn> {
        &self.send[self.index(sel)]
    }
}

/// Go's link selector of a local sender: its ID mod 255.
#[inline]
fn sender_sel(sender: u64) -> u64 {
    u64::from(frame::order_for(sender))
}

/// Encodes one frame into a link's write buffer.
pub(crate) type FrameFn = Box<dyn FnOnce(&Conn, &mut Vec<u8>) -> Result<(), Fail> + Send>;

/// Something waiting for its connection.
pub(crate) enum Waiting {
    /// A message, call, reply or exit signal (with the sender's compression).
    Env(
        WireTarget,
        Envelope,
        Priority,
        Option<ergo_proto::connection::CompressionOptions>,
    ),
    /// A control frame (link/monitor/spawn requests), with its link selector.
    Frame(u64, FrameFn),
}

/// The node's network.
pub(crate) struct Network {
    pub(crate) local: LocalNode,
    options: NetworkOptions,
    /// Where the acceptors listen, in the order configured.
    pub(crate) listen_addrs: Vec<SocketAddr>,
    /// The dialer's TLS (`None` when networking is disabled).
    dial_tls: Option<tls::ClientSide>,
    conns: RwLock<HashMap<Atom, Arc<Pool>>>,
    pending: Mutex<HashMap<Atom, Vec<Waiting>>>,
    dialing: Mutex<HashSet<Atom>>,
    registrar: RwLock<Option<Arc<dyn RegistrarClient>>>,
    stop: AtomicBool,
    node: Weak<NodeShared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    next_shard: AtomicUsize,
    /// Remote links, monitors, events, spawn and application start.
    pub(crate) remote: remote::Remote,
    pub(crate) node_watch: node_watch::NodeWatch,
    /// Static routes added at run time (`Network::add_route`).
    added_routes: RwLock<HashMap<Atom, StaticRoute>>,
    /// Event frames (105) sent: one per publication and subscribing node.
    pub(crate) events_out: std::sync::atomic::AtomicU64,
    /// Bumped whenever `conns` changes (validates the shards' cached lookups).
    conn_gen: std::sync::atomic::AtomicU64,
    /// Handshakes per acceptor, connects and link closes per peer.
    pub(crate) counters: crate::ops::net_counters::NetCounters,
}

impl Network {
    /// Starts the acceptor and (if configured) the registrar registration.
    pub(crate) fn start(
        node: &Arc<NodeShared>,
        options: NetworkOptions,
    ) -> Result<Arc<Network>, Error> {
        ergo_proto::register_framework_types().map_err(|e| Error::Os(e.to_string()))?;
        let mut local = LocalNode::new(node.name, node.creation, &options.cookie);
        local.flags = options.flags;
        local.max_message_size = options.max_message_size;
        local.version = crate::node_api::framework_version();
        let mut acceptors = Vec::new();
        if options.mode == NetworkMode::Enabled {
            for a in &options.acceptors {
                acceptors.push(Acceptor::bind(a, &local, options.handshake_timeout)?);
            }
        }
        let dial_tls = match options.mode {
            NetworkMode::Disabled => None,
            _ => Some(
                tls::ClientSide::new(&options.tls).map_err(|e| Error::Network(e.to_string()))?,
            ),
        };
        let listen_addrs: Vec<SocketAddr> = acceptors.iter().map(|(_, a)| a.addr).collect();
        let counters = crate::ops::net_counters::NetCounters::with_acceptors(&listen_addrs);
        let net = Arc::new(Network {
            counters,
            local,
            options,
            listen_addrs,
            dial_tls,
            conns: RwLock::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            dialing: Mutex::new(HashSet::new()),
            registrar: RwLock::new(None),
            stop: AtomicBool::new(false),
            node: Arc::downgrade(node),
            threads: Mutex::new(Vec::new()),
            next_shard: AtomicUsize::new(0),
            remote: remote::Remote::default(),
            node_watch: node_watch::NodeWatch::default(),
            added_routes: RwLock::new(HashMap::new()),
            events_out: std::sync::atomic::AtomicU64::new(0),
            conn_gen: std::sync::atomic::AtomicU64::new(0),
        });
        if let (NetworkMode::Enabled | NetworkMode::Hidden, Some(rc)) =
            (net.options.mode, net.options.registrar.clone())
        {
            // One route per acceptor (wire spec §4.3); a node without acceptors has nothing
            // to register (Go's registrar refuses an empty route list), and a hidden node
            // only resolves.
            let routes: Vec<Route> = acceptors.iter().map(|(_, a)| a.route()).collect();
            let registration = if net.options.mode == NetworkMode::Hidden {
                None
            } else if routes.is_empty() {
                tracing::warn!(node = %node.name, "no acceptor: nothing registered with the registrar");
                None
            } else {
                Some(Registration {
                    routes,
                    applications: Vec::new(),
                })
            };
            let r = rc
                .starter()
                .start(&crate::Node::from_shared(node.clone()), registration)
                .map_err(|e| Error::Os(e.to_string()))?;
            *net.registrar.write().unwrap_or_else(|e| e.into_inner()) = Some(r);
        }
        for (listener, acceptor) in acceptors {
            let n = net.clone();
            let acceptor = Arc::new(acceptor);
            let h = std::thread::Builder::new()
                .name("ergo-acceptor".into())
                .spawn(move || n.accept_loop(listener, acceptor))?;
            net.threads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(h);
        }
        tracing::info!(node = %node.name, mode = ?net.options.mode, listen = ?net.listen_addrs, "network started");
        Ok(net)
    }

    /// Stops accepting, unregisters, and closes every connection.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        let registrar = self
            .registrar
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(r) = registrar {
            r.stop();
        }
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            let _ = t.join();
        }
        self.conns
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.conn_gen.fetch_add(1, Ordering::Release);
    }

    /// The options the network started with.
    pub(crate) fn options(&self) -> &NetworkOptions {
        &self.options
    }

    /// Whether the acceptors listen (`None`: this node has none to listen with).
    pub(crate) fn acceptors_listening(&self) -> Option<Result<(), String>> {
        if self.options.mode != NetworkMode::Enabled || self.options.acceptors.is_empty() {
            return None;
        }
        if self.stop.load(Ordering::Acquire) {
            return Some(Err("the network is stopped".into()));
        }
        let threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        let up = threads.iter().filter(|t| !t.is_finished()).count();
        Some(if up == self.listen_addrs.len() && up > 0 {
            Ok(())
        } else {
            Err(format!(
                "{up} of {} acceptors listen",
                self.listen_addrs.len()
            ))
        })
    }

    /// Whether this node's registration with its registrar holds (`None`: no registrar is
    /// configured, or nothing to register).
    pub(crate) fn registrar_registered(&self) -> Option<bool> {
        if self.options.mode != NetworkMode::Enabled || self.options.registrar.is_none() {
            return None;
        }
        let r = self.registrar.read().unwrap_or_else(|e| e.into_inner());
        match r.as_ref() {
            Some(r) => Some(r.is_registered()),
            // Configured, but stopped (or never started: no acceptor to register).
            None => Some(false),
        }
    }

    /// The connection to `peer`, if it is up.
    pub(crate) fn conn(&self, peer: Atom) -> Option<Arc<Conn>> {
        self.pool(peer).map(|p| p.send[0].clone())
    }

    /// The connection to `peer` with all its links.
    pub(crate) fn pool(&self, peer: Atom) -> Option<Arc<Pool>> {
        self.conns
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&peer)
            .cloned()
    }

    /// Whether a connection to `peer` is up.
    pub(crate) fn is_connected(&self, peer: Atom) -> bool {
        self.conn(peer).is_some()
    }

    /// Enabled, hidden or disabled.
    pub(crate) fn mode(&self) -> NetworkMode {
        self.options.mode
    }

    fn accept_loop(self: Arc<Self>, listener: TcpListener, acc: Arc<Acceptor>) {
        while !self.stop.load(Ordering::Acquire) {
            match listener.accept() {
                Ok((stream, from)) => {
                    let net = self.clone();
                    let acc = acc.clone();
                    let _ = std::thread::Builder::new().name("ergo-handshake".into()).spawn(move || {
                        let _ = stream.set_nonblocking(false);
                        let dsn = vec![acc.addr.to_string()];
                        let pool = net.options.pool_size.clamp(1, MAX_POOL);
                        // A join may come in while its connection's first link is still being
                        // registered: give that a moment.
                        let live = |node: Atom, id: &str| {
                            for _ in 0..100 {
                                if net.pool(node).is_some_and(|p| p.id == id) {
                                    return true;
                                }
                                std::thread::sleep(Duration::from_millis(10));
                            }
                            false
                        };
                        match handshake_io::accept(stream, &acc.local, pool, dsn, live, acc.tls.as_ref(), acc.handshake_timeout) {
                            Ok(handshake_io::Accepted::Connection(ready, est)) => {
                                net.counters.handshake_ok(acc.addr);
                                net.established(ready, *est, &acc.local, None)
                            }
                            Ok(handshake_io::Accepted::Join(ready, req)) => {
                                net.counters.handshake_ok(acc.addr);
                                net.joined(ready, req.node, &req.connection_id)
                            }
                            Err(e) => {
                                net.counters.handshake_failed(acc.addr, &e);
                                tracing::warn!(peer = %from, error = %e, "incoming link refused")
                            }
                        }
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }

    /// The node's registrar, when one is configured and running.
    pub(crate) fn registrar(&self) -> Option<Arc<dyn RegistrarClient>> {
        self.registrar
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Adds a static route at run time.
    pub(crate) fn add_route(&self, peer: Atom, route: StaticRoute) {
        self.added_routes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(peer, route);
    }

    /// Where `peer`'s acceptors are, in the order to try them: a static route, or the routes
    /// the registrar of its host knows (plain or TLS).
    fn route(&self, peer: Atom) -> Result<Vec<DialTarget>, String> {
        let host = crate::registrar::host_of(peer).map_err(|e| e.to_string())?;
        let added = self.added_routes.read().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = added.get(&peer).or_else(|| self.options.routes.get(&peer)) {
            return Ok(vec![DialTarget {
                addr: r.addr,
                host: host.to_string(),
                tls: r.tls,
                cookie: r.cookie.clone(),
            }]);
        }
        drop(added);
        let routes = match self.registrar() {
            Some(r) => r.resolve(peer).map_err(|e| e.to_string()),
            None => crate::registrar::resolve(
                peer,
                ergo_proto::registrar::DEFAULT_PORT,
                crate::registrar::RESOLVE_TIMEOUT,
            )
            .map_err(|e| e.to_string()),
        }?;
        let mut targets = Vec::new();
        let mut last = "the registrar knows no route".to_string();
        for route in routes {
            let host = if route.host.is_empty() {
                host.to_string()
            } else {
                route.host
            };
            let addr = (host.as_str(), route.port)
                .to_socket_addrs()
                .map_err(|e| e.to_string())
                .and_then(|mut a| {
                    a.find(SocketAddr::is_ipv4)
                        .ok_or_else(|| format!("{host} has no IPv4 address"))
                });
            match addr {
                Ok(addr) => targets.push(DialTarget {
                    addr,
                    host,
                    tls: route.tls,
                    cookie: None,
                }),
                Err(e) => last = e,
            }
        }
        if targets.is_empty() {
            return Err(last);
        }
        Ok(targets)
    }

    /// Queues a message for `peer` and makes sure a connection is being made.
    pub(crate) fn queue(self: &Arc<Self>, peer: Atom, w: Waiting) -> Result<(), Fail> {
        if self.options.mode == NetworkMode::Disabled {
            return Err(Fail::Network(DISABLED.into()));
        }
        {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let q = p.entry(peer).or_default();
            if q.len() >= self.options.pending_limit {
                return Err(Fail::NoConnection(peer));
            }
            q.push(w);
        }
        // The connection may have come up meanwhile: then flush right away.
        if self.is_connected(peer) {
            self.flush_pending(peer);
            return Ok(());
        }
        if self
            .dialing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(peer)
        {
            let net = self.clone();
            let _ = std::thread::Builder::new()
                .name("ergo-dial".into())
                .spawn(move || {
                    match net.dial_peer(peer) {
                        Ok((ready, est, local, target)) => net.established(
                            ready,
                            est,
                            local.as_ref().unwrap_or(&net.local),
                            Some(&target),
                        ),
                        Err(e) => {
                            tracing::warn!(peer = %peer, error = %e, "cannot connect");
                            let dropped = net
                                .pending
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .remove(&peer);
                            net.fail_waiting(peer, dropped.unwrap_or_default());
                        }
                    }
                    net.dialing
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&peer);
                });
        }
        Ok(())
    }

    /// Calls waiting for a connection that could not be made fail now.
    fn fail_waiting(&self, peer: Atom, waiting: Vec<Waiting>) {
        let Some(node) = self.node.upgrade() else {
            return;
        };
        for w in waiting {
            let Waiting::Env(_, env, _, _) = w else {
                continue;
            };
            if let Kind::Request(b) | Kind::ImportantRequest(b) | Kind::Important(b) = env.kind {
                let reply = Envelope {
                    from: Pid::new(peer, 0, 0),
                    kind: Kind::Response(Box::new((b.0, Err(Error::NoConnection(peer))))),
                };
                node.deliver_from_outside(env.from, reply);
            }
        }
        // Watches waiting for this connection hear `no connection` (on a shard thread).
        node.shards[0].publish(vec![Item::Run(Box::new(
            move |core: &std::rc::Rc<ShardCore>| {
                core.net_node_down(peer);
            },
        ))]);
    }

    /// Puts a link whose handshake completed on a shard, and waits until it is there. Nothing
    /// is read from it until [`Network::release`] (its first frames wait for the connection to
    /// be registered).
    fn attach(
        self: &Arc<Self>,
        ready: handshake_io::Ready,
        codec: &Arc<ConnectionCodec>,
        peer_version: &Version,
        max_message_size: u64,
    ) -> Result<Arc<Conn>, Error> {
        let node = self.node.upgrade().ok_or(Error::NodeTerminated)?;
        let shard = self.next_shard.fetch_add(1, Ordering::Relaxed) % node.placed;
        set_user_timeout(&ready.stream, self.options.user_timeout);
        let fd = OwnedFd::from(ready.stream);
        let (tail, tls) = (ready.tail, ready.tls);
        let codec = codec.clone();
        let peer_version = peer_version.clone();
        crate::Node(node).run_on(shard, move |core| {
            let link = core.net_attach(fd, &tail, tls);
            core.net.borrow_mut().io.hold(link, true);
            let conn = Arc::new(Conn {
                congested: AtomicBool::new(false),
                codec,
                shard: core.index,
                link,
                since: std::time::Instant::now(),
                peer_version,
                max_message_size,
                pauses: std::sync::atomic::AtomicU64::new(0),
            });
            core.net_links.borrow_mut().insert(link.0, conn.clone());
            conn
        })
    }

    /// Lets an attached link read: what arrived with its handshake is handled first.
    fn release(&self, conn: &Conn) {
        let Some(node) = self.node.upgrade() else {
            return;
        };
        let link = conn.link;
        node.shards[conn.shard].publish(vec![Item::Run(Box::new(
            move |core: &std::rc::Rc<ShardCore>| {
                core.net_received(link);
            },
        ))]);
    }

    /// Closes links (on their shards).
    fn close_links(&self, links: &[Arc<Conn>]) {
        let Some(node) = self.node.upgrade() else {
            return;
        };
        for c in links {
            let c = c.clone();
            node.shards[c.shard].publish(vec![Item::Run(Box::new(
                move |core: &std::rc::Rc<ShardCore>| {
                    // Only if the slot still holds this link (a closed link's slot is reused).
                    let same = core
                        .net_links
                        .borrow()
                        .get(&c.link.0)
                        .is_some_and(|l| Arc::ptr_eq(l, &c));
                    if same {
                        core.net_close(c.link);
                    }
                },
            ))]);
        }
    }

    /// A handshake completed (on a control thread): the link goes to a shard; when we dialed,
    /// the extra links the acceptor asked for are joined first, so that the connection is
    /// registered with all its links before any message picks one. `local` is what we
    /// announced on it (the acceptor's settings, or the node's).
    fn established(
        self: &Arc<Self>,
        ready: handshake_io::Ready,
        est: Established,
        local: &LocalNode,
        dialed: Option<&route::DialTarget>,
    ) {
        let peer = est.peer.node();
        let codec = Arc::new(ConnectionCodec::new(local, &est));
        let version = est.peer.introduce.version.clone();
        let max = local.max_message_size;
        let first = match self.attach(ready, &codec, &version, max) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(peer = %peer, error = %e, "link not attached");
                return;
            }
        };
        let mut links = vec![first];
        if let Some(t) = dialed {
            let want = est.pool_size.clamp(1, MAX_POOL);
            for i in 1..want {
                let dsn = est.pool_dsn.get(i % est.pool_dsn.len().max(1)).cloned();
                let addr = dsn
                    .as_deref()
                    .and_then(|d| d.to_socket_addrs().ok()?.find(SocketAddr::is_ipv4))
                    .unwrap_or(t.addr);
                let joined = t
                    .dial_tls(self.dial_tls.as_ref())
                    .and_then(|tls| {
                        handshake_io::join(
                            addr,
                            local,
                            &est.connection_id,
                            tls,
                            self.options.handshake_timeout,
                        )
                        .map_err(|e| e.to_string())
                    })
                    .and_then(|r| {
                        self.attach(r, &codec, &version, max)
                            .map_err(|e| e.to_string())
                    });
                match joined {
                    Ok(c) => links.push(c),
                    Err(e) => {
                        // Fewer links than asked: the connection works with what it has.
                        tracing::warn!(peer = %peer, link = i, error = %e, "pool link not joined");
                        break;
                    }
                }
            }
        }
        // The accepting side sends on its first link only (see `Pool::send`).
        let send = if dialed.is_some() {
            links.clone()
        } else {
            vec![links[0].clone()]
        };
        let pool = Arc::new(Pool {
            id: est.connection_id.clone(),
            send,
            all: links.clone(),
        });
        {
            let mut conns = self.conns.write().unwrap_or_else(|e| e.into_inner());
            if conns.contains_key(&peer) {
                // Both sides dialed at once: keep the first, close this one.
                drop(conns);
                self.close_links(&links);
                return;
            }
            conns.insert(peer, pool);
            self.conn_gen.fetch_add(1, Ordering::Release);
        }
        self.counters.connected(peer);
        let shards: Vec<usize> = links.iter().map(|c| c.shard).collect();
        tracing::info!(peer = %peer, links = links.len(), shards = ?shards, "connection established");
        for c in &links {
            self.release(c);
        }
        self.flush_pending(peer);
    }

    /// A link joined an existing connection of `peer`'s (we accepted it): it is read like the
    /// others; our messages keep going out on the links they use.
    fn joined(self: &Arc<Self>, ready: handshake_io::Ready, peer: Atom, id: &str) {
        let Some(pool) = self.pool(peer).filter(|p| p.id == id) else {
            return;
        };
        let first = &pool.all[0];
        let conn = match self.attach(
            ready,
            &first.codec,
            &first.peer_version,
            first.max_message_size,
        ) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(peer = %peer, error = %e, "joined link not attached");
                return;
            }
        };
        {
            let mut conns = self.conns.write().unwrap_or_else(|e| e.into_inner());
            match conns.get(&peer) {
                Some(p) if p.id == id && p.all.len() < MAX_POOL => {
                    let mut all = p.all.clone();
                    all.push(conn.clone());
                    let grown = Arc::new(Pool {
                        id: p.id.clone(),
                        send: p.send.clone(),
                        all,
                    });
                    conns.insert(peer, grown);
                    self.conn_gen.fetch_add(1, Ordering::Release);
                }
                _ => {
                    drop(conns);
                    self.close_links(&[conn]);
                    return;
                }
            }
        }
        tracing::debug!(peer = %peer, shard = conn.shard, "pool link joined");
        self.release(&conn);
    }

    /// Sends what waited for `peer`'s connection, in order.
    fn flush_pending(self: &Arc<Self>, peer: Atom) {
        let waiting = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&peer)
            .unwrap_or_default();
        if waiting.is_empty() {
            return;
        }
        let (Some(pool), Some(node)) = (self.pool(peer), self.node.upgrade()) else {
            return;
        };
        // Each message on the link its sender uses from now on.
        let mut bufs: Vec<Vec<u8>> = vec![Vec::new(); pool.send.len()];
        for w in waiting {
            let r = match w {
                Waiting::Env(target, env, prio, comp) => {
                    let i = pool.index(sender_sel(env.from.id));
                    encode::encode(&pool.send[i], &target, env, prio, comp, &mut bufs[i])
                }
                Waiting::Frame(sel, f) => {
                    let i = pool.index(sel);
                    f(&pool.send[i], &mut bufs[i])
                }
            };
            if let Err(e) = r {
                tracing::warn!(peer = %peer, error = ?e, "message to a remote node dropped");
            }
        }
        for (c, buf) in pool.send.iter().zip(bufs) {
            if !buf.is_empty() {
                node.shards[c.shard].publish(vec![Item::NetWrite(c.link, buf)]);
            }
        }
    }

    /// A link closed: forget its connection. Returns the peer whose connection went down.
    pub(crate) fn link_closed(&self, shard: usize, link: LinkId) -> Option<Atom> {
        // A broken link takes its whole connection down (the dialer dials again on the next
        // send).
        let mut conns = self.conns.write().unwrap_or_else(|e| e.into_inner());
        let mut down = None;
        let mut others = Vec::new();
        conns.retain(|peer, p| {
            let gone = p.all.iter().any(|c| c.shard == shard && c.link == link);
            if gone {
                tracing::info!(peer = %peer, "connection closed");
                down = Some(*peer);
                others.extend(
                    p.all
                        .iter()
                        .filter(|c| !(c.shard == shard && c.link == link))
                        .cloned(),
                );
            }
            !gone
        });
        if let Some(peer) = down {
            self.conn_gen.fetch_add(1, Ordering::Release);
            self.counters.link_closed(peer);
        }
        drop(conns);
        self.close_links(&others);
        down
    }

    /// Encodes a frame for `peer` from a thread that is not one of the node's shards (or any
    /// shard: the frame goes to the link's shard in a batch of its own). Queued (and the
    /// peer dialed) when not connected and `queue` is set.
    pub(crate) fn send_from_outside(
        self: &Arc<Self>,
        peer: Atom,
        queue: bool,
        f: impl FnOnce(&Conn, &mut Vec<u8>) -> Result<(), Fail> + Send + 'static,
    ) -> Result<(), Fail> {
        let Some(node) = self.node.upgrade() else {
            return Err(Fail::NoConnection(peer));
        };
        match self.conn(peer) {
            Some(conn) => {
                let mut buf = Vec::new();
                f(&conn, &mut buf)?;
                node.shards[conn.shard].publish(vec![Item::NetWrite(conn.link, buf)]);
                Ok(())
            }
            None if queue => self.queue(peer, Waiting::Frame(0, Box::new(f))),
            None => Err(Fail::NoConnection(peer)),
        }
    }

    /// Closes the connection to `peer`, if any (its watchers hear `no connection`).
    pub(crate) fn disconnect(&self, peer: Atom) -> bool {
        let Some(pool) = self.pool(peer) else {
            return false;
        };
        self.close_links(&pool.all);
        true
    }

    /// The peers with a connection up.
    pub(crate) fn peers(&self) -> Vec<Atom> {
        self.conns
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .copied()
            .collect()
    }

    /// Waits (on a non-shard thread) until `peer` is connected, dialing it if needed.
    pub(crate) fn connect(
        self: &Arc<Self>,
        peer: Atom,
        timeout: Duration,
    ) -> Result<Arc<Conn>, Error> {
        if let Some(c) = self.conn(peer) {
            return Ok(c);
        }
        let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
        self.send_from_outside(peer, true, move |_, _| {
            let _ = tx.send(());
            Ok(())
        })?;
        match rx.recv_timeout(timeout) {
            Ok(()) => self.conn(peer).ok_or(Error::NoConnection(peer)),
            Err(_) => Err(Error::NoConnection(peer)),
        }
    }
}

/// Sets `TCP_USER_TIMEOUT` and TCP keep-alive on a link.
fn set_user_timeout(s: &std::net::TcpStream, t: Duration) {
    use std::os::fd::AsRawFd;
    let ms = t.as_millis().min(u128::from(u32::MAX)) as libc::c_uint;
    let secs = t.as_secs().clamp(1, 3600) as libc::c_int;
    let fd = s.as_raw_fd();
    let set = |level: libc::c_int, opt: libc::c_int, v: libc::c_int| {
        // SAFETY: setsockopt on a socket we own, with a pointer to a live c_int.
        unsafe {
            libc::setsockopt(
                fd,
                level,
                opt,
                (&v as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as u32,
            )
        }
    };
    set(libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT, ms as libc::c_int);
    set(libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
    set(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, secs);
    set(libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, secs);
    set(libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 2);
}

use self::remote::{reason_error, reason_of};

/// Per-shard network state.
pub(crate) struct NetShard {
    pub(crate) io: LinkIo,
    pub(crate) events: Vec<LinkEvent>,
}

impl NetShard {
    pub(crate) fn new() -> NetShard {
        NetShard {
            io: LinkIo::new(64 * 1024),
            events: Vec::new(),
        }
    }
}
