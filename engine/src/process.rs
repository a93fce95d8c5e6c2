//! A process on its shard: its cell (mailbox, state, links), and the task that runs its actor.
//!
//! The cell is shard-local (`Rc`, `Cell`, `RefCell`): a same-shard send pushes into the mailbox
//! and, if the process sleeps, puts its task on the shard's run queue. Nothing here is touched
//! by another thread. Rarely used per-process data (name, links, monitors, aliases, pending
//! call) lives in a lazily allocated [`ProcExt`] so an idle process stays small.

use std::cell::{Cell, RefCell, RefMut};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, Waker};

use async_task::Runnable;
use ergo_edf::{Alias, Atom, Event, Pid, ProcessId, Ref};

use crate::message::{MessageExitAlias, MessageExitEvent, MessageExitPid, MessageExitProcessId};
use crate::{Actor, Context, Error, HandleResult, Message, MessageEvent, Priority, Reason};

/// How much work a process does before it yields its shard to the next ready process: one unit
/// per message handled and one per message sent.
pub(crate) const BATCH: i64 = 512;

/// The state of a process (Go Ergo's `ProcessState`, without the network states).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessState {
    /// Running `init`.
    Init,
    /// Idle: the mailbox is empty.
    Sleep,
    /// Scheduled or handling a message.
    Running,
    /// Inside a handler that awaits a `call` response.
    WaitResponse,
    /// Gone.
    Terminated,
}

/// Where an exit signal came from (decides which `MessageExit*` a trapping process gets).
#[derive(Clone, Copy, Debug)]
pub(crate) enum ExitVia {
    Pid,
    ProcessId(ProcessId),
    Alias(Alias),
    Event(Event),
    /// A link to a whole node (`Context::link_node`): its connection went down.
    Node(Atom),
}

/// What a monitor watches (decides which `MessageDown*` the watcher gets).
#[derive(Clone, Copy, Debug)]
pub(crate) enum MonitorKind {
    Pid,
    ProcessId(ProcessId),
    Alias(Alias),
}

/// What travels in a mailbox. Rare variants are boxed so an envelope stays at 48 bytes.
pub(crate) enum Kind {
    Message(Message),
    Request(Box<(Ref, Message)>),
    /// A call with important delivery (Go's `CallImportant`): a peer answers at once with the
    /// reason when it cannot deliver it; on this node it is a plain `Request`.
    ImportantRequest(Box<(Ref, Message)>),
    Response(Box<(Ref, Result<Message, Error>)>),
    Exit(Box<(Reason, ExitVia)>),
    /// `Node::kill` / `Context::kill`: terminates the target at once with reason `kill`, whether
    /// it traps exits or not (an exit *signal* whose reason is `kill` is an ordinary `Exit`).
    Kill,
    /// A prebuilt `MessageDown*` (or other framework message) for `handle_message`.
    System(Message),
    /// A `MessageLog` for a logger process (goes to the Log queue).
    Log(Message),
    Event(Box<MessageEvent>),
    Link(Box<ExitVia>),
    Unlink,
    Monitor(Box<(Ref, MonitorKind)>),
    Demonitor(Box<Ref>),
    /// A peer's link or monitor request for this process (answered from its shard).
    RemoteWatch(Box<crate::net::remote::RemoteWatch>),
    /// A message sent with important delivery to another node (the ref the ack answers).
    Important(Box<(Ref, Message)>),
    /// A message whose sender waits for the outcome of its delivery (see `confirm.rs`); the
    /// recipient's shard pushes it as a plain message and acknowledges.
    Confirm(Box<crate::confirm::Confirm>),
    Inspect(Box<dyn FnOnce(std::collections::BTreeMap<String, String>) + Send>),
}

/// One message in flight: who sent it and what it is.
pub(crate) struct Envelope {
    pub(crate) from: Pid,
    pub(crate) kind: Kind,
}

/// The four queues of a mailbox. Main is inline; Urgent, System and Log are allocated on first
/// use.
#[derive(Default)]
pub(crate) struct Mailbox {
    main: VecDeque<Envelope>,
    other: Option<Box<[VecDeque<Envelope>; 3]>>,
}

