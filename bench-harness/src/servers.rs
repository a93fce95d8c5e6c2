//! The processes a load is driven against: `echo` (answers every call with its request, and
//! sends every message back to its sender) and `sink` (counts messages; a call answers the count
//! so far).

use ergo_engine::{Actor, Context, HandleResult, Message, Pid, Reason, Ref};

/// The registered name of [`Echo`].
pub const ECHO: &str = "echo";
/// The registered name of [`Sink`].
pub const SINK: &str = "sink";

/// Answers calls with the request; returns messages to their sender.
pub struct Echo;

impl Actor for Echo {
    async fn handle_message(&mut self, ctx: &mut Context, from: Pid, msg: Message) -> HandleResult {
        // The sender may be gone (or its node); a bounce that cannot be delivered is dropped.
        let _ = ctx.send_message(from, msg);
        Ok(())
    }

    async fn handle_call(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        request: Message,
    ) -> Result<Option<Message>, Reason> {
        Ok(Some(request))
    }
}

/// Counts the messages it receives; a call (any request) answers the count as a `u64`.
#[derive(Default)]
pub struct Sink {
    received: u64,
}

impl Actor for Sink {
    async fn handle_message(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _msg: Message,
    ) -> HandleResult {
        self.received += 1;
        Ok(())
    }

    async fn handle_call(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        _request: Message,
    ) -> Result<Option<Message>, Reason> {
        Ok(Some(Message::new(self.received)))
    }
}
