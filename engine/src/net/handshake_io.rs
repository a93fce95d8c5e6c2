//! Running the EHS handshake over a blocking TCP socket, on the network control thread.
//!
//! Handshakes are rare (one per link) and bounded by a 1-second deadline per message, as in Go;
//! they run on the control thread with plain blocking sockets, and the established socket is then
//! handed to a shard, whose ring drives it. The bytes a peer sent right after its last handshake
//! message (ENP frames may follow immediately) are returned with the socket.
//!
//! On a TLS link the TLS handshake runs first (there is no STARTTLS: the EHS bytes are the first
//! bytes inside TLS), the EHS handshake binds itself to the acceptor's certificate
//! (`DigestCert`, wire spec §5.2), and the TLS session is returned with the socket: the shard
//! carries on with it.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use ergo_edf::Atom;
use ergo_proto::handshake::{
    self, AcceptStep, Acceptor, Dialer, Established, HandshakeError, JoinDialer, JoinRequest,
    LocalNode, Message, Step,
};
use rustls::{ClientConnection, ServerConnection, StreamOwned};
use thiserror::Error;

use super::tls;

/// Our default per-read handshake deadline. Go uses 1 s; waiting longer for a slow peer costs
/// nothing on the wire and keeps a loaded machine from failing handshakes.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Go's dial timeout.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A handshake over a socket failed; the socket is closed.
#[derive(Debug, Error)]
pub enum LinkError {
    /// Socket trouble (including the 1-second deadline).
    #[error("handshake I/O: {0}")]
    Io(#[from] io::Error),
    /// The protocol said no.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// The acceptor refused the join (no such connection).
    #[error("join refused: no live connection {0}")]
    JoinRefused(String),
    /// The TLS handshake failed (or the peer is not speaking TLS).
    #[error("TLS handshake: {0}")]
    Tls(String),
}

/// How the dialer wraps a link in TLS: the node's client configuration and the name the
/// acceptor's certificate is checked against (when the configuration verifies names).
#[derive(Clone, Copy)]
pub(crate) struct DialTls<'a> {
    pub(crate) client: &'a tls::ClientSide,
    pub(crate) host: &'a str,
}