const URGENT: usize = 0;
const SYSTEM: usize = 1;
const LOG: usize = 2;

impl Mailbox {
    #[inline]
    pub(crate) fn push(&mut self, prio: Priority, env: Envelope) {
        match prio {
            Priority::Normal => self.main.push_back(env),
            Priority::High => self.others()[SYSTEM].push_back(env),
            Priority::Max => self.others()[URGENT].push_back(env),
        }
    }

    /// Appends to the Log queue (served after Main).
    pub(crate) fn push_log(&mut self, env: Envelope) {
        self.others()[LOG].push_back(env)
    }

    fn others(&mut self) -> &mut [VecDeque<Envelope>; 3] {
        self.other.get_or_insert_with(Default::default)
    }

    /// Envelopes waiting in all four queues.
    pub(crate) fn len(&self) -> usize {
        self.main.len()
            + self
                .other
                .as_ref()
                .map_or(0, |o| o.iter().map(|q| q.len()).sum())
    }

    /// Envelopes waiting per queue: Main, System, Urgent, Log.
    pub(crate) fn queue_lens(&self) -> [usize; 4] {
        let o = |i: usize| self.other.as_ref().map_or(0, |o| o[i].len());
        [self.main.len(), o(SYSTEM), o(URGENT), o(LOG)]
    }

    /// Envelopes waiting in the queue that `prio` fills.
    #[inline]
    pub(crate) fn queue_len(&self, prio: Priority) -> usize {
        match prio {
            Priority::Normal => self.main.len(),
            Priority::High => self.other.as_ref().map_or(0, |o| o[SYSTEM].len()),
            Priority::Max => self.other.as_ref().map_or(0, |o| o[URGENT].len()),
        }
    }

    /// Urgent, then System, then Main, then Log.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Envelope> {
        if let Some(o) = &mut self.other {
            if let Some(e) = o[URGENT].pop_front() {
                return Some(e);
            }
            if let Some(e) = o[SYSTEM].pop_front() {
                return Some(e);
            }
        }
        if let Some(e) = self.main.pop_front() {
            return Some(e);
        }
        self.other.as_mut().and_then(|o| o[LOG].pop_front())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.main.is_empty()
            && self
                .other
                .as_ref()
                .is_none_or(|o| o.iter().all(|q| q.is_empty()))
    }

    pub(crate) fn drain_all(&mut self) -> Vec<Envelope> {
        let mut v: Vec<Envelope> = self.main.drain(..).collect();
        if let Some(o) = &mut self.other {
            for q in o.iter_mut() {
                v.extend(q.drain(..));
            }
        }
        v
    }
}

/// One monitor someone holds on this process.
pub(crate) struct MonitorIn {
    pub(crate) by: Pid,
    pub(crate) r: Ref,
    pub(crate) kind: MonitorKind,
}

/// Per-process data most processes never need.
#[derive(Default)]
pub(crate) struct ProcExt {
    pub(crate) name: Option<Atom>,
    /// Linked processes, with how *they* address this process (for their `MessageExit*`).
    pub(crate) links: Vec<(Pid, ExitVia)>,
    pub(crate) monitors_in: Vec<MonitorIn>,
    pub(crate) aliases: Vec<Alias>,
    pub(crate) awaiting: Option<Ref>,
    pub(crate) reply: Option<Result<Message, Error>>,
    pub(crate) kill: Option<Reason>,
    pub(crate) fallback: Option<(Atom, Atom)>,
    pub(crate) env: Vec<(Atom, std::sync::Arc<dyn std::any::Any + Send + Sync>)>,
    pub(crate) events_owned: Vec<Atom>,
    pub(crate) events_subscribed: Vec<Atom>,
    /// The application this process runs under (inherited from its parent).
    pub(crate) application: Option<Atom>,
    /// Main-queue limit of a bounded mailbox (`FLAG_BOUNDED`).
    pub(crate) limit: u32,
    /// Peers this process links to or monitors as whole nodes (`Context::link_node`).
    pub(crate) node_watches: Vec<Atom>,
}

