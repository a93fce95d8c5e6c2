//! The target side of remote watches and requests: a peer's control messages (199: link,
//! monitor, unlink, demonitor, spawn, application start) and its event subscriptions, answered
//! from the shard of the process they name.

#[allow(unused_imports)]
use super::*;

impl ShardCore {
    /// A control message (199) from the peer.
    pub(crate) fn net_control_in(&self, conn: &Arc<Conn>, c: Control) {
        let peer = conn.codec.peer();
        match c {
            Control::LinkPid(m) => {
                self.watch_in(conn, m.source, m.reference, true, Wt::Pid(m.target))
            }
            Control::MonitorPid(m) => {
                self.watch_in(conn, m.source, m.reference, false, Wt::Pid(m.target))
            }
            Control::LinkProcessId(m) => {
                self.watch_in(conn, m.source, m.reference, true, Wt::Name(m.target))
            }
            Control::MonitorProcessId(m) => {
                self.watch_in(conn, m.source, m.reference, false, Wt::Name(m.target))
            }
            Control::LinkAlias(m) => {
                self.watch_in(conn, m.source, m.reference, true, Wt::Alias(m.target))
            }
            Control::MonitorAlias(m) => {
                self.watch_in(conn, m.source, m.reference, false, Wt::Alias(m.target))
            }
            Control::UnlinkPid(m) => {
                self.unwatch_in(conn, m.source, m.reference, true, Wt::Pid(m.target))
            }
            Control::DemonitorPid(m) => {
                self.unwatch_in(conn, m.source, m.reference, false, Wt::Pid(m.target))
            }
            Control::UnlinkProcessId(m) => {
                self.unwatch_in(conn, m.source, m.reference, true, Wt::Name(m.target))
            }
            Control::DemonitorProcessId(m) => {
                self.unwatch_in(conn, m.source, m.reference, false, Wt::Name(m.target))
            }
            Control::UnlinkAlias(m) => {
                self.unwatch_in(conn, m.source, m.reference, true, Wt::Alias(m.target))
            }
            Control::DemonitorAlias(m) => {
                self.unwatch_in(conn, m.source, m.reference, false, Wt::Alias(m.target))
            }
            Control::LinkEvent(m) => {
                self.event_watch_in(conn, m.source, m.reference, true, m.target)
            }
            Control::MonitorEvent(m) => {
                self.event_watch_in(conn, m.source, m.reference, false, m.target)
            }
            Control::UnlinkEvent(m) => self.event_unwatch_in(conn, m.source, m.reference, m.target),
            Control::DemonitorEvent(m) => {
                self.event_unwatch_in(conn, m.source, m.reference, m.target)
            }
            Control::Spawn(m) => self.spawn_in(conn, *m),
            Control::ApplicationStart(m) => self.app_start_in(conn, *m),
            Control::UpdateCache(m) => {
                // Never sent by Go 3.x; our dictionaries are fixed for the connection's life.
                tracing::warn!(peer = %peer, "cache update refused");
                self.reply(
                    peer,
                    m.reference,
                    Some(ergo_edf::errors::ErrUnsupported()),
                    Value::Nil,
                    0,
                    0,
                );
            }
            Control::Result(m) => self.net_result(m),
        }
    }

    /// Answers a request of the peer's with a `MessageResult` (nothing if the connection is
    /// gone: the requester's timeout covers it).
    pub(super) fn reply(
        &self,
        peer: Atom,
        reference: Ref,
        error: Option<GoError>,
        result: Value,
        sel: u64,
        order: u8,
    ) {
        let m = MessageResult {
            error,
            result,
            reference,
        };
        let r = self.net_send(peer, sel, false, move |conn: &Conn, buf: &mut Vec<u8>| {
            conn.codec
                .control(sel, order, &m, buf)
                .map(|_| ())
                .map_err(|e| Fail::Network(e.to_string()))
        });
        if let Err(e) = r {
            tracing::debug!(peer = %peer, error = ?e, "control result not sent");
        }
    }

    /// Answers a link/monitor request handed to a target process: `error` is `None` once the
    /// watch is recorded. Runs on the target's shard.
    pub(crate) fn reply_watch(&self, source: Pid, w: &RemoteWatch, error: Option<GoError>) {
        let (sel, order) = match w.via {
            ExitVia::Pid => (u64::from(order_for(w.target_id)), order_for(source.id)),
            ExitVia::Alias(a) => (u64::from(order_for(a.id[1])), order_for(source.id)),
            _ => (0, order_for(source.id)),
        };
        self.reply(source.node, w.r, error, Value::Nil, sel, order);
    }

