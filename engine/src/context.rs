//! `Context`: what a running process can do (send, call, spawn, link, monitor, timers, events).
//!
//! A `Context` belongs to one process on one shard; handlers get it as `&mut Context`. It is
//! not `Send`: everything it does happens on the process's shard, without locks (a registered
//! name is looked up in the node's read-mostly name table).

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use ergo_edf::{Alias, Atom, Event, Pid, Ref};
use ergo_proto::connection::RemoteTarget;

use crate::process::{
    Envelope, ExitVia, Kind, MonitorKind, ProcCell, ProcessState, FLAG_IMPORTANT, FLAG_TRAP_EXIT,
};
use crate::shard::{ShardCore, TimerAction, TimerRef};
use crate::{
    Actor, Error, Message, MessageEvent, MessageOptions, Node, Priority, Reason, SpawnOptions,
    Target,
};

/// The default timeout of [`Context::call`] (Go Ergo's `DefaultRequestTimeout`).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The handle a process uses to act on the node.
pub struct Context {
    pub(crate) shard: Rc<ShardCore>,
    pub(crate) cell: Rc<ProcCell>,
}

impl Context {
    pub(crate) fn new(shard: Rc<ShardCore>, cell: Rc<ProcCell>) -> Context {
        Context { shard, cell }
    }

    /// This process's PID.
    #[inline]
    pub fn pid(&self) -> Pid {
        self.shard.make_pid(self.cell.id)
    }

    /// The node's name.
    pub fn node_name(&self) -> Atom {
        self.shard.node.name
    }

    /// A handle to the node.
    pub fn node(&self) -> Node {
        Node::from_shared(self.shard.node.clone())
    }

    /// The shard this process runs on.
    pub fn shard(&self) -> usize {
        self.shard.index
    }

    /// The process state (as seen from inside: `Running` or `WaitResponse`).
    pub fn state(&self) -> ProcessState {
        self.cell.state.get()
    }

    /// The parent, if the process was spawned by another process.
    pub fn parent(&self) -> Option<Pid> {
        match self.cell.parent.get() {
            0 => None,
            id => Some(self.shard.make_pid(id)),
        }
    }

    /// The registered name, if any.
    pub fn name(&self) -> Option<Atom> {
        self.cell.ext.borrow().as_ref().and_then(|e| e.name)
    }

    /// A new reference, unique on this node.
    pub fn make_ref(&mut self) -> Ref {
        self.shard.make_ref()
    }

    // ---- logging ----------------------------------------------------------------------------

    /// This process's log level.
    pub fn log_level(&self) -> crate::LogLevel {
        crate::LogLevel::from_u8(self.cell.log_level.get())
    }

    /// Sets this process's log level.
    pub fn set_log_level(&mut self, level: crate::LogLevel) {
        self.cell.log_level.set(level.to_u8());
    }

    /// Logs at `level` through `tracing`, with this process's PID and name as fields, if
    /// `level` passes the process's level. Returns whether the message was emitted.
    ///
    /// ```
    /// use ergo_engine::{Actor, Context, HandleResult, LogLevel};
    /// struct Pool { workers: usize }
    /// impl Actor for Pool {
    ///     fn init(&mut self, ctx: &mut Context) -> HandleResult {
    ///         ctx.log(LogLevel::Info, format_args!("started with {} workers", self.workers));
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub fn log(&self, level: crate::LogLevel, args: std::fmt::Arguments<'_>) -> bool {
        let pid = self.pid();
        let name = self.name();
        let emitted = crate::log::emit(
            self.log_level(),
            level,
            self.shard.node.name.as_str(),
            Some(&pid),
            name.as_ref().map(|n| n.as_str()),
            args,
        );
        if emitted {
            for (logger, env) in self.shard.node.log_envelopes(level, Some(pid), args) {
                let _ = self.shard.send_pid(logger, env, Priority::Normal);
            }
        }
        emitted
    }

    // ---- sending ---------------------------------------------------------------------------