/// `n` random bytes as lowercase hex (salts: 32 bytes, connection IDs: 16).
pub(crate) fn random_hex(n: usize) -> io::Result<String> {
    let mut b = vec![0u8; n];
    let mut got = 0;
    while got < n {
        // SAFETY: writes at most `n - got` bytes into our live buffer.
        let r = unsafe { libc::getrandom(b[got..].as_mut_ptr().cast(), n - got, 0) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        got += r as usize;
    }
    Ok(handshake::digest::hex_string(&b))
}

/// A link's socket during its handshake: plain, or inside TLS (either side).
enum Stream {
    Plain(TcpStream),
    Client(Box<StreamOwned<ClientConnection, TcpStream>>),
    Server(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Client(s) => s.read(buf),
            Stream::Server(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Client(s) => s.write(buf),
            Stream::Server(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Client(s) => s.flush(),
            Stream::Server(s) => s.flush(),
        }
    }
}

/// Runs a TLS handshake to its end on a blocking socket (bounded by the socket's deadlines).
fn tls_handshake<C, S>(conn: &mut C, s: &mut TcpStream) -> Result<(), LinkError>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<S>>,
    S: rustls::SideData,
{
    while conn.is_handshaking() {
        match conn.complete_io(s) {
            Ok((0, 0)) => {
                return Err(LinkError::Tls(
                    "connection closed during the TLS handshake".into(),
                ))
            }
            Ok(_) => {}
            Err(e) => return Err(tls_error(e)),
        }
    }
    Ok(())
}

/// An I/O error of a TLS handshake: rustls' own errors read as TLS errors.
fn tls_error(e: io::Error) -> LinkError {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(t) => LinkError::Tls(t.to_string()),
        None if e.kind() == io::ErrorKind::UnexpectedEof => {
            LinkError::Tls("connection closed during the TLS handshake".into())
        }
        None => LinkError::Io(e),
    }
}

/// Opens a TLS client session on `s` and completes its handshake. Returns the stream and, when
/// the fingerprint check is on, the SHA-1 of the acceptor's leaf certificate.
fn tls_client(mut s: TcpStream, t: DialTls<'_>) -> Result<(Stream, Option<[u8; 20]>), LinkError> {
    let mut conn = t
        .client
        .connect(t.host)
        .map_err(|e| LinkError::Tls(e.to_string()))?;
    tls_handshake(&mut conn, &mut s)?;
    let fp = if t.client.check_fingerprint {
        let leaf = conn
            .peer_certificates()
            .and_then(|c| c.first())
            .ok_or_else(|| LinkError::Tls("the acceptor sent no certificate".into()))?;
        Some(handshake::digest::cert_fingerprint(leaf))
    } else {
        None
    };
    Ok((Stream::Client(Box::new(StreamOwned::new(conn, s))), fp))
}

/// Reads handshake messages from a socket, keeping what follows the last one.
struct Reader {
    buf: Vec<u8>,
}

impl Reader {
    fn new() -> Reader {
        Reader {
            buf: Vec::with_capacity(8192),
        }
    }

    fn next(&mut self, s: &mut Stream) -> Result<Message, LinkError> {
        loop {
            if let Some((m, n)) = handshake::decode(&self.buf)? {
                self.buf.drain(..n);
                return Ok(m);
            }
            let mut chunk = [0u8; 16384];
            let n = match s.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if matches!(s, Stream::Plain(_)) => return Err(e.into()),
                Err(e) => return Err(tls_error(e)),
            };
            if n == 0 {
                return Err(LinkError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "closed during handshake",
                )));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

fn send(s: &mut Stream, msgs: &[Message]) -> Result<(), LinkError> {
    let mut out = Vec::new();
    for m in msgs {
        handshake::encode(m, &mut out)?;
    }
    s.write_all(&out)?;
    s.flush()?;
    Ok(())
}

fn prepare(s: &TcpStream, deadline: Duration) -> io::Result<()> {
    s.set_read_timeout(Some(deadline))?;
    s.set_write_timeout(Some(deadline))?;
    s.set_nodelay(true)
}

/// A link whose handshake completed: the socket (blocking mode, no deadlines), the bytes
/// already read past the handshake (plaintext), and the TLS session of a TLS link.
pub(crate) struct Ready {
    pub(crate) stream: TcpStream,
    pub(crate) tail: Vec<u8>,
    pub(crate) tls: Option<rustls::Connection>,
}

fn ready(s: Stream, reader: Reader) -> io::Result<Ready> {
    let (stream, tls) = match s {
        Stream::Plain(s) => (s, None),
        Stream::Client(s) => {
            let (conn, sock) = s.into_parts();
            (sock, Some(rustls::Connection::from(conn)))
        }
        Stream::Server(s) => {
            let (conn, sock) = s.into_parts();
            (sock, Some(rustls::Connection::from(conn)))
        }
    };
    let mut tail = reader.buf;
    let mut tls = tls;
    if let Some(conn) = &mut tls {
        // Whatever TLS still holds goes out now (still under the write deadline), and the
        // plaintext it decrypted past the handshake joins the tail. A partial record stays in
        // the session, which the shard feeds on.
        let mut sock = &stream;
        while conn.wants_write() {
            conn.write_tls(&mut sock)?;
        }
        let mut chunk = [0u8; 16384];
        loop {
            match conn.reader().read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => tail.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
    }
    stream.set_read_timeout(None)?;
    stream.set_write_timeout(None)?;
    Ok(Ready { stream, tail, tls })
}

/// Connects to `addr` (in TLS when `tls` says so), with the handshake deadlines set; the TLS
/// certificate's fingerprint, for the digests.
fn open(
    addr: SocketAddr,
    tls: Option<DialTls<'_>>,
    deadline: Duration,
) -> Result<(Stream, Option<[u8; 20]>), LinkError> {
    let s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
    prepare(&s, deadline)?;
    match tls {
        Some(t) => tls_client(s, t),
        None => Ok((Stream::Plain(s), None)),
    }
}

/// Dials `addr` (in TLS when `tls` says so) and runs the full handshake as `me` towards
/// `dialed`.
pub(crate) fn dial(
    addr: SocketAddr,
    me: &LocalNode,
    dialed: Atom,
    tls: Option<DialTls<'_>>,
    deadline: Duration,
) -> Result<(Ready, Established), LinkError> {
    let (mut s, fp) = open(addr, tls, deadline)?;
    let (mut dialer, hello) = Dialer::start(me.clone(), dialed, random_hex(32)?, fp);
    send(&mut s, &[hello])?;
    let mut r = Reader::new();
    loop {
        match dialer.handle(r.next(&mut s)?)? {
            Step::Send(m) => send(&mut s, &m)?,
            Step::Done(m, est) => {
                send(&mut s, &m)?;
                return Ok((ready(s, r)?, *est));
            }
        }
    }
}

/// Opens an extra pool link to `addr` for connection `connection_id` (in TLS when the
/// connection's first link was).
pub(crate) fn join(
    addr: SocketAddr,
    me: &LocalNode,
    connection_id: &str,
    tls: Option<DialTls<'_>>,
    deadline: Duration,
) -> Result<Ready, LinkError> {
    let (mut s, fp) = open(addr, tls, deadline)?;
    let (mut j, msg) = JoinDialer::start(me, connection_id, random_hex(32)?, fp);
    send(&mut s, &[msg])?;
    let mut r = Reader::new();
    j.handle(r.next(&mut s)?)?;
    Ok(ready(s, r)?)
}

/// What an accepted link turned out to be.
pub(crate) enum Accepted {
    /// A new connection.
    Connection(Ready, Box<Established>),
    /// A pool link of an existing connection (already confirmed by `is_live`).
    Join(Ready, JoinRequest),
}

/// Runs the acceptor side on an accepted socket (inside TLS when `tls` is given). `pool_dsn` is
/// where extra links should connect; `is_live(node, id)` says whether a join targets a live
/// connection of ours.
pub(crate) fn accept(
    s: TcpStream,
    me: &LocalNode,
    pool_size: usize,
    pool_dsn: Vec<String>,
    is_live: impl Fn(Atom, &str) -> bool,
    tls: Option<&tls::ServerSide>,
    deadline: Duration,
) -> Result<Accepted, LinkError> {
    prepare(&s, deadline)?;
    let (mut s, fp) = match tls {
        Some(t) => {
            let mut s = s;
            let mut conn = ServerConnection::new(t.config.clone())
                .map_err(|e| LinkError::Tls(e.to_string()))?;
            tls_handshake(&mut conn, &mut s)?;
            (
                Stream::Server(Box::new(StreamOwned::new(conn, s))),
                Some(t.fingerprint),
            )
        }
        None => (Stream::Plain(s), None),
    };
    let mut acceptor = Acceptor::new(
        me.clone(),
        random_hex(32)?,
        random_hex(16)?,
        pool_size,
        pool_dsn,
        fp,
    );
    let mut r = Reader::new();
    loop {
        match acceptor.handle(r.next(&mut s)?)? {
            AcceptStep::Join(req) => {
                if !is_live(req.node, &req.connection_id) {
                    return Err(LinkError::JoinRefused(req.connection_id));
                }
                send(&mut s, &[Message::Accept(req.reply.clone())])?;
                return Ok(Accepted::Join(ready(s, r)?, req));
            }
            AcceptStep::Step(Step::Send(m)) => send(&mut s, &m)?,
            AcceptStep::Step(Step::Done(m, est)) => {
                send(&mut s, &m)?;
                return Ok(Accepted::Connection(ready(s, r)?, est));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// Generous deadlines: these tests run beside others on a loaded 2-core machine.
    const T: Duration = Duration::from_secs(20);

    fn node(name: &str, cookie: &str) -> LocalNode {
        ergo_proto::register_framework_types().unwrap();
        LocalNode::new(Atom::new(name), 1_700_000_000, cookie)
    }

    #[test]
    fn dialer_and_acceptor_of_ours_over_loopback_tcp_with_a_join() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let a = node("acc@localhost", "c00kie");
        let d = node("dial@localhost", "c00kie");
        let server = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let Accepted::Connection(mut ready, est) =
                accept(s, &a, 3, vec![addr.to_string()], |_, _| false, None, T).unwrap()
            else {
                panic!("expected a connection")
            };
            let id = est.connection_id.clone();
            // A frame sent right after the handshake arrives intact: part of it may already
            // have been read with the handshake (the tail).
            let mut got = ready.tail.clone();
            while got.len() < 4 {
                let mut b = [0u8; 4];
                let n = ready.stream.read(&mut b[..4 - got.len()]).unwrap();
                assert!(n > 0, "closed");
                got.extend_from_slice(&b[..n]);
            }
            assert_eq!(&got, b"ENP!");
            let (s2, _) = l.accept().unwrap();
            let Accepted::Join(_, req) = accept(
                s2,
                &a,
                3,
                vec![],
                |n, c| n == Atom::new("dial@localhost") && c == id,
                None,
                T,
            )
            .unwrap() else {
                panic!("expected a join")
            };
            assert_eq!(req.connection_id, est.connection_id);
            est.peer.node()
        });
        let (mut ready, est) = dial(addr, &d, Atom::new("acc@localhost"), None, T).unwrap();
        assert_eq!(est.pool_size, 3);
        assert_eq!(est.pool_dsn, vec![addr.to_string()]);
        ready.stream.write_all(b"ENP!").unwrap();
        let _j = join(addr, &d, &est.connection_id, None, T).unwrap();
        assert_eq!(server.join().unwrap(), Atom::new("dial@localhost"));
    }

    #[test]
    fn a_wrong_cookie_or_a_dead_connection_is_refused() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let a = node("acc2@localhost", "right");
        let d = node("dial2@localhost", "wrong");
        let server = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let r1 = accept(s, &a, 3, vec![], |_, _| false, None, T)
                .err()
                .map(|e| e.to_string());
            let (s, _) = l.accept().unwrap();
            let r2 = accept(s, &a, 3, vec![], |_, _| false, None, T)
                .err()
                .map(|e| e.to_string());
            (r1, r2)
        });
        assert!(dial(addr, &d, Atom::new("acc2@localhost"), None, T).is_err());
        assert!(join(
            addr,
            &node("dial2@localhost", "right"),
            "00000000000000000000000000000000",
            None,
            T
        )
        .is_err());
        let (r1, r2) = server.join().unwrap();
        assert!(r1.unwrap().contains("digest mismatch"));
        assert!(r2.unwrap().contains("join refused"));
    }

    fn client(check_fingerprint: bool) -> tls::ClientSide {
        tls::ClientSide::new(&tls::TlsDialOptions {
            roots: None,
            check_fingerprint,
        })
        .unwrap()
    }

    fn server(fingerprint: Option<[u8; 20]>) -> tls::ServerSide {
        let cert = tls::TlsCertificate::self_signed(&["localhost"]).unwrap();
        let mut s = tls::ServerSide::new(&cert).unwrap();
        if let Some(fp) = fingerprint {
            s.fingerprint = fp;
        }
        s
    }

    /// Reads `n` plaintext bytes from a link handed over after its TLS handshake.
    fn read_plain(ready: &mut Ready, n: usize) -> Vec<u8> {
        let mut got = std::mem::take(&mut ready.tail);
        let conn = ready.tls.as_mut().expect("a TLS link");
        while got.len() < n {
            let mut chunk = [0u8; 4096];
            match conn.reader().read(&mut chunk) {
                Ok(k) => got.extend_from_slice(&chunk[..k]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    assert!(conn.read_tls(&mut ready.stream).unwrap() > 0, "closed");
                    conn.process_new_packets().unwrap();
                }
                Err(e) => panic!("{e}"),
            }
        }
        got
    }

    fn write_plain(ready: &mut Ready, bytes: &[u8]) {
        let conn = ready.tls.as_mut().expect("a TLS link");
        conn.writer().write_all(bytes).unwrap();
        while conn.wants_write() {
            conn.write_tls(&mut ready.stream).unwrap();
        }
    }

    #[test]
    fn full_handshake_and_join_inside_tls_carry_the_session_and_the_tail() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let a = node("tacc@localhost", "c00kie");
        let d = node("tdial@localhost", "c00kie");
        let srv = server(None);
        let server = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let Accepted::Connection(mut ready, est) = accept(
                s,
                &a,
                3,
                vec![addr.to_string()],
                |_, _| false,
                Some(&srv),
                T,
            )
            .unwrap() else {
                panic!("expected a connection")
            };
            assert_eq!(read_plain(&mut ready, 4), b"ENP!");
            write_plain(&mut ready, b"pong");
            let id = est.connection_id.clone();
            let (s2, _) = l.accept().unwrap();
            let Accepted::Join(mut j, req) =
                accept(s2, &a, 3, vec![], |_, c| c == id, Some(&srv), T).unwrap()
            else {
                panic!("expected a join")
            };
            assert!(j.tls.is_some());
            assert_eq!(read_plain(&mut j, 5), b"join!");
            (req.connection_id, ready)
        });
        let c = client(true);
        let t = DialTls {
            client: &c,
            host: "localhost",
        };
        let (mut ready, est) = dial(addr, &d, Atom::new("tacc@localhost"), Some(t), T).unwrap();
        assert!(ready.tls.is_some(), "the session moves with the socket");
        write_plain(&mut ready, b"ENP!");
        assert_eq!(read_plain(&mut ready, 4), b"pong");
        let mut j = join(addr, &d, &est.connection_id, Some(t), T).unwrap();
        write_plain(&mut j, b"join!");
        let (id, _keep) = server.join().unwrap();
        assert_eq!(id, est.connection_id);
    }

    #[test]
    fn a_cert_digest_that_does_not_match_the_certificate_fails_the_dial_and_the_join() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let a = node("tacc2@localhost", "c00kie");
        let d = node("tdial2@localhost", "c00kie");
        // The acceptor binds its digests to some other certificate's fingerprint.
        let srv = server(Some([7; 20]));
        let server = std::thread::spawn(move || {
            let mut outcomes = Vec::new();
            for _ in 0..3 {
                let (s, _) = l.accept().unwrap();
                outcomes.push(
                    accept(s, &a, 3, vec![], |_, _| true, Some(&srv), T)
                        .err()
                        .map(|e| e.to_string()),
                );
            }
            outcomes
        });
        let checking = client(true);
        let t = DialTls {
            client: &checking,
            host: "localhost",
        };
        let e = dial(addr, &d, Atom::new("tacc2@localhost"), Some(t), T)
            .err()
            .expect("the dial fails");
        assert!(e.to_string().contains("certificate digest mismatch"), "{e}");
        let e = join(addr, &d, "0123456789abcdef0123456789abcdef", Some(t), T)
            .err()
            .expect("the join fails");
        assert!(e.to_string().contains("certificate digest mismatch"), "{e}");
        // With the check off (an option), the same acceptor is accepted.
        let trusting = client(false);
        let t = DialTls {
            client: &trusting,
            host: "localhost",
        };
        dial(addr, &d, Atom::new("tacc2@localhost"), Some(t), T).unwrap();
        server.join().unwrap();
    }

    #[test]
    fn plain_and_tls_do_not_mix() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let a = node("tacc3@localhost", "c00kie");
        let d = node("tdial3@localhost", "c00kie");
        let srv = server(None);
        let server = std::thread::spawn(move || {
            // A plain dialer at a TLS acceptor, then a TLS dialer at a plain acceptor.
            let (s, _) = l.accept().unwrap();
            let r1 = accept(s, &a, 3, vec![], |_, _| false, Some(&srv), T)
                .err()
                .map(|e| e.to_string());
            let (s, _) = l.accept().unwrap();
            let r2 = accept(s, &a, 3, vec![], |_, _| false, None, T)
                .err()
                .map(|e| e.to_string());
            (r1, r2)
        });
        assert!(dial(addr, &d, Atom::new("tacc3@localhost"), None, T).is_err());
        let c = client(true);
        let t = DialTls {
            client: &c,
            host: "localhost",
        };
        let e = dial(addr, &d, Atom::new("tacc3@localhost"), Some(t), T)
            .err()
            .expect("no TLS there");
        assert!(e.to_string().contains("TLS"), "{e}");
        let (r1, r2) = server.join().unwrap();
        assert!(r1.unwrap().contains("TLS handshake"));
        assert!(r2.is_some());
    }
}
