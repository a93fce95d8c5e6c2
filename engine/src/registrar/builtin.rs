//! The built-in registrar (ESRD R1, wire-spec §4), compatible with Go's as client and as server.
//!
//! The first node on a host becomes the registrar *server*: it binds TCP `127.0.0.1:port` and UDP
//! `0.0.0.0:port` (default 4499). Other nodes register with it over TCP and keep that connection
//! open for their lifetime (closing it unregisters them). Anyone resolves a node over UDP at the
//! registrar of the node's host (the host part of its name). When the server node goes away,
//! the clients notice the closed connection and race to become the server; the losers register
//! with the winner (retrying every second), as Go does.
//!
//! This is control-plane traffic (a handful of packets per node and peer): it runs on its own
//! threads with blocking sockets and deadlines, never on a shard.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use ergo_edf::{errors, Atom, GoError};
use ergo_proto::gen::Route;
use ergo_proto::registrar::{
    MessageRegisterReply, MessageRegisterRoutes, MessageResolveReply, MessageResolveRoutes, Packet,
    RegistrarError,
};
use thiserror::Error;

/// How long a registration read may take (Go: 1 s).
pub const REGISTER_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a resolve waits for its datagram (Go: 3 s).
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);
/// How often a client retries after losing the server (Go: 1 s).
pub const RETRY: Duration = Duration::from_secs(1);
/// How often the server's loops look at their stop flag.
const POLL: Duration = Duration::from_millis(50);

/// Registrar failures.
#[derive(Debug, Error)]
pub enum Error {
    /// Socket trouble.
    #[error("registrar I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A packet that does not parse.
    #[error("registrar packet: {0}")]
    Packet(#[from] RegistrarError),
    /// The registrar answered with an error (e.g. "resource is taken", "unknown").
    #[error("registrar: {0}")]
    Refused(GoError),
    /// An answer of the wrong type.
    #[error("registrar: unexpected reply")]
    Unexpected,
    /// No answer in time.
    #[error("registrar: timed out")]
    Timeout,
    /// The node name has no host part.
    #[error("bad node name {0:?}: must be name@host")]
    BadName(String),
}

/// Where the registrar lives.
#[derive(Debug, Clone)]
pub struct RegistrarOptions {
    /// TCP and UDP port (Go default 4499).
    pub port: u16,
    /// Address the server's TCP listener binds (Go: 127.0.0.1, loopback only).
    pub tcp_host: IpAddr,
    /// Address the server's UDP socket binds (Go: all interfaces).
    pub udp_host: IpAddr,
}

impl Default for RegistrarOptions {
    fn default() -> Self {
        RegistrarOptions {
            port: ergo_proto::registrar::DEFAULT_PORT,
            tcp_host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            udp_host: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        }
    }
}

type Table = Arc<Mutex<HashMap<Atom, Vec<Route>>>>;

struct Server {
    table: Table,
}

struct Shared {
    node: Atom,
    routes: Vec<Route>,
    options: RegistrarOptions,
    stop: AtomicBool,
    server: Mutex<Option<Server>>,
    /// The registration holds: we serve the host, or our registration connection is up.
    registered: AtomicBool,
}

/// This node's registration, kept for its lifetime. Dropping it (or [`Registrar::stop`])
/// unregisters the node; if this node is the server, its clients take over.
pub struct Registrar {
    shared: Arc<Shared>,
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
}

/// The host part of `name@host`.
pub fn host_of(node: Atom) -> Result<&'static str, Error> {
    match node.as_str().split_once('@') {
        Some((n, h)) if !n.is_empty() && !h.is_empty() && !h.contains('@') => Ok(h),
        _ => Err(Error::BadName(node.as_str().to_string())),
    }
}