    /// Sends `message` to `to` with this process's default priority.
    ///
    /// Fails with [`Error::ProcessUnknown`] / [`Error::NameUnknown`] when the target is known
    /// to be gone (always for names; for PIDs on the same shard), [`Error::MailboxFull`] when a
    /// same-shard bounded mailbox is full without fallback. Mail to a dead process on another
    /// shard is dropped silently, as mail to a remote node is.
    #[inline]
    pub fn send<T: Any + Send>(&mut self, to: impl Into<Target>, message: T) -> Result<(), Error> {
        let prio = self.cell.priority();
        let env = Envelope {
            from: self.pid(),
            kind: Kind::Message(Message::new(message)),
        };
        match to.into() {
            Target::Pid(pid) => Ok(self.shard.send_pid(pid, env, prio)?),
            to => Ok(self.shard.send_env(to, env, prio)?),
        }
    }

    /// Sends an already boxed message (to forward what a handler received).
    pub fn send_message(&mut self, to: impl Into<Target>, message: Message) -> Result<(), Error> {
        let prio = self.cell.priority();
        self.send_message_with(to.into(), message, prio)
    }

    /// Sends with explicit options (priority: Normal -> Main queue, High -> System, Max -> Urgent).
    pub fn send_with_options<T: Any + Send>(
        &mut self,
        to: impl Into<Target>,
        message: T,
        options: MessageOptions,
    ) -> Result<(), Error> {
        self.send_message_with(to.into(), Message::new(message), options.priority)
    }

    #[inline]
    fn send_message_with(
        &mut self,
        to: Target,
        message: Message,
        prio: Priority,
    ) -> Result<(), Error> {
        let env = Envelope {
            from: self.pid(),
            kind: Kind::Message(message),
        };
        Ok(self.shard.send_env(to, env, prio)?)
    }

    /// Sends `message` to `to` after `after`. The timer lives on this shard; cancel it with
    /// [`Context::cancel_timer`].
    pub fn send_after<T: Any + Send>(
        &mut self,
        to: impl Into<Target>,
        message: T,
        after: Duration,
    ) -> TimerRef {
        let prio = self.cell.priority();
        let a = TimerAction::Send {
            from: self.pid(),
            to: to.into(),
            msg: Message::new(message),
            prio,
        };
        self.shard.add_timer(after, a)
    }

    /// Cancels a timer of this shard. Returns whether it was still pending.
    pub fn cancel_timer(&mut self, timer: TimerRef) -> bool {
        self.shard.cancel_timer(timer)
    }

    /// Sends a request and waits for its response, at most [`DEFAULT_CALL_TIMEOUT`].
    ///
    /// While it waits, the shard runs other processes; this process handles nothing else
    /// (its messages stay queued), as in Go Ergo.
    pub async fn call<T: Any + Send>(
        &mut self,
        to: impl Into<Target>,
        request: T,
    ) -> Result<Message, Error> {
        self.call_timeout(to, request, DEFAULT_CALL_TIMEOUT).await
    }

    /// [`Context::call`] with an explicit timeout. The request goes with this process's send
    /// priority ([`Context::set_send_priority`]) and, to another node, with important delivery
    /// when [`Context::set_important_delivery`] is on (as Go's `CallWithTimeout`).
    pub async fn call_timeout<T: Any + Send>(
        &mut self,
        to: impl Into<Target>,
        request: T,
        timeout: Duration,
    ) -> Result<Message, Error> {
        let (prio, important) = (self.cell.priority(), self.cell.flag(FLAG_IMPORTANT));
        self.call_with(to.into(), Message::new(request), prio, important, timeout)
            .await
    }

    /// Sends a request (plain or important) with `prio` and waits for its response.
    pub(crate) async fn call_with(
        &mut self,
        to: Target,
        request: Message,
        prio: Priority,
        important: bool,
        timeout: Duration,
    ) -> Result<Message, Error> {
        if to == Target::Pid(self.pid()) {
            return Err(Error::Invalid("a process cannot call itself"));
        }
        let r = self.make_ref();
        {
            let mut e = self.cell.ext();
            e.awaiting = Some(r);
            e.reply = None;
        }
        let b = Box::new((r, request));
        let env = Envelope {
            from: self.pid(),
            kind: if important {
                Kind::ImportantRequest(b)
            } else {
                Kind::Request(b)
            },
        };
        // Calls to other nodes are timed for the network-call latency histogram.
        let remote = match to {
            Target::Pid(p) => p.node != self.shard.name,
            Target::ProcessId(p) => p.node != self.shard.name,
            Target::Alias(a) => a.node != self.shard.name,
            Target::Name(_) => false,
        };
        let started = remote.then(std::time::Instant::now);
        if let Err(e) = self.shard.send_env(to, env, prio) {
            self.cell.ext().awaiting = None;
            return Err(e.into());
        }
        let res = self.wait_reply(r, timeout).await;
        if let Some(t) = started {
            self.shard.counters.net_call(t.elapsed());
        }
        res
    }

