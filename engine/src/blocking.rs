//! The blocking pool: a bounded set of OS threads outside the shards for work that would stall a
//! shard (a file read, a synchronous library, a long computation).
//!
//! A shard runs many processes on one thread, so a handler that blocks stops every other process
//! of its shard. Such work goes here instead: [`crate::Context::spawn_blocking`] returns a future
//! the handler awaits (the shard runs other processes meanwhile), and
//! [`crate::Context::spawn_blocking_send`] delivers the result as a message. The pool is bounded
//! twice: at most [`BlockingOptions::max_threads`] threads (started on demand, ended after
//! [`BlockingOptions::keep_alive`] idle) and at most [`BlockingOptions::queue`] jobs waiting;
//! past that a submission fails at once with [`crate::Error::BlockingPoolFull`] rather than
//! queueing without bound. A job that panics gives [`crate::Error::BlockingPanicked`] to whoever
//! waits for it; the thread goes on.
//!
//! Dedicated shards ([`crate::NodeOptions::dedicated_shards`]) are the other way out, for a
//! process that holds its thread for good; [`crate::Node::dedicated_shard`] names them.
//!
//! This module never runs on a shard and never touches shard state: its only link back is a
//! [`std::task::Waker`] (which republishes the waiting task to its shard) or a message delivered
//! through the node's outside-thread path.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use crate::process::{Envelope, Kind};
use crate::shard::{shard_of, Item};
use crate::{Error, Message, Pid, Priority};

/// Bounds of a node's blocking pool ([`crate::NodeOptions::blocking`]).
#[derive(Clone, Debug)]
pub struct BlockingOptions {
    /// Most threads the pool runs at once (default 64).
    pub max_threads: usize,
    /// Most jobs waiting for a thread (default 4096); past it a submission fails.
    pub queue: usize,
    /// How long an idle thread waits for work before it ends (default 10 s).
    pub keep_alive: Duration,
}

impl Default for BlockingOptions {
    fn default() -> Self {
        BlockingOptions {
            max_threads: 64,
            queue: 4096,
            keep_alive: Duration::from_secs(10),
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

struct State {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
    closed: bool,
}

struct Inner {
    state: Mutex<State>,
    ready: Condvar,
    options: BlockingOptions,
}

/// A node's blocking pool (cheap to clone).
#[derive(Clone)]
pub(crate) struct BlockingPool(Arc<Inner>);

impl BlockingPool {
    pub(crate) fn new(options: BlockingOptions) -> BlockingPool {
        BlockingPool(Arc::new(Inner {
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                threads: 0,
                idle: 0,
                closed: false,
            }),
            ready: Condvar::new(),
            options,
        }))
    }

    /// Queues `job`, starting a thread when none is idle and the bound allows one.
    pub(crate) fn submit(&self, job: Job) -> Result<(), Error> {
        let inner = &self.0;
        let mut st = inner.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.closed {
            return Err(Error::NodeTerminated);
        }
        if st.jobs.len() >= inner.options.queue.max(1) {
            return Err(Error::BlockingPoolFull);
        }
        st.jobs.push_back(job);
        inner.ready.notify_one();
        // More jobs waiting than idle threads to take them: start one, if the bound allows.
        if st.jobs.len() > st.idle && st.threads < inner.options.max_threads.max(1) {
            let pool = self.clone();
            let n = st.threads;
            let spawned = std::thread::Builder::new()
                .name(format!("ergo-blocking-{n}"))
                .spawn(move || pool.worker());
            match spawned {
                Ok(_) => st.threads += 1,
                // The job stays queued for a thread that exists; with none, say so.
                Err(e) if st.threads == 0 => {
                    st.jobs.pop_back();
                    return Err(Error::Os(format!("blocking pool thread: {e}")));
                }
                Err(_) => {}
            }
        }
        Ok(())
    }

    fn worker(self) {
        let inner = &self.0;
        let mut st = inner.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(job) = st.jobs.pop_front() {
                drop(st);
                // A panic is caught inside the job (see `run_for`); nothing unwinds here.
                job();
                st = inner.state.lock().unwrap_or_else(|e| e.into_inner());
                continue;
            }
            if st.closed {
                break;
            }
            st.idle += 1;
            let (guard, timeout) = inner
                .ready
                .wait_timeout(st, inner.options.keep_alive)
                .unwrap_or_else(|e| e.into_inner());
            st = guard;
            st.idle -= 1;
            if timeout.timed_out() && st.jobs.is_empty() {
                break;
            }
        }
        st.threads -= 1;
    }