    pub(super) fn watch_in(&self, conn: &Arc<Conn>, source: Pid, r: Ref, link: bool, t: Wt) {
        let peer = conn.codec.peer();
        let unknown = || Some(ergo_edf::errors::ErrProcessUnknown());
        let (target, via, kind, target_id) = match t {
            Wt::Pid(p) => {
                if p.node != self.node.name || p.creation != self.node.creation {
                    let order = order_for(source.id);
                    return self.reply(
                        peer,
                        r,
                        unknown(),
                        Value::Nil,
                        u64::from(order_for(p.id)),
                        order,
                    );
                }
                (crate::Target::Pid(p), ExitVia::Pid, MonitorKind::Pid, p.id)
            }
            Wt::Name(n) => {
                if n.node != self.node.name {
                    return self.reply(peer, r, unknown(), Value::Nil, 0, order_for(source.id));
                }
                (
                    crate::Target::Name(n.name),
                    ExitVia::ProcessId(n),
                    MonitorKind::ProcessId(n),
                    0,
                )
            }
            Wt::Alias(a) => {
                if a.node != self.node.name || a.creation != self.node.creation {
                    let order = order_for(source.id);
                    let e = Some(GoError::new("unknown alias"));
                    return self.reply(
                        peer,
                        r,
                        e,
                        Value::Nil,
                        u64::from(order_for(a.id[1])),
                        order,
                    );
                }
                (
                    crate::Target::Alias(a),
                    ExitVia::Alias(a),
                    MonitorKind::Alias(a),
                    a.id[0],
                )
            }
        };
        let w = RemoteWatch {
            link,
            via,
            kind,
            r,
            target_id,
        };
        let env = Envelope {
            from: source,
            kind: Kind::RemoteWatch(Box::new(w)),
        };
        if let Err(Fail::NameUnknown(_)) = self.send_env(target, env, Priority::Max) {
            // Names are resolved here; PIDs and aliases answer from their shard.
            self.reply(peer, r, unknown(), Value::Nil, 0, order_for(source.id));
        }
    }

    pub(super) fn unwatch_in(&self, conn: &Arc<Conn>, source: Pid, r: Ref, link: bool, t: Wt) {
        let peer = conn.codec.peer();
        let target = match t {
            Wt::Pid(p) => crate::Target::Pid(p),
            Wt::Name(n) => crate::Target::ProcessId(n),
            Wt::Alias(a) => crate::Target::Alias(a),
        };
        let kind = if link {
            Kind::Unlink
        } else {
            Kind::Demonitor(Box::default())
        };
        let _ = self.send_env(target, Envelope { from: source, kind }, Priority::Max);
        let (sel, order) = match t {
            Wt::Pid(p) if link => (u64::from(order_for(p.id)), order_for(source.id)),
            Wt::Alias(a) => (u64::from(order_for(a.id[1])), order_for(source.id)),
            _ => (0, order_for(source.id)),
        };
        self.reply(peer, r, None, Value::Nil, sel, order);
    }

    pub(super) fn event_watch_in(
        &self,
        conn: &Arc<Conn>,
        source: Pid,
        r: Ref,
        link: bool,
        event: Event,
    ) {
        let peer = conn.codec.peer();
        let order = order_for(source.id);
        if event.node != self.node.name {
            return self.reply(
                peer,
                r,
                Some(GoError::new("unknown event")),
                Value::Nil,
                0,
                order,
            );
        }
        match self.node.events.subscribe(self, event, source, link, r) {
            Ok(buffered) => match events_value(&buffered) {
                Ok(v) => self.reply(peer, r, None, v, 0, order),
                Err(e) => {
                    tracing::warn!(peer = %peer, error = %e, "buffered events cannot cross the network");
                    let empty = events_value(&[]).unwrap_or(Value::Nil);
                    self.reply(peer, r, None, empty, 0, order)
                }
            },
            Err(_) => self.reply(
                peer,
                r,
                Some(GoError::new("unknown event")),
                Value::Nil,
                0,
                order,
            ),
        }
    }

    pub(super) fn event_unwatch_in(&self, conn: &Arc<Conn>, source: Pid, r: Ref, event: Event) {
        if event.node == self.node.name {
            self.node.events.unsubscribe(self, event.name, source);
        }
        self.reply(
            conn.codec.peer(),
            r,
            None,
            Value::Nil,
            0,
            order_for(source.id),
        );
    }