    /// Waits for the response to `r` (already set as awaited), at most `timeout`.
    async fn wait_reply(&mut self, r: Ref, timeout: Duration) -> Result<Message, Error> {
        let t = self.shard.add_timer(
            timeout,
            TimerAction::CallTimeout {
                id: self.cell.id,
                r,
            },
        );
        self.cell.state.set(ProcessState::WaitResponse);
        let res = CallWait { cell: &self.cell }.await;
        self.shard.cancel_timer(t);
        self.cell.state.set(ProcessState::Running);
        res
    }

    /// Sends with important delivery: returns once the target's node confirms that the message
    /// is in the target's mailbox, or with the reason it is not (unknown process, mailbox full,
    /// ...), or [`Error::Timeout`] after `timeout` (Go: 5 s). Needs the peer to announce
    /// important delivery (else [`Error::Network`]). A target on this node confirms from its own
    /// shard, so a full bounded mailbox on another shard is reported too.
    pub async fn send_important<T: Any + Send>(
        &mut self,
        to: impl Into<Target>,
        message: T,
        timeout: Duration,
    ) -> Result<(), Error> {
        let to = to.into();
        let node = match to {
            Target::Pid(p) => p.node,
            Target::ProcessId(p) => p.node,
            Target::Alias(a) => a.node,
            Target::Name(_) => self.shard.node.name,
        };
        if node == self.shard.node.name {
            return self
                .send_confirmed(to, Message::new(message), timeout)
                .await;
        }
        if let Some(c) = self.shard.node.network.get().and_then(|n| n.conn(node)) {
            use ergo_proto::gen::NetworkFlags;
            if c.codec.peer_flags().0 & NetworkFlags::IMPORTANT_DELIVERY == 0 {
                return Err(Error::Network(format!(
                    "{node} does not support important delivery"
                )));
            }
        }
        // The ack comes back as `[delivery ID, 0, 0]` with our node and creation.
        let fresh = self.make_ref();
        let r = Ref {
            id: [
                fresh.id[0]
                    .wrapping_add(fresh.id[1])
                    .wrapping_add(fresh.id[2]),
                0,
                0,
            ],
            ..fresh
        };
        {
            let mut e = self.cell.ext();
            e.awaiting = Some(r);
            e.reply = None;
        }
        let env = Envelope {
            from: self.pid(),
            kind: Kind::Important(Box::new((r, Message::new(message)))),
        };
        let prio = self.cell.priority();
        if let Err(e) = self.shard.send_env(to, env, prio) {
            self.cell.ext().awaiting = None;
            return Err(e.into());
        }
        self.wait_reply(r, timeout).await.map(|_| ())
    }

    /// A local send whose outcome the recipient's shard confirms (see `confirm.rs`).
    async fn send_confirmed(
        &mut self,
        to: Target,
        message: Message,
        timeout: Duration,
    ) -> Result<(), Error> {
        let r = self.make_ref();
        {
            let mut e = self.cell.ext();
            e.awaiting = Some(r);
            e.reply = None;
        }
        let me = self.pid();
        let (c, once) =
            crate::confirm::Confirm::new(message, crate::confirm::AckTo::Local { to: me, r });
        let env = Envelope {
            from: me,
            kind: Kind::Confirm(c),
        };
        let prio = self.cell.priority();
        if let Err(e) = self.shard.send_env(to, env, prio) {
            if !once.done() {
                self.cell.ext().awaiting = None;
                return Err(e.into());
            }
        }
        self.wait_reply(r, timeout).await.map(|_| ())
    }

