//! Socket I/O of a shard's network links, on the shard's io_uring ring.
//!
//! Each link has a receive buffer the kernel reads into (one `Recv` in flight at a time) and two
//! write buffers: frames are appended to the *pending* one at any time; once per loop iteration
//! [`LinkIo::submit`] swaps it with the *in-flight* one and submits a single `Send` for all of it.
//! So a shard issues at most one send per link per iteration, however many frames it carries.
//!
//! Memory the kernel writes into or reads from is never moved or freed while an operation is in
//! flight: the buffers live on the heap (the slab may move the `Link` structs, not their buffers),
//! the receive buffer is only handed to the caller between a completion and the next submit, and
//! buffers of operations still in flight when `LinkIo` is dropped are leaked, not freed.
//!
//! A TLS link carries its rustls session. The kernel then reads ciphertext into a separate
//! buffer, which is fed to the session as soon as the read completes; the plaintext is appended
//! to the receive buffer, so callers see the same frames as on a plain link. Frames appended to
//! the pending buffer are plaintext too: at submit time they go through the session and its
//! records are written into the in-flight buffer (still one `Send` per link per iteration).
//! Plain links keep the zero-extra-copy path. A TLS error, or the peer's `close_notify`, closes
//! the link after the plaintext received before it has been handed on; a local close sends a
//! `close_notify` when no send is in flight.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};

use bytes::BytesMut;
use io_uring::{opcode, squeue, types, IoUring};

/// Top byte of the `user_data` of every network operation.
const TAG: u64 = 0x4e << 56;
const OP_RECV: u64 = 1 << 48;
const OP_SEND: u64 = 2 << 48;
const OP_MASK: u64 = 0xff << 48;
const ID_MASK: u64 = (1 << 48) - 1;

/// Whether a completion belongs to the network driver.
#[inline]
pub(crate) fn is_net(user_data: u64) -> bool {
    user_data & (0xff << 56) == TAG
}

/// A link's index in its shard's [`LinkIo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct LinkId(pub(crate) usize);

/// What a completion meant.
#[derive(Debug)]
pub(crate) enum LinkEvent {
    /// Bytes were appended to the link's receive buffer.
    Received(LinkId),
    /// The link is gone (peer closed, error, or [`LinkIo::close`]); its slot is free once every
    /// operation in flight has completed.
    Closed(LinkId, io::Error),
}

struct Link {
    fd: OwnedFd,
    rbuf: BytesMut,
    recv_pending: bool,
    /// Received frames are waiting to be handled: no read is armed until they are.
    hold: bool,
    pending: Vec<u8>,
    inflight: Vec<u8>,
    sent: usize,
    send_pending: bool,
    closed: bool,
    /// Whether `Closed` was reported.
    reported: bool,
    bytes_out: u64,
    sends: u64,
    bytes_in: u64,
    frames_in: u64,
    /// A TLS link's session and ciphertext buffer (`rbuf` and `pending` hold plaintext).
    tls: Option<Box<TlsLink>>,
}

/// The TLS state of a link.
struct TlsLink {
    session: rustls::Connection,
    /// What the kernel reads into (ciphertext); emptied into the session after every read.
    cbuf: Vec<u8>,
}

impl TlsLink {
    /// Feeds the ciphertext just read to the session and appends the plaintext to `plain`.
    /// Returns whether the peer closed the session (`close_notify`).
    fn open(&mut self, plain: &mut BytesMut) -> Result<bool, String> {
        let mut data = &self.cbuf[..];
        let mut closed = false;
        while !data.is_empty() {
            let n = self
                .session
                .read_tls(&mut data)
                .map_err(|e| format!("TLS: {e}"))?;
            let state = self
                .session
                .process_new_packets()
                .map_err(|e| format!("TLS: {e}"))?;
            let avail = state.plaintext_bytes_to_read();
            if avail > 0 {
                let at = plain.len();
                plain.resize(at + avail, 0);
                self.session
                    .reader()
                    .read_exact(&mut plain[at..])
                    .map_err(|e| format!("TLS: {e}"))?;
            }
            if state.peer_has_closed() {
                closed = true;
                break;
            }
            if n == 0 {
                return Err("TLS: the session takes no more data".into());
            }
        }
        self.cbuf.clear();
        Ok(closed)
    }

