//! Messages: any `'static + Send` Rust value, boxed once, plus the framework's own messages
//! (exit, down, event, fallback) that arrive through the same door.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use ergo_edf::{Alias, Atom, Event, Pid, ProcessId, Ref};

use crate::Reason;

/// A message as a handler receives it: an owned, type-erased value.
///
/// ```
/// use ergo_engine::Message;
/// let m = Message::new(42u64);
/// assert!(m.is::<u64>());
/// assert_eq!(m.downcast::<u64>().ok(), Some(42));
/// ```
pub struct Message(Box<dyn Any + Send>);

impl Message {
    /// Wraps a value.
    #[inline]
    pub fn new<T: Any + Send>(value: T) -> Message {
        Message(Box::new(value))
    }

    /// Whether the value is a `T`.
    #[inline]
    pub fn is<T: Any>(&self) -> bool {
        self.0.is::<T>()
    }

    /// Borrows the value as a `T`.
    #[inline]
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }

    /// Takes the value out as a `T`, or gives the message back.
    #[inline]
    pub fn downcast<T: Any>(self) -> Result<T, Message> {
        match self.0.downcast::<T>() {
            Ok(b) => Ok(*b),
            Err(b) => Err(Message(b)),
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Message(..)")
    }
}

/// The queue a message goes to (Go Ergo's `MessagePriority`). Urgent is served before System,
/// System before Main; the Log queue is served last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum Priority {
    /// Main queue (`MessagePriorityNormal`).
    #[default]
    Normal,
    /// System queue (`MessagePriorityHigh`).
    High,
    /// Urgent queue (`MessagePriorityMax`).
    Max,
}

/// Per-message options (Go Ergo's `MessageOptions`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageOptions {
    /// Which queue of the recipient's mailbox.
    pub priority: Priority,
    /// Ask for delivery confirmation on remote sends (kept for the network issue; local
    /// delivery is always confirmed synchronously where it can be).
    pub important: bool,
}

/// Exit signal turned into a message, for a process that traps exits: the linked process
/// terminated, or someone sent it an exit signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageExitPid {
    /// Who terminated (or sent the signal).
    pub pid: Pid,
    /// Why.
    pub reason: Reason,
}

/// Exit signal from a link to a registered name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageExitProcessId {
    /// The name linked to.
    pub process_id: ProcessId,
    /// Why.
    pub reason: Reason,
}

/// Exit signal from a link to an alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageExitAlias {
    /// The alias linked to.
    pub alias: Alias,
    /// Why.
    pub reason: Reason,
}

/// Exit signal from a link to an event (unregistered, or its producer terminated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageExitEvent {
    /// The event.
    pub event: Event,
    /// Why.
    pub reason: Reason,
}

/// A monitored process terminated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageDownPid {
    /// Who terminated.
    pub pid: Pid,
    /// The monitor's reference (as returned by `monitor`).
    pub r: Ref,
    /// Why.
    pub reason: Reason,
}

/// A process monitored by its name terminated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageDownProcessId {
    /// The name monitored.
    pub process_id: ProcessId,
    /// The monitor's reference.
    pub r: Ref,
    /// Why.
    pub reason: Reason,
}

/// The owner of a monitored alias terminated (or deleted the alias).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageDownAlias {
    /// The alias monitored.
    pub alias: Alias,
    /// The monitor's reference.
    pub r: Ref,
    /// Why.
    pub reason: Reason,
}

/// A monitored event was unregistered, or its producer terminated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageDownEvent {
    /// The event.
    pub event: Event,
    /// The monitor's reference.
    pub r: Ref,
    /// Why.
    pub reason: Reason,
}

/// A message that could not go into a full mailbox, forwarded to the fallback process.
#[derive(Debug)]
pub struct MessageFallback {
    /// The process whose mailbox was full.
    pub pid: Pid,
    /// The tag from its `Fallback` options.
    pub tag: Atom,
    /// The message.
    pub message: Message,
}

/// The first subscriber of an event with `notify` appeared (sent to the producer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEventStart {
    /// The event.
    pub name: Atom,
}

/// The last subscriber of an event with `notify` went away (sent to the producer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEventStop {
    /// The event.
    pub name: Atom,
}

/// One published event, as subscribers receive it in `handle_event`.
#[derive(Clone)]
pub struct MessageEvent {
    /// Which event.
    pub event: Event,
    /// When it was published (Unix nanoseconds).
    pub timestamp: i64,
    /// The value (shared by all subscribers).
    pub message: Arc<dyn Any + Send + Sync>,
}

impl MessageEvent {
    /// Borrows the value as a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.message.downcast_ref()
    }
}

impl fmt::Debug for MessageEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageEvent")
            .field("event", &self.event)
            .field("timestamp", &self.timestamp)
            .finish()
    }
}
