//! A shard: one pinned OS thread with its own ring, run queue, process table and inbound queue.
//!
//! The loop, once per iteration: reap ring completions; drain the inbound queue (batches from
//! other shards and outside threads) into mailboxes; fire due timers; run every process that was
//! ready at the start of the step (each for at most [`crate::process::BATCH`] messages); publish
//! each outbound batch (one queue push per destination shard); then either go round again, or
//! spin briefly and park in the ring. Another thread wakes a shard only after it flagged itself
//! asleep ([`crate::inbox`]), so a busy shard costs its producers no syscall and no wake-up.
//!
//! Everything in [`ShardCore`] is owned by the shard's thread; it must never be reached from
//! another thread (it is `!Send`). Other threads talk to a shard only through [`ShardRemote`].

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_task::Runnable;
use ergo_edf::{Alias, Pid, Ref};

use crate::inbox::Inbox;
use crate::message::{MessageDownAlias, MessageDownPid, MessageDownProcessId, MessageFallback};
use crate::node::NodeShared;
use crate::process::{
    Envelope, ExitVia, Kind, MonitorIn, MonitorKind, ProcCell, ProcessState, FLAG_KILLED,
};
use crate::ring::{Ring, Waker};
pub(crate) use crate::timers::{TimerAction, TimerRef, Timers};
use crate::{Error, Message, Priority, Reason, Target};

/// PIDs below this are reserved: 0 is an outside thread waiting in `Node::call`, 1 is the node.
pub(crate) const FIRST_ID: u64 = 1000;
/// The PID id of calls made from outside the node.
pub(crate) const EXTERNAL_ID: u64 = 0;
/// The PID id the node uses as sender of its own signals.
pub(crate) const NODE_ID: u64 = 1;

/// Why a delivery failed, as the send path returns it (two words, returned in registers);
/// converted into [`Error`] at the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fail {
    ProcessUnknown,
    MailboxFull,
    NoConnection(ergo_edf::Atom),
    NameUnknown(ergo_edf::Atom),
    Network(String),
}

impl From<Fail> for Error {
    #[cold]
    fn from(f: Fail) -> Error {
        match f {
            Fail::ProcessUnknown => Error::ProcessUnknown,
            Fail::MailboxFull => Error::MailboxFull,
            Fail::NoConnection(a) => Error::NoConnection(a),
            Fail::NameUnknown(a) => Error::NameUnknown(a),
            Fail::Network(e) => Error::Network(e),
        }
    }
}

impl From<Fail> for Reason {
    fn from(f: Fail) -> Reason {
        Reason::from(Error::from(f))
    }
}

/// The low bits of a PID id name its shard (so at most 1024 shards).
pub(crate) const SHARD_BITS: u32 = 10;
const SHARD_MASK: u64 = (1 << SHARD_BITS) - 1;

/// The shard of a PID id.
#[inline]
pub(crate) fn shard_of(id: u64) -> usize {
    (id & SHARD_MASK) as usize
}

/// How long an idle shard spins before it parks.
const SPIN: Duration = Duration::from_micros(50);

/// A closure run on a shard's thread, with the shard.
pub(crate) type ShardFn = Box<dyn FnOnce(&Rc<ShardCore>) + Send>;

/// What other threads hand to a shard.
pub(crate) enum Item {
    Deliver {
        to: u64,
        prio: Priority,
        env: Envelope,
    },
    DeliverAlias(Box<(Alias, Priority, Envelope)>),
    Wake(Runnable),
    Run(ShardFn),
    /// Encoded frames for a network link of this shard.
    NetWrite(crate::net::link_io::LinkId, Vec<u8>),
    Stop,
}

/// The part of a shard other threads may touch.
pub(crate) struct ShardRemote {
    pub(crate) index: usize,
    pub(crate) inbox: Inbox<Vec<Item>>,
    pub(crate) waker: Waker,
    pub(crate) closed: AtomicBool,
    pub(crate) processes: AtomicUsize,
    pub(crate) spawned: AtomicUsize,
    /// Times another thread woke this shard (counted next to the eventfd write it costs).
    pub(crate) wakeups: std::sync::atomic::AtomicU64,
}