    /// Spawns, on node `node`, the process it enabled for remote spawn under `name`; waits
    /// up to `timeout` for the new PID.
    pub async fn remote_spawn(
        &mut self,
        node: impl Into<Atom>,
        name: impl Into<Atom>,
        options: SpawnOptions,
        args: Vec<ergo_edf::Value>,
        timeout: Duration,
    ) -> Result<Pid, Error> {
        let (node, name) = (node.into(), name.into());
        let me = self.pid();
        self.remote_request(timeout, |n, r| {
            crate::net::api::send_spawn(n, node, me, me, me, r, name, &options, args)
        })
        .await?
        .downcast::<Pid>()
        .map_err(|_| Error::Network("malformed spawn result".into()))
    }

    /// Starts the application `name` on node `node` (enabled there for remote start) in
    /// `mode` (`None`: the application's own); waits up to `timeout`.
    pub async fn remote_application_start(
        &mut self,
        node: impl Into<Atom>,
        name: impl Into<Atom>,
        mode: Option<crate::ApplicationMode>,
        timeout: Duration,
    ) -> Result<(), Error> {
        let (node, name) = (node.into(), name.into());
        let me = self.pid();
        let core = self.shard.node.node_pid();
        self.remote_request(timeout, |n, r| {
            crate::net::api::send_app_start(n, node, me, core, r, name, mode)
        })
        .await
        .map(|_| ())
    }

    /// Sends a request to another node (with `send`) whose answer comes back as the response
    /// to a fresh ref, and waits for it.
    async fn remote_request(
        &mut self,
        timeout: Duration,
        send: impl FnOnce(&Node, Ref) -> Result<(), Error>,
    ) -> Result<Message, Error> {
        let r = self.make_ref();
        {
            let mut e = self.cell.ext();
            e.awaiting = Some(r);
            e.reply = None;
        }
        if let Err(e) = send(&self.node(), r) {
            self.cell.ext().awaiting = None;
            return Err(e);
        }
        let res = self.wait_reply(r, timeout).await;
        if res.is_err() {
            if let Some(net) = self.shard.node.network.get() {
                net.remote.forget_request(&r);
            }
        }
        res
    }

    /// Sets how this process's messages to other nodes are compressed.
    pub fn set_compression(&mut self, compression: crate::Compression) {
        let mut c = self.shard.compression.borrow_mut();
        if compression.enable {
            c.insert(self.cell.id, compression);
        } else {
            c.remove(&self.cell.id);
        }
    }

    /// How this process's messages to other nodes are compressed.
    pub fn compression(&self) -> crate::Compression {
        self.shard
            .compression
            .borrow()
            .get(&self.cell.id)
            .copied()
            .unwrap_or_default()
    }

    /// A target on another node, if `to` is one.
    fn remote_target(&self, to: &Target) -> Option<RemoteTarget> {
        let local = self.shard.node.name;
        match *to {
            Target::Pid(p) if p.node != local => Some(RemoteTarget::Pid(p)),
            Target::ProcessId(p) if p.node != local => Some(RemoteTarget::Name(p)),
            Target::Alias(a) if a.node != local => Some(RemoteTarget::Alias(a)),
            _ => None,
        }
    }

    /// Forwards a message to `to` as if `from` had sent it (what a [`crate::pool::Pool`] does).
    pub fn forward(&mut self, to: Pid, from: Pid, message: Message) -> Result<(), Reason> {
        let prio = self.cell.priority();
        self.shard
            .send_pid(
                to,
                Envelope {
                    from,
                    kind: Kind::Message(message),
                },
                prio,
            )
            .map_err(Reason::from)
    }

    /// Forwards a request to `to`; `to` answers the original caller `from` directly.
    pub fn forward_call(
        &mut self,
        to: Pid,
        from: Pid,
        r: Ref,
        request: Message,
    ) -> Result<(), Reason> {
        let env = Envelope {
            from,
            kind: Kind::Request(Box::new((r, request))),
        };
        self.shard
            .send_pid(to, env, Priority::Normal)
            .map_err(Reason::from)
    }

