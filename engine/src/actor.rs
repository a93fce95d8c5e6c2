//! The `Actor` trait: what a process does with its messages.

use std::collections::BTreeMap;
use std::future::Future;

use ergo_edf::{Pid, Ref};

use crate::{Context, Message, MessageEvent, Reason};

/// What a handler returns: `Ok(())` to go on, `Err(reason)` to terminate with `reason`
/// (`Err(Reason::Normal)` is a normal stop).
pub type HandleResult = Result<(), Reason>;

/// A process's behaviour (Go Ergo's `act.ActorBehavior`).
///
/// Handlers are `async`: an actor that awaits [`Context::call`] yields its shard to other
/// processes until the response (or the timeout) arrives. Handlers that never await complete on
/// their first poll, at the cost of a plain function call. A panic in any handler terminates the
/// process with [`Reason::Panic`]; the node and the shard go on.
///
/// ```
/// use ergo_engine::{Actor, Context, HandleResult, Message, Pid};
///
/// struct Counter(u64);
///
/// impl Actor for Counter {
///     async fn handle_message(&mut self, _ctx: &mut Context, _from: Pid, msg: Message) -> HandleResult {
///         if let Some(n) = msg.downcast_ref::<u64>() {
///             self.0 += n;
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait Actor: Send + 'static {
    /// Runs once, synchronously, inside `spawn`, before the process receives anything. An error
    /// makes `spawn` fail with [`crate::Error::InitFailed`].
    fn init(&mut self, _ctx: &mut Context) -> HandleResult {
        Ok(())
    }

    /// A message sent with `send` (or a framework message: `MessageExitPid` when trapping exits,
    /// `MessageDownPid` and friends for monitors, `MessageFallback` for a fallback process).
    fn handle_message(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _message: Message,
    ) -> impl Future<Output = HandleResult> {
        async { Ok(()) }
    }

    /// A request sent with `call`. Return `Ok(Some(reply))` to answer now, `Ok(None)` to answer
    /// later with [`Context::send_response`] (from any later handler), `Err(reason)` to terminate.
    /// The default answers nothing, so the caller times out (as Go Ergo does).
    fn handle_call(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        _request: Message,
    ) -> impl Future<Output = Result<Option<Message>, Reason>> {
        async { Ok(None) }
    }

    /// A published event this process subscribed to (with `link_event` or `monitor_event`).
    fn handle_event(
        &mut self,
        _ctx: &mut Context,
        _event: MessageEvent,
    ) -> impl Future<Output = HandleResult> {
        async { Ok(()) }
    }

    /// Answers an inspection request (`Node::inspect`): a few named figures about the process.
    fn handle_inspect(&mut self, _ctx: &mut Context, _from: Pid) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// Runs once when the process terminates for any reason but `kill`.
    fn terminate(&mut self, _ctx: &mut Context, _reason: &Reason) {}
}
