//! `Supervisor`: starts children, watches them (links + trap-exit) and restarts them by its
//! strategy (Go Ergo's `act.Supervisor`).
//!
//! - **Types**: one-for-one (restart the one that terminated), all-for-one (stop the others,
//!   restart all), rest-for-one (stop and restart those started after it), simple-one-for-one
//!   (no children at start; each [`StartChild`] starts one more from a template spec).
//! - **Restart strategies**: permanent (always restart), transient (restart unless the reason is
//!   `normal` or `shutdown`), temporary (never restart).
//! - **Intensity / period**: more than `intensity` restarts within `period` stops every child
//!   and the supervisor, with reason `restarts exceeded`.
//! - **Significant children** (transient and temporary strategies): when a significant child
//!   terminates and is not restarted, the supervisor stops every child and terminates with that
//!   child's reason.
//! - **Auto shutdown**: when no child is left running, the supervisor terminates (`normal`)
//!   unless `disable_auto_shutdown` is set.
//! - **Ordered shutdown**: children are stopped one at a time, last started first, each with an
//!   exit signal `shutdown`, waiting for its exit before the next.
//!
//! Children run on the supervisor's shard.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ergo_edf::{Atom, Pid, Ref};

use crate::{Actor, Context, Error, HandleResult, Message, MessageExitPid, Reason, SpawnOptions};

/// Something that can be spawned as a child: every [`Actor`], boxed.
pub trait SpawnBoxed: Send {
    /// Spawns `self` as a child of the process behind `ctx`.
    fn spawn_boxed(self: Box<Self>, ctx: &mut Context, options: SpawnOptions)
        -> Result<Pid, Error>;
}

impl<A: Actor> SpawnBoxed for A {
    fn spawn_boxed(
        self: Box<Self>,
        ctx: &mut Context,
        options: SpawnOptions,
    ) -> Result<Pid, Error> {
        ctx.spawn(*self, options)
    }
}

/// Makes a fresh actor for each (re)start.
pub type Factory = Arc<dyn Fn() -> Box<dyn SpawnBoxed> + Send + Sync>;

/// One child of a supervisor (Go Ergo's `SupervisorChildSpec`).
#[derive(Clone)]
pub struct ChildSpec {
    /// The child's name within the supervisor (and its registered name if `register` is set).
    pub name: Atom,
    /// See the module docs.
    pub significant: bool,
    /// Makes the actor.
    pub factory: Factory,
    /// Spawn options (`link_parent` is always added).
    pub options: SpawnOptions,
    /// Register the child under `name`.
    pub register: bool,
}

impl ChildSpec {
    /// A child made by `factory`.
    ///
    /// ```
    /// use ergo_engine::{supervisor::ChildSpec, Actor};
    /// struct Worker;
    /// impl Actor for Worker {}
    /// let spec = ChildSpec::new("worker", || Worker);
    /// assert_eq!(spec.name.as_str(), "worker");
    /// ```
    pub fn new<A: Actor>(
        name: impl Into<Atom>,
        factory: impl Fn() -> A + Send + Sync + 'static,
    ) -> ChildSpec {
        ChildSpec {
            name: name.into(),
            significant: false,
            factory: Arc::new(move || Box::new(factory()) as Box<dyn SpawnBoxed>),
            options: SpawnOptions::default(),
            register: false,
        }
    }

    /// The same spec, significant.
    pub fn significant(mut self) -> Self {
        self.significant = true;
        self
    }

    /// The same spec, registering the child under its name.
    pub fn registered(mut self) -> Self {
        self.register = true;
        self
    }
}

/// How a supervisor restarts (Go Ergo's `SupervisorType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SupervisorType {
    /// Restart only the child that terminated.
    OneForOne,
    /// Stop all other children and restart all.
    AllForOne,
    /// Stop the children started after the one that terminated, restart those and it.
    RestForOne,
    /// Children are started on demand from template specs ([`StartChild`]).
    SimpleOneForOne,
}

/// Which terminations are restarted (Go Ergo's `SupervisorStrategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartStrategy {
    /// Always.
    Permanent,
    /// Unless the reason is `normal` or `shutdown`.
    Transient,
    /// Never.
    Temporary,
}

/// Restart settings (Go Ergo's `SupervisorRestart`).
#[derive(Clone, Copy, Debug)]
pub struct SupervisorRestart {
    /// Which terminations are restarted.
    pub strategy: RestartStrategy,
    /// At most this many restarts ...
    pub intensity: u16,
    /// ... within this period.
    pub period: Duration,
}