    /// Answers a request later (the `r` and `to` that `handle_call` received).
    pub fn send_response(&mut self, to: Pid, r: Ref, response: Message) {
        let env = Envelope {
            from: self.pid(),
            kind: Kind::Response(Box::new((r, Ok(response)))),
        };
        let _ = self.shard.send_pid(to, env, Priority::Max);
    }

    /// Sends an exit signal to `to`. The target terminates with `reason` (running its
    /// `terminate`) unless it traps exits (then it gets `MessageExitPid`), whatever the reason,
    /// [`Reason::Kill`] included, as in Go. A process never traps an exit signal from its parent.
    pub fn send_exit(&mut self, to: Pid, reason: Reason) -> Result<(), Error> {
        let env = Envelope {
            from: self.pid(),
            kind: Kind::Exit(Box::new((reason, ExitVia::Pid))),
        };
        Ok(self.shard.send_pid(to, env, Priority::Max)?)
    }

    /// Kills `to`, as Go's `node.Kill`: it terminates with reason `kill` at once (after the
    /// handler it is in, if any), even when it traps exits; its `terminate` runs with `kill`. Its
    /// links and monitors get an ordinary exit signal / down message with reason `kill`, which
    /// they may trap: a kill does not spread.
    /// A process on another node gets an exit signal with reason `kill` instead (Go has no
    /// remote kill), which it may trap.
    pub fn kill(&mut self, to: Pid) -> Result<(), Error> {
        if to.node != self.shard.node.name {
            return self.send_exit(to, Reason::Kill);
        }
        let env = Envelope {
            from: self.pid(),
            kind: Kind::Kill,
        };
        Ok(self.shard.send_pid(to, env, Priority::Max)?)
    }

    /// Turns exit signals into `MessageExit*` messages (on) or termination (off).
    pub fn set_trap_exit(&mut self, on: bool) {
        self.cell.set_flag(FLAG_TRAP_EXIT, on);
    }

    /// Whether exits are trapped.
    pub fn trap_exit(&self) -> bool {
        self.cell.flag(FLAG_TRAP_EXIT)
    }

    // ---- processes ---------------------------------------------------------------------------

    /// Spawns a child on this shard. Its `init` runs before this returns.
    pub fn spawn<A: Actor>(&mut self, actor: A, options: SpawnOptions) -> Result<Pid, Error> {
        let options = crate::env::inherit(self, options);
        self.shard.spawn(actor, options, Some(self.pid()))
    }

    /// Spawns a child on another shard (`shard`), for spreading work over cores. Its `init`
    /// runs there; this waits for it without blocking this shard (like a `call`). On this
    /// process's own shard it is the same as [`Context::spawn`].
    pub async fn spawn_on<A: Actor>(
        &mut self,
        shard: usize,
        actor: A,
        options: SpawnOptions,
    ) -> Result<Pid, Error> {
        if shard == self.shard.index {
            return self.spawn(actor, options);
        }
        let options = crate::env::inherit(self, options);
        let remote = self
            .shard
            .node
            .shards
            .get(shard)
            .ok_or(Error::Invalid("no such shard"))?
            .clone();
        let me = self.pid();
        let r = self.make_ref();
        {
            let mut e = self.cell.ext();
            e.awaiting = Some(r);
            e.reply = None;
        }
        remote.publish(vec![crate::shard::Item::Run(Box::new(move |core| {
            let result = core.spawn(actor, options, Some(me)).map(Message::new);
            let env = Envelope {
                from: me,
                kind: Kind::Response(Box::new((r, result))),
            };
            let _ = core.send_pid(me, env, Priority::Max);
        }))]);
        let t = self.shard.add_timer(
            DEFAULT_CALL_TIMEOUT,
            TimerAction::CallTimeout {
                id: self.cell.id,
                r,
            },
        );
        self.cell.state.set(ProcessState::WaitResponse);
        let res = CallWait { cell: &self.cell }.await;
        self.shard.cancel_timer(t);
        self.cell.state.set(ProcessState::Running);
        res.map(|m| {
            m.downcast::<Pid>()
                .map_err(|_| Error::Invalid("spawn answered with no PID"))
        })?
    }

