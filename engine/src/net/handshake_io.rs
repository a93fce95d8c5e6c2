//! Running the EHS handshake over a blocking TCP socket, on the network control thread.
//!
//! Handshakes are rare (one per link) and bounded by a 1-second deadline per message, as in Go;
//! they run on the control thread with plain blocking sockets, and the established socket is then
//! handed to a shard, whose ring drives it. The bytes a peer sent right after its last handshake
//! message (ENP frames may follow immediately) are returned with the socket.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use ergo_edf::Atom;
use ergo_proto::handshake::{
    self, AcceptStep, Acceptor, Dialer, Established, HandshakeError, JoinDialer, JoinRequest,
    LocalNode, Message, Step,
};
use thiserror::Error;

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

    fn next(&mut self, s: &mut TcpStream) -> Result<Message, LinkError> {
        loop {
            if let Some((m, n)) = handshake::decode(&self.buf)? {
                self.buf.drain(..n);
                return Ok(m);
            }
            let mut chunk = [0u8; 16384];
            let n = s.read(&mut chunk)?;
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

fn send(s: &mut TcpStream, msgs: &[Message]) -> Result<(), LinkError> {
    let mut out = Vec::new();
    for m in msgs {
        handshake::encode(m, &mut out)?;
    }
    s.write_all(&out)?;
    Ok(())
}

fn prepare(s: &TcpStream, deadline: Duration) -> io::Result<()> {
    s.set_read_timeout(Some(deadline))?;
    s.set_write_timeout(Some(deadline))?;
    s.set_nodelay(true)
}

/// A link whose handshake completed: the socket (blocking mode, no deadlines) and the bytes
/// already read past the handshake.
pub(crate) struct Ready {
    pub(crate) stream: TcpStream,
    pub(crate) tail: Vec<u8>,
}

fn ready(stream: TcpStream, reader: Reader) -> io::Result<Ready> {
    stream.set_read_timeout(None)?;
    stream.set_write_timeout(None)?;
    Ok(Ready {
        stream,
        tail: reader.buf,
    })
}

/// Dials `addr` and runs the full handshake as `me` towards `dialed`.
pub(crate) fn dial(
    addr: SocketAddr,
    me: &LocalNode,
    dialed: Atom,
    deadline: Duration,
) -> Result<(Ready, Established), LinkError> {
    let mut s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
    prepare(&s, deadline)?;
    let (mut dialer, hello) = Dialer::start(me.clone(), dialed, random_hex(32)?, None);
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

/// Opens an extra pool link to `addr` for connection `connection_id`. (The node opens one link
/// per connection for now, which Go accepts; pools are the next step.)
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn join(
    addr: SocketAddr,
    me: &LocalNode,
    connection_id: &str,
    deadline: Duration,
) -> Result<Ready, LinkError> {
    let mut s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
    prepare(&s, deadline)?;
    let (mut j, msg) = JoinDialer::start(me, connection_id, random_hex(32)?, None);
    send(&mut s, &[msg])?;
    let mut r = Reader::new();
    j.handle(r.next(&mut s)?)?;
    Ok(ready(s, r)?)
}

/// What an accepted link turned out to be.
pub(crate) enum Accepted {
    /// A new connection.
    Connection(Ready, Box<Established>),
    /// A pool link of an existing connection (already confirmed by `is_live`). Our acceptor
    /// announces a pool of one link, so only other implementations' dialers join.
    #[allow(dead_code)]
    Join(Ready, JoinRequest),
}

/// Runs the acceptor side on an accepted socket. `pool_dsn` is where extra links should
/// connect; `is_live(node, id)` says whether a join targets a live connection of ours.
pub(crate) fn accept(
    mut s: TcpStream,
    me: &LocalNode,
    pool_size: usize,
    pool_dsn: Vec<String>,
    is_live: impl Fn(Atom, &str) -> bool,
    deadline: Duration,
) -> Result<Accepted, LinkError> {
    prepare(&s, deadline)?;
    let mut acceptor = Acceptor::new(
        me.clone(),
        random_hex(32)?,
        random_hex(16)?,
        pool_size,
        pool_dsn,
        None,
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
                accept(s, &a, 3, vec![addr.to_string()], |_, _| false, T).unwrap()
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
                T,
            )
            .unwrap() else {
                panic!("expected a join")
            };
            assert_eq!(req.connection_id, est.connection_id);
            est.peer.node()
        });
        let (mut ready, est) = dial(addr, &d, Atom::new("acc@localhost"), T).unwrap();
        assert_eq!(est.pool_size, 3);
        assert_eq!(est.pool_dsn, vec![addr.to_string()]);
        ready.stream.write_all(b"ENP!").unwrap();
        let _j = join(addr, &d, &est.connection_id, T).unwrap();
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
            let r1 = accept(s, &a, 3, vec![], |_, _| false, T)
                .err()
                .map(|e| e.to_string());
            let (s, _) = l.accept().unwrap();
            let r2 = accept(s, &a, 3, vec![], |_, _| false, T)
                .err()
                .map(|e| e.to_string());
            (r1, r2)
        });
        assert!(dial(addr, &d, Atom::new("acc2@localhost"), T).is_err());
        assert!(join(
            addr,
            &node("dial2@localhost", "right"),
            "00000000000000000000000000000000",
            T
        )
        .is_err());
        let (r1, r2) = server.join().unwrap();
        assert!(r1.unwrap().contains("digest mismatch"));
        assert!(r2.unwrap().contains("join refused"));
    }
}
