//! The public face of a node's network: [`Network`] (from [`Node::network`]) and
//! [`RemoteNode`] (a connected peer: its identity, remote spawn, remote application start).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ergo_edf::{Atom, Pid, Ref, Value};
use ergo_proto::control::{MessageApplicationStart, MessageSpawn};
use ergo_proto::gen::{
    ApplicationMode as WireMode, ApplicationOptionsExtra, NetworkFlags, ProcessOptionsExtra,
    Version,
};

use super::Conn;
use crate::shard::Fail;
use crate::{Actor, ApplicationMode, Error, Node, SpawnOptions};

/// How long `get_node` waits for a connection, and remote spawn/application start for their
/// answer (Go's `DefaultRequestTimeout`).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A node's network (see [`Node::network`]).
#[derive(Clone)]
pub struct Network {
    node: Node,
}

/// What is known about a connected peer (Go's `gen.RemoteNodeInfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteNodeInfo {
    /// The peer's name.
    pub node: Atom,
    /// Seconds since the peer started (from its creation).
    pub uptime: i64,
    /// Seconds since the connection was made.
    pub connection_uptime: i64,
    /// The version the peer announced.
    pub version: Version,
    /// The peer's capabilities.
    pub flags: NetworkFlags,
    /// Links of the connection (ours and the peer's joins).
    pub pool_size: usize,
    /// The largest frame the peer accepts (0: unlimited).
    pub max_message_size: u64,
    /// The peer's creation.
    pub creation: i64,
    /// Bytes handed to the kernel on the connection's links.
    pub bytes_out: u64,
    /// Send operations submitted for them (`bytes_out / sends`: the batching achieved).
    pub sends: u64,
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Network {
    pub(crate) fn new(node: Node) -> Network {
        Network { node }
    }

    fn inner(&self) -> Result<&Arc<super::Network>, Error> {
        self.node.0.network.get().ok_or(Error::Network(
            "the network of this node is disabled".into(),
        ))
    }

    /// The node's registrar (built-in, etcd or another): resolve peers and applications,
    /// list the cluster's nodes, read the cluster configuration, and name the event that
    /// cluster changes are published on. Its calls block: not for an actor's handler.
    pub fn registrar(&self) -> Result<Arc<dyn crate::registrar::RegistrarClient>, Error> {
        self.inner()?
            .registrar()
            .ok_or(Error::Network("no registrar is configured".into()))
    }

    /// Whether the node takes part in a network.
    pub fn enabled(&self) -> bool {
        self.node.0.network.get().is_some()
    }

    /// The peer `name`, connecting to it first if needed (static route, or the registrar of
    /// its host). Blocks up to [`DEFAULT_REQUEST_TIMEOUT`]; not for shard threads.
    pub fn get_node(&self, name: impl Into<Atom>) -> Result<RemoteNode, Error> {
        let name = name.into();
        let net = self.inner()?;
        if crate::shard::current().is_some() && net.conn(name).is_none() {
            return Err(Error::Invalid(
                "get_node would block a shard; use node() or send to the peer first",
            ));
        }
        net.connect(name, DEFAULT_REQUEST_TIMEOUT)?;
        Ok(RemoteNode {
            node: self.node.clone(),
            peer: name,
        })
    }

    /// [`Network::get_node`] through `route` (kept as a static route for later dials; a
    /// `SocketAddr` is a plain route, [`StaticRoute`](crate::StaticRoute) may say TLS).
    pub fn get_node_with_route(
        &self,
        name: impl Into<Atom>,
        route: impl Into<crate::StaticRoute>,
    ) -> Result<RemoteNode, Error> {
        let name = name.into();
        self.add_route(name, route)?;
        self.get_node(name)
    }

    /// The peer `name` if it is connected now.
    pub fn node(&self, name: impl Into<Atom>) -> Option<RemoteNode> {
        let name = name.into();
        let net = self.inner().ok()?;
        net.conn(name)?;
        Some(RemoteNode {
            node: self.node.clone(),
            peer: name,
        })
    }

    /// The peers connected now.
    pub fn nodes(&self) -> Vec<Atom> {
        self.inner().map(|n| n.peers()).unwrap_or_default()
    }

    /// Event messages sent to other nodes so far: one per publication and subscribing node,
    /// however many subscribers that node has.
    pub fn events_sent(&self) -> u64 {
        self.inner()
            .map(|n| n.events_out.load(std::sync::atomic::Ordering::Relaxed))
            .unwrap_or(0)
    }

    /// Adds (or replaces) a static route to `name` (a `SocketAddr` is a plain route).
    pub fn add_route(
        &self,
        name: impl Into<Atom>,
        route: impl Into<crate::StaticRoute>,
    ) -> Result<(), Error> {
        self.inner()?.add_route(name.into(), route.into());
        Ok(())
    }

    /// Lets peers spawn processes made by `factory` under `name`: any peer when `nodes` is
    /// empty, otherwise only those. The node must announce remote spawn in its flags
    /// (`NetworkFlags::REMOTE_SPAWN`); Go nodes that do not get no answer.
    /// `factory` gets the arguments the requester passed.
    pub fn enable_spawn<A, F>(
        &self,
        name: impl Into<Atom>,
        factory: F,
        nodes: &[Atom],
    ) -> Result<(), Error>
    where
        A: Actor,
        F: Fn(&[Value]) -> A + Send + Sync + 'static,
    {
        let spawn = Arc::new(
            move |core: &std::rc::Rc<crate::shard::ShardCore>,
                  opts: SpawnOptions,
                  parent: Option<Pid>,
                  args: &[Value]| core.spawn(factory(args), opts, parent),
        );
        let nodes = (!nodes.is_empty()).then(|| nodes.to_vec());
        self.inner()?.remote.enable_spawn(name.into(), spawn, nodes);
        Ok(())
    }

    /// Withdraws a name from remote spawn.
    pub fn disable_spawn(&self, name: impl Into<Atom>) -> Result<(), Error> {
        let name = name.into();
        if self.inner()?.remote.disable_spawn(name) {
            Ok(())
        } else {
            Err(Error::NameUnknown(name))
        }
    }

    /// Lets peers start the (loaded) application `name`: any peer when `nodes` is empty. The
    /// node must announce `NetworkFlags::REMOTE_APPLICATION_START`.
    pub fn enable_application_start(
        &self,
        name: impl Into<Atom>,
        nodes: &[Atom],
    ) -> Result<(), Error> {
        let nodes = (!nodes.is_empty()).then(|| nodes.to_vec());
        self.inner()?
            .remote
            .enable_application_start(name.into(), nodes);
        Ok(())
    }

    /// Withdraws an application from remote start.
    pub fn disable_application_start(&self, name: impl Into<Atom>) -> Result<(), Error> {
        let name = name.into();
        if self.inner()?.remote.disable_application_start(name) {
            Ok(())
        } else {
            Err(Error::ApplicationUnknown(name))
        }
    }
}