    /// Encrypts `plain` (emptied) and appends the records, and anything else the session has
    /// to send, to `out`.
    fn seal(&mut self, plain: &mut Vec<u8>, out: &mut Vec<u8>) -> io::Result<()> {
        let mut at = 0;
        loop {
            while self.session.wants_write() {
                self.session.write_tls(out)?;
            }
            if at == plain.len() {
                break;
            }
            let n = self.session.writer().write(&plain[at..])?;
            if n == 0 {
                return Err(io::Error::other("the TLS session takes no more data"));
            }
            at += n;
        }
        plain.clear();
        Ok(())
    }
}

/// Per-link figures (bytes and sends: the frames-per-send figure of the benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LinkStats {
    /// Bytes handed to the kernel.
    pub(crate) bytes_out: u64,
    /// `Send` operations submitted.
    pub(crate) sends: u64,
    /// Bytes the kernel handed us (ciphertext on a TLS link).
    pub(crate) bytes_in: u64,
    /// Frames cut from what was received.
    pub(crate) frames_in: u64,
}

/// The network links of one shard.
pub(crate) struct LinkIo {
    links: Vec<Option<Link>>,
    free: Vec<usize>,
    chunk: usize,
}

fn push(ring: &mut IoUring, e: &squeue::Entry) -> io::Result<()> {
    loop {
        // SAFETY: every entry pushed here points into a buffer owned by a `Link` that is neither
        // moved nor freed until its completion arrives (see the module docs).
        if unsafe { ring.submission().push(e) }.is_ok() {
            return Ok(());
        }
        // The submission queue is full: hand it to the kernel and retry.
        ring.submit()?;
    }
}

impl LinkIo {
    /// Links whose receive buffers grow by `chunk` bytes per read.
    pub(crate) fn new(chunk: usize) -> LinkIo {
        LinkIo {
            links: Vec::new(),
            free: Vec::new(),
            chunk: chunk.max(4096),
        }
    }

    /// Takes ownership of a connected socket, with its TLS session if it is a TLS link.
    pub(crate) fn insert(&mut self, fd: OwnedFd, tls: Option<rustls::Connection>) -> LinkId {
        let tls = tls.map(|session| {
            Box::new(TlsLink {
                session,
                cbuf: Vec::with_capacity(self.chunk),
            })
        });
        let link = Link {
            fd,
            rbuf: BytesMut::with_capacity(self.chunk),
            recv_pending: false,
            hold: false,
            pending: Vec::with_capacity(self.chunk),
            inflight: Vec::with_capacity(self.chunk),
            sent: 0,
            send_pending: false,
            closed: false,
            reported: false,
            bytes_out: 0,
            sends: 0,
            bytes_in: 0,
            frames_in: 0,
            tls,
        };
        match self.free.pop() {
            Some(i) => {
                self.links[i] = Some(link);
                LinkId(i)
            }
            None => {
                self.links.push(Some(link));
                LinkId(self.links.len() - 1)
            }
        }
    }

    fn get(&mut self, id: LinkId) -> Option<&mut Link> {
        self.links.get_mut(id.0).and_then(Option::as_mut)
    }

    /// Where frames for this link are appended (sent at the next [`LinkIo::submit`]).
    /// `None` once the link is closed.
    pub(crate) fn write_buf(&mut self, id: LinkId) -> Option<&mut Vec<u8>> {
        self.get(id).filter(|l| !l.closed).map(|l| &mut l.pending)
    }

    /// The received bytes (plaintext on a TLS link) not consumed yet; `None` while the kernel
    /// owns the buffer. Consume frames with `split_to`; what is left is kept for the next read.
    pub(crate) fn received(&mut self, id: LinkId) -> Option<&mut BytesMut> {
        self.get(id)
            .filter(|l| !l.recv_pending || l.tls.is_some())
            .map(|l| &mut l.rbuf)
    }

    /// Stops (`true`) or resumes arming reads on a link: while the frames already received
    /// wait to be handled, nothing more is read (TCP pushes back on the sender).
    pub(crate) fn hold(&mut self, id: LinkId, on: bool) {
        if let Some(l) = self.get(id) {
            l.hold = on;
        }
    }