pub(crate) const FLAG_TRAP_EXIT: u8 = 1;
pub(crate) const FLAG_KILLED: u8 = 2;
/// The mailbox is bounded (the limit is in `ProcExt::limit`).
pub(crate) const FLAG_BOUNDED: u8 = 4;
/// Calls made by this process use important delivery (`Context::set_important_delivery`).
pub(crate) const FLAG_IMPORTANT: u8 = 8;

/// The shard-local record of one process.
pub(crate) struct ProcCell {
    pub(crate) id: u64,
    pub(crate) state: Cell<ProcessState>,
    pub(crate) flags: Cell<u8>,
    /// Coarse monotonic seconds at spawn (for its uptime; `inspect::counters::coarse_secs`).
    pub(crate) born: Cell<u32>,
    /// Its actor's type name, as an index into its shard's table (`inspect::local`).
    pub(crate) behavior: Cell<u8>,
    /// The process's log level (`LogLevel` as a byte).
    pub(crate) log_level: Cell<u8>,
    /// The parent's PID id (always on this node); 0 = spawned by the node.
    pub(crate) parent: Cell<u64>,
    pub(crate) mailbox: RefCell<Mailbox>,
    /// The task's waker once it has been polled.
    pub(crate) waker: Cell<Option<Waker>>,
    /// The task before its first poll (so an idle new process costs no poll and no waker).
    pub(crate) runnable: Cell<Option<Runnable>>,
    pub(crate) ext: RefCell<Option<Box<ProcExt>>>,
    /// Inspection counters (see `inspect::counters`).
    pub(crate) stats: crate::inspect::counters::ProcStats,
}

impl ProcCell {
    pub(crate) fn new(id: u64) -> ProcCell {
        ProcCell {
            id,
            state: Cell::new(ProcessState::Init),
            flags: Cell::new(0),
            born: Cell::new(0),
            behavior: Cell::new(0),
            log_level: Cell::new(crate::LogLevel::Info.to_u8()),
            parent: Cell::new(0),
            mailbox: RefCell::new(Mailbox::default()),
            waker: Cell::new(None),
            runnable: Cell::new(None),
            ext: RefCell::new(None),
            stats: Default::default(),
        }
    }

    /// The extension record, created on first use.
    pub(crate) fn ext(&self) -> RefMut<'_, ProcExt> {
        RefMut::map(self.ext.borrow_mut(), |e| {
            &mut **e.get_or_insert_with(Default::default)
        })
    }

    #[inline]
    pub(crate) fn flag(&self, f: u8) -> bool {
        self.flags.get() & f != 0
    }

    /// The default priority of messages this process sends (`SpawnOptions::send_priority`).
    #[inline]
    pub(crate) fn priority(&self) -> Priority {
        match (self.flags.get() >> 4) & 3 {
            1 => Priority::High,
            2 => Priority::Max,
            _ => Priority::Normal,
        }
    }

    pub(crate) fn set_priority(&self, p: Priority) {
        let bits = match p {
            Priority::Normal => 0,
            Priority::High => 1,
            Priority::Max => 2,
        };
        self.flags.set((self.flags.get() & !0x30) | (bits << 4));
    }

    pub(crate) fn set_flag(&self, f: u8, on: bool) {
        let v = self.flags.get();
        self.flags.set(if on { v | f } else { v & !f });
    }

    /// The kill reason, if the process was killed (or shut down by force).
    pub(crate) fn killed(&self) -> Option<Reason> {
        if !self.flag(FLAG_KILLED) {
            return None;
        }
        self.ext.borrow().as_ref().and_then(|e| e.kill.clone())
    }

    /// Returns the task to the run queue (`runnable`) or wakes it through its waker.
    #[inline]
    pub(crate) fn wake(&self, run_queue: &RefCell<VecDeque<Runnable>>) {
        if let Some(r) = self.runnable.take() {
            run_queue.borrow_mut().push_back(r);
            return;
        }
        let w = self.waker.take();
        if let Some(w) = &w {
            w.wake_by_ref();
        }
        self.waker.set(w);
    }

    pub(crate) fn store_waker(&self, cx: &TaskContext<'_>) {
        let w = self.waker.take();
        match w {
            Some(w) if w.will_wake(cx.waker()) => self.waker.set(Some(w)),
            _ => self.waker.set(Some(cx.waker().clone())),
        }
    }
}