    /// Refuses new jobs; idle threads end, busy ones end after their job (they are not joined:
    /// a job stuck in a system call must not hold the node's stop).
    pub(crate) fn close(&self) {
        let mut st = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        st.closed = true;
        st.jobs.clear();
        self.0.ready.notify_all();
    }

    /// Threads running now.
    #[cfg(test)]
    pub(crate) fn threads(&self) -> usize {
        self.0
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .threads
    }
}

/// Runs `f`, turning a panic into [`Error::BlockingPanicked`].
pub(crate) fn run_caught<T>(f: impl FnOnce() -> T) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        let what = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        Error::BlockingPanicked(what)
    })
}

struct Slot<T> {
    result: Option<Result<T, Error>>,
    waker: Option<Waker>,
    done: bool,
}

/// The result of a job on the blocking pool, as a future ([`crate::Context::spawn_blocking`]).
///
/// Awaiting it suspends only the awaiting process; dropping it lets the job finish and throws the
/// result away.
pub struct BlockingTask<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T: Send + 'static> BlockingTask<T> {
    /// Submits `f` to `pool`; the returned task completes with its result.
    pub(crate) fn submit(
        pool: &BlockingPool,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<BlockingTask<T>, Error> {
        let slot = Arc::new(Mutex::new(Slot {
            result: None,
            waker: None,
            done: false,
        }));
        let theirs = slot.clone();
        pool.submit(Box::new(move || {
            let r = run_caught(f);
            let waker = {
                let mut s = theirs.lock().unwrap_or_else(|e| e.into_inner());
                s.result = Some(r);
                s.done = true;
                s.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }))?;
        Ok(BlockingTask { slot })
    }
}

impl<T> Future for BlockingTask<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let mut s = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        if s.done {
            return Poll::Ready(
                s.result
                    .take()
                    .unwrap_or(Err(Error::BlockingPanicked("result already taken".into()))),
            );
        }
        match &s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => s.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl crate::Context {
    /// Runs `f` on the node's blocking pool and returns a future of its result.
    ///
    /// Await it in a handler: this process waits (its messages stay queued, as during a `call`),
    /// while the other processes of its shard go on running. Fails at once with
    /// [`Error::BlockingPoolFull`] when the pool's queue is at its bound; the future gives
    /// [`Error::BlockingPanicked`] if `f` panicked.
    ///
    /// ```
    /// use ergo_engine::{Actor, Context, Message, Node, NodeOptions, Pid, Reason, Ref, SpawnOptions};
    /// use std::time::Duration;
    /// struct Reader;
    /// impl Actor for Reader {
    ///     async fn handle_call(&mut self, ctx: &mut Context, _: Pid, _: Ref, _: Message)
    ///         -> Result<Option<Message>, Reason> {
    ///         let len = ctx.spawn_blocking(|| std::fs::read("/proc/self/stat").map(|b| b.len()))
    ///             .map_err(|e| Reason::custom(e.to_string()))?
    ///             .await
    ///             .map_err(|e| Reason::custom(e.to_string()))?;
    ///         Ok(Some(Message::new(len.is_ok())))
    ///     }
    /// }
    /// let node = Node::start("blocking@localhost", NodeOptions::default()).unwrap();
    /// let pid = node.spawn(Reader, SpawnOptions::default()).unwrap();
    /// let ok = node.call(pid, (), Duration::from_secs(5)).unwrap();
    /// assert_eq!(ok.downcast::<bool>().ok(), Some(true));
    /// node.stop();
    /// ```
    pub fn spawn_blocking<T: Send + 'static>(
        &mut self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<BlockingTask<T>, Error> {
        BlockingTask::submit(&self.shard.node.blocking, f)
    }

    /// Runs `f` on the node's blocking pool; when it is done, this process receives a message
    /// of type `Result<T, Error>` (from itself, Main queue): `Ok` with `f`'s result, or
    /// [`Error::BlockingPanicked`]. The handler returns at once and this process keeps handling
    /// its mailbox meanwhile.
    pub fn spawn_blocking_send<T: Send + 'static>(
        &mut self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<(), Error> {
        let me = self.pid();
        let node = self.shard.node.clone();
        self.shard.node.blocking.submit(Box::new(move || {
            let r: Result<T, Error> = run_caught(f);
            deliver_result(&node.shards, me, Message::new(r));
        }))
    }
}

impl crate::Node {
    /// The shard index of dedicated shard `i` ([`NodeOptions::dedicated_shards`]), if there is
    /// one.
    ///
    /// ```
    /// use ergo_engine::{Actor, Node, NodeOptions, SpawnOptions};
    /// struct Blocker;
    /// impl Actor for Blocker {}
    /// let opts = NodeOptions { shards: 1, dedicated_shards: 1, ..Default::default() };
    /// let node = Node::start("dedicated@localhost", opts).unwrap();
    /// let shard = node.dedicated_shard(0).unwrap();
    /// let pid = node.spawn(Blocker, SpawnOptions { shard: Some(shard), ..Default::default() }).unwrap();
    /// assert_eq!(node.process_info(pid).unwrap().shard, 1);
    /// node.stop();
    /// ```
    pub fn dedicated_shard(&self, i: usize) -> Option<usize> {
        let s = self.0.placed + i;
        (s < self.0.shards.len()).then_some(s)
    }

    /// Runs `f` on the node's blocking pool from any thread; the returned task is a future of
    /// its result (see [`crate::Context::spawn_blocking`]).
    pub fn spawn_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<BlockingTask<T>, Error> {
        BlockingTask::submit(&self.0.blocking, f)
    }
}

/// Delivers a job's result message to `to` from outside the shards.
fn deliver_result(shards: &[Arc<crate::shard::ShardRemote>], to: Pid, msg: Message) {
    let Some(s) = shards.get(shard_of(to.id)) else {
        return;
    };
    if s.closed.load(std::sync::atomic::Ordering::Acquire) {
        return;
    }
    s.publish(vec![Item::Deliver {
        to: to.id,
        prio: Priority::Normal,
        env: Envelope {
            from: to,
            kind: Kind::Message(msg),
        },
    }]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn block_on<F: Future>(f: F) -> F::Output {
        struct ThreadWaker(std::thread::Thread);
        impl std::task::Wake for ThreadWaker {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
        let mut cx = TaskContext::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park_timeout(Duration::from_millis(100));
        }
    }

    #[test]
    fn a_job_result_and_a_panic_come_back() {
        let pool = BlockingPool::new(BlockingOptions::default());
        let t = BlockingTask::submit(&pool, || 6 * 7).unwrap();
        assert_eq!(block_on(t), Ok(42));
        let p = BlockingTask::submit(&pool, || -> u8 { panic!("boom") }).unwrap();
        assert_eq!(block_on(p), Err(Error::BlockingPanicked("boom".into())));
        // The thread survived its job's panic and serves the next one.
        let t = BlockingTask::submit(&pool, || "after").unwrap();
        assert_eq!(block_on(t), Ok("after"));
    }

    #[test]
    fn threads_and_queue_are_bounded() {
        let pool = BlockingPool::new(BlockingOptions {
            max_threads: 2,
            queue: 3,
            keep_alive: Duration::from_secs(5),
        });
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let started = Arc::new(AtomicUsize::new(0));
        let job = |g: Arc<(Mutex<bool>, Condvar)>, s: Arc<AtomicUsize>| {
            move || {
                s.fetch_add(1, Ordering::SeqCst);
                let (m, c) = &*g;
                let mut open = m.lock().unwrap();
                while !*open {
                    open = c.wait(open).unwrap();
                }
            }
        };
        let mut tasks = Vec::new();
        // 2 running (both threads held) + 3 queued fit; the 6th is refused.
        for _ in 0..2 {
            tasks.push(BlockingTask::submit(&pool, job(gate.clone(), started.clone())).unwrap());
        }
        while started.load(Ordering::SeqCst) < 2 {
            std::thread::yield_now();
        }
        for _ in 0..3 {
            tasks.push(BlockingTask::submit(&pool, job(gate.clone(), started.clone())).unwrap());
        }
        assert_eq!(pool.threads(), 2);
        assert!(matches!(
            BlockingTask::submit(&pool, || ()),
            Err(Error::BlockingPoolFull)
        ));
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        for t in tasks {
            assert_eq!(block_on(t), Ok(()));
        }
        assert_eq!(started.load(Ordering::SeqCst), 5);
        assert_eq!(pool.threads(), 2, "never more threads than the bound");
    }

    #[test]
    fn a_closed_pool_refuses_work() {
        let pool = BlockingPool::new(BlockingOptions::default());
        pool.close();
        assert!(matches!(
            BlockingTask::submit(&pool, || ()),
            Err(Error::NodeTerminated)
        ));
    }
}
