//! Go's call variants and per-process send settings on [`Context`]: `CallWithPriority`,
//! `CallImportant`, `SendResponseError`, `SetSendPriority` / `SendPriority`,
//! `SetImportantDelivery` / `ImportantDelivery`, and `Events`.
//!
//! The basic `call`, `send` and `send_response` live in `context.rs`; this file adds the forms a
//! Go Ergo user reaches for, with Go's behaviour (a Go process keeps these settings as fields that
//! every later call reads; here they are bits of the process's shard-local flags).

use ergo_edf::{Atom, Pid, Ref};

use crate::process::{Envelope, Kind, FLAG_IMPORTANT};
use crate::{Context, Error, Message, Priority, Target, DEFAULT_CALL_TIMEOUT};

impl Context {
    /// A call with priority `priority` instead of this process's send priority, waiting at
    /// most [`DEFAULT_CALL_TIMEOUT`] (Go's `CallWithPriority`). The callee's mailbox serves it
    /// from the queue of that priority (Urgent for `Max`, System for `High`).
    pub async fn call_with_priority<T: std::any::Any + Send>(
        &mut self,
        to: impl Into<Target>,
        request: T,
        priority: Priority,
    ) -> Result<Message, Error> {
        let important = self.cell.flag(FLAG_IMPORTANT);
        self.call_with(
            to.into(),
            Message::new(request),
            priority,
            important,
            DEFAULT_CALL_TIMEOUT,
        )
        .await
    }

    /// A call with important delivery, waiting at most [`DEFAULT_CALL_TIMEOUT`] (Go's
    /// `CallImportant`): when the target is on another node that cannot deliver the request
    /// (unknown process, full mailbox), the caller gets that reason at once instead of waiting
    /// for the timeout. On this node every call already fails at once when the target is missing.
    pub async fn call_important<T: std::any::Any + Send>(
        &mut self,
        to: impl Into<Target>,
        request: T,
    ) -> Result<Message, Error> {
        let prio = self.cell.priority();
        self.call_with(
            to.into(),
            Message::new(request),
            prio,
            true,
            DEFAULT_CALL_TIMEOUT,
        )
        .await
    }

    /// Answers the call `r` of `to` with an error (Go's `SendResponseError`): the caller's
    /// `call` returns `Err(error)`; a caller on another node gets it as Go's error response
    /// (unknown process, mailbox full and terminated keep their codes; anything else travels as
    /// its text).
    pub fn send_response_error(&mut self, to: Pid, r: Ref, error: Error) -> Result<(), Error> {
        let env = Envelope {
            from: self.pid(),
            kind: Kind::Response(Box::new((r, Err(error)))),
        };
        Ok(self.shard.send_pid(to, env, Priority::Max)?)
    }

    /// Sets the priority of what this process sends from now on: plain sends and calls
    /// (Go's `SetSendPriority`; `SpawnOptions::send_priority` sets it at spawn).
    pub fn set_send_priority(&mut self, priority: Priority) {
        self.cell.set_priority(priority);
    }

    /// The priority this process sends with (Go's `SendPriority`).
    pub fn send_priority(&self) -> Priority {
        self.cell.priority()
    }

    /// Makes every later call of this process use important delivery, as
    /// [`Context::call_important`] does (Go's `SetImportantDelivery`). Sends with important
    /// delivery wait for the peer's acknowledgement, which a plain `send` here never does:
    /// use [`Context::send_important`] for them.
    pub fn set_important_delivery(&mut self, on: bool) {
        self.cell.set_flag(FLAG_IMPORTANT, on);
    }

    /// Whether calls of this process use important delivery (Go's `ImportantDelivery`).
    pub fn important_delivery(&self) -> bool {
        self.cell.flag(FLAG_IMPORTANT)
    }

    /// The events this process registered and has not unregistered (Go's `Events`).
    pub fn events(&self) -> Vec<Atom> {
        self.cell
            .ext
            .borrow()
            .as_ref()
            .map(|e| e.events_owned.clone())
            .unwrap_or_default()
    }
}