/// Waits for the next envelope; sleeps the process while its mailbox is empty.
struct NextEnvelope<'a> {
    cell: &'a ProcCell,
}

enum Next {
    Env(Envelope),
    Killed(Reason),
}

impl Future for NextEnvelope<'_> {
    type Output = Next;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Next> {
        let cell = self.cell;
        if let Some(r) = cell.killed() {
            return Poll::Ready(Next::Killed(r));
        }
        if let Some(e) = cell.mailbox.borrow_mut().pop() {
            cell.state.set(ProcessState::Running);
            return Poll::Ready(Next::Env(e));
        }
        cell.state.set(ProcessState::Sleep);
        cell.store_waker(cx);
        Poll::Pending
    }
}

/// Yields the shard once (the task goes to the back of the run queue).
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Parks a process until the connections its shard's senders wait for are no longer
/// congested ([`ShardCore::net_resume`] wakes it).
struct NetPause<'a> {
    shard: &'a crate::shard::ShardCore,
    parked: bool,
}

impl Future for NetPause<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if self.parked {
            return Poll::Ready(());
        }
        self.parked = true;
        self.shard.net_paused.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

/// Runs a handler future: a panic becomes `Err(Reason::Panic)`, a kill stops it at its next
/// poll with `Err(Reason::Kill)`.
struct Guard<'a, F> {
    fut: F,
    cell: &'a ProcCell,
}

impl<F: Future<Output = Result<T, Reason>>, T> Future for Guard<'_, F> {
    type Output = Result<T, Reason>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of `fut`: it is never moved out of `self`.
        let this = unsafe { self.get_unchecked_mut() };
        if let Some(r) = this.cell.killed() {
            return Poll::Ready(Err(r));
        }
        // SAFETY: `this.fut` stays in place (see above).
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(p) => p,
            Err(payload) => {
                let what = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(process = this.cell.id, panic = %what, "process panicked");
                Poll::Ready(Err(Reason::Panic))
            }
        }
    }
}

fn guard<F>(cell: &ProcCell, fut: F) -> Guard<'_, F> {
    Guard { fut, cell }
}