/// A connected peer (Go's `gen.RemoteNode`). Its methods block the calling thread (up to
/// [`DEFAULT_REQUEST_TIMEOUT`] for requests); inside actors use the `Context` methods.
#[derive(Clone)]
pub struct RemoteNode {
    node: Node,
    peer: Atom,
}

impl std::fmt::Debug for RemoteNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RemoteNode({})", self.peer)
    }
}

impl RemoteNode {
    fn conn(&self) -> Result<Arc<Conn>, Error> {
        self.node
            .0
            .network
            .get()
            .and_then(|n| n.conn(self.peer))
            .ok_or(Error::NoConnection(self.peer))
    }

    /// The peer's name.
    pub fn name(&self) -> Atom {
        self.peer
    }

    /// The peer's creation (0 once disconnected).
    pub fn creation(&self) -> i64 {
        self.conn().map(|c| c.codec.peer_creation()).unwrap_or(0)
    }

    /// The version the peer announced.
    pub fn version(&self) -> Version {
        self.conn()
            .map(|c| c.peer_version.clone())
            .unwrap_or_default()
    }

    /// Seconds since the peer started.
    pub fn uptime(&self) -> i64 {
        self.conn()
            .map(|c| unix_now() - c.codec.peer_creation())
            .unwrap_or(0)
    }