impl ShardRemote {
    pub(crate) fn new(index: usize) -> std::io::Result<ShardRemote> {
        Ok(ShardRemote {
            index,
            inbox: Inbox::new(),
            waker: Waker::new()?,
            closed: AtomicBool::new(false),
            processes: AtomicUsize::new(0),
            spawned: AtomicUsize::new(0),
            wakeups: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Publishes one batch and wakes the shard if it sleeps.
    pub(crate) fn publish(&self, batch: Vec<Item>) {
        if self.inbox.publish(batch) {
            self.wakeups.fetch_add(1, Ordering::Relaxed);
            self.waker.wake();
        }
    }
}

/// Identity-like hasher for PID ids (they are sequential integers).
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // Fibonacci hashing spreads sequential ids over hashbrown's control bytes.
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

thread_local! {
    static CURRENT: RefCell<Option<Rc<ShardCore>>> = const { RefCell::new(None) };
}

/// The shard the calling thread runs, if it is a shard thread.
pub(crate) fn current() -> Option<Rc<ShardCore>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// The schedule function of every process task on a shard.
pub(crate) fn schedule(remote: &Arc<ShardRemote>, r: Runnable) {
    let r = CURRENT.with(|c| {
        if let Some(core) = c.borrow().as_ref() {
            if Arc::ptr_eq(&core.remote, remote) {
                core.run_queue.borrow_mut().push_back(r);
                return None;
            }
        }
        Some(r)
    });
    if let Some(r) = r {
        // Woken from another thread (a future that waits on something outside the node).
        if remote.closed.load(Ordering::Acquire) {
            // The shard is gone; the task must not be dropped on this thread (its future is
            // not `Send`), so it is leaked.
            std::mem::forget(r);
            return;
        }
        remote.publish(vec![Item::Wake(r)]);
    }
}

/// Whether the queue that `prio` fills is at the bound of a bounded mailbox.
#[cold]
fn mailbox_at_bound(cell: &ProcCell, prio: Priority) -> bool {
    let lim = cell.ext.borrow().as_ref().map_or(0, |e| e.limit);
    cell.mailbox.borrow().queue_len(prio) >= lim as usize
}

/// The shard-local core: process table, run queue, outbound batches, timers.
pub(crate) struct ShardCore {
    pub(crate) index: usize,
    pub(crate) node: Arc<NodeShared>,
    pub(crate) remote: Arc<ShardRemote>,
    pub(crate) procs: RefCell<IdMap<Rc<ProcCell>>>,
    pub(crate) run_queue: RefCell<VecDeque<Runnable>>,
    outbound: RefCell<Vec<Vec<Item>>>,
    outbound_dirty: Cell<bool>,
    pub(crate) timers: RefCell<Timers>,
    pub(crate) next_seq: Cell<u64>,
    ref_seq: Cell<u64>,
    /// Envelopes routed by this shard so far: a process's run budget counts the mail it sends
    /// as well as the mail it handles, so a fast producer cannot flood a consumer on its shard.
    pub(crate) routed: Cell<u64>,
    /// The last process delivered to (see `deliver`).
    last: Cell<Option<Rc<ProcCell>>>,
    /// The node's name and creation, copied here for the send path.
    pub(crate) name: ergo_edf::Atom,
    creation: i64,
    stop: Cell<bool>,
    /// This shard's network links.
    pub(crate) net: RefCell<crate::net::NetShard>,
    /// The connection of each link of this shard, by link index.
    pub(crate) net_links: RefCell<HashMap<usize, Arc<crate::net::Conn>>>,
    /// Compression settings of this shard's processes that compress remote sends.
    pub(crate) compression: RefCell<HashMap<u64, crate::Compression>>,
    /// Set by a remote send into a congested connection: the sending process pauses after
    /// its handler returns (see [`crate::net::HIGH_WATER`]).
    pub(crate) net_pause: Cell<bool>,
    /// The congested connections this shard's paused processes wait for.
    pub(crate) net_blocked: RefCell<Vec<Arc<crate::net::Conn>>>,
    /// The paused processes.
    pub(crate) net_paused: RefCell<Vec<std::task::Waker>>,
    /// Links with received frames left for the next iteration.
    pub(crate) net_more: RefCell<Vec<crate::net::link_io::LinkId>>,
    /// The last connection looked up, with the generation of the connection table it came from.
    pub(crate) net_conn_cache: RefCell<Option<(u64, ergo_edf::Atom, Arc<crate::net::Pool>)>>,
    /// Actor type names of this shard's processes (for inspection).
    pub(crate) behaviors: RefCell<crate::inspect::local::Behaviors>,
    /// This shard's counters (plain cells; read on scrape, see [`crate::ops::counters`]).
    pub(crate) counters: crate::ops::counters::ShardCounters,
}

impl ShardCore {
    fn new(node: Arc<NodeShared>, index: usize) -> ShardCore {
        let n = node.shards.len();
        let remote = node.shards[index].clone();
        let (name, creation) = (node.name, node.creation);
        ShardCore {
            index,
            node,
            remote,
            procs: RefCell::new(IdMap::default()),
            run_queue: RefCell::new(VecDeque::with_capacity(1024)),
            outbound: RefCell::new((0..n).map(|_| Vec::new()).collect()),
            outbound_dirty: Cell::new(false),
            timers: RefCell::new(Timers::default()),
            next_seq: Cell::new(1),
            ref_seq: Cell::new(0),
            routed: Cell::new(0),
            last: Cell::new(None),
            name,
            creation,
            stop: Cell::new(false),
            net: RefCell::new(crate::net::NetShard::new()),
            net_links: RefCell::new(HashMap::new()),
            compression: RefCell::new(HashMap::new()),
            net_pause: Cell::new(false),
            net_blocked: RefCell::new(Vec::new()),
            net_paused: RefCell::new(Vec::new()),
            net_more: RefCell::new(Vec::new()),
            net_conn_cache: RefCell::new(None),
            behaviors: RefCell::new(Default::default()),
            counters: Default::default(),
        }
    }

    pub(crate) fn alloc_id(&self) -> u64 {
        let s = self.next_seq.get();
        self.next_seq.set(s + 1);
        (s << SHARD_BITS) | self.index as u64
    }

    pub(crate) fn make_ref(&self) -> Ref {
        let s = self.ref_seq.get() + 1;
        self.ref_seq.set(s);
        Ref {
            node: self.node.name,
            creation: self.node.creation,
            id: [s, self.index as u64, self.node.creation as u64],
        }
    }

    #[inline]
    pub(crate) fn make_pid(&self, id: u64) -> Pid {
        Pid::new(self.name, id, self.creation)
    }

    // ---- sending ---------------------------------------------------------------------------

    /// Routes `env` to `to`, same shard directly, other shards through the outbound batch.
    pub(crate) fn send_env(&self, to: Target, env: Envelope, prio: Priority) -> Result<(), Fail> {
        match to {
            Target::Pid(pid) => self.send_pid(pid, env, prio),
            Target::Name(n) => {
                let pid = self.node.whereis(n).ok_or(Fail::NameUnknown(n))?;
                self.send_pid(pid, env, prio)
            }
            Target::ProcessId(p) => {
                if p.node != self.node.name {
                    self.counters.sent(prio);
                    return self.send_remote(ergo_proto::connection::Target::Name(p), env, prio);
                }
                let pid = self.node.whereis(p.name).ok_or(Fail::NameUnknown(p.name))?;
                self.send_pid(pid, env, prio)
            }
            Target::Alias(a) => {
                self.counters.sent(prio);
                if a.node != self.node.name {
                    return self.send_remote(ergo_proto::connection::Target::Alias(a), env, prio);
                }
                if a.creation != self.node.creation {
                    return Err(Fail::ProcessUnknown);
                }
                let s = shard_of(a.id[0]);
                if s == self.index {
                    self.deliver_alias(a, env, prio)
                } else if s >= self.node.shards.len() {
                    // An ID from another node may name a shard this node does not have.
                    self.undeliverable_via(self.make_pid(a.id[0]), env);
                    Err(Fail::ProcessUnknown)
                } else {
                    self.push_outbound(s, Item::DeliverAlias(Box::new((a, prio, env))));
                    Ok(())
                }
            }
        }
    }

    #[inline]
    pub(crate) fn send_pid(&self, pid: Pid, env: Envelope, prio: Priority) -> Result<(), Fail> {
        self.routed.set(self.routed.get() + 1);
        self.counters.sent(prio);
        if pid.node != self.name {
            return self.send_remote(ergo_proto::connection::Target::Pid(pid), env, prio);
        }
        if pid.creation != self.creation {
            return Err(Fail::ProcessUnknown);
        }
        if pid.id < FIRST_ID {
            return self.node.deliver_reserved(pid.id, env);
        }
        let s = shard_of(pid.id);
        if s == self.index {
            self.deliver(pid.id, env, prio)
        } else if s >= self.node.shards.len() {
            // An ID from another node may name a shard this node does not have.
            self.undeliverable(pid.id, env);
            Err(Fail::ProcessUnknown)
        } else {
            self.push_outbound(
                s,
                Item::Deliver {
                    to: pid.id,
                    prio,
                    env,
                },
            );
            Ok(())
        }
    }

    /// Encodes frames for a link owned by another shard into the buffer this iteration's batch
    /// carries for it (one buffer per link and batch, not one per message).
    pub(crate) fn with_net_outbound<R>(
        &self,
        shard: usize,
        link: crate::net::link_io::LinkId,
        write: impl FnOnce(&mut Vec<u8>) -> R,
    ) -> R {
        let mut out = self.outbound.borrow_mut();
        let batch = &mut out[shard];
        if !matches!(batch.last(), Some(Item::NetWrite(l, _)) if *l == link) {
            batch.push(Item::NetWrite(link, Vec::with_capacity(4096)));
        }
        self.outbound_dirty.set(true);
        match batch.last_mut() {
            Some(Item::NetWrite(_, buf)) => write(buf),
            _ => unreachable!("a NetWrite was just pushed"),
        }
    }

    #[inline]
    fn push_outbound(&self, shard: usize, item: Item) {
        self.outbound.borrow_mut()[shard].push(item);
        self.outbound_dirty.set(true);
    }

    /// Publishes every non-empty outbound batch: one queue push per destination shard.
    fn flush(&self) {
        if !self.outbound_dirty.replace(false) {
            return;
        }
        let mut out = self.outbound.borrow_mut();
        for (i, batch) in out.iter_mut().enumerate() {
            if !batch.is_empty() {
                let cap = batch.len().clamp(16, 1024);
                let b = std::mem::replace(batch, Vec::with_capacity(cap));
                self.node.shards[i].publish(b);
            }
        }
    }

    // ---- delivery on this shard ------------------------------------------------------------

    /// Puts `env` into the mailbox of process `id` on this shard (or handles it, for control
    /// envelopes), waking the process if it sleeps.
    #[inline]
    pub(crate) fn deliver(&self, id: u64, env: Envelope, prio: Priority) -> Result<(), Fail> {
        // A one-entry cache of the last recipient: a stream of sends to one process skips the
        // table lookup.
        let cell = match self.last.take() {
            Some(c) if c.id == id => c,
            _ => match self.procs.borrow().get(&id) {
                Some(c) => c.clone(),
                None => {
                    self.undeliverable(id, env);
                    return Err(Fail::ProcessUnknown);
                }
            },
        };
        if cell.state.get() == ProcessState::Terminated {
            self.undeliverable(id, env);
            return Err(Fail::ProcessUnknown);
        }
        let r = self.deliver_to(&cell, env, prio);
        self.last.set(Some(cell));
        r
    }

    #[inline]
    fn deliver_to(&self, cell: &Rc<ProcCell>, env: Envelope, prio: Priority) -> Result<(), Fail> {
        let env = if let Kind::Message(_) = env.kind {
            // As Go: a bounded mailbox bounds each of its queues (Main, System, Urgent) with
            // the same size; framework messages (exit signals, down messages) are never refused.
            if cell.flag(crate::process::FLAG_BOUNDED) && mailbox_at_bound(cell, prio) {
                return self.mailbox_full(cell, env);
            }
            env
        } else if let Kind::Confirm(c) = env.kind {
            if cell.flag(crate::process::FLAG_BOUNDED) && mailbox_at_bound(cell, prio) {
                self.confirm(&c.ack, &c.once, Some(Fail::MailboxFull));
                return Ok(());
            }
            let c = *c;
            self.confirm(&c.ack, &c.once, None);
            Envelope {
                from: env.from,
                kind: Kind::Message(c.message),
            }
        } else {
            match self.deliver_special(cell, env) {
                Some(env) => env,
                None => return Ok(()),
            }
        };
        self.counters.received(prio);
        cell.mailbox.borrow_mut().push(prio, env);
        if cell.state.get() == ProcessState::Sleep {
            cell.state.set(ProcessState::Running);
            cell.wake(&self.run_queue);
        }
        Ok(())
    }

    /// Envelopes other than plain messages: control envelopes are handled here (`None`), kill
    /// takes effect at once (`None`); the rest go to the mailbox (`Some`).
    #[cold]
    fn deliver_special(&self, cell: &Rc<ProcCell>, env: Envelope) -> Option<Envelope> {
        match env.kind {
            Kind::Link(_)
            | Kind::Unlink
            | Kind::Monitor(_)
            | Kind::Demonitor(_)
            | Kind::RemoteWatch(_)
            | Kind::Response(_) => {
                self.control(cell, env);
                None
            }
            Kind::Kill => {
                cell.ext().kill = Some(Reason::Kill);
                cell.set_flag(FLAG_KILLED, true);
                if cell.state.get() != ProcessState::Init {
                    cell.wake(&self.run_queue);
                }
                None
            }
            Kind::Log(_) => {
                cell.mailbox.borrow_mut().push_log(env);
                if cell.state.get() == ProcessState::Sleep {
                    cell.state.set(ProcessState::Running);
                    cell.wake(&self.run_queue);
                }
                None
            }
            _ => Some(env),
        }
    }

    fn deliver_alias(&self, a: Alias, env: Envelope, prio: Priority) -> Result<(), Fail> {
        let ok = {
            let procs = self.procs.borrow();
            procs.get(&a.id[0]).is_some_and(|c| {
                c.ext
                    .borrow()
                    .as_ref()
                    .is_some_and(|e| e.aliases.contains(&a))
            })
        };
        if !ok {
            self.undeliverable_via(self.make_pid(a.id[0]), env);
            return Err(Fail::ProcessUnknown);
        }
        self.deliver(a.id[0], env, prio)
    }

    fn mailbox_full(&self, cell: &ProcCell, env: Envelope) -> Result<(), Fail> {
        let fb = cell.ext.borrow().as_ref().and_then(|e| e.fallback);
        self.counters.mailbox_full(fb.is_some());
        let Some((name, tag)) = fb else {
            return Err(Fail::MailboxFull);
        };
        let Kind::Message(message) = env.kind else {
            return Err(Fail::MailboxFull);
        };
        let pid = self.make_pid(cell.id);
        let m = Message::new(MessageFallback { pid, tag, message });
        self.send_env(
            Target::Name(name),
            Envelope {
                from: env.from,
                kind: Kind::Message(m),
            },
            Priority::Normal,
        )
    }

    /// Link, monitor and response envelopes are handled by the shard, not the actor.
    fn control(&self, cell: &ProcCell, env: Envelope) {
        let from = env.from;
        match env.kind {
            Kind::Link(via) => {
                let mut e = cell.ext();
                if !e.links.iter().any(|(p, _)| *p == from) {
                    e.links.push((from, *via));
                }
            }
            Kind::Unlink => cell.ext().links.retain(|(p, _)| *p != from),
            Kind::Monitor(b) => {
                let (r, kind) = *b;
                cell.ext().monitors_in.push(MonitorIn { by: from, r, kind });
            }
            Kind::Demonitor(r) => {
                let r = *r;
                cell.ext()
                    .monitors_in
                    .retain(|m| !(m.by == from && (r == Ref::default() || m.r == r)));
            }
            Kind::RemoteWatch(w) => {
                {
                    let mut e = cell.ext();
                    if w.link {
                        if !e.links.iter().any(|(p, _)| *p == from) {
                            e.links.push((from, w.via));
                        }
                    } else {
                        e.monitors_in.push(MonitorIn {
                            by: from,
                            r: w.r,
                            kind: w.kind,
                        });
                    }
                }
                self.reply_watch(from, &w, None);
            }
            Kind::Response(b) => {
                let (r, result) = *b;
                let mut e = cell.ext();
                if e.awaiting == Some(r) && e.reply.is_none() {
                    e.reply = Some(result);
                    drop(e);
                    cell.wake(&self.run_queue);
                }
            }
            _ => {}
        }
    }

    fn undeliverable(&self, id: u64, env: Envelope) {
        self.undeliverable_via(self.make_pid(id), env)
    }

    /// The target is gone: answer what expects an answer (calls fail at once, links get an exit
    /// signal, monitors a down message, both with reason `NoProc`).
    fn undeliverable_via(&self, target: Pid, env: Envelope) {
        let from = env.from;
        match env.kind {
            Kind::Request(b) | Kind::ImportantRequest(b) => {
                let r = b.0;
                let env = Envelope {
                    from: target,
                    kind: Kind::Response(Box::new((r, Err(Error::ProcessUnknown)))),
                };
                let _ = self.send_pid(from, env, Priority::Max);
            }
            Kind::Confirm(c) => self.confirm(&c.ack, &c.once, Some(Fail::ProcessUnknown)),
            Kind::Link(via) => {
                let env = Envelope {
                    from: target,
                    kind: Kind::Exit(Box::new((Reason::NoProc, *via))),
                };
                let _ = self.send_pid(from, env, Priority::Max);
            }
            Kind::RemoteWatch(w) => {
                // Go's answers: an alias that does not exist is "unknown alias".
                let e = match w.via {
                    ExitVia::Alias(_) => ergo_edf::GoError::new("unknown alias"),
                    _ => ergo_edf::errors::ErrProcessUnknown(),
                };
                self.reply_watch(from, &w, Some(e));
            }
            Kind::Monitor(b) => {
                let (r, kind) = *b;
                let m = down_message(target, r, kind, Reason::NoProc);
                let _ = self.send_pid(
                    from,
                    Envelope {
                        from: target,
                        kind: Kind::System(m),
                    },
                    Priority::High,
                );
            }
            _ => {}
        }
    }

    // ---- the loop --------------------------------------------------------------------------

    fn handle_item(self: &Rc<Self>, item: Item) {
        match item {
            Item::Deliver { to, prio, env } => {
                let _ = self.deliver(to, env, prio);
            }
            Item::DeliverAlias(b) => {
                let (a, prio, env) = *b;
                let _ = self.deliver_alias(a, env, prio);
            }
            Item::Wake(r) => self.run_queue.borrow_mut().push_back(r),
            Item::Run(f) => f(self),
            Item::NetWrite(link, bytes) => self.net_write(link, &bytes),
            Item::Stop => self.stop.set(true),
        }
    }

    fn run_ready(&self) -> bool {
        let n = self.run_queue.borrow().len();
        if n > 0 {
            crate::inspect::counters::mark_now();
        }
        for _ in 0..n {
            let r = self.run_queue.borrow_mut().pop_front();
            match r {
                Some(r) => {
                    r.run();
                }
                None => break,
            }
        }
        n > 0
    }

    fn run_loop(self: &Rc<Self>, ring: &mut Ring) {
        let mut idle_since: Option<Instant> = None;
        loop {
            self.counters.iteration();
            let reaped = ring.reap();
            self.counters.ring_completions(reaped);
            let mut work = reaped > 0;
            work |= self.net_poll(ring);
            while let Some(batch) = self.remote.inbox.pop() {
                work = true;
                self.counters.inbox_batch(batch.len());
                for item in batch {
                    self.handle_item(item);
                }
            }
            work |= self.fire_timers();
            work |= self.net_resume();
            work |= self.run_ready();
            self.flush();
            self.net_submit(ring);
            if self.stop.get() {
                break;
            }
            if work || !self.run_queue.borrow().is_empty() {
                idle_since = None;
                continue;
            }
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() < SPIN {
                std::hint::spin_loop();
                continue;
            }
            if !self.remote.inbox.prepare_sleep() {
                continue;
            }
            let mut timeout = self
                .timers
                .borrow_mut()
                .next_deadline()
                .map(|d| d.saturating_duration_since(Instant::now()));
            if !self.net_paused.borrow().is_empty() {
                // Processes wait for a congested connection, possibly drained by another
                // shard: look again soon.
                timeout =
                    Some(timeout.map_or(crate::net::PAUSE_POLL, |t| t.min(crate::net::PAUSE_POLL)));
            }
            if timeout != Some(Duration::ZERO) {
                match ring.park(timeout) {
                    Ok((sqes, reaped)) => {
                        self.counters.ring_submit(sqes);
                        self.counters.ring_completions(reaped);
                    }
                    Err(e) => {
                        tracing::error!(shard = self.index, error = %e, "ring wait failed");
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                self.counters.parked(since);
            }
            self.remote.inbox.awake();
            idle_since = None;
        }
    }

    /// Drops every process task on this thread (their futures are not `Send`).
    fn teardown(&self) {
        self.remote.closed.store(true, Ordering::Release);
        drop(self.last.take());
        loop {
            let mut any = false;
            while let Some(batch) = self.remote.inbox.pop() {
                any = true;
                drop(batch);
            }
            let cells: Vec<Rc<ProcCell>> =
                self.procs.borrow_mut().drain().map(|(_, c)| c).collect();
            any |= !cells.is_empty();
            for c in &cells {
                c.state.set(ProcessState::Terminated);
                drop(c.waker.take());
                drop(c.runnable.take());
                c.mailbox.borrow_mut().drain_all();
                c.ext.borrow_mut().take();
            }
            drop(cells);
            let q: Vec<Runnable> = self.run_queue.borrow_mut().drain(..).collect();
            any |= !q.is_empty();
            drop(q);
            for b in self.outbound.borrow_mut().iter_mut() {
                b.clear();
            }
            if !any {
                break;
            }
        }
        self.timers.borrow_mut().clear();
    }
}

/// Builds the down message a monitor of `kind` gets.
pub(crate) fn down_message(pid: Pid, r: Ref, kind: MonitorKind, reason: Reason) -> Message {
    match kind {
        MonitorKind::Pid => Message::new(MessageDownPid { pid, r, reason }),
        MonitorKind::ProcessId(process_id) => Message::new(MessageDownProcessId {
            process_id,
            r,
            reason,
        }),
        MonitorKind::Alias(alias) => Message::new(MessageDownAlias { alias, r, reason }),
    }
}

/// Pins the calling thread to `cpu` (best effort).
fn pin_to(cpu: usize) {
    // SAFETY: `set` is a plain bit set on a zeroed local; `sched_setaffinity(0, ..)` affects
    // only the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            tracing::warn!(cpu, "could not pin shard thread");
        }
    }
}

/// The body of a shard thread.
pub(crate) fn shard_main(
    node: Arc<NodeShared>,
    index: usize,
    pin: Option<usize>,
    ready: std::sync::mpsc::SyncSender<Result<(), Error>>,
) {
    if let Some(cpu) = pin {
        pin_to(cpu);
    }
    let mut ring = match Ring::new(&node.shards[index].waker) {
        Ok(r) => r,
        Err(e) => {
            let _ = ready.send(Err(Error::Os(crate::ring::explain_setup_error(&e))));
            return;
        }
    };
    let core = Rc::new(ShardCore::new(node, index));
    CURRENT.with(|c| *c.borrow_mut() = Some(core.clone()));
    let _ = ready.send(Ok(()));
    drop(ready);
    core.run_loop(&mut ring);
    core.teardown();
    CURRENT.with(|c| c.borrow_mut().take());
    core.teardown();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_ids_name_their_shard() {
        for shard in [0usize, 1, 7, 1023] {
            for seq in [1u64, 2, 1 << 40] {
                assert_eq!(shard_of((seq << SHARD_BITS) | shard as u64), shard);
            }
        }
    }
}