    pub(super) fn spawn_in(&self, conn: &Arc<Conn>, m: MessageSpawn) {
        let peer = conn.codec.peer();
        if conn.codec.own_flags().0 & NetworkFlags::REMOTE_SPAWN == 0 {
            // Go does not answer when remote spawn is off: the requester times out.
            tracing::warn!(peer = %peer, name = %m.name, "remote spawn refused: not enabled on this node");
            return;
        }
        let order = order_for(m.options.parent_pid.id);
        let zero = Value::Pid(Pid::default());
        let fail = |e: GoError| self.reply(peer, m.reference, Some(e), zero.clone(), 0, order);
        let entry = {
            let t = self
                .remote()
                .map(|r| r.spawn.read().unwrap_or_else(|e| e.into_inner()));
            t.and_then(|t| t.get(&m.name).map(|e| (e.spawn.clone(), e.nodes.clone())))
        };
        let Some((spawn, nodes)) = entry else {
            return fail(ergo_edf::errors::ErrNameUnknown());
        };
        if nodes.is_some_and(|n| !n.contains(&peer)) {
            return fail(ergo_edf::errors::ErrNotAllowed());
        }
        let o = &m.options;
        if o.parent_pid.node.is_empty() || o.parent_leader.node.is_empty() {
            return fail(GoError::new("parent/leader is not set"));
        }
        let Some(core) = crate::shard::current() else {
            return fail(ergo_edf::errors::ErrUnsupported());
        };
        let mut opts = crate::SpawnOptions {
            mailbox_size: o.options.mailbox_size.clamp(0, i64::from(u32::MAX)) as u32,
            ..Default::default()
        };
        if !o.register.is_empty() {
            opts.register = Some(o.register);
        }
        if o.options.compression.enable {
            opts.compression = crate::Compression {
                enable: true,
                threshold: o.options.compression.threshold.max(0) as usize,
                level: o.options.compression.level.0.clamp(0, 2) as u8,
                kind: crate::CompressionKind::from_go(&o.options.compression.kind.0),
            };
        }
        let args = o.args.clone().unwrap_or_default();
        match spawn(&core, opts, None, &args) {
            Ok(pid) => self.reply(peer, m.reference, None, Value::Pid(pid), 0, order),
            Err(e) => fail(error_of(&e)),
        }
    }

    pub(super) fn app_start_in(&self, conn: &Arc<Conn>, m: MessageApplicationStart) {
        let peer = conn.codec.peer();
        if conn.codec.own_flags().0 & NetworkFlags::REMOTE_APPLICATION_START == 0 {
            tracing::warn!(peer = %peer, app = %m.name, "remote application start refused: not enabled on this node");
            return;
        }
        let allowed = self.remote().and_then(|r| {
            r.apps
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(&m.name)
                .cloned()
        });
        let err = match allowed {
            None => Some(ergo_edf::errors::ErrNameUnknown()),
            Some(Some(nodes)) if !nodes.contains(&peer) => Some(ergo_edf::errors::ErrNotAllowed()),
            Some(_) => None,
        };
        if err.is_some() {
            return self.reply(peer, m.reference, err, Value::Nil, 0, 0);
        }
        let mode = match m.mode.0 {
            1 => Some(crate::ApplicationMode::Temporary),
            2 => Some(crate::ApplicationMode::Transient),
            3 => Some(crate::ApplicationMode::Permanent),
            _ => None,
        };
        // Starting an application waits for its members' init, possibly on other shards:
        // never on a shard thread.
        let node = crate::Node(self.node.clone());
        let name = m.name;
        let reference = m.reference;
        let spawned = std::thread::Builder::new()
            .name("ergo-app-start".into())
            .spawn(move || {
                let error = match node.application_start(name, mode) {
                    Ok(_) => None,
                    Err(e) => Some(error_of(&e)),
                };
                let res = MessageResult {
                    error,
                    result: Value::Nil,
                    reference,
                };
                if let Some(net) = node.0.network.get() {
                    let _ = net.send_from_outside(
                        peer,
                        false,
                        move |conn: &Conn, buf: &mut Vec<u8>| {
                            conn.codec
                                .control(0, 0, &res, buf)
                                .map(|_| ())
                                .map_err(|e| Fail::Network(e.to_string()))
                        },
                    );
                }
            });
        if spawned.is_err() {
            self.reply(
                peer,
                reference,
                Some(GoError::new("cannot start a thread")),
                Value::Nil,
                0,
                0,
            );
        }
    }
}