    /// Seconds since the connection was made.
    pub fn connection_uptime(&self) -> i64 {
        self.conn()
            .map(|c| c.since.elapsed().as_secs() as i64)
            .unwrap_or(0)
    }

    /// What is known about the peer.
    pub fn info(&self) -> Result<RemoteNodeInfo, Error> {
        let pool = self
            .node
            .0
            .network
            .get()
            .and_then(|n| n.pool(self.peer))
            .ok_or(Error::NoConnection(self.peer))?;
        let c = &pool.send[0];
        let (mut bytes_out, mut sends) = (0, 0);
        for l in &pool.all {
            let link = l.link;
            let s = self
                .node
                .run_on(l.shard, move |core| core.net.borrow().io.stats(link))?
                .unwrap_or_default();
            bytes_out += s.bytes_out;
            sends += s.sends;
        }
        Ok(RemoteNodeInfo {
            bytes_out,
            sends,
            node: self.peer,
            uptime: unix_now() - c.codec.peer_creation(),
            connection_uptime: c.since.elapsed().as_secs() as i64,
            version: c.peer_version.clone(),
            flags: c.codec.peer_flags(),
            pool_size: pool.all.len(),
            max_message_size: c.codec.peer_max_message_size(),
            creation: c.codec.peer_creation(),
        })
    }

    /// Spawns the process the peer enabled for remote spawn under `name`.
    pub fn spawn(
        &self,
        name: impl Into<Atom>,
        options: SpawnOptions,
        args: Vec<Value>,
    ) -> Result<Pid, Error> {
        self.spawn_inner(name.into(), options, args)
    }

    /// [`RemoteNode::spawn`], registering the new process under `register` on the peer.
    pub fn spawn_register(
        &self,
        register: impl Into<Atom>,
        name: impl Into<Atom>,
        options: SpawnOptions,
        args: Vec<Value>,
    ) -> Result<Pid, Error> {
        self.spawn_inner(name.into(), options.register(register), args)
    }

    fn spawn_inner(
        &self,
        name: Atom,
        options: SpawnOptions,
        args: Vec<Value>,
    ) -> Result<Pid, Error> {
        let peer = self.peer;
        let core = self.node.0.node_pid();
        // The answer comes to the external caller; the parent the peer records is the node.
        let m = self
            .node
            .external_request(DEFAULT_REQUEST_TIMEOUT, move |node, from, r| {
                send_spawn(node, peer, from, core, core, r, name, &options, args)
            })?;
        m.downcast::<Pid>()
            .map_err(|_| Error::Network("malformed spawn result".into()))
    }

    /// Starts the application `name` on the peer (enabled there for remote start), in `mode`
    /// (`None`: the application's own).
    pub fn application_start(
        &self,
        name: impl Into<Atom>,
        mode: Option<ApplicationMode>,
    ) -> Result<(), Error> {
        let peer = self.peer;
        let name = name.into();
        let core = self.node.0.node_pid();
        self.node
            .external_request(DEFAULT_REQUEST_TIMEOUT, move |node, from, r| {
                send_app_start(node, peer, from, core, r, name, mode)
            })
            .map(|_| ())
    }

    /// [`RemoteNode::application_start`] in temporary mode.
    pub fn application_start_temporary(&self, name: impl Into<Atom>) -> Result<(), Error> {
        self.application_start(name, Some(ApplicationMode::Temporary))
    }

    /// [`RemoteNode::application_start`] in transient mode.
    pub fn application_start_transient(&self, name: impl Into<Atom>) -> Result<(), Error> {
        self.application_start(name, Some(ApplicationMode::Transient))
    }

