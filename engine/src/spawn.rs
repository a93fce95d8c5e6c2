//! Spawning a process on a shard (its cell, its task, its `init`) and its termination: the
//! name, aliases, links, monitors, events and pending calls it leaves are told here, on its own
//! shard.

use std::rc::Rc;
use std::sync::atomic::Ordering;

use ergo_edf::Pid;

use crate::process::{Envelope, ExitVia, Kind, MonitorIn, MonitorKind, ProcCell, ProcessState};
use crate::shard::{down_message, schedule, ShardCore};
use crate::{Actor, Context, Error, Priority, Reason, SpawnOptions};

impl ShardCore {
    /// Spawns `actor` on this shard; runs its `init` before returning.
    pub(crate) fn spawn<A: Actor>(
        self: &Rc<Self>,
        mut actor: A,
        opts: SpawnOptions,
        parent: Option<Pid>,
    ) -> Result<Pid, Error> {
        if self.node.is_stopping() {
            return Err(Error::NodeTerminated);
        }
        let id = self.alloc_id();
        let pid = self.make_pid(id);
        let cell = Rc::new(ProcCell::new(id));
        if opts.mailbox_size != 0 {
            cell.set_flag(crate::process::FLAG_BOUNDED, true);
            cell.ext().limit = opts.mailbox_size;
        }
        let level = opts.log_level.unwrap_or_else(|| {
            crate::LogLevel::from_u8(self.node.log_level.load(Ordering::Relaxed))
        });
        cell.log_level.set(level.to_u8());
        cell.set_priority(opts.send_priority);
        if opts.compression.enable {
            self.compression.borrow_mut().insert(id, opts.compression);
        }
        if opts.trap_exit {
            cell.set_flag(crate::process::FLAG_TRAP_EXIT, true);
        }
        if let Some(name) = opts.register {
            self.node.register_name(name, pid)?;
            cell.ext().name = Some(name);
        }
        cell.parent.set(parent.map_or(0, |p| p.id));
        cell.born.set(crate::inspect::counters::coarse_secs());
        self.set_behavior(&cell, std::any::type_name::<A>());
        if let Some(app) = parent.and_then(|p| self.application_of(p.id)) {
            cell.ext().application = Some(app);
        }
        if opts.fallback.is_some() || !opts.env.is_empty() {
            let mut e = cell.ext();
            e.fallback = opts.fallback.map(|f| (f.name, f.tag));
            e.env = opts
                .env
                .iter()
                .map(|(n, v)| (crate::env::env_name(*n), v.clone()))
                .collect();
        }
        self.procs.borrow_mut().insert(id, cell.clone());
        let mut ctx = Context::new(self.clone(), cell.clone());
        let init = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| actor.init(&mut ctx)));
        let init = match init {
            Ok(r) => r,
            Err(_) => Err(Reason::Panic),
        };
        if let Err(reason) = init {
            // Not started: tell whoever linked or monitored it during init, then forget it.
            drop(actor);
            self.finish_inner(&cell, pid, reason.clone(), false);
            return Err(Error::InitFailed(reason));
        }
        if let Some(parent) = parent {
            if opts.link_parent {
                ctx.link_pid_raw(parent, ExitVia::Pid);
            }
            if opts.monitor_parent {
                // The parent monitors the child.
                let r = self.make_ref();
                cell.ext().monitors_in.push(MonitorIn {
                    by: parent,
                    r,
                    kind: MonitorKind::Pid,
                });
            }
        }
        let remote = self.remote.clone();
        let fut = crate::inspect::counters::Timed {
            fut: crate::process::run(actor, ctx),
            cell: cell.clone(),
        };
        // SAFETY: the future is not `Send`; its `Runnable` is only ever run and dropped on this
        // shard's thread: `schedule` pushes it onto this shard's run queue, or (woken from another
        // thread) sends it back to this shard through its inbox, or leaks it once the shard has
        // closed. The future is `'static`. `schedule` is `Send + Sync`.
        let (runnable, task) =
            unsafe { async_task::spawn_unchecked(fut, move |r| schedule(&remote, r)) };
        task.detach();
        if cell.killed().is_some() || !cell.mailbox.borrow().is_empty() {
            cell.state.set(ProcessState::Running);
            self.run_queue.borrow_mut().push_back(runnable);
        } else {
            cell.state.set(ProcessState::Sleep);
            cell.runnable.set(Some(runnable));
        }
        self.remote.processes.fetch_add(1, Ordering::Relaxed);
        self.remote.spawned.fetch_add(1, Ordering::Relaxed);
        Ok(pid)
    }

    /// A process's task is ending: notify links and monitors, free its names and aliases.
    pub(crate) fn finish(&self, cell: &ProcCell, pid: Pid, reason: Reason) {
        self.finish_inner(cell, pid, reason, true);
        self.remote.processes.fetch_sub(1, Ordering::Relaxed);
        self.counters.terminated();
    }

    pub(crate) fn finish_inner(&self, cell: &ProcCell, pid: Pid, reason: Reason, started: bool) {
        cell.state.set(ProcessState::Terminated);
        self.procs.borrow_mut().remove(&cell.id);
        drop(cell.waker.take());
        drop(cell.runnable.take());
        let pending = cell.mailbox.borrow_mut().drain_all();
        for env in pending {
            if let Kind::Request(b) | Kind::ImportantRequest(b) = env.kind {
                let r = b.0;
                let e = Envelope {
                    from: pid,
                    kind: Kind::Response(Box::new((r, Err(Error::Terminated(reason.clone()))))),
                };
                let _ = self.send_pid(env.from, e, Priority::Max);
            }
        }
        if !self.compression.borrow().is_empty() {
            self.compression.borrow_mut().remove(&cell.id);
        }
        let ext = cell.ext.borrow_mut().take();
        let Some(mut ext) = ext else { return };
        if let Some(name) = ext.name {
            self.node.unregister_name_of(name, pid);
        }
        // Consumers on other nodes: one terminate frame per node and target.
        self.net_notify_gone(pid, &mut ext.links, &mut ext.monitors_in, &reason);
        for (p, via) in ext.links {
            let env = Envelope {
                from: pid,
                kind: Kind::Exit(Box::new((reason.clone(), via))),
            };
            let _ = self.send_pid(p, env, Priority::Max);
        }
        for m in ext.monitors_in {
            let msg = down_message(pid, m.r, m.kind, reason.clone());
            let _ = self.send_pid(
                m.by,
                Envelope {
                    from: pid,
                    kind: Kind::System(msg),
                },
                Priority::High,
            );
        }
        for ev in ext.events_owned {
            self.node
                .events
                .unregister_by_owner(self, ev, pid, reason.clone());
        }
        for ev in ext.events_subscribed {
            self.node.events.unsubscribe(self, ev, pid);
        }
        if !ext.node_watches.is_empty() {
            if let Some(net) = self.node.network.get() {
                net.node_watch.forget(pid, &ext.node_watches);
            }
        }
        let _ = started;
    }
}