fn read_packet(stream: &mut TcpStream, max: usize) -> Result<Packet, Error> {
    let mut buf = vec![0u8; max];
    let mut have = 0;
    loop {
        let n = stream.read(&mut buf[have..])?;
        if n == 0 {
            return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        have += n;
        match Packet::decode(&buf[..have]) {
            Ok((p, _)) => return Ok(p),
            Err(RegistrarError::Truncated(_)) if have < max => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

impl Registrar {
    /// Registers `node` with `routes` on its host's registrar, becoming the server if none runs.
    pub fn start(
        node: Atom,
        routes: Vec<Route>,
        options: RegistrarOptions,
    ) -> Result<Registrar, Error> {
        host_of(node)?;
        let shared = Arc::new(Shared {
            node,
            routes,
            options,
            stop: AtomicBool::new(false),
            server: Mutex::new(None),
            registered: AtomicBool::new(false),
        });
        let r = Registrar {
            shared,
            threads: Mutex::new(Vec::new()),
        };
        if !try_serve(&r.shared, &r.threads)? {
            let conn = register(&r.shared)?;
            let (shared, threads) = (r.shared.clone(), Arc::new(Mutex::new(Vec::new())));
            let h = thread::Builder::new()
                .name("registrar-client".into())
                .spawn(move || watch(shared, conn, threads))?;
            r.threads.lock().unwrap_or_else(|e| e.into_inner()).push(h);
        }
        Ok(r)
    }

    /// Whether this node is its host's registrar server now.
    pub fn is_server(&self) -> bool {
        self.shared
            .server
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Whether this node's registration holds now: it serves its host, or its registration
    /// connection to the host's server is up. The health probe's one question to a registrar.
    pub fn is_registered(&self) -> bool {
        self.shared.registered.load(Ordering::Acquire)
    }

    /// Resolves `node`'s routes: from our own table when we serve its host, else over UDP at the
    /// registrar of its host (the host part of its name), waiting at most `timeout`.
    pub fn resolve(&self, node: Atom, timeout: Duration) -> Result<Vec<Route>, Error> {
        if host_of(node)? == host_of(self.shared.node)? {
            if let Some(s) = self
                .shared
                .server
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
            {
                let t = s.table.lock().unwrap_or_else(|e| e.into_inner());
                return t
                    .get(&node)
                    .cloned()
                    .ok_or(Error::Refused(errors::ErrUnknown()));
            }
        }
        resolve(node, self.shared.options.port, timeout)
    }

    /// Unregisters (closes the registration, or stops serving) and joins the threads.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            let _ = t.join();
        }
        *self.shared.server.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.shared.registered.store(false, Ordering::Release);
    }
}

impl Drop for Registrar {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Tries to bind both server sockets; on success serves (threads go to `threads`) and holds
/// this node's own registration in the table.
fn try_serve(
    shared: &Arc<Shared>,
    threads: &Mutex<Vec<thread::JoinHandle<()>>>,
) -> Result<bool, Error> {
    let o = &shared.options;
    let tcp = match TcpListener::bind(SocketAddr::new(o.tcp_host, o.port)) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let udp = match UdpSocket::bind(SocketAddr::new(o.udp_host, o.port)) {
        Ok(u) => u,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    tcp.set_nonblocking(true)?;
    udp.set_read_timeout(Some(POLL))?;
    let table: Table = Arc::new(Mutex::new(HashMap::new()));
    table
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(shared.node, shared.routes.clone());
    *shared.server.lock().unwrap_or_else(|e| e.into_inner()) = Some(Server {
        table: table.clone(),
    });
    shared.registered.store(true, Ordering::Release);
    tracing::info!(node = %shared.node, port = o.port, "registrar: serving this host");
    let (s1, t1) = (shared.clone(), table.clone());
    let (s2, t2) = (shared.clone(), table);
    let mut th = threads.lock().unwrap_or_else(|e| e.into_inner());
    th.push(
        thread::Builder::new()
            .name("registrar-tcp".into())
            .spawn(move || serve_tcp(s1, tcp, t1))?,
    );
    th.push(
        thread::Builder::new()
            .name("registrar-udp".into())
            .spawn(move || serve_udp(s2, udp, t2))?,
    );
    Ok(true)
}

/// Registers with the host's server; returns the connection that holds the registration.
fn register(shared: &Shared) -> Result<TcpStream, Error> {
    let o = &shared.options;
    let mut s = TcpStream::connect_timeout(&SocketAddr::new(o.tcp_host, o.port), REGISTER_TIMEOUT)?;
    s.set_read_timeout(Some(REGISTER_TIMEOUT))?;
    let req = Packet::Register(MessageRegisterRoutes {
        node: shared.node,
        routes: Some(shared.routes.clone()),
    });
    s.write_all(&req.encode()?)?;
    match read_packet(&mut s, 1024)? {
        Packet::RegisterReply(MessageRegisterReply { error: None }) => {
            s.set_read_timeout(Some(POLL))?;
            shared.registered.store(true, Ordering::Release);
            tracing::info!(node = %shared.node, "registrar: registered");
            Ok(s)
        }
        Packet::RegisterReply(MessageRegisterReply { error: Some(e) }) => Err(Error::Refused(e)),
        _ => Err(Error::Unexpected),
    }
}

/// Holds the registration connection; when it closes, takes over as the server or registers
/// again (every [`RETRY`]) until stopped. Server threads it starts are joined at stop.
fn watch(shared: Arc<Shared>, conn: TcpStream, threads: Arc<Mutex<Vec<thread::JoinHandle<()>>>>) {
    let mut conn = Some(conn);
    while !shared.stop.load(Ordering::Relaxed) {
        if let Some(c) = conn.as_mut() {
            let mut b = [0u8; 64];
            match c.read(&mut b) {
                Ok(0) => {
                    tracing::warn!(node = %shared.node, "registrar: lost connection with the registrar");
                    shared.registered.store(false, Ordering::Release);
                    conn = None;
                }
                Ok(_) => {
                    tracing::warn!(node = %shared.node, "registrar: misbehaving server, ignored bytes")
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => {
                    shared.registered.store(false, Ordering::Release);
                    conn = None
                }
            }
            continue;
        }
        match try_serve(&shared, &threads) {
            Ok(true) => break,
            Ok(false) => match register(&shared) {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    tracing::debug!(node = %shared.node, error = %e, "registrar: retrying");
                    thread::sleep(RETRY);
                }
            },
            Err(e) => {
                tracing::debug!(node = %shared.node, error = %e, "registrar: cannot serve, retrying");
                thread::sleep(RETRY);
            }
        }
    }
    let started = std::mem::take(&mut *threads.lock().unwrap_or_else(|e| e.into_inner()));
    for t in started {
        let _ = t.join();
    }
}

/// Resolves `node` over UDP at `<host of node>:port`, one datagram, no retry (as Go).
pub fn resolve(node: Atom, port: u16, timeout: Duration) -> Result<Vec<Route>, Error> {
    let host = host_of(node)?;
    let addr = (host, port)
        .to_socket_addrs()?
        .find(|a| a.is_ipv4())
        .ok_or(Error::Timeout)?;
    let sock = UdpSocket::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0))?;
    sock.set_read_timeout(Some(timeout))?;
    sock.send_to(
        &Packet::Resolve(MessageResolveRoutes { node }).encode()?,
        addr,
    )?;
    let mut buf = [0u8; 4096];
    let n = match sock.recv_from(&mut buf) {
        Ok((n, _)) => n,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            return Err(Error::Timeout)
        }
        Err(e) => return Err(e.into()),
    };
    match Packet::decode(&buf[..n])?.0 {
        Packet::ResolveReply(MessageResolveReply { error: Some(e), .. }) => Err(Error::Refused(e)),
        Packet::ResolveReply(MessageResolveReply {
            routes,
            error: None,
        }) => Ok(routes.unwrap_or_default()),
        _ => Err(Error::Unexpected),
    }
}

fn serve_tcp(shared: Arc<Shared>, listener: TcpListener, table: Table) {
    let mut conns: Vec<thread::JoinHandle<()>> = Vec::new();
    while !shared.stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                let (s, t) = (shared.clone(), table.clone());
                if let Ok(h) = thread::Builder::new()
                    .name("registrar-conn".into())
                    .spawn(move || serve_registration(s, stream, t))
                {
                    conns.push(h);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => thread::sleep(POLL),
            Err(e) => {
                tracing::warn!(error = %e, "registrar: accept failed");
                thread::sleep(POLL);
            }
        }
        conns.retain(|h| !h.is_finished());
    }
    for h in conns {
        let _ = h.join();
    }
}

/// One registration: read it within the deadline, answer, then hold it until the client goes.
fn serve_registration(shared: Arc<Shared>, mut stream: TcpStream, table: Table) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(REGISTER_TIMEOUT));
    let reply = |stream: &mut TcpStream, error: Option<GoError>| {
        if let Ok(b) = Packet::RegisterReply(MessageRegisterReply { error }).encode() {
            let _ = stream.write_all(&b);
        }
    };
    let (node, routes) = match read_packet(&mut stream, 4096) {
        Ok(Packet::Register(MessageRegisterRoutes { node, routes })) => {
            (node, routes.unwrap_or_default())
        }
        Ok(_) | Err(_) => return,
    };
    if routes.is_empty() {
        reply(&mut stream, Some(errors::ErrIncorrect()));
        return;
    }
    {
        let mut t = table.lock().unwrap_or_else(|e| e.into_inner());
        if t.contains_key(&node) {
            drop(t);
            reply(&mut stream, Some(errors::ErrTaken()));
            return;
        }
        t.insert(node, routes);
    }
    reply(&mut stream, None);
    tracing::info!(registered = %node, "registrar: node registered");
    let _ = stream.set_read_timeout(Some(POLL));
    let mut b = [0u8; 256];
    while !shared.stop.load(Ordering::Relaxed) {
        match stream.read(&mut b) {
            Ok(0) => break,
            Ok(_) => {
                tracing::warn!(node = %node, "registrar: misbehavior, bytes after registration ignored")
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    table
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&node);
    tracing::info!(unregistered = %node, "registrar: node unregistered");
}

fn serve_udp(shared: Arc<Shared>, sock: UdpSocket, table: Table) {
    let mut buf = [0u8; 1024];
    while !shared.stop.load(Ordering::Relaxed) {
        let (n, from) = match sock.recv_from(&mut buf) {
            Ok(x) => x,
            Err(_) => continue,
        };
        let Ok((Packet::Resolve(MessageResolveRoutes { node }), _)) = Packet::decode(&buf[..n])
        else {
            continue;
        };
        let routes = table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&node)
            .cloned();
        let reply = match routes {
            Some(r) => MessageResolveReply {
                routes: Some(r),
                error: None,
            },
            None => MessageResolveReply {
                routes: None,
                error: Some(errors::ErrUnknown()),
            },
        };
        if let Ok(b) = Packet::ResolveReply(reply).encode() {
            let _ = sock.send_to(&b, from);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ergo_proto::gen::Version;

    fn route(port: u16) -> Route {
        Route {
            host: String::new(),
            port,
            tls: false,
            handshake_version: Version::new("EHS", "R1", "MIT"),
            proto_version: Version::new("ENP", "R1", "MIT"),
        }
    }

    fn opts(port: u16) -> RegistrarOptions {
        RegistrarOptions {
            port,
            ..Default::default()
        }
    }

    fn free_port() -> u16 {
        // A port free for both TCP and UDP right now.
        loop {
            let t = TcpListener::bind("127.0.0.1:0").unwrap();
            let p = t.local_addr().unwrap().port();
            if UdpSocket::bind(("0.0.0.0", p)).is_ok() {
                return p;
            }
        }
    }

    fn setup() {
        ergo_proto::register_framework_types().unwrap();
    }

    #[test]
    fn first_node_serves_others_register_and_resolve() {
        setup();
        let port = free_port();
        let a = Registrar::start(Atom::new("a@localhost"), vec![route(25001)], opts(port)).unwrap();
        assert!(a.is_server());
        let b = Registrar::start(Atom::new("b@localhost"), vec![route(25002)], opts(port)).unwrap();
        assert!(!b.is_server());
        assert_eq!(
            b.resolve(Atom::new("a@localhost"), RESOLVE_TIMEOUT)
                .unwrap(),
            vec![route(25001)]
        );
        assert_eq!(
            a.resolve(Atom::new("b@localhost"), RESOLVE_TIMEOUT)
                .unwrap(),
            vec![route(25002)]
        );
        assert!(
            matches!(b.resolve(Atom::new("nobody@localhost"), RESOLVE_TIMEOUT), Err(Error::Refused(e)) if e.text() == "unknown")
        );
        // The same name twice is refused.
        let dup = Registrar::start(Atom::new("b@localhost"), vec![route(1)], opts(port));
        assert!(matches!(dup, Err(Error::Refused(e)) if e.text() == "resource is taken"));
        // Stopping b unregisters it.
        b.stop();
        let mut gone = false;
        for _ in 0..100 {
            if matches!(
                a.resolve(Atom::new("b@localhost"), RESOLVE_TIMEOUT),
                Err(Error::Refused(_))
            ) {
                gone = true;
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        assert!(gone, "b is unregistered once its connection closes");
        a.stop();
    }

    #[test]
    fn a_client_takes_over_when_the_server_goes() {
        setup();
        let port = free_port();
        let a = Registrar::start(Atom::new("srv@localhost"), vec![route(1)], opts(port)).unwrap();
        let b = Registrar::start(Atom::new("cli@localhost"), vec![route(2)], opts(port)).unwrap();
        a.stop();
        let mut took_over = false;
        for _ in 0..150 {
            if b.is_server() {
                took_over = true;
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        assert!(took_over, "the remaining node becomes the server");
        let c = Registrar::start(Atom::new("late@localhost"), vec![route(3)], opts(port)).unwrap();
        assert!(!c.is_server());
        assert_eq!(
            c.resolve(Atom::new("cli@localhost"), RESOLVE_TIMEOUT)
                .unwrap(),
            vec![route(2)]
        );
        c.stop();
        b.stop();
    }

    #[test]
    fn answers_go_registrar_traffic_byte_for_byte() {
        setup();
        // A Go client's registration and resolve, as captured (wire-spec §4.3/§4.4).
        let port = free_port();
        let srv =
            Registrar::start(Atom::new("b@localhost"), vec![route(25002)], opts(port)).unwrap();
        let register = Packet::Register(MessageRegisterRoutes {
            node: Atom::new("a@localhost"),
            routes: Some(vec![route(25001)]),
        });
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(&register.encode().unwrap()).unwrap();
        let mut b = [0u8; 128];
        let n = s.read(&mut b).unwrap();
        let mut want = vec![0x01, 0x2d, 0x00, 0x3b, 0x83, 0x00, 0x36];
        want.extend_from_slice(b"#ergo.services/ergo/net/registrar/MessageRegisterReply");
        want.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(&b[..n], &want[..]);
        let got = resolve(Atom::new("a@localhost"), port, RESOLVE_TIMEOUT).unwrap();
        assert_eq!(got, vec![route(25001)]);
        drop(s);
        srv.stop();
    }
}