    /// [`RemoteNode::application_start`] in permanent mode.
    pub fn application_start_permanent(&self, name: impl Into<Atom>) -> Result<(), Error> {
        self.application_start(name, Some(ApplicationMode::Permanent))
    }

    /// Closes the connection; everything linked to or monitoring the peer's processes hears
    /// `no connection`. The next send dials again.
    pub fn disconnect(&self) -> bool {
        self.node
            .0
            .network
            .get()
            .is_some_and(|n| n.disconnect(self.peer))
    }
}

/// The wire options of a spawn request.
fn spawn_options(
    from: Pid,
    leader: Pid,
    options: &SpawnOptions,
    args: Vec<Value>,
) -> ProcessOptionsExtra {
    let mut o = ProcessOptionsExtra {
        parent_pid: from,
        parent_leader: leader,
        args: (!args.is_empty()).then_some(args),
        ..Default::default()
    };
    o.options.mailbox_size = i64::from(options.mailbox_size);
    if let Some(r) = options.register {
        o.register = r;
    }
    if options.compression.enable {
        o.options.compression.enable = true;
        o.options.compression.threshold = options.compression.threshold as isize;
        o.options.compression.level.0 = isize::from(options.compression.level);
        o.options.compression.kind.0 = match options.compression.kind {
            crate::CompressionKind::Gzip => "gzip",
            crate::CompressionKind::Zlib => "zlib",
            crate::CompressionKind::Lzw => "lzw",
        }
        .into();
    }
    o
}

/// Sends a spawn request whose result answers `r` at `from` (a process or the node's
/// external PID); `parent` and `leader` are what the peer records.
#[allow(clippy::too_many_arguments)]
pub(crate) fn send_spawn(
    node: &Node,
    peer: Atom,
    from: Pid,
    parent: Pid,
    leader: Pid,
    r: Ref,
    name: Atom,
    options: &SpawnOptions,
    args: Vec<Value>,
) -> Result<(), Error> {
    let m = MessageSpawn {
        name,
        options: spawn_options(parent, leader, options, args),
        reference: r,
    };
    send_request(node, peer, from, r, true, m)
}

/// Sends an application start request whose result answers `r` at `from`.
pub(crate) fn send_app_start(
    node: &Node,
    peer: Atom,
    from: Pid,
    core: Pid,
    r: Ref,
    name: Atom,
    mode: Option<ApplicationMode>,
) -> Result<(), Error> {
    let m = MessageApplicationStart {
        name,
        mode: WireMode(match mode {
            None => 0,
            Some(ApplicationMode::Temporary) => 1,
            Some(ApplicationMode::Transient) => 2,
            Some(ApplicationMode::Permanent) => 3,
        }),
        options: ApplicationOptionsExtra {
            core_pid: core,
            ..Default::default()
        },
        reference: r,
    };
    send_request(node, peer, from, r, false, m)
}

/// Sends a request (199) whose `MessageResult` goes to `from` as the response to `r`.
fn send_request<T: ergo_edf::registry::Registered>(
    node: &Node,
    peer: Atom,
    from: Pid,
    r: Ref,
    spawn: bool,
    m: T,
) -> Result<(), Error> {
    let net = node.0.network.get().ok_or(Error::NoConnection(peer))?;
    net.remote.expect_reply(peer, r, from, spawn);
    let sent = net.send_from_outside(peer, true, move |conn: &Conn, buf: &mut Vec<u8>| {
        conn.codec
            .control(0, 0, &m, buf)
            .map(|_| ())
            .map_err(|e| Fail::Network(e.to_string()))
    });
    if let Err(e) = sent {
        net.remote.forget_request(&r);
        return Err(e.into());
    }
    Ok(())
}

impl Node {
    /// This node's network: peers, remote spawn and application start.
    pub fn network(&self) -> Network {
        Network::new(self.clone())
    }
}
