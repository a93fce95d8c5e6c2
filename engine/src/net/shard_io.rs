//! The data plane on a shard: attaching handshaken sockets to the ring, writing frames to a
//! link's buffer (or to its shard's batch), backpressure on congested connections, cutting and
//! dispatching received frames, acknowledgements, and the per-iteration poll and submit.

#[allow(unused_imports)]
use super::encode::*;
#[allow(unused_imports)]
use super::*;

impl ShardCore {
    /// Puts a connected socket on this shard's ring, with the bytes already read past its
    /// handshake in its receive buffer (the caller handles them once the link's connection is
    /// known, with [`ShardCore::net_received`]).
    pub(crate) fn net_attach(
        &self,
        fd: OwnedFd,
        tail: &[u8],
        tls: Option<rustls::Connection>,
    ) -> LinkId {
        let mut net = self.net.borrow_mut();
        let id = net.io.insert(fd, tls);
        if let Some(buf) = net.io.received(id) {
            buf.extend_from_slice(tail);
        }
        id
    }

    /// Closes a link of this shard.
    pub(crate) fn net_close(&self, link: LinkId) {
        let mut net = self.net.borrow_mut();
        let NetShard { io, events } = &mut *net;
        io.close(link, events);
    }

    /// Appends encoded frames to a link of this shard.
    pub(crate) fn net_write(&self, link: LinkId, bytes: &[u8]) {
        let over = match self.net.borrow_mut().io.write_buf(link) {
            Some(b) => {
                b.extend_from_slice(bytes);
                b.len() > HIGH_WATER
            }
            None => false,
        };
        if over {
            if let Some(c) = self.net_links.borrow().get(&link.0) {
                c.congested.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Routes an envelope to a process on another node.
    pub(crate) fn send_remote(
        &self,
        target: WireTarget,
        env: Envelope,
        prio: Priority,
    ) -> Result<(), Fail> {
        let node = match target {
            WireTarget::Pid(p) => p.node,
            WireTarget::Name(p) => p.node,
            WireTarget::Alias(a) => a.node,
        };
        let Some(net) = self.node.network.get() else {
            return Err(Fail::NoConnection(node));
        };
        let comp = self.compression_of(env.from);
        if !self.refresh_conn(net, node) {
            return net.queue(node, Waiting::Env(target, env, prio, comp));
        }
        // The cached connection, borrowed (no reference count traffic per send); the sender's
        // link.
        let cache = self.net_conn_cache.borrow();
        let Some((_, _, pool)) = &*cache else {
            return Err(Fail::NoConnection(node));
        };
        let conn = pool.link(sender_sel(env.from.id));
        let r = self.write_frame(conn, |buf| encode(conn, &target, env, prio, comp, buf));
        if conn.congested.load(Ordering::Relaxed) {
            let conn = conn.clone();
            drop(cache);
            self.net_block(&conn);
        }
        r
    }

    /// Encodes a frame for `conn`'s link with `f`: into the link's write buffer when the link
    /// is on this shard (marking it congested past [`HIGH_WATER`]), else into the one buffer
    /// this shard's outbound batch carries for that link (no buffer per message).
    #[inline]
    pub(crate) fn write_frame(
        &self,
        conn: &Conn,
        f: impl FnOnce(&mut Vec<u8>) -> Result<(), Fail>,
    ) -> Result<(), Fail> {
        self.counters.net_frame_out();
        if conn.shard != self.index {
            return self.with_net_outbound(conn.shard, conn.link, f);
        }
        let mut guard = self.net.borrow_mut();
        let Some(buf) = guard.io.write_buf(conn.link) else {
            return Err(Fail::NoConnection(conn.codec.peer()));
        };
        let r = f(buf);
        if buf.len() > HIGH_WATER {
            conn.congested.store(true, Ordering::Relaxed);
        }
        r
    }

    /// The running process sent into a congested connection: it pauses after its handler.
    #[cold]
    pub(crate) fn net_block(&self, conn: &Arc<Conn>) {
        self.net_pause.set(true);
        self.counters.net_pause();
        conn.pauses.fetch_add(1, Ordering::Relaxed);
        let mut b = self.net_blocked.borrow_mut();
        if !b.iter().any(|c| Arc::ptr_eq(c, conn)) {
            b.push(conn.clone());
        }
    }

    /// Wakes the paused senders once none of the connections they wait for is congested.
    pub(crate) fn net_resume(&self) -> bool {
        if self.net_paused.borrow().is_empty() {
            return false;
        }
        if self
            .net_blocked
            .borrow()
            .iter()
            .any(|c| c.congested.load(Ordering::Relaxed))
        {
            return false;
        }
        self.net_blocked.borrow_mut().clear();
        let paused = std::mem::take(&mut *self.net_paused.borrow_mut());
        for w in paused {
            w.wake();
        }
        true
    }

    /// Makes the one-entry connection cache hold `peer`'s connection, if it is up (a run of
    /// sends to one node costs one atomic load each instead of a lock and a hash lookup).
    #[inline]
    pub(crate) fn refresh_conn(&self, net: &Network, peer: Atom) -> bool {
        let generation = net.conn_gen.load(Ordering::Acquire);
        if let Some((g, p, _)) = &*self.net_conn_cache.borrow() {
            if *g == generation && *p == peer {
                return true;
            }
        }
        match net.pool(peer) {
            Some(pool) => {
                *self.net_conn_cache.borrow_mut() = Some((generation, peer, pool));
                true
            }
            None => false,
        }
    }

    /// The compression settings of a local sender on this shard (most have none).
    #[inline]
    pub(crate) fn compression_of(
        &self,
        from: Pid,
    ) -> Option<ergo_proto::connection::CompressionOptions> {
        let c = self.compression.borrow();
        if c.is_empty() || from.node != self.name {
            return None;
        }
        c.get(&from.id).and_then(crate::Compression::wire)
    }

    /// Encodes one frame for `peer` with `f`, into the link's write buffer (this shard) or
    /// this shard's outbound batch for the link's shard. When the peer is not connected the
    /// frame waits for the connection (`queue`), or the call fails with `NoConnection`.
    pub(crate) fn net_send(
        &self,
        peer: Atom,
        sel: u64,
        queue: bool,
        f: impl FnOnce(&Conn, &mut Vec<u8>) -> Result<(), Fail> + Send + 'static,
    ) -> Result<(), Fail> {
        let Some(net) = self.node.network.get() else {
            return Err(Fail::NoConnection(peer));
        };
        let Some(pool) = net.pool(peer) else {
            if queue {
                return net.queue(peer, Waiting::Frame(sel, Box::new(f)));
            }
            return Err(Fail::NoConnection(peer));
        };
        let conn = pool.link(sel);
        self.write_frame(conn, |buf| f(conn, buf))
    }

    /// Bytes arrived on a link: cut and deliver every complete frame. The complete frames are
    /// split off the receive buffer together (one split per read, not one per frame) and
    /// handled in place.
    pub(crate) fn net_received(&self, link: LinkId) {
        let Some(conn) = self.net_links.borrow().get(&link.0).cloned() else {
            return;
        };
        let max = conn.max_message_size;
        let chunk = {
            let mut net = self.net.borrow_mut();
            let Some(buf) = net.io.received(link) else {
                return;
            };
            let mut at = 0;
            let mut bad = None;
            let mut frames = 0;
            let mut more = false;
            loop {
                match frame::frame_len(&buf[at..], max) {
                    Ok(Some(n)) if at + n <= buf.len() => {
                        if frames == FRAMES_PER_ROUND {
                            more = true;
                            break;
                        }
                        at += n;
                        frames += 1;
                    }
                    Ok(_) => break,
                    Err(e) => {
                        bad = Some(e);
                        break;
                    }
                }
            }
            let chunk = buf.split_to(at).freeze();
            net.io.count_frames_in(link, frames);
            self.counters.net_frames_in(frames);
            net.io.hold(link, more);
            if more {
                self.net_more.borrow_mut().push(link);
            }
            if let Some(e) = bad {
                tracing::warn!(peer = %conn.codec.peer(), error = %e, "bad frame: closing the connection");
                let NetShard { io, events } = &mut *net;
                io.close(link, events);
            }
            chunk
        };
        let mut rest = &chunk[..];
        while let Ok(Some(n)) = frame::frame_len(rest, 0) {
            let (frame, tail) = rest.split_at(n);
            rest = tail;
            if let Err(e) = self.net_dispatch(&conn, frame, max) {
                tracing::warn!(peer = %conn.codec.peer(), error = %e, "frame dropped");
            }
        }
    }

    pub(crate) fn net_dispatch(
        &self,
        conn: &Arc<Conn>,
        frame: &[u8],
        max: u64,
    ) -> Result<(), String> {
        let incoming = conn.codec.decode(frame, max).map_err(|e| e.to_string())?;
        // Local delivery goes through the same routing as local sends: names through the name
        // table, aliases through their process's alias list (a deleted alias is unknown).
        let deliver = |to: LocalTarget, env: Envelope, prio: WirePriority| -> Result<(), Fail> {
            let target = match to {
                LocalTarget::Pid(p) => crate::Target::Pid(p),
                LocalTarget::Name(n) => crate::Target::Name(n),
                LocalTarget::Alias(a) => crate::Target::Alias(a),
            };
            self.send_env(target, env, local_priority(prio))
        };
        let target_id = |to: &LocalTarget| match to {
            LocalTarget::Pid(p) => p.id,
            _ => 0,
        };
        match incoming {
            Incoming::Send {
                from,
                to,
                priority,
                important,
                payload,
            } => {
                let m = Message::from_any(payload.any().map_err(|e| e.to_string())?);
                let id = target_id(&to);
                let Some(d) = important else {
                    let _ = deliver(
                        to,
                        Envelope {
                            from,
                            kind: Kind::Message(m),
                        },
                        priority,
                    );
                    return Ok(());
                };
                // Important delivery: always acknowledged, with the outcome, by the shard that
                // puts it into the mailbox (or here, when it cannot get that far).
                let ack = crate::confirm::AckTo::Remote {
                    conn: conn.clone(),
                    from_id: id,
                    to: from,
                    reference: [d, 0, 0],
                    priority,
                };
                let (c, once) = crate::confirm::Confirm::new(m, ack);
                let env = Envelope {
                    from,
                    kind: Kind::Confirm(c),
                };
                if let Err(f) = deliver(to, env, priority) {
                    if !once.done() {
                        self.net_ack(conn, id, from, [d, 0, 0], priority, Some(f));
                    }
                }
            }
            Incoming::Request {
                from,
                to,
                reference,
                priority,
                important,
                payload,
            } => {
                let m = Message::from_any(payload.any().map_err(|e| e.to_string())?);
                let id = target_id(&to);
                let env = Envelope {
                    from,
                    kind: Kind::Request(Box::new((reference, m))),
                };
                if let Err(f) = deliver(to, env, priority) {
                    if important {
                        // An important call hears about a failed delivery (success: the reply).
                        self.net_ack(conn, id, from, reference.id, priority, Some(f));
                    } else {
                        return Err("call to a missing process dropped (Go does the same)".into());
                    }
                }
            }
            Incoming::Response {
                from_id,
                to,
                reference,
                payload,
                ..
            } => {
                let m = Message::from_any(payload.any().map_err(|e| e.to_string())?);
                let from = Pid::new(conn.codec.peer(), from_id, conn.codec.peer_creation());
                let env = Envelope {
                    from,
                    kind: Kind::Response(Box::new((reference, Ok(m)))),
                };
                let _ = self.send_pid(to, env, Priority::High);
            }
            Incoming::ResponseError {
                from_id,
                to,
                reference,
                code,
                ..
            } => {
                let from = Pid::new(conn.codec.peer(), from_id, conn.codec.peer_creation());
                let result = match code {
                    // An important-delivery ack: the sender waits for it under this ref.
                    ResponseCode::Ok => Ok(Message::new(())),
                    ResponseCode::UnknownProcess => Err(Error::ProcessUnknown),
                    ResponseCode::MailboxFull => Err(Error::MailboxFull),
                    ResponseCode::Terminated => Err(Error::Terminated(Reason::NoProc)),
                    ResponseCode::Error(e) => Err(Error::Terminated(reason_of(&e))),
                };
                let env = Envelope {
                    from,
                    kind: Kind::Response(Box::new((reference, result))),
                };
                let _ = self.send_pid(to, env, Priority::High);
            }
            Incoming::Exit { from, to, reason } => {
                let env = Envelope {
                    from,
                    kind: Kind::Exit(Box::new((reason_of(&reason), ExitVia::Pid))),
                };
                let _ = self.send_pid(to, env, Priority::Max);
            }
            Incoming::Event {
                event,
                producer,
                timestamp,
                payload,
                ..
            } => {
                let v = payload.any().map_err(|e| e.to_string())?;
                self.net_event_in(event, producer, timestamp, v);
            }
            Incoming::Terminate { target, reason } => self.net_terminated(target, &reason),
            Incoming::Control(c) => self.net_control_in(conn, c),
        }
        Ok(())
    }

    /// Writes a type-130 frame on `conn`'s link (this shard): an important-delivery ack, or the
    /// error of an important call that could not be delivered.
    pub(crate) fn net_ack(
        &self,
        conn: &Conn,
        from_id: u64,
        to: Pid,
        reference: [u64; 3],
        priority: WirePriority,
        failure: Option<Fail>,
    ) {
        let code = match failure {
            None => ResponseCode::Ok,
            Some(Fail::ProcessUnknown) | Some(Fail::NameUnknown(_)) => ResponseCode::UnknownProcess,
            Some(Fail::MailboxFull) => ResponseCode::MailboxFull,
            Some(f) => ResponseCode::Error(GoError::new(Error::from(f).to_string())),
        };
        // From any shard: the confirmation of a delivery on another shard than the link's
        // goes out with that shard's outbound batch.
        let r = self.write_frame(conn, |buf| {
            conn.codec
                .response_error(from_id, &to, reference, priority, &code, false, buf)
                .map(|_| ())
                .map_err(|e| Fail::Network(e.to_string()))
        });
        if let Err(e) = r {
            tracing::warn!(peer = %conn.codec.peer(), error = ?e, "cannot acknowledge");
        }
    }

    /// Removes `link` from the links with frames left over; whether it was there.
    pub(crate) fn take_more(&self, link: LinkId) -> bool {
        let mut more = self.net_more.borrow_mut();
        let before = more.len();
        more.retain(|l| *l != link);
        more.len() != before
    }

    /// Handles this shard's network completions and arms the next reads and sends.
    pub(crate) fn net_poll(&self, ring: &mut crate::ring::Ring) -> bool {
        let completions = ring.take_net();
        let mut work = !completions.is_empty();
        // Frames left over from the last iteration first (their links read nothing meanwhile).
        let more = std::mem::take(&mut *self.net_more.borrow_mut());
        for link in more {
            work = true;
            self.net_received(link);
        }
        {
            let mut net = self.net.borrow_mut();
            let NetShard { io, events } = &mut *net;
            for (u, r) in completions {
                io.complete(ring.uring(), u, r, events);
            }
        }
        // Congested links of this shard whose backlog went out are open again (a backlog
        // shrinks only once a send completes, so only look after completions).
        if work {
            for c in self.net_links.borrow().values() {
                if c.congested.load(Ordering::Relaxed) {
                    let mut net = self.net.borrow_mut();
                    if net.io.write_buf(c.link).is_none_or(|b| b.len() < LOW_WATER) {
                        c.congested.store(false, Ordering::Relaxed);
                    }
                }
            }
        }
        loop {
            let ev = self.net.borrow_mut().events.pop();
            let Some(ev) = ev else { break };
            work = true;
            match ev {
                LinkEvent::Received(link) => self.net_received(link),
                LinkEvent::Closed(link, e) => {
                    tracing::info!(shard = self.index, error = %e, "link closed");
                    // Frames that arrived before the close (a TLS read can bring data and the
                    // peer's close together) are still handled, a round at a time, and the
                    // link leaves `net_more`: its slot is freed at the next submit and may
                    // then hold another link.
                    while self.take_more(link) {
                        self.net_received(link);
                    }
                    if let Some(c) = self.net_links.borrow_mut().remove(&link.0) {
                        // Nobody waits for a link that is gone.
                        c.congested.store(false, Ordering::Relaxed);
                    }
                    if let Some(net) = self.node.network.get() {
                        if let Some(peer) = net.link_closed(self.index, link) {
                            // Everything watching that node's targets hears `no connection`.
                            self.net_node_down(peer);
                        }
                    }
                }
            }
        }
        work
    }

    /// Arms reads and sends everything written since the last call: one send per link.
    pub(crate) fn net_submit(&self, ring: &mut crate::ring::Ring) {
        let mut net = self.net.borrow_mut();
        if net.io.len() == 0 {
            return;
        }
        let NetShard { io, events } = &mut *net;
        match io.submit(ring.uring(), events) {
            Ok(n) if n > 0 => {
                let _ = ring.uring().submit();
                self.counters.ring_submit(n);
            }
            Ok(_) => {}
            Err(e) => tracing::error!(shard = self.index, error = %e, "network submit failed"),
        }
    }
}