    /// Spawns a child registered under `name`.
    pub fn spawn_register<A: Actor>(
        &mut self,
        name: impl Into<Atom>,
        actor: A,
        options: SpawnOptions,
    ) -> Result<Pid, Error> {
        self.spawn(actor, options.register(name))
    }

    /// Registers this process under `name`.
    pub fn register_name(&mut self, name: impl Into<Atom>) -> Result<(), Error> {
        let name = name.into();
        if self.name().is_some() {
            return Err(Error::HasName);
        }
        self.shard.node.register_name(name, self.pid())?;
        self.cell.ext().name = Some(name);
        Ok(())
    }

    /// Removes this process's registered name.
    pub fn unregister_name(&mut self) -> Result<(), Error> {
        let name = self.cell.ext().name.take();
        match name {
            Some(n) => {
                self.shard.node.unregister_name_of(n, self.pid());
                // As Go: whoever linked or monitored the name hears "unregistered".
                self.notify_unregistered(
                    |via| matches!(via, ExitVia::ProcessId(p) if p.name == n),
                    |kind| matches!(kind, MonitorKind::ProcessId(p) if p.name == n),
                );
                Ok(())
            }
            None => Err(Error::NameUnknown(Atom::empty())),
        }
    }

    /// Creates an alias: another address for this process, valid until deleted or until the
    /// process terminates.
    pub fn create_alias(&mut self) -> Alias {
        let r = self.make_ref();
        let a = Alias {
            node: r.node,
            creation: r.creation,
            id: [self.pid().id, r.id[0], r.id[1]],
        };
        self.cell.ext().aliases.push(a);
        a
    }

    /// Deletes an alias of this process.
    pub fn delete_alias(&mut self, alias: Alias) -> Result<(), Error> {
        let mut e = self.cell.ext();
        let n = e.aliases.len();
        e.aliases.retain(|a| *a != alias);
        if e.aliases.len() == n {
            return Err(Error::ProcessUnknown);
        }
        drop(e);
        // As Go: whoever linked or monitored the alias hears "unregistered".
        self.notify_unregistered(
            |via| matches!(via, ExitVia::Alias(a) if *a == alias),
            |kind| matches!(kind, MonitorKind::Alias(a) if *a == alias),
        );
        Ok(())
    }

