//! Running a closure on another shard from inside an actor, without blocking the caller's
//! shard: the closure travels in that shard's inbox and its result wakes the awaiting task.
//! (`Node::run_on` blocks its thread; fine for a `main`, wrong for a handler.)

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};

use crate::node::NodeShared;
use crate::shard::{Item, ShardCore};
use crate::Error;

type Slot<R> = Arc<Mutex<(Option<Result<R, Error>>, Option<Waker>)>>;

/// The result of a closure sent to a shard.
struct Reply<R> {
    slot: Slot<R>,
}

impl<R> Future for Reply<R> {
    type Output = Result<R, Error>;
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let mut g = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = g.0.take() {
            return Poll::Ready(r);
        }
        g.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Fills the slot when the closure ran, or with `NodeTerminated` if the shard dropped it.
struct Filler<R> {
    slot: Slot<R>,
    done: bool,
}

impl<R> Filler<R> {
    fn fill(&mut self, r: Result<R, Error>) {
        self.done = true;
        let w = {
            let mut g = self.slot.lock().unwrap_or_else(|p| p.into_inner());
            g.0 = Some(r);
            g.1.take()
        };
        if let Some(w) = w {
            w.wake();
        }
    }
}

impl<R> Drop for Filler<R> {
    fn drop(&mut self) {
        if !self.done {
            self.fill(Err(Error::NodeTerminated));
        }
    }
}

/// Runs `f` on shard `shard` of `node` and awaits its result (inline on the caller's own
/// shard).
pub(crate) async fn on_shard<R: Send + 'static>(
    here: &Rc<ShardCore>,
    node: &Arc<NodeShared>,
    shard: usize,
    f: impl FnOnce(&Rc<ShardCore>) -> R + Send + 'static,
) -> Result<R, Error> {
    if here.index == shard {
        return Ok(f(here));
    }
    let remote = node
        .shards
        .get(shard)
        .ok_or(Error::Invalid("no such shard"))?;
    if remote.closed.load(std::sync::atomic::Ordering::Acquire) {
        return Err(Error::NodeTerminated);
    }
    let slot: Slot<R> = Arc::new(Mutex::new((None, None)));
    let filler = Filler {
        slot: slot.clone(),
        done: false,
    };
    remote.publish(vec![Item::Run(Box::new(move |core| {
        let mut filler = filler;
        let r = f(core);
        filler.fill(Ok(r));
    }))]);
    Reply { slot }.await
}

/// Asks process `pid` (of this node) for its `handle_inspect` figures and awaits them,
/// without blocking the caller's shard. `ProcessUnknown` if it is gone or goes before
/// answering.
pub(crate) async fn inspect_state(
    ctx: &crate::Context,
    pid: ergo_edf::Pid,
) -> Result<std::collections::BTreeMap<String, String>, Error> {
    if pid == ctx.pid() {
        return Err(Error::Invalid("a process cannot inspect its own state"));
    }
    let slot: Slot<std::collections::BTreeMap<String, String>> = Arc::new(Mutex::new((None, None)));
    let filler = Filler {
        slot: slot.clone(),
        done: false,
    };
    let env = crate::process::Envelope {
        from: ctx.pid(),
        kind: crate::process::Kind::Inspect(Box::new(move |m| {
            let mut filler = filler;
            filler.fill(Ok(m))
        })),
    };
    ctx.shard
        .send_pid(pid, env, crate::Priority::Max)
        .map_err(Error::from)?;
    match (Reply { slot }).await {
        Err(Error::NodeTerminated) => Err(Error::ProcessUnknown),
        r => r,
    }
}
