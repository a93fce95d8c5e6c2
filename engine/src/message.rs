//! Messages: any `'static + Send` Rust value, boxed once, plus the framework's own messages
//! (exit, down, event, fallback) that arrive through the same door.

use std::any::{Any, TypeId};
use std::fmt;
use std::marker::PhantomData;
use std::mem::{align_of, size_of, ManuallyDrop, MaybeUninit};
use std::sync::Arc;

use ergo_edf::{Alias, Atom, Event, Pid, ProcessId, Ref};

use crate::Reason;

/// A message as a handler receives it: an owned, type-erased `'static + Send` value.
///
/// Values of at most 8 bytes (integers, small enums, `Copy` handles) are stored inline, so
/// sending them allocates nothing; larger values are boxed once. A message is 16 bytes either
/// way.
///
/// ```
/// use ergo_engine::Message;
/// let m = Message::new(42u64);
/// assert!(m.is::<u64>());
/// assert_eq!(m.downcast::<u64>().ok(), Some(42));
/// let s = Message::new(String::from("hello"));
/// assert_eq!(s.downcast_ref::<String>().map(|s| s.as_str()), Some("hello"));
/// ```
pub struct Message {
    vt: &'static MsgVTable,
    /// The value itself (inline) or a `Box<T>` turned into a raw pointer (boxed).
    data: MaybeUninit<usize>,
}

struct MsgVTable {
    type_id: fn() -> TypeId,
    /// Drops the value held in `data`.
    drop: unsafe fn(*mut MaybeUninit<usize>),
    /// Borrows the value held in `data` as `dyn Any` (to encode it for another node).
    as_any: unsafe fn(*const MaybeUninit<usize>) -> *const (dyn Any + Send),
    inline: bool,
}

struct VTableOf<T>(PhantomData<T>);

impl<T: Any + Send> VTableOf<T> {
    const INLINE: bool =
        size_of::<T>() <= size_of::<usize>() && align_of::<T>() <= align_of::<usize>();
    const VT: MsgVTable = MsgVTable {
        type_id: TypeId::of::<T>,
        drop: drop_value::<T>,
        as_any: any_value::<T>,
        inline: Self::INLINE,
    };
}

/// # Safety
/// `data` holds a live value made by `Message::new::<T>`.
unsafe fn any_value<T: Any + Send>(data: *const MaybeUninit<usize>) -> *const (dyn Any + Send) {
    if VTableOf::<T>::INLINE {
        data.cast::<T>() as *const (dyn Any + Send)
    } else {
        // SAFETY: boxed: `data` holds the pointer from `Box::into_raw`, owned by the message.
        (unsafe { (*data).assume_init() }) as *const T as *const (dyn Any + Send)
    }
}

/// # Safety
/// `data` holds a live value made by `Message::new::<T>`.
unsafe fn drop_value<T: Any + Send>(data: *mut MaybeUninit<usize>) {
    if VTableOf::<T>::INLINE {
        // SAFETY: inline: `data` holds a `T` (size and alignment checked by `INLINE`).
        unsafe { std::ptr::drop_in_place(data.cast::<T>()) }
    } else {
        // SAFETY: boxed: `data` holds the pointer from `Box::into_raw`, owned by this message.
        unsafe { drop(Box::from_raw((*data).assume_init() as *mut T)) }
    }
}

impl Message {
    /// Wraps a value.
    #[inline]
    pub fn new<T: Any + Send>(value: T) -> Message {
        let mut data = MaybeUninit::<usize>::uninit();
        if VTableOf::<T>::INLINE {
            // SAFETY: `T` fits in `data` (size and alignment checked by `INLINE`).
            unsafe { data.as_mut_ptr().cast::<T>().write(value) };
        } else {
            data.write(Box::into_raw(Box::new(value)) as usize);
        }
        Message {
            vt: &VTableOf::<T>::VT,
            data,
        }
    }

    /// Whether the value is a `T`.
    #[inline]
    pub fn is<T: Any>(&self) -> bool {
        if self.is_exact::<T>() {
            return true;
        }
        self.dyn_inner().is_some_and(|b| b.is::<T>())
    }

    #[inline]
    fn is_exact<T: Any>(&self) -> bool {
        (self.vt.type_id)() == TypeId::of::<T>()
    }

    /// The boxed value of a message made by [`Message::from_any`] for a registered type.
    #[cold]
    pub(crate) fn dyn_inner(&self) -> Option<&(dyn Any + Send)> {
        self.downcast_ref_exact::<DynAny>().map(|d| &*d.0)
    }

