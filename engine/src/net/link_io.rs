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

use std::io;
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
}

/// Per-link figures (bytes and sends: the frames-per-send figure of the benchmarks).
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LinkStats {
    /// Bytes handed to the kernel.
    pub(crate) bytes_out: u64,
    /// `Send` operations submitted.
    pub(crate) sends: u64,
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

    /// Takes ownership of a connected socket.
    pub(crate) fn insert(&mut self, fd: OwnedFd) -> LinkId {
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

    /// The received bytes not consumed yet; `None` while the kernel owns the buffer.
    /// Consume frames with `split_to`; what is left is kept for the next read.
    pub(crate) fn received(&mut self, id: LinkId) -> Option<&mut BytesMut> {
        self.get(id)
            .filter(|l| !l.recv_pending)
            .map(|l| &mut l.rbuf)
    }

    /// Stops (`true`) or resumes arming reads on a link: while the frames already received
    /// wait to be handled, nothing more is read (TCP pushes back on the sender).
    pub(crate) fn hold(&mut self, id: LinkId, on: bool) {
        if let Some(l) = self.get(id) {
            l.hold = on;
        }
    }

    /// Figures of a link.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn stats(&self, id: LinkId) -> Option<LinkStats> {
        self.links.get(id.0)?.as_ref().map(|l| LinkStats {
            bytes_out: l.bytes_out,
            sends: l.sends,
        })
    }

    /// Arms a read on every link without one, and sends every link's pending bytes (one
    /// `Send` per link). Returns how many operations were queued; the caller submits the ring.
    pub(crate) fn submit(&mut self, ring: &mut IoUring) -> io::Result<usize> {
        let mut n = 0;
        let chunk = self.chunk;
        for (i, slot) in self.links.iter_mut().enumerate() {
            let Some(l) = slot else { continue };
            if l.closed {
                continue;
            }
            let fd = types::Fd(l.fd.as_raw_fd());
            if !l.recv_pending && !l.hold {
                if l.rbuf.capacity() - l.rbuf.len() < chunk / 4 {
                    l.rbuf.reserve(chunk);
                }
                let spare = l.rbuf.spare_capacity_mut();
                let e = opcode::Recv::new(fd, spare.as_mut_ptr().cast(), spare.len() as u32)
                    .build()
                    .user_data(TAG | OP_RECV | i as u64);
                push(ring, &e)?;
                l.recv_pending = true;
                n += 1;
            }
            if !l.send_pending && !l.pending.is_empty() {
                std::mem::swap(&mut l.pending, &mut l.inflight);
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
            io.submit(ring).unwrap();
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
    fn frames_appended_between_submits_go_out_in_one_send() {
        let mut ring = IoUring::new(64).unwrap();
        let mut io = LinkIo::new(64 * 1024);
        let (a, mut b) = pair();
        let id = io.insert(OwnedFd::from(a));
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
        let id = io.insert(OwnedFd::from(a));
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
        let id = io.insert(OwnedFd::from(a));
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
        let id = io.insert(OwnedFd::from(a));
        io.submit(&mut ring).unwrap();
        ring.submit().unwrap();
        let mut events = Vec::new();
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
}
