//! `Pool`: one address in front of N workers (Go Ergo's `act.Pool`).
//!
//! Messages and calls sent to the pool are forwarded round robin to its workers, keeping the
//! original sender (a worker answers a call straight to the caller). A worker that terminates
//! is replaced. Workers run on the pool's shard.

use ergo_edf::{Pid, Ref};

use crate::supervisor::Factory;
use crate::{Actor, Context, HandleResult, Message, MessageExitPid, Reason, SpawnOptions};

/// The pool actor.
pub struct Pool {
    size: usize,
    factory: Factory,
    options: SpawnOptions,
    workers: Vec<Option<Pid>>,
    next: usize,
}

impl Pool {
    /// A pool of `size` workers made by `factory`.
    pub fn new<A: Actor>(size: usize, factory: impl Fn() -> A + Send + Sync + 'static) -> Pool {
        let f: Factory = std::sync::Arc::new(move || {
            Box::new(factory()) as Box<dyn crate::supervisor::SpawnBoxed>
        });
        Pool {
            size: size.max(1),
            factory: f,
            options: SpawnOptions::default(),
            workers: Vec::new(),
            next: 0,
        }
    }

    /// The same pool, with these spawn options for its workers.
    pub fn with_worker_options(mut self, options: SpawnOptions) -> Pool {
        self.options = options;
        self
    }

    fn spawn_worker(&self, ctx: &mut Context) -> Result<Pid, crate::Error> {
        let opts = SpawnOptions {
            link_parent: true,
            ..self.options.clone()
        };
        (self.factory)().spawn_boxed(ctx, opts)
    }

    fn pick(&mut self) -> Option<Pid> {
        for _ in 0..self.workers.len() {
            let i = self.next % self.workers.len();
            self.next = self.next.wrapping_add(1);
            if let Some(p) = self.workers[i] {
                return Some(p);
            }
        }
        None
    }
}

impl Actor for Pool {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        ctx.set_trap_exit(true);
        for _ in 0..self.size {
            let pid = self.spawn_worker(ctx)?;
            self.workers.push(Some(pid));
        }
        Ok(())
    }

    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        from: Pid,
        message: Message,
    ) -> HandleResult {
        let message = match message.downcast::<MessageExitPid>() {
            Ok(MessageExitPid { pid, reason }) => {
                if let Some(i) = self.workers.iter().position(|w| *w == Some(pid)) {
                    tracing::debug!(worker = %pid, %reason, "pool worker terminated, replacing it");
                    self.workers[i] = self.spawn_worker(ctx).ok();
                    return Ok(());
                }
                // Not a worker: the parent or the node asks the pool to stop.
                return Err(reason);
            }
            Err(m) => m,
        };
        match self.pick() {
            Some(w) => ctx.forward(w, from, message),
            None => Err(Reason::custom("pool has no workers")),
        }
    }

    async fn handle_call(
        &mut self,
        ctx: &mut Context,
        from: Pid,
        r: Ref,
        request: Message,
    ) -> Result<Option<Message>, Reason> {
        match self.pick() {
            Some(w) => {
                ctx.forward_call(w, from, r, request)?;
                Ok(None)
            }
            None => Err(Reason::custom("pool has no workers")),
        }
    }
}