impl Default for SupervisorRestart {
    fn default() -> Self {
        SupervisorRestart {
            strategy: RestartStrategy::Transient,
            intensity: 5,
            period: Duration::from_secs(5),
        }
    }
}

/// A supervisor's spec (Go Ergo's `SupervisorSpec`).
#[derive(Clone)]
pub struct SupervisorSpec {
    /// Restart type.
    pub kind: SupervisorType,
    /// Restart settings.
    pub restart: SupervisorRestart,
    /// Children, in start order (templates for simple-one-for-one).
    pub children: Vec<ChildSpec>,
    /// Keep running with no children left.
    pub disable_auto_shutdown: bool,
}

/// Call request: start one more child from the spec named `0` (any supervisor type; the usual
/// way to add children to a simple-one-for-one supervisor). Answers `Result<Pid, Error>`.
#[derive(Clone, Copy, Debug)]
pub struct StartChild(pub Atom);

/// Call request: the running children, in start order. Answers `Vec<(Atom, Pid)>`.
#[derive(Clone, Copy, Debug)]
pub struct WhichChildren;

/// The reason a supervisor terminates with when restarts exceed the intensity.
pub fn restarts_exceeded() -> Reason {
    Reason::custom("restarts exceeded")
}

struct Child {
    spec: usize,
    pid: Option<Pid>,
}

enum Then {
    Restart(Vec<usize>),
    Terminate(Reason),
}

struct Stopping {
    /// Still to stop; the next one is the last element.
    queue: Vec<Pid>,
    current: Option<Pid>,
    then: Then,
}

/// The supervisor actor. Spawn it like any actor: `node.spawn(Supervisor::new(spec), ..)`.
pub struct Supervisor {
    spec: SupervisorSpec,
    children: Vec<Child>,
    restarts: VecDeque<Instant>,
    stopping: Option<Stopping>,
}

impl Supervisor {
    /// A supervisor for `spec`.
    pub fn new(spec: SupervisorSpec) -> Supervisor {
        Supervisor {
            spec,
            children: Vec::new(),
            restarts: VecDeque::new(),
            stopping: None,
        }
    }

    fn start(&mut self, ctx: &mut Context, spec: usize) -> Result<Pid, Error> {
        let s = &self.spec.children[spec];
        let mut opts = SpawnOptions {
            link_parent: true,
            ..s.options.clone()
        };
        if s.register {
            opts.register = Some(s.name);
        }
        (s.factory)().spawn_boxed(ctx, opts)
    }

    fn running(&self) -> usize {
        self.children.iter().filter(|c| c.pid.is_some()).count()
    }

    /// Begins stopping `which` (child indices), last first; then does `then`.
    fn begin_stop(&mut self, ctx: &mut Context, which: Vec<usize>, then: Then) -> HandleResult {
        let queue: Vec<Pid> = which.iter().filter_map(|&i| self.children[i].pid).collect();
        self.stopping = Some(Stopping {
            queue,
            current: None,
            then,
        });
        self.stop_next(ctx)
    }

    fn stop_next(&mut self, ctx: &mut Context) -> HandleResult {
        loop {
            let Some(st) = self.stopping.as_mut() else {
                return Ok(());
            };
            if st.current.is_some() {
                return Ok(());
            }
            match st.queue.pop() {
                Some(pid) => {
                    if ctx.send_exit(pid, Reason::Shutdown).is_ok() {
                        st.current = Some(pid);
                        return Ok(());
                    }
                    // Already gone: next.
                    self.mark_gone(pid);
                }
                None => {
                    let st = self.stopping.take().map(|s| s.then);
                    match st {
                        Some(Then::Terminate(reason)) => return Err(reason),
                        Some(Then::Restart(idx)) => {
                            for i in idx {
                                let pid = self.start(ctx, self.children[i].spec)?;
                                self.children[i].pid = Some(pid);
                            }
                            return Ok(());
                        }
                        None => return Ok(()),
                    }
                }
            }
        }
    }

    fn mark_gone(&mut self, pid: Pid) {
        for c in &mut self.children {
            if c.pid == Some(pid) {
                c.pid = None;
            }
        }
    }

    fn stop_all(&mut self, ctx: &mut Context, reason: Reason) -> HandleResult {
        let all = (0..self.children.len()).collect();
        self.begin_stop(ctx, all, Then::Terminate(reason))
    }

