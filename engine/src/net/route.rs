//! Routes to other nodes: static routes configured on the node, and how a route is dialed
//! (plain or TLS, which cookie). The lookup itself (`Network::route`: static routes first, then
//! the registrar) gives the candidates in order; [`Network::dial_peer`] tries them in turn, as
//! Go does.

use std::net::SocketAddr;

use ergo_edf::Atom;
use ergo_proto::handshake::{Established, LocalNode};

use super::handshake_io::{self, DialTls, Ready};
use super::{tls, Network};

/// Where a node's acceptor is and how to talk to it, configured by hand
/// ([`NetworkOptions::routes`](crate::NetworkOptions::routes)); tried before the registrar.
///
/// ```
/// # use ergo_engine::{Atom, NetworkOptions, StaticRoute};
/// let mut net = NetworkOptions::new("cookie");
/// let addr: std::net::SocketAddr = "127.0.0.1:11144".parse().unwrap();
/// net.routes.insert(Atom::new("plain@localhost"), addr.into());
/// net.routes.insert(Atom::new("secure@localhost"), StaticRoute::tls(addr));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticRoute {
    /// The acceptor's address.
    pub addr: SocketAddr,
    /// Whether the acceptor speaks TLS.
    pub tls: bool,
    /// The cookie to use towards this node (`None`: the node's).
    pub cookie: Option<String>,
}

impl StaticRoute {
    /// A plain route.
    pub fn new(addr: SocketAddr) -> StaticRoute {
        StaticRoute {
            addr,
            tls: false,
            cookie: None,
        }
    }

    /// A TLS route.
    pub fn tls(addr: SocketAddr) -> StaticRoute {
        StaticRoute {
            addr,
            tls: true,
            cookie: None,
        }
    }
}

impl From<SocketAddr> for StaticRoute {
    /// A plain route to `addr`.
    fn from(addr: SocketAddr) -> StaticRoute {
        StaticRoute::new(addr)
    }
}

/// One candidate address of a peer, as it is dialed.
#[derive(Debug, Clone)]
pub(crate) struct DialTarget {
    pub(crate) addr: SocketAddr,
    /// The name a verifying TLS dialer checks the certificate against.
    pub(crate) host: String,
    pub(crate) tls: bool,
    pub(crate) cookie: Option<String>,
}

impl DialTarget {
    /// How to wrap a link to this target: `None` for plain TCP; an error for a TLS route when
    /// the dialer has no TLS (networking disabled).
    pub(crate) fn dial_tls<'a>(
        &'a self,
        client: Option<&'a tls::ClientSide>,
    ) -> Result<Option<DialTls<'a>>, String> {
        match (self.tls, client) {
            (false, _) => Ok(None),
            (true, Some(client)) => Ok(Some(DialTls {
                client,
                host: &self.host,
            })),
            (true, None) => Err(format!("{}: TLS is not configured", self.addr)),
        }
    }
}

impl Network {
    /// Dials `peer` through its routes, in order, until one handshake succeeds. Returns the
    /// link and, when the route had its own cookie, what this node announced on it.
    pub(super) fn dial_peer(
        &self,
        peer: Atom,
    ) -> Result<(Ready, Established, Option<LocalNode>, DialTarget), String> {
        let targets = self.route(peer)?;
        let mut errors = Vec::new();
        for t in targets {
            let local = t.cookie.as_ref().map(|c| {
                let mut l = self.local.clone();
                l.cookie = c.clone();
                l
            });
            let tls = match t.dial_tls(self.dial_tls.as_ref()) {
                Ok(tls) => tls,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let me = local.as_ref().unwrap_or(&self.local);
            match handshake_io::dial(t.addr, me, peer, tls, self.options.handshake_timeout) {
                Ok((ready, est)) => return Ok((ready, est, local, t)),
                Err(e) => {
                    let kind = if t.tls { "tls" } else { "tcp" };
                    errors.push(format!("{kind}://{}: {e}", t.addr));
                }
            }
        }
        Err(errors.join("; "))
    }
}