    /// Sends `unregistered` exit signals and down messages to the links and monitors that
    /// address this process by a name or alias it just gave up, and forgets them.
    fn notify_unregistered(
        &mut self,
        link: impl Fn(&ExitVia) -> bool,
        monitor: impl Fn(&MonitorKind) -> bool,
    ) {
        let pid = self.pid();
        let reason = Reason::custom("unregistered");
        let (links, monitors) = {
            let mut e = self.cell.ext();
            let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut e.links)
                .into_iter()
                .partition(|(_, v)| link(v));
            e.links = kept;
            let (mgone, mkept): (Vec<_>, Vec<_>) = std::mem::take(&mut e.monitors_in)
                .into_iter()
                .partition(|m| monitor(&m.kind));
            e.monitors_in = mkept;
            (gone, mgone)
        };
        let (mut links, mut monitors) = (links, monitors);
        self.shard
            .net_notify_gone(pid, &mut links, &mut monitors, &reason);
        for (p, via) in links {
            let env = Envelope {
                from: pid,
                kind: Kind::Exit(Box::new((reason.clone(), via))),
            };
            let _ = self.shard.send_pid(p, env, Priority::Max);
        }
        for m in monitors {
            let msg = crate::shard::down_message(pid, m.r, m.kind, reason.clone());
            let env = Envelope {
                from: pid,
                kind: Kind::System(msg),
            };
            let _ = self.shard.send_pid(m.by, env, Priority::High);
        }
    }

    /// The aliases of this process.
    pub fn aliases(&self) -> Vec<Alias> {
        self.cell
            .ext
            .borrow()
            .as_ref()
            .map(|e| e.aliases.clone())
            .unwrap_or_default()
    }

    // ---- links and monitors ------------------------------------------------------------------

    fn resolve(&self, to: Target) -> Result<(Pid, ExitVia, MonitorKind), Error> {
        let node = &self.shard.node;
        match to {
            Target::Pid(p) => Ok((p, ExitVia::Pid, MonitorKind::Pid)),
            Target::Name(n) => {
                let p = node.whereis(n).ok_or(Error::NameUnknown(n))?;
                let id = ergo_edf::ProcessId::new(n, node.name);
                Ok((p, ExitVia::ProcessId(id), MonitorKind::ProcessId(id)))
            }
            Target::ProcessId(id) => {
                if id.node != node.name {
                    return Err(Error::NoConnection(id.node));
                }
                let p = node.whereis(id.name).ok_or(Error::NameUnknown(id.name))?;
                Ok((p, ExitVia::ProcessId(id), MonitorKind::ProcessId(id)))
            }
            Target::Alias(a) => {
                if a.node != node.name {
                    return Err(Error::NoConnection(a.node));
                }
                Ok((
                    Pid::new(a.node, a.id[0], a.creation),
                    ExitVia::Alias(a),
                    MonitorKind::Alias(a),
                ))
            }
        }
    }

    /// Links this process and `to`: when either terminates, the other gets an exit signal
    /// (and terminates with the same reason unless it traps exits). Linking to a process that
    /// does not exist yields an exit signal with [`Reason::NoProc`].
    pub fn link(&mut self, to: impl Into<Target>) -> Result<(), Error> {
        let to = to.into();
        if let Some(t) = self.remote_target(&to) {
            // One-way across nodes (as Go): this process hears about the target, not the
            // other way round. A target that does not exist gives an exit signal.
            let r = self.make_ref();
            return self.shard.net_watch(t, self.pid(), true, r);
        }
        let (pid, via, _) = self.resolve(to)?;
        if pid == self.pid() {
            return Err(Error::Invalid("a process cannot link to itself"));
        }
        self.link_pid_raw(pid, via);
        Ok(())
    }

    pub(crate) fn link_pid_raw(&mut self, pid: Pid, via: ExitVia) {
        {
            let mut e = self.cell.ext();
            if !e.links.iter().any(|(p, _)| *p == pid) {
                e.links.push((pid, ExitVia::Pid));
            }
        }
        let _ = self.shard.send_pid(
            pid,
            Envelope {
                from: self.pid(),
                kind: Kind::Link(Box::new(via)),
            },
            Priority::Max,
        );
    }

    /// Removes a link.
    pub fn unlink(&mut self, to: impl Into<Target>) -> Result<(), Error> {
        let to = to.into();
        if let Some(t) = self.remote_target(&to) {
            self.shard.net_unwatch(t, self.pid(), true);
            return Ok(());
        }
        let (pid, _, _) = self.resolve(to)?;
        self.cell.ext().links.retain(|(p, _)| *p != pid);
        let env = Envelope {
            from: self.pid(),
            kind: Kind::Unlink,
        };
        Ok(self.shard.send_pid(pid, env, Priority::Max)?)
    }

    /// Monitors `to`: when it terminates, this process gets `MessageDownPid` (or
    /// `MessageDownProcessId` / `MessageDownAlias`, by how `to` was named). Monitoring a
    /// process that does not exist yields a down message with [`Reason::NoProc`].
    pub fn monitor(&mut self, to: impl Into<Target>) -> Result<Ref, Error> {
        let to = to.into();
        if let Some(t) = self.remote_target(&to) {
            let r = self.make_ref();
            self.shard.net_watch(t, self.pid(), false, r)?;
            return Ok(r);
        }
        let (pid, _, kind) = self.resolve(to)?;
        let r = self.make_ref();
        let env = Envelope {
            from: self.pid(),
            kind: Kind::Monitor(Box::new((r, kind))),
        };
        let _ = self.shard.send_pid(pid, env, Priority::Max);
        Ok(r)
    }

    /// Removes every monitor this process holds on `to`.
    pub fn demonitor(&mut self, to: impl Into<Target>) -> Result<(), Error> {
        let to = to.into();
        if let Some(t) = self.remote_target(&to) {
            self.shard.net_unwatch(t, self.pid(), false);
            return Ok(());
        }
        let (pid, _, _) = self.resolve(to)?;
        let env = Envelope {
            from: self.pid(),
            kind: Kind::Demonitor(Box::default()),
        };
        Ok(self.shard.send_pid(pid, env, Priority::Max)?)
    }

    // ---- events ------------------------------------------------------------------------------

    /// Registers an event this process produces. Returns the token [`Context::send_event`]
    /// needs. `buffer` keeps the last N published values for new subscribers; `notify` sends
    /// this process `MessageEventStart` / `MessageEventStop` when subscribers come and go.
    pub fn register_event(
        &mut self,
        name: impl Into<Atom>,
        options: crate::EventOptions,
    ) -> Result<Ref, Error> {
        let name = name.into();
        let token = self.make_ref();
        self.shard
            .node
            .events
            .register(name, self.pid(), token, options)?;
        self.cell.ext().events_owned.push(name);
        Ok(token)
    }

    /// Unregisters an event of this process; subscribers get `MessageDownEvent` (monitors) or
    /// an exit signal (links), with reason `unregistered` (as Go). When the producer
    /// terminates, they get its reason.
    pub fn unregister_event(&mut self, name: impl Into<Atom>) -> Result<(), Error> {
        let name = name.into();
        self.shard.node.events.unregister(
            &self.shard,
            name,
            self.pid(),
            Reason::custom("unregistered"),
        )?;
        self.cell.ext().events_owned.retain(|e| *e != name);
        Ok(())
    }

    /// Publishes `message` to the subscribers of `name`.
    pub fn send_event<T: Any + Send + Sync>(
        &mut self,
        name: impl Into<Atom>,
        token: Ref,
        message: T,
    ) -> Result<(), Error> {
        self.shard.node.events.publish(
            &self.shard,
            name.into(),
            token,
            self.pid(),
            Arc::new(message),
        )
    }

    /// Subscribes with a monitor: events arrive in `handle_event`; when the event goes away this
    /// process gets `MessageDownEvent`. Returns the buffered last events.
    ///
    /// An event on another node: the subscription request goes to that node, and the
    /// buffered events (if any) arrive in `handle_event` once it answers; the returned list
    /// is empty. Each publication crosses the network once per subscribing node.
    pub fn monitor_event(&mut self, event: Event) -> Result<Vec<MessageEvent>, Error> {
        let r = self.make_ref();
        if event.node != self.shard.node.name {
            self.shard
                .net_watch(RemoteTarget::Event(event), self.pid(), false, r)?;
            return Ok(Vec::new());
        }
        let buf = self
            .shard
            .node
            .events
            .subscribe(&self.shard, event, self.pid(), false, r)?;
        self.cell.ext().events_subscribed.push(event.name);
        Ok(buf)
    }

    /// Subscribes with a link: when the event goes away this process gets an exit signal.
    /// For an event on another node, see [`Context::monitor_event`].
    pub fn link_event(&mut self, event: Event) -> Result<Vec<MessageEvent>, Error> {
        let r = self.make_ref();
        if event.node != self.shard.node.name {
            self.shard
                .net_watch(RemoteTarget::Event(event), self.pid(), true, r)?;
            return Ok(Vec::new());
        }
        let buf = self
            .shard
            .node
            .events
            .subscribe(&self.shard, event, self.pid(), true, r)?;
        self.cell.ext().events_subscribed.push(event.name);
        Ok(buf)
    }

    /// Ends a subscription made with `monitor_event` or `link_event`.
    pub fn unsubscribe_event(&mut self, event: Event) {
        if event.node != self.shard.node.name {
            let me = self.pid();
            self.shard
                .net_unwatch(RemoteTarget::Event(event), me, false);
            self.shard.net_unwatch(RemoteTarget::Event(event), me, true);
            return;
        }
        self.shard
            .node
            .events
            .unsubscribe(&self.shard, event.name, self.pid());
        self.cell
            .ext()
            .events_subscribed
            .retain(|e| *e != event.name);
    }
}

/// Waits for the response of the pending call (or its timeout).
struct CallWait<'a> {
    cell: &'a ProcCell,
}

impl Future for CallWait<'_> {
    type Output = Result<Message, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let mut e = self.cell.ext();
        if let Some(r) = e.reply.take() {
            e.awaiting = None;
            return Poll::Ready(r);
        }
        drop(e);
        self.cell.store_waker(cx);
        Poll::Pending
    }
}