    fn child_exit(&mut self, ctx: &mut Context, i: usize, reason: Reason) -> HandleResult {
        let pid = self.children[i].pid.take();
        if let Some(st) = self.stopping.as_mut() {
            if st.current.is_some() && st.current == pid {
                st.current = None;
            } else {
                st.queue.retain(|p| Some(*p) != pid);
            }
            return self.stop_next(ctx);
        }
        let spec = &self.spec.children[self.children[i].spec];
        let restart = match self.spec.restart.strategy {
            RestartStrategy::Permanent => true,
            RestartStrategy::Transient => !reason.is_normal_or_shutdown(),
            RestartStrategy::Temporary => false,
        };
        if !restart {
            let significant = spec.significant;
            tracing::debug!(child = %spec.name, %reason, "child terminated, not restarted");
            if self.spec.kind == SupervisorType::SimpleOneForOne
                || self.spec.restart.strategy == RestartStrategy::Temporary
            {
                self.children.remove(i);
            }
            if significant {
                return self.stop_all(ctx, reason);
            }
            if self.running() == 0 && !self.spec.disable_auto_shutdown {
                return Err(Reason::Normal);
            }
            return Ok(());
        }
        let now = Instant::now();
        let period = self.spec.restart.period;
        while self
            .restarts
            .front()
            .is_some_and(|t| now.duration_since(*t) > period)
        {
            self.restarts.pop_front();
        }
        self.restarts.push_back(now);
        if self.restarts.len() > usize::from(self.spec.restart.intensity) {
            tracing::warn!(supervisor = %ctx.pid(), "restart intensity exceeded");
            return self.stop_all(ctx, restarts_exceeded());
        }
        tracing::debug!(child = %spec.name, %reason, "restarting child");
        match self.spec.kind {
            SupervisorType::OneForOne | SupervisorType::SimpleOneForOne => {
                let pid = self.start(ctx, self.children[i].spec)?;
                self.children[i].pid = Some(pid);
                Ok(())
            }
            SupervisorType::AllForOne => {
                let all: Vec<usize> = (0..self.children.len()).collect();
                self.begin_stop(ctx, all.clone(), Then::Restart(all))
            }
            SupervisorType::RestForOne => {
                let rest: Vec<usize> = (i..self.children.len()).collect();
                self.begin_stop(ctx, rest.clone(), Then::Restart(rest))
            }
        }
    }
}

impl Actor for Supervisor {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        ctx.set_trap_exit(true);
        if self.spec.kind == SupervisorType::SimpleOneForOne {
            return Ok(());
        }
        for i in 0..self.spec.children.len() {
            let pid = self.start(ctx, i)?;
            self.children.push(Child {
                spec: i,
                pid: Some(pid),
            });
        }
        Ok(())
    }

    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        message: Message,
    ) -> HandleResult {
        let Ok(MessageExitPid { pid, reason }) = message.downcast::<MessageExitPid>() else {
            return Ok(());
        };
        match self.children.iter().position(|c| c.pid == Some(pid)) {
            Some(i) => self.child_exit(ctx, i, reason),
            // From the parent, the node, or anyone else: shut down in order.
            None => {
                if self.stopping.is_some() {
                    if let Some(st) = self.stopping.as_mut() {
                        st.then = Then::Terminate(reason);
                    }
                    return Ok(());
                }
                self.stop_all(ctx, reason)
            }
        }
    }

    async fn handle_call(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        request: Message,
    ) -> Result<Option<Message>, Reason> {
        if let Some(StartChild(name)) = request.downcast_ref::<StartChild>().copied() {
            let Some(spec) = self.spec.children.iter().position(|c| c.name == name) else {
                return Ok(Some(Message::new(Err::<Pid, Error>(Error::NameUnknown(
                    name,
                )))));
            };
            let r = self.start(ctx, spec);
            if let Ok(pid) = r {
                self.children.push(Child {
                    spec,
                    pid: Some(pid),
                });
            }
            return Ok(Some(Message::new(r)));
        }
        if request.is::<WhichChildren>() {
            let v: Vec<(Atom, Pid)> = self
                .children
                .iter()
                .filter_map(|c| c.pid.map(|p| (self.spec.children[c.spec].name, p)))
                .collect();
            return Ok(Some(Message::new(v)));
        }
        Ok(None)
    }
}