    /// Borrows the value as a `T`.
    #[inline]
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        match self.downcast_ref_exact::<T>() {
            Some(v) => Some(v),
            None => self
                .dyn_inner()
                .and_then(|b| (b as &dyn Any).downcast_ref::<T>()),
        }
    }

    #[inline]
    fn downcast_ref_exact<T: Any>(&self) -> Option<&T> {
        if !self.is_exact::<T>() {
            return None;
        }
        if self.vt.inline {
            // SAFETY: the value is a `T` (checked above) stored inline.
            Some(unsafe { &*self.data.as_ptr().cast::<T>() })
        } else {
            // SAFETY: the value is a `T` (checked above) behind the boxed pointer.
            Some(unsafe { &*(self.data.assume_init() as *const T) })
        }
    }

    /// Takes the value out as a `T`, or gives the message back.
    #[inline]
    pub fn downcast<T: Any>(self) -> Result<T, Message> {
        match self.downcast_exact::<T>() {
            Ok(v) => Ok(v),
            Err(m) if m.is_exact::<DynAny>() => match m.downcast_exact::<DynAny>() {
                Ok(DynAny(b)) => match b.downcast::<T>() {
                    Ok(v) => Ok(*v),
                    Err(b) => Err(Message::new(DynAny(b))),
                },
                Err(m) => Err(m),
            },
            Err(m) => Err(m),
        }
    }

    #[inline]
    fn downcast_exact<T: Any>(self) -> Result<T, Message> {
        if !self.is_exact::<T>() {
            return Err(self);
        }
        let me = ManuallyDrop::new(self);
        if me.vt.inline {
            // SAFETY: the value is a `T` stored inline; `me` is never dropped, so it is moved
            // out exactly once.
            Ok(unsafe { me.data.as_ptr().cast::<T>().read() })
        } else {
            // SAFETY: the value is a `T` boxed by `new`; ownership of the box moves out here
            // and `me` is never dropped.
            Ok(*unsafe { Box::from_raw(me.data.assume_init() as *mut T) })
        }
    }
}

impl Message {
    /// Borrows the value as `dyn Any` (what the network layer encodes).
    #[inline]
    pub fn as_any(&self) -> &(dyn Any + Send) {
        // SAFETY: `data` holds the live value `new` stored for this vtable; the reference lives
        // no longer than `self`.
        unsafe { &*(self.vt.as_any)(&self.data) }
    }

    /// A message from a value that is only known as `Box<dyn Any + Send>` (decoded from the
    /// network): the common wire types are unboxed into their own type, so that handlers
    /// `downcast` them as if a local process had sent them.
    pub fn from_any(b: Box<dyn Any + Send>) -> Message {
        macro_rules! unbox {
            ($b:ident, $($t:ty),*) => {
                $(let $b = match $b.downcast::<$t>() {
                    Ok(v) => return Message::new(*v),
                    Err(b) => b,
                };)*
            };
        }
        unbox!(
            b,
            String,
            isize,
            i64,
            i32,
            i16,
            i8,
            usize,
            u64,
            u32,
            u16,
            u8,
            bool,
            f64,
            f32,
            Vec<u8>,
            ergo_edf::Atom,
            Pid,
            ProcessId,
            Ref,
            Alias,
            Event,
            ergo_edf::GoError,
            ergo_edf::Time,
            ergo_edf::Value
        );
        // A registered Rust type: keep it boxed (its type is what `downcast` checks).
        Message::new(DynAny(b))
    }
}

/// A decoded value of a registered Rust type, as it arrived from the network; [`Message`]'s
/// `is`/`downcast` see through it.
pub(crate) struct DynAny(pub(crate) Box<dyn Any + Send>);

impl Drop for Message {
    fn drop(&mut self) {
        // SAFETY: `data` holds the live value `new` stored for this vtable.
        unsafe { (self.vt.drop)(&mut self.data) }
    }
}

// SAFETY: `Message::new` only accepts `Send` values.
unsafe impl Send for Message {}

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

/// Exit signal from a link to a node (`Context::link_node`): the connection to it went down.
/// A process that does not trap exits terminates with reason `no connection` instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageExitNode {
    /// The node.
    pub name: ergo_edf::Atom,
}

/// A monitored node went down (`Context::monitor_node`): the connection to it is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageDownNode {
    /// The node.
    pub name: ergo_edf::Atom,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_boxed_values_round_trip() {
        assert_eq!(std::mem::size_of::<Message>(), 16);
        assert_eq!(Message::new(7u8).downcast::<u8>().ok(), Some(7));
        assert_eq!(Message::new(-7i64).downcast::<i64>().ok(), Some(-7));
        assert_eq!(Message::new(()).downcast::<()>().ok(), Some(()));
        let big = [1u64, 2, 3, 4];
        assert_eq!(Message::new(big).downcast::<[u64; 4]>().ok(), Some(big));
        let m = Message::new(String::from("x"));
        assert!(m.downcast_ref::<u8>().is_none());
        let m = m.downcast::<u8>().expect_err("not a u8");
        assert_eq!(m.downcast::<String>().ok().as_deref(), Some("x"));
    }

    #[test]
    fn dropping_a_message_drops_its_value_once() {
        struct Counted(std::sync::Arc<std::sync::atomic::AtomicUsize>);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        drop(Message::new(Counted(n.clone()))); // inline (8 bytes)
        drop(Message::new((Counted(n.clone()), 5u64))); // boxed
        let m = Message::new(Counted(n.clone()));
        let c = m.downcast::<Counted>().ok();
        assert_eq!(n.load(std::sync::atomic::Ordering::SeqCst), 2);
        drop(c);
        assert_eq!(n.load(std::sync::atomic::Ordering::SeqCst), 3);
    }
}