async fn handle_request<A: Actor>(
    actor: &mut A,
    ctx: &mut Context,
    cell: &ProcCell,
    from: Pid,
    b: Box<(Ref, Message)>,
) -> HandleResult {
    let (r, req) = *b;
    match guard(cell, actor.handle_call(ctx, from, r, req)).await {
        Ok(Some(reply)) => {
            ctx.send_response(from, r, reply);
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The body of every process task: take envelopes in priority order, dispatch them, and on the
/// way out run `terminate` and tell links and monitors.
pub(crate) async fn run<A: Actor>(mut actor: A, mut ctx: Context) {
    let cell = ctx.cell.clone();
    let shard = ctx.shard.clone();
    let mut budget = BATCH;
    let reason = loop {
        if budget <= 0 {
            budget = BATCH;
            YieldNow(false).await;
        }
        let routed = shard.routed.get();
        let env = match (NextEnvelope { cell: &cell }).await {
            Next::Env(e) => e,
            Next::Killed(r) => break r,
        };
        cell.stats.took();
        let from = env.from;
        let r = match env.kind {
            Kind::Message(m) | Kind::System(m) | Kind::Log(m) => {
                guard(&cell, actor.handle_message(&mut ctx, from, m)).await
            }
            Kind::Important(b) => guard(&cell, actor.handle_message(&mut ctx, from, b.1)).await,
            // Calls and events run boxed, so that their (larger) futures do not grow every
            // idle process's task.
            Kind::Request(b) | Kind::ImportantRequest(b) => {
                let fut: Pin<Box<dyn Future<Output = HandleResult> + '_>> =
                    Box::pin(handle_request(&mut actor, &mut ctx, &cell, from, b));
                fut.await
            }
            Kind::Exit(b) => {
                let (reason, via) = *b;
                // As Go: a trapping process turns exit signals into messages, whatever their
                // reason (`kill` included), except an exit signal from its own parent.
                let from_parent = matches!(via, ExitVia::Pid)
                    && from.node == shard.node.name
                    && cell.parent.get() != 0
                    && from.id == cell.parent.get();
                if cell.flag(FLAG_TRAP_EXIT) && !from_parent {
                    let m = match via {
                        ExitVia::Pid => Message::new(MessageExitPid { pid: from, reason }),
                        ExitVia::ProcessId(process_id) => {
                            Message::new(MessageExitProcessId { process_id, reason })
                        }
                        ExitVia::Alias(alias) => Message::new(MessageExitAlias { alias, reason }),
                        ExitVia::Event(event) => Message::new(MessageExitEvent { event, reason }),
                        ExitVia::Node(name) => Message::new(crate::MessageExitNode { name }),
                    };
                    guard(&cell, actor.handle_message(&mut ctx, from, m)).await
                } else {
                    Err(reason)
                }
            }
            Kind::Event(ev) => {
                let fut: Pin<Box<dyn Future<Output = HandleResult> + '_>> =
                    Box::pin(guard(&cell, actor.handle_event(&mut ctx, *ev)));
                fut.await
            }
            Kind::Inspect(reply) => {
                match catch_unwind(AssertUnwindSafe(|| actor.handle_inspect(&mut ctx, from))) {
                    Ok(m) => {
                        reply(m);
                        Ok(())
                    }
                    Err(_) => Err(Reason::Panic),
                }
            }
            // Late responses (after a timeout) and control envelopes that reach the mailbox
            // are dropped here.
            Kind::Response(_)
            | Kind::Link(_)
            | Kind::Unlink
            | Kind::Monitor(_)
            | Kind::Demonitor(_)
            | Kind::RemoteWatch(_)
            | Kind::Confirm(_)
            | Kind::Kill => Ok(()),
        };
        let sent = shard.routed.get() - routed;
        cell.stats.sent(sent);
        budget -= 1 + sent as i64;
        if let Err(reason) = r {
            break reason;
        }
        if shard.net_pause.get() {
            shard.net_pause.set(false);
            // It sent into a congested connection: wait until that drains.
            NetPause {
                shard: &shard,
                parked: false,
            }
            .await;
            budget = BATCH;
        }
    };
    // `terminate` runs on every way out, a kill included (Go calls it with `kill` too).
    if catch_unwind(AssertUnwindSafe(|| actor.terminate(&mut ctx, &reason))).is_err() {
        tracing::error!(process = cell.id, "terminate panicked");
    }
    drop(actor);
    shard.finish(&cell, ctx.pid(), reason);
}

#[cfg(test)]
mod size_tests {
    use super::*;

    /// The hot path moves envelopes by value and every process carries its context: both stay
    /// small (an idle process must fit in well under 512 bytes).
    #[test]
    fn hot_types_stay_small() {
        assert!(std::mem::size_of::<Envelope>() <= 48);
        assert!(std::mem::size_of::<Context>() <= 24);
        // 112 bytes of core state (with the mailbox bound moved to `ProcExt`) plus the
        // inspection counters: an `Rc<ProcCell>` allocation stays in the 160-byte class.
        assert!(std::mem::size_of::<ProcCell>() <= 144);
    }

    #[test]
    fn mailbox_serves_urgent_system_main_log() {
        let pid = Pid::default();
        let mut m = Mailbox::default();
        let env = |n: u32| Envelope {
            from: pid,
            kind: Kind::Message(Message::new(n)),
        };
        m.push(Priority::Normal, env(1));
        m.push_log(env(2));
        m.push(Priority::High, env(3));
        m.push(Priority::Max, env(4));
        m.push(Priority::Normal, env(5));
        let order: Vec<u32> = std::iter::from_fn(|| m.pop())
            .map(|e| match e.kind {
                Kind::Message(m) => m.downcast::<u32>().unwrap_or(0),
                _ => 0,
            })
            .collect();
        assert_eq!(order, vec![4, 3, 1, 5, 2]);
        assert!(m.is_empty());
    }
}
