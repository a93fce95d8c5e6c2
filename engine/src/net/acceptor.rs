//! Acceptors: the listening sockets of a node. Each has its own address, TLS, cookie, message
//! size limit, flags and handshake deadline; the registrar announces one route per acceptor
//! (wire spec §4.3).
//!
//! This module binds the sockets and says what each acceptor tells its peers; the accept loop
//! and the handshakes run in the network's control threads (`Network::accept_loop`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use ergo_proto::gen::{NetworkFlags, Route, Version};
use ergo_proto::handshake::LocalNode;

use super::tls::{AcceptorTls, ServerSide, TlsCertificate};
use crate::Error;

/// One acceptor of a node. Everything left `None` is taken from the node's
/// [`NetworkOptions`](crate::NetworkOptions).
///
/// ```
/// # use ergo_engine::{AcceptorOptions, AcceptorTls, NetworkOptions};
/// let mut net = NetworkOptions::new("cookie");
/// // A second acceptor, in TLS with a generated certificate, for another cluster's cookie.
/// net.acceptors.push(AcceptorOptions {
///     tls: AcceptorTls::SelfSigned,
///     cookie: Some("other-cookie".into()),
///     ..AcceptorOptions::default()
/// });
/// ```
#[derive(Debug, Clone)]
pub struct AcceptorOptions {
    /// Where it listens (port 0: any free port).
    pub listen: SocketAddr,
    /// Plain TCP or TLS.
    pub tls: AcceptorTls,
    /// The cookie dialers must know to get in here (`None`: the node's). Note that Go ignores
    /// per-acceptor cookies and always uses its node cookie (wire spec §9.30).
    pub cookie: Option<String>,
    /// Largest frame accepted on connections made through this acceptor (`None`: the node's).
    pub max_message_size: Option<u64>,
    /// Capabilities announced on connections made through this acceptor (`None`: the node's).
    pub flags: Option<NetworkFlags>,
    /// How long each handshake message may take to arrive (`None`: the node's).
    pub handshake_timeout: Option<Duration>,
}

impl AcceptorOptions {
    /// A plain acceptor on `listen`, with the node's settings.
    pub fn new(listen: SocketAddr) -> AcceptorOptions {
        AcceptorOptions {
            listen,
            tls: AcceptorTls::Off,
            cookie: None,
            max_message_size: None,
            flags: None,
            handshake_timeout: None,
        }
    }
}

impl Default for AcceptorOptions {
    /// A plain acceptor on 127.0.0.1, any free port.
    fn default() -> Self {
        AcceptorOptions::new(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0))
    }
}

/// A bound acceptor, as its handshakes need it.
pub(crate) struct Acceptor {
    /// The address actually bound.
    pub(crate) addr: SocketAddr,
    /// What the handshake announces here (the node's, with this acceptor's overrides).
    pub(crate) local: LocalNode,
    pub(crate) tls: Option<ServerSide>,
    pub(crate) handshake_timeout: Duration,
}

impl Acceptor {
    /// Binds `opts` (non-blocking listener) for a node that announces `node`.
    pub(crate) fn bind(
        opts: &AcceptorOptions,
        node: &LocalNode,
        handshake_timeout: Duration,
    ) -> Result<(TcpListener, Acceptor), Error> {
        let cert = match &opts.tls {
            AcceptorTls::Off => None,
            AcceptorTls::SelfSigned => {
                let host = crate::registrar::host_of(node.node)
                    .map_err(|e| Error::Network(e.to_string()))?;
                Some(TlsCertificate::self_signed(&[host]).map_err(tls_err)?)
            }
            AcceptorTls::Certificate(c) => Some(c.clone()),
        };
        let tls = cert
            .as_ref()
            .map(ServerSide::new)
            .transpose()
            .map_err(tls_err)?;
        let mut local = node.clone();
        if let Some(c) = &opts.cookie {
            local.cookie = c.clone();
        }
        if let Some(m) = opts.max_message_size {
            local.max_message_size = m;
        }
        if let Some(f) = opts.flags {
            local.flags = f;
        }
        let listener = TcpListener::bind(opts.listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        Ok((
            listener,
            Acceptor {
                addr,
                local,
                tls,
                handshake_timeout: opts.handshake_timeout.unwrap_or(handshake_timeout),
            },
        ))
    }

    /// The route the registrar announces for this acceptor (Go's shape: empty host, the bound
    /// port, TLS iff there is a certificate, `EHS:R1` and `ENP:R1`).
    pub(crate) fn route(&self) -> Route {
        Route {
            host: String::new(),
            port: self.addr.port(),
            tls: self.tls.is_some(),
            handshake_version: Version::new("EHS", "R1", "MIT"),
            proto_version: Version::new("ENP", "R1", "MIT"),
        }
    }
}

fn tls_err(e: super::tls::TlsError) -> Error {
    Error::Network(e.to_string())
}