    /// Whether a link runs TLS.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn is_tls(&self, id: LinkId) -> Option<bool> {
        self.links.get(id.0)?.as_ref().map(|l| l.tls.is_some())
    }

    /// Figures of a link.
    pub(crate) fn stats(&self, id: LinkId) -> Option<LinkStats> {
        self.links.get(id.0)?.as_ref().map(|l| LinkStats {
            bytes_out: l.bytes_out,
            sends: l.sends,
            bytes_in: l.bytes_in,
            frames_in: l.frames_in,
        })
    }

    /// Counts `n` frames cut from a link's received bytes.
    pub(crate) fn count_frames_in(&mut self, id: LinkId, n: usize) {
        if let Some(l) = self.get(id) {
            l.frames_in += n as u64;
        }
    }

    /// Arms a read on every link without one, and sends every link's pending bytes (one
    /// `Send` per link). Returns how many operations were queued; the caller submits the ring.
    pub(crate) fn submit(
        &mut self,
        ring: &mut IoUring,
        events: &mut Vec<LinkEvent>,
    ) -> io::Result<usize> {
        let mut n = 0;
        let chunk = self.chunk;
        for i in 0..self.links.len() {
            let Some(l) = &mut self.links[i] else {
                continue;
            };
            if l.closed {
                // A closed link is freed here once the kernel holds none of its buffers (also
                // one closed with nothing in flight, which no completion would reclaim): its
                // `Closed` event, and the frames read before it, were handled this iteration.
                self.reclaim(i);
                continue;
            }
            let fd = types::Fd(l.fd.as_raw_fd());
            if !l.recv_pending && !l.hold {
                let (ptr, len) = match &mut l.tls {
                    None => {
                        if l.rbuf.capacity() - l.rbuf.len() < chunk / 4 {
                            l.rbuf.reserve(chunk);
                        }
                        let spare = l.rbuf.spare_capacity_mut();
                        (spare.as_mut_ptr(), spare.len())
                    }
                    Some(t) => {
                        t.cbuf.clear();
                        t.cbuf.reserve(chunk);
                        let spare = t.cbuf.spare_capacity_mut();
                        (spare.as_mut_ptr(), spare.len())
                    }
                };
                let e = opcode::Recv::new(fd, ptr.cast(), len as u32)
                    .build()
                    .user_data(TAG | OP_RECV | i as u64);
                push(ring, &e)?;
                l.recv_pending = true;
                n += 1;
            }
            let tls_out = l.tls.as_ref().is_some_and(|t| t.session.wants_write());
            if !l.send_pending && (!l.pending.is_empty() || tls_out) {
                match &mut l.tls {
                    None => std::mem::swap(&mut l.pending, &mut l.inflight),
                    Some(t) => {
                        l.inflight.clear();
                        if let Err(e) = t.seal(&mut l.pending, &mut l.inflight) {
                            // Cannot happen with a `Vec` as output; if it did, the link dies as
                            // on any socket error.
                            let e = io::Error::other(format!("TLS: cannot encrypt: {e}"));
                            Self::fail(l, LinkId(i), e, events);
                            continue;
                        }
                        if l.inflight.is_empty() {
                            continue;
                        }
                    }
                }
                l.sent = 0;
                let e = opcode::Send::new(fd, l.inflight.as_ptr(), l.inflight.len() as u32)
                    .flags(libc::MSG_NOSIGNAL)
                    .build()
                    .user_data(TAG | OP_SEND | i as u64);
                push(ring, &e)?;
                l.send_pending = true;
                l.sends += 1;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Handles one completion of this driver's (see [`is_net`]).
    pub(crate) fn complete(
        &mut self,
        ring: &mut IoUring,
        user_data: u64,
        result: i32,
        events: &mut Vec<LinkEvent>,
    ) {
        let i = (user_data & ID_MASK) as usize;
        let Some(Some(l)) = self.links.get_mut(i) else {
            return;
        };
        let id = LinkId(i);
        match user_data & OP_MASK {
            OP_RECV => {
                l.recv_pending = false;
                if result > 0 {
                    l.bytes_in += result as u64;
                }
                if result > 0 && l.tls.is_some() {
                    if Self::received_tls(l, id, result as usize, events) {
                        // Keep the slot until the plaintext is handed on: the `Closed` handler
                        // does that, and `submit` frees the slot after it.
                        return;
                    }
                } else if result > 0 {
                    // SAFETY: the kernel initialised `result` bytes of the spare capacity.
                    unsafe { l.rbuf.set_len(l.rbuf.len() + result as usize) };
                    if !l.closed {
                        events.push(LinkEvent::Received(id));
                    }
                } else if result == -libc::EAGAIN || result == -libc::EINTR {
                    // Nothing read; the next submit re-arms.
                } else {
                    let err = if result == 0 {
                        io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed by peer")
                    } else {
                        io::Error::from_raw_os_error(-result)
                    };
                    Self::fail(l, id, err, events);
                }
            }
            OP_SEND => {
                l.send_pending = false;
                let retry = result == -libc::EAGAIN || result == -libc::EINTR;
                if result >= 0 {
                    l.sent += result as usize;
                    l.bytes_out += result as u64;
                }
                if result >= 0 && (l.sent >= l.inflight.len() || l.closed) {
                    l.inflight.clear();
                    l.sent = 0;
                } else if result >= 0 || retry {
                    // A short send (or EAGAIN): the rest goes now, ahead of anything newer.
                    if Self::send_rest(ring, l, i).is_err() {
                        Self::fail(l, id, io::Error::other("submission failed"), events);
                    }
                } else {
                    Self::fail(l, id, io::Error::from_raw_os_error(-result), events);
                }
            }
            _ => {}
        }
        self.reclaim(i);
    }

    /// A read of `n` ciphertext bytes completed on a TLS link: decrypt them into the receive
    /// buffer. Returns whether the link closed with plaintext still to hand on.
    fn received_tls(l: &mut Link, id: LinkId, n: usize, events: &mut Vec<LinkEvent>) -> bool {
        let Some(t) = l.tls.as_mut() else {
            return false;
        };
        // SAFETY: the kernel initialised `n` bytes of the spare capacity of the buffer, which
        // was empty when the read was armed.
        unsafe { t.cbuf.set_len(n) };
        if l.closed {
            return false;
        }
        let before = l.rbuf.len();
        let outcome = t.open(&mut l.rbuf);
        let got = l.rbuf.len() > before;
        let closed = match outcome {
            Ok(false) => None,
            Ok(true) => Some(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "peer closed the TLS session (close_notify)",
            )),
            Err(e) => Some(io::Error::new(io::ErrorKind::InvalidData, e)),
        };
        match closed {
            None => {
                if got {
                    events.push(LinkEvent::Received(id));
                }
                false
            }
            Some(err) => {
                // Events are handled last-in first-out: the plaintext first, then the close.
                Self::fail(l, id, err, events);
                if got {
                    events.push(LinkEvent::Received(id));
                }
                got
            }
        }
    }

    /// Submits a send of the part of the in-flight buffer not sent yet.
    fn send_rest(ring: &mut IoUring, l: &mut Link, i: usize) -> io::Result<()> {
        let rest = &l.inflight[l.sent..];
        let e = opcode::Send::new(
            types::Fd(l.fd.as_raw_fd()),
            rest.as_ptr(),
            rest.len() as u32,
        )
        .flags(libc::MSG_NOSIGNAL)
        .build()
        .user_data(TAG | OP_SEND | i as u64);
        push(ring, &e)?;
        l.send_pending = true;
        l.sends += 1;
        Ok(())
    }

    fn fail(l: &mut Link, id: LinkId, err: io::Error, events: &mut Vec<LinkEvent>) {
        if !l.closed {
            l.closed = true;
            // Make any other operation in flight complete now.
            // SAFETY: plain syscall on a descriptor we own.
            unsafe { libc::shutdown(l.fd.as_raw_fd(), libc::SHUT_RDWR) };
        }
        if !l.reported {
            l.reported = true;
            events.push(LinkEvent::Closed(id, err));
        }
    }

    /// Frees a closed link's slot once the kernel holds none of its buffers.
    fn reclaim(&mut self, i: usize) {
        if let Some(Some(l)) = self.links.get(i) {
            if l.closed && !l.recv_pending && !l.send_pending {
                self.links[i] = None;
                self.free.push(i);
            }
        }
    }

    /// Closes a link: pending bytes are dropped, operations in flight are cut short, and a
    /// `Closed` event follows (now if nothing is in flight).
    pub(crate) fn close(&mut self, id: LinkId, events: &mut Vec<LinkEvent>) {
        if let Some(l) = self.get(id) {
            if !l.closed && !l.send_pending {
                if let Some(t) = &mut l.tls {
                    // Best effort, never blocking: tell the peer the session ends.
                    t.session.send_close_notify();
                    let mut out = Vec::new();
                    while t.session.wants_write() && t.session.write_tls(&mut out).is_ok() {}
                    // SAFETY: sends from a live buffer on a descriptor we own; no send of ours
                    // is in flight, so the stream is not interleaved.
                    unsafe {
                        libc::send(
                            l.fd.as_raw_fd(),
                            out.as_ptr().cast(),
                            out.len(),
                            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                        )
                    };
                }
            }
            Self::fail(
                l,
                id,
                io::Error::new(io::ErrorKind::ConnectionAborted, "closed locally"),
                events,
            );
        }
        self.reclaim(id.0);
    }

    /// Links in use (including closed ones waiting for their operations).
    pub(crate) fn len(&self) -> usize {
        self.links.iter().filter(|l| l.is_some()).count()
    }
}

impl Drop for LinkIo {
    fn drop(&mut self) {
        for l in self.links.iter_mut().flatten() {
            if l.recv_pending || l.send_pending {
                // The kernel may still write into or read from these buffers until the ring is
                // torn down: leak them rather than free memory it may touch.
                std::mem::forget(std::mem::take(&mut l.rbuf));
                std::mem::forget(std::mem::take(&mut l.inflight));
                if let Some(t) = &mut l.tls {
                    std::mem::forget(std::mem::take(&mut t.cbuf));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::{Duration, Instant};

    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (a, b)
    }

    /// Runs the ring until `done` says so (bounded in time).
    fn drive(
        ring: &mut IoUring,
        io: &mut LinkIo,
        events: &mut Vec<LinkEvent>,
        mut done: impl FnMut(&mut LinkIo, &[LinkEvent]) -> bool,
    ) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            io.submit(ring, events).unwrap();
            ring.submit_and_wait(1).unwrap();
            let cqes: Vec<(u64, i32)> = ring
                .completion()
                .map(|c| (c.user_data(), c.result()))
                .collect();
            for (u, r) in cqes {
                assert!(is_net(u));
                io.complete(ring, u, r, events);
            }
            if done(io, events) {
                return;
            }
        }
        panic!("timed out");
    }

    #[test]
    fn a_link_closed_with_nothing_in_flight_gives_back_its_slot_and_socket() {
        let mut ring = IoUring::new(64).unwrap();
        let mut io = LinkIo::new(4096);
        let (a, mut b) = pair();
        let id = io.insert(OwnedFd::from(a), None);
        // Held: no read armed, nothing to send, so no completion will ever come for it.
        io.hold(id, true);
        let mut events = Vec::new();
        io.close(id, &mut events);
        assert!(matches!(events.as_slice(), [LinkEvent::Closed(l, _)] if *l == id));
        io.submit(&mut ring, &mut events).unwrap();
        // The socket is closed (the peer reads EOF) and the slot is reused.
        let mut buf = [0u8; 1];
        b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(b.read(&mut buf).unwrap(), 0);
        let (c, _d) = pair();
        assert_eq!(io.insert(OwnedFd::from(c), None), id);
    }

    #[test]
    fn frames_appended_between_submits_go_out_in_one_send() {
        let mut ring = IoUring::new(64).unwrap();
        let mut io = LinkIo::new(64 * 1024);
        let (a, mut b) = pair();
        let id = io.insert(OwnedFd::from(a), None);
        for i in 0..100u8 {
            io.write_buf(id).unwrap().extend_from_slice(&[i; 10]);
        }
        let mut events = Vec::new();
        drive(&mut ring, &mut io, &mut events, |io, _| {
            io.stats(id).unwrap().bytes_out == 1000
        });
        assert_eq!(io.stats(id).unwrap().sends, 1, "100 frames, one send");
        let mut got = vec![0u8; 1000];
        b.read_exact(&mut got).unwrap();
        assert_eq!(got[..10], [0; 10]);
        assert_eq!(got[990..], [99; 10]);
    }

    #[test]
    fn received_bytes_accumulate_and_eof_closes() {
        let mut ring = IoUring::new(64).unwrap();
        let mut io = LinkIo::new(4096);
        let (a, mut b) = pair();
        let id = io.insert(OwnedFd::from(a), None);
        let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let writer = std::thread::spawn(move || {
            b.write_all(&big).unwrap();
            drop(b);
            big
        });
        let mut events = Vec::new();
        let mut got = Vec::new();
        drive(&mut ring, &mut io, &mut events, |io, evs| {
            if let Some(buf) = io.received(id) {
                got.extend_from_slice(&buf.split_to(buf.len()));
            }
            evs.iter().any(|e| matches!(e, LinkEvent::Closed(..)))
        });
        let big = writer.join().unwrap();
        assert_eq!(got, big);
        assert!(
            matches!(events.last(), Some(LinkEvent::Closed(_, e)) if e.kind() == io::ErrorKind::UnexpectedEof)
        );
        assert_eq!(io.len(), 0, "slot reclaimed");
    }

    #[test]
    fn large_writes_survive_short_sends_in_order() {
        let mut ring = IoUring::new(64).unwrap();
        let mut io = LinkIo::new(4096);
        let (a, mut b) = pair();
        let id = io.insert(OwnedFd::from(a), None);
        let data: Vec<u8> = (0..8_000_000u32).map(|i| (i % 251) as u8).collect();
        io.write_buf(id).unwrap().extend_from_slice(&data);
        let reader = std::thread::spawn(move || {
            let mut got = vec![0u8; 8_000_000];
            b.read_exact(&mut got).unwrap();
            // Returned (not dropped) so the link sees no EOF before the test looks at it.
            (got, b)
        });
        let mut events = Vec::new();
        drive(&mut ring, &mut io, &mut events, |io, _| {
            io.stats(id).unwrap().bytes_out == 8_000_000
        });
        let (got, _b) = reader.join().unwrap();
        assert_eq!(got, data);
        assert!(io.stats(id).unwrap().sends >= 1);
    }

    #[test]
    fn closing_locally_reports_once_and_frees_the_slot() {
        let mut ring = IoUring::new(64).unwrap();
        let mut io = LinkIo::new(4096);
        let (a, _b) = pair();
        let id = io.insert(OwnedFd::from(a), None);
        let mut events = Vec::new();
        io.submit(&mut ring, &mut events).unwrap();
        ring.submit().unwrap();
        io.close(id, &mut events);
        assert!(io.write_buf(id).is_none());
        drive(&mut ring, &mut io, &mut events, |io, _| io.len() == 0);
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, LinkEvent::Closed(..)))
                .count(),
            1
        );
    }

    /// A TCP pair with a completed TLS handshake: our (client) side as the ring gets it, and
    /// the peer's (server) side as a blocking stream.
    fn tls_pair() -> (
        TcpStream,
        rustls::Connection,
        rustls::StreamOwned<rustls::ServerConnection, TcpStream>,
    ) {
        use crate::net::tls::{ClientSide, ServerSide, TlsCertificate, TlsDialOptions};
        let (mut a, mut b) = pair();
        let cert = TlsCertificate::self_signed(&["localhost"]).unwrap();
        let srv = ServerSide::new(&cert).unwrap();
        let server = std::thread::spawn(move || {
            let mut conn = rustls::ServerConnection::new(srv.config).unwrap();
            while conn.is_handshaking() {
                conn.complete_io(&mut b).unwrap();
            }
            rustls::StreamOwned::new(conn, b)
        });
        let mut conn = ClientSide::new(&TlsDialOptions::default())
            .unwrap()
            .connect("localhost")
            .unwrap();
        while conn.is_handshaking() {
            conn.complete_io(&mut a).unwrap();
        }
        (a, conn.into(), server.join().unwrap())
    }

    #[test]
    fn tls_links_carry_large_writes_and_reads_through_partial_records() {
        let mut ring = IoUring::new(64).unwrap();
        let mut io = LinkIo::new(4096);
        let (a, conn, mut peer) = tls_pair();
        let id = io.insert(OwnedFd::from(a), Some(conn));
        assert_eq!(io.is_tls(id), Some(true));
        let out: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let back: Vec<u8> = (0..200_000u32).map(|i| (i % 241) as u8).collect();
        io.write_buf(id).unwrap().extend_from_slice(&out);
        let expect_back = back.clone();
        let peer_thread = std::thread::spawn(move || {
            let mut got = vec![0u8; 300_000];
            peer.read_exact(&mut got).unwrap();
            // Odd-sized writes: records and reads do not line up with anything.
            for c in back.chunks(7777) {
                peer.write_all(c).unwrap();
            }
            peer.flush().unwrap();
            (got, peer)
        });
        let mut events = Vec::new();
        let mut got = Vec::new();
        drive(&mut ring, &mut io, &mut events, |io, _| {
            if let Some(buf) = io.received(id) {
                got.extend_from_slice(&buf.split_to(buf.len()));
            }
            got.len() >= 200_000
        });
        let (peer_got, _peer) = peer_thread.join().unwrap();
        assert_eq!(peer_got, out, "the peer decrypts what we wrote, in order");
        assert_eq!(got, expect_back);
        assert!(!events.iter().any(|e| matches!(e, LinkEvent::Closed(..))));
    }

    #[test]
    fn close_notify_closes_the_link_after_the_data_before_it() {
        let mut ring = IoUring::new(64).unwrap();
        let mut io = LinkIo::new(64 * 1024);
        let (a, conn, mut peer) = tls_pair();
        let id = io.insert(OwnedFd::from(a), Some(conn));
        // Data and close_notify leave in one write.
        peer.conn.writer().write_all(&[5u8; 1000]).unwrap();
        peer.conn.send_close_notify();
        let mut wire = Vec::new();
        while peer.conn.wants_write() {
            peer.conn.write_tls(&mut wire).unwrap();
        }
        peer.sock.write_all(&wire).unwrap();
        let mut events = Vec::new();
        let mut got = Vec::new();
        drive(&mut ring, &mut io, &mut events, |io, evs| {
            if let Some(buf) = io.received(id) {
                got.extend_from_slice(&buf.split_to(buf.len()));
            }
            evs.iter().any(|e| matches!(e, LinkEvent::Closed(..)))
        });
        assert_eq!(got, vec![5u8; 1000]);
        assert!(
            matches!(events.iter().find(|e| matches!(e, LinkEvent::Closed(..))),
                Some(LinkEvent::Closed(_, e)) if e.to_string().contains("close_notify"))
        );
        io.submit(&mut ring, &mut events).unwrap();
        assert_eq!(io.len(), 0, "slot freed at the next submit");
    }

    #[test]
    fn garbage_on_a_tls_link_closes_it_with_a_tls_error() {
        let mut ring = IoUring::new(64).unwrap();
        let mut io = LinkIo::new(4096);
        let (a, conn, mut peer) = tls_pair();
        let id = io.insert(OwnedFd::from(a), Some(conn));
        assert_eq!(io.is_tls(id), Some(true));
        peer.sock.write_all(&[0x17, 3, 3, 0, 40]).unwrap();
        peer.sock.write_all(&[0xAA; 40]).unwrap();
        let mut events = Vec::new();
        drive(&mut ring, &mut io, &mut events, |_, evs| {
            evs.iter().any(|e| matches!(e, LinkEvent::Closed(..)))
        });
        assert!(
            matches!(events.last(), Some(LinkEvent::Closed(_, e)) if e.to_string().starts_with("TLS")),
            "{events:?}"
        );
        io.submit(&mut ring, &mut events).unwrap();
        assert_eq!(io.len(), 0);
    }
}
