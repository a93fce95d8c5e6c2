//! The per-connection codec: process-level operations in, ENP frames out (with Go's order byte
//! and link choice, our caches, compression and the peer's size limit); frames in, typed events
//! out (with the node names and creations that headers leave implicit, wire-spec §6.13).
//!
//! Sans-IO: the caller picks the link from [`Outgoing::link`], owns the write buffers, and
//! delivers [`Incoming`] events to processes.

use std::borrow::Cow;

use ergo_edf::{
    Alias, Atom, DecodeCaches, DecodeError, Decoder, Edf, EncodeCaches, EncodeError, Event,
    GoError, Pid, ProcessId, Ref, Registered, Value,
};
use thiserror::Error;

use crate::compression::{self, Algorithm};
use crate::control::*;
use crate::frame::{self, Frame, FrameError, Message, NameRef, FLAG_IMPORTANT};
use crate::gen::NetworkFlags;
use crate::handshake::{Established, LocalNode};

/// What an outgoing frame carries: any [`Edf`] value, or a value known only as `dyn Any` ([`AnyPayload`]).
pub trait WritePayload {
    /// Appends the value as one tagged EDF value.
    fn write_payload(&self, buf: &mut Vec<u8>, caches: &EncodeCaches) -> Result<(), EncodeError>;
}

impl<T: Edf> WritePayload for T {
    fn write_payload(&self, buf: &mut Vec<u8>, caches: &EncodeCaches) -> Result<(), EncodeError> {
        ergo_edf::encode(self, buf, caches)
    }
}

/// A message known only as `dyn Any` (a local process's message), encoded with
/// [`ergo_edf::encode_any`].
pub struct AnyPayload<'a>(pub &'a (dyn std::any::Any + Send));

impl WritePayload for AnyPayload<'_> {
    fn write_payload(&self, buf: &mut Vec<u8>, caches: &EncodeCaches) -> Result<(), EncodeError> {
        let start = buf.len();
        let r = ergo_edf::encode_any(self.0, &mut ergo_edf::Encoder::new(buf, caches));
        if r.is_err() {
            buf.truncate(start);
        }
        r
    }
}

/// Message priority (Go's `gen.MessagePriority`): which mailbox queue the message lands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Priority {
    /// Main queue.
    #[default]
    Normal = 0,
    /// System queue.
    High = 1,
    /// Urgent queue.
    Max = 2,
}

impl Priority {
    /// From the low bits of a flags byte.
    pub fn from_bits(b: u8) -> Priority {
        match b & 0x03 {
            1 => Priority::High,
            2 => Priority::Max,
            _ => Priority::Normal,
        }
    }
}

/// Compression of outgoing frames (a process setting in Go).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressionOptions {
    /// Algorithm.
    pub algorithm: Algorithm,
    /// Go level: 0 default, 1 best speed, 2 best size.
    pub level: isize,
    /// Frames longer than this (whole frame, header included) are compressed. Go's minimum: 1024.
    pub threshold: usize,
}

/// Options of one outgoing message (Go's `MessageOptions` as far as the wire sees them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOptions {
    /// Priority.
    pub priority: Priority,
    /// Important delivery: the delivery ID to put in the header (the peer acks with it).
    pub important: Option<u64>,
    /// Keep per-sender order (Go's default): one link and a non-zero order byte per sender.
    pub keep_order: bool,
    /// Compress above a threshold.
    pub compression: Option<CompressionOptions>,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            priority: Priority::Normal,
            important: None,
            keep_order: true,
            compression: None,
        }
    }
}

/// A codec operation failed; nothing was written (or what was written was removed).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConnectionError {
    /// Framing.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The EDF value could not be encoded.
    #[error("encode: {0}")]
    Encode(#[from] EncodeError),
    /// The EDF value could not be decoded.
    #[error("decode: {0}")]
    Decode(#[from] DecodeError),
    /// The target is on another node than this connection's peer.
    #[error("target is on {target}, this connection goes to {peer}")]
    WrongNode {
        /// The target's node.
        target: Atom,
        /// The peer.
        peer: Atom,
    },
    /// The target PID/alias belongs to a previous incarnation of the peer.
    #[error("process ID belongs to the previous incarnation")]
    Incarnation,
    /// The peer did not enable important delivery.
    #[error("not supported: the peer did not enable important delivery")]
    ImportantUnsupported,
    /// The frame is larger than the peer accepts.
    #[error("too large: {len} bytes, the peer accepts {max}")]
    TooLarge {
        /// Frame length.
        len: usize,
        /// The peer's MaxMessageSize.
        max: u64,
    },
    /// An exit or terminate reason that is not an error value (Go drops such frames).
    #[error("reason is not an error value")]
    ReasonNotError,
    /// A 199 payload that is not one of the control messages.
    #[error("unknown control message {0}")]
    UnknownControl(String),
    /// A 130 frame with an undefined result code.
    #[error("undefined response code {0}")]
    BadCode(u8),
}

/// Where an outgoing message is addressed on the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A process.
    Pid(Pid),
    /// A registered name.
    Name(ProcessId),
    /// An alias.
    Alias(Alias),
}

/// How a send or call header names its target on the peer.
enum Address<'a> {
    Pid(u64),
    Name(NameRef<'a>),
    Alias([u64; 3]),
}

/// A frame appended to the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outgoing {
    /// Link selector: 0 means any link (round robin); otherwise `pool[link % pool.len()]`.
    pub link: u64,
    /// Bytes appended.
    pub len: usize,
}

/// Outcome of a call or an important delivery, as a type-130 frame carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseCode {
    /// Delivered (important-delivery ack).
    Ok,
    /// "unknown process".
    UnknownProcess,
    /// "process mailbox is full".
    MailboxFull,
    /// "process terminated".
    Terminated,
    /// Any other error.
    Error(GoError),
}

impl ResponseCode {
    /// The error Go reports for this code (`None` for success).
    pub fn error(&self) -> Option<GoError> {
        match self {
            ResponseCode::Ok => None,
            ResponseCode::UnknownProcess => Some(ergo_edf::errors::ErrProcessUnknown()),
            ResponseCode::MailboxFull => Some(GoError::new("process mailbox is full")),
            ResponseCode::Terminated => Some(ergo_edf::errors::ErrProcessTerminated()),
            ResponseCode::Error(e) => Some(e.clone()),
        }
    }
}

/// A message target on this node, as a frame addresses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTarget {
    /// A local process.
    Pid(Pid),
    /// A locally registered name.
    Name(Atom),
    /// A local alias.
    Alias(Alias),
}

/// A target on the peer whose termination the peer announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteTarget {
    /// A process of the peer.
    Pid(Pid),
    /// A name registered on the peer.
    Name(ProcessId),
    /// An alias of the peer.
    Alias(Alias),
    /// An event of the peer.
    Event(Event),
}

/// An EDF payload, decoded on demand with the peer's caches.
#[derive(Debug, Clone)]
pub struct Payload<'a> {
    bytes: Cow<'a, [u8]>,
    caches: &'a DecodeCaches,
}

impl Payload<'_> {
    /// The raw EDF bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// Decodes as a dynamic value.
    pub fn value(&self) -> Result<Value, DecodeError> {
        Value::decode_tagged(&mut Decoder::new(&self.bytes, self.caches))
    }
    /// Decodes into the Rust type a local sender would use ([`ergo_edf::decode_any`]).
    pub fn any(&self) -> Result<Box<dyn std::any::Any + Send + Sync>, DecodeError> {
        ergo_edf::decode_any(&mut Decoder::new(&self.bytes, self.caches))
    }
    /// Decodes as a Rust type.
    pub fn typed<T: Edf>(&self) -> Result<T, DecodeError> {
        ergo_edf::decode(&self.bytes, self.caches).map(|(v, _)| v)
    }
}

/// A control message (type 199).
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Control {
    LinkPid(MessageLinkPid),
    UnlinkPid(MessageUnlinkPid),
    LinkProcessId(MessageLinkProcessId),
    UnlinkProcessId(MessageUnlinkProcessId),
    LinkAlias(MessageLinkAlias),
    UnlinkAlias(MessageUnlinkAlias),
    LinkEvent(MessageLinkEvent),
    UnlinkEvent(MessageUnlinkEvent),
    MonitorPid(MessageMonitorPid),
    DemonitorPid(MessageDemonitorPid),
    MonitorProcessId(MessageMonitorProcessId),
    DemonitorProcessId(MessageDemonitorProcessId),
    MonitorAlias(MessageMonitorAlias),
    DemonitorAlias(MessageDemonitorAlias),
    MonitorEvent(MessageMonitorEvent),
    DemonitorEvent(MessageDemonitorEvent),
    Spawn(Box<MessageSpawn>),
    ApplicationStart(Box<MessageApplicationStart>),
    UpdateCache(Box<MessageUpdateCache>),
    Result(MessageResult),
}

/// A frame received from the peer, with implicit identities filled in.
#[derive(Debug, Clone)]
pub enum Incoming<'a> {
    /// 101–104: an async message.
    Send {
        /// Sender (on the peer).
        from: Pid,
        /// Target (here).
        to: LocalTarget,
        /// Priority.
        priority: Priority,
        /// Important-delivery ID (ack it with [`ConnectionCodec::important_ack`]).
        important: Option<u64>,
        /// The message.
        payload: Payload<'a>,
    },
    /// 105/106: an event of the peer published to our subscribers.
    Event {
        /// The event (node = the peer).
        event: Event,
        /// Producer.
        producer: Pid,
        /// Nanoseconds since the Unix epoch.
        timestamp: i64,
        /// Priority.
        priority: Priority,
        /// The event message.
        payload: Payload<'a>,
    },
    /// 107: an exit signal.
    Exit {
        /// Sender.
        from: Pid,
        /// Target (here).
        to: Pid,
        /// Reason.
        reason: GoError,
    },
    /// 121–124: a call.
    Request {
        /// Caller (on the peer).
        from: Pid,
        /// Target (here).
        to: LocalTarget,
        /// The call's ref (node and creation of the caller).
        reference: Ref,
        /// Priority.
        priority: Priority,
        /// The caller wants an error frame if delivery fails.
        important: bool,
        /// The request.
        payload: Payload<'a>,
    },
    /// 129: a call's reply.
    Response {
        /// The responder's ID (informational).
        from_id: u64,
        /// Priority.
        priority: Priority,
        /// The caller (here).
        to: Pid,
        /// The call's ref (our node and creation).
        reference: Ref,
        /// The result.
        payload: Payload<'a>,
    },
    /// 130: a call's error reply or an important-delivery ack.
    ResponseError {
        /// The responder or target ID (0 for name/alias targets).
        from_id: u64,
        /// Priority.
        priority: Priority,
        /// The caller or sender (here).
        to: Pid,
        /// The ref (`[delivery ID, 0, 0]` for important acks).
        reference: Ref,
        /// The outcome.
        code: ResponseCode,
    },
    /// 181–186: a target of the peer went away.
    Terminate {
        /// Which.
        target: RemoteTarget,
        /// Why.
        reason: GoError,
    },
    /// 199.
    Control(Control),
}

/// Encodes and decodes frames of one connection.
#[derive(Debug, Clone)]
pub struct ConnectionCodec {
    local: Atom,
    local_creation: i64,
    own_flags: NetworkFlags,
    peer: Atom,
    peer_creation: i64,
    peer_flags: NetworkFlags,
    peer_max: u64,
    enc: EncodeCaches,
    dec: DecodeCaches,
}

fn order(keep: bool, v: u64) -> u8 {
    if keep {
        frame::order_for(v)
    } else {
        0
    }
}

fn selector(keep: bool, from: &Pid) -> u64 {
    if keep {
        u64::from(frame::order_for(from.id))
    } else {
        0
    }
}

impl ConnectionCodec {
    /// The codec of an established connection.
    pub fn new(local: &LocalNode, est: &Established) -> ConnectionCodec {
        let intro = &est.peer.introduce;
        ConnectionCodec {
            local: local.node,
            local_creation: local.creation,
            own_flags: local.flags,
            peer: intro.node,
            peer_creation: intro.creation,
            peer_flags: intro.flags,
            peer_max: intro.max_message_size.max(0) as u64,
            enc: local.encode_caches(),
            dec: est.peer.decode_caches.clone(),
        }
    }

    /// The peer's node name.
    pub fn peer(&self) -> Atom {
        self.peer
    }
    /// The peer's creation.
    pub fn peer_creation(&self) -> i64 {
        self.peer_creation
    }
    /// The peer's capabilities.
    pub fn peer_flags(&self) -> NetworkFlags {
        self.peer_flags
    }
    /// The largest frame the peer accepts (0: unlimited).
    pub fn peer_max_message_size(&self) -> u64 {
        self.peer_max
    }
    /// Our capabilities on this connection.
    pub fn own_flags(&self) -> NetworkFlags {
        self.own_flags
    }
    /// Our encode caches.
    pub fn encode_caches(&self) -> &EncodeCaches {
        &self.enc
    }
    /// The peer's caches.
    pub fn decode_caches(&self) -> &DecodeCaches {
        &self.dec
    }

    fn check_target(&self, node: Atom, creation: Option<i64>) -> Result<(), ConnectionError> {
        if node != self.peer {
            return Err(ConnectionError::WrongNode {
                target: node,
                peer: self.peer,
            });
        }
        if let Some(c) = creation {
            if c != self.peer_creation {
                return Err(ConnectionError::Incarnation);
            }
        }
        Ok(())
    }

    /// Finishes a frame written at `start`: payload, optional compression, size check.
    fn finish<T: WritePayload + ?Sized>(
        &self,
        out: &mut Vec<u8>,
        start: usize,
        payload: &T,
        compression: Option<CompressionOptions>,
    ) -> Result<usize, ConnectionError> {
        let r = (|| {
            payload.write_payload(out, &self.enc)?;
            frame::finish(out, start)?;
            if let Some(c) = compression {
                if out.len() - start > c.threshold {
                    let plain = out.split_off(start);
                    compression::compress_frame(&plain, c.algorithm, c.level, out)?;
                }
            }
            let len = out.len() - start;
            if self.peer_max > 0 && len as u64 > self.peer_max {
                return Err(ConnectionError::TooLarge {
                    len,
                    max: self.peer_max,
                });
            }
            Ok(len)
        })();
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    fn flags(&self, opts: &SendOptions) -> Result<u8, ConnectionError> {
        let mut f = opts.priority as u8;
        if opts.important.is_some() {
            if self.peer_flags.0 & NetworkFlags::IMPORTANT_DELIVERY == 0 {
                return Err(ConnectionError::ImportantUnsupported);
            }
            f |= FLAG_IMPORTANT;
        }
        Ok(f)
    }

    /// Checks `to` and gives its header address with the order byte Go uses for it
    /// (wire-spec §6.4): the target PID, the sender for names, the alias's second word.
    fn address<'a>(
        &self,
        from: &Pid,
        to: &'a Target,
        keep: bool,
    ) -> Result<(u8, Address<'a>), ConnectionError> {
        Ok(match to {
            Target::Pid(p) => {
                self.check_target(p.node, Some(p.creation))?;
                (order(keep, p.id), Address::Pid(p.id))
            }
            Target::Name(n) => {
                self.check_target(n.node, None)?;
                (
                    order(keep, from.id),
                    Address::Name(NameRef::Inline(n.name.as_str())),
                )
            }
            Target::Alias(a) => {
                self.check_target(a.node, Some(a.creation))?;
                (order(keep, a.id[1]), Address::Alias(a.id))
            }
        })
    }

    /// Writes a send or call frame whose fixed part `header` builds from the target's address.
    fn addressed<T: WritePayload + ?Sized>(
        &self,
        from: &Pid,
        to: &Target,
        opts: &SendOptions,
        msg: &T,
        out: &mut Vec<u8>,
        header: impl FnOnce(u8, Address<'_>) -> Message<'_>,
    ) -> Result<Outgoing, ConnectionError> {
        let flags = self.flags(opts)?;
        let (ord, addr) = self.address(from, to, opts.keep_order)?;
        let start = frame::begin(ord, &header(flags, addr), out)?;
        let len = self.finish(out, start, msg, opts.compression)?;
        Ok(Outgoing {
            link: selector(opts.keep_order, from),
            len,
        })
    }

    /// An async message from local `from` to `to` on the peer (101/102/104).
    pub fn send<T: WritePayload + ?Sized>(
        &self,
        from: &Pid,
        to: &Target,
        opts: &SendOptions,
        msg: &T,
        out: &mut Vec<u8>,
    ) -> Result<Outgoing, ConnectionError> {
        let (from_id, delivery) = (from.id, opts.important);
        self.addressed(from, to, opts, msg, out, |flags, addr| match addr {
            Address::Pid(to) => Message::SendPid {
                from: from_id,
                flags,
                delivery,
                to,
            },
            Address::Name(to) => Message::SendName {
                from: from_id,
                flags,
                delivery,
                to,
            },
            Address::Alias(to) => Message::SendAlias {
                from: from_id,
                flags,
                delivery,
                to,
            },
        })
    }

    /// A call from local `from` to `to` on the peer with our `reference` (121/122/124).
    pub fn request<T: WritePayload + ?Sized>(
        &self,
        from: &Pid,
        to: &Target,
        reference: &Ref,
        opts: &SendOptions,
        msg: &T,
        out: &mut Vec<u8>,
    ) -> Result<Outgoing, ConnectionError> {
        let (from_id, reference) = (from.id, reference.id);
        self.addressed(from, to, opts, msg, out, |flags, addr| match addr {
            Address::Pid(to) => Message::RequestPid {
                from: from_id,
                flags,
                reference,
                to,
            },
            Address::Name(to) => Message::RequestName {
                from: from_id,
                flags,
                reference,
                to,
            },
            Address::Alias(to) => Message::RequestAlias {
                from: from_id,
                flags,
                reference,
                to,
            },
        })
    }

    /// The reply of local `from` to the call `reference` made by `to` (a process of the peer).
    #[allow(clippy::too_many_arguments)]
    pub fn response<T: WritePayload + ?Sized>(
        &self,
        from: &Pid,
        to: &Pid,
        reference: &Ref,
        priority: Priority,
        result: &T,
        compression: Option<CompressionOptions>,
        out: &mut Vec<u8>,
    ) -> Result<Outgoing, ConnectionError> {
        self.check_target(to.node, None)?;
        let m = Message::Response {
            from: from.id,
            priority: priority as u8,
            to: to.id,
            reference: reference.id,
        };
        let start = frame::begin(order(true, to.id), &m, out)?;
        let len = self.finish(out, start, result, compression)?;
        Ok(Outgoing {
            link: selector(true, from),
            len,
        })
    }

    /// A type-130 frame: a call's error reply (`reference` = the call's ref) or an
    /// important-delivery ack (`reference.id = [delivery ID, 0, 0]`; then `from_id` is the target
    /// PID ID for PID targets, 0 for names and aliases, and the frame goes unordered).
    #[allow(clippy::too_many_arguments)]
    pub fn response_error(
        &self,
        from_id: u64,
        to: &Pid,
        reference: [u64; 3],
        priority: Priority,
        code: &ResponseCode,
        ordered: bool,
        out: &mut Vec<u8>,
    ) -> Result<Outgoing, ConnectionError> {
        let (c, err) = match code {
            ResponseCode::Ok => (0u8, None),
            ResponseCode::UnknownProcess => (1, None),
            ResponseCode::MailboxFull => (2, None),
            ResponseCode::Terminated => (3, None),
            ResponseCode::Error(e) => (255, Some(e)),
        };
        let m = Message::ResponseError {
            from: from_id,
            priority: priority as u8,
            to: to.id,
            reference,
            code: c,
        };
        let start = frame::begin(order(ordered, to.id), &m, out)?;
        let len = match err {
            Some(e) => self.finish(out, start, e, None)?,
            None => {
                frame::finish(out, start)?;
                out.len() - start
            }
        };
        Ok(Outgoing {
            link: if ordered {
                selector(true, &Pid { id: from_id, ..*to })
            } else {
                0
            },
            len,
        })
    }

    /// An event published by local `producer` to the peer's subscribers (105).
    #[allow(clippy::too_many_arguments)]
    pub fn event<T: WritePayload + ?Sized>(
        &self,
        producer: &Pid,
        name: Atom,
        timestamp: i64,
        priority: Priority,
        msg: &T,
        compression: Option<CompressionOptions>,
        out: &mut Vec<u8>,
    ) -> Result<Outgoing, ConnectionError> {
        let m = Message::Event {
            producer: producer.id,
            priority: priority as u8,
            timestamp,
            name: NameRef::Inline(name.as_str()),
        };
        let start = frame::begin(order(true, producer.id), &m, out)?;
        let len = self.finish(out, start, msg, compression)?;
        Ok(Outgoing {
            link: selector(true, producer),
            len,
        })
    }

    /// An exit signal from local `from` to `to` on the peer (107).
    pub fn exit(
        &self,
        from: &Pid,
        to: &Pid,
        reason: &GoError,
        out: &mut Vec<u8>,
    ) -> Result<Outgoing, ConnectionError> {
        self.check_target(to.node, Some(to.creation))?;
        let m = Message::Exit {
            from: from.id,
            priority: Priority::Max as u8,
            to: to.id,
        };
        let start = frame::begin(order(true, to.id), &m, out)?;
        let len = self.finish(out, start, reason, None)?;
        Ok(Outgoing {
            link: selector(true, from),
            len,
        })
    }

    /// "This local target went away" to a peer that links or monitors it (181–185; unordered).
    pub fn terminate(
        &self,
        target: &RemoteTargetOf,
        reason: &GoError,
        out: &mut Vec<u8>,
    ) -> Result<Outgoing, ConnectionError> {
        let p = Priority::High as u8;
        let m = match target {
            RemoteTargetOf::Pid(id) => Message::TerminatePid {
                priority: p,
                pid: *id,
            },
            RemoteTargetOf::Name(n) => Message::TerminateName {
                priority: p,
                name: NameRef::Inline(n.as_str()),
            },
            RemoteTargetOf::Alias(ids) => Message::TerminateAlias {
                priority: p,
                alias: *ids,
            },
            RemoteTargetOf::Event(n) => Message::TerminateEvent {
                priority: p,
                name: NameRef::Inline(n.as_str()),
            },
        };
        let start = frame::begin(0, &m, out)?;
        let len = self.finish(out, start, reason, None)?;
        Ok(Outgoing { link: 0, len })
    }

    /// A control message (199) with the link selector and order byte of wire-spec §6.4.
    pub fn control<T: Registered>(
        &self,
        link: u64,
        order_byte: u8,
        msg: &T,
        out: &mut Vec<u8>,
    ) -> Result<Outgoing, ConnectionError> {
        let start = frame::begin(order_byte, &Message::Any, out)?;
        let len = self.finish(out, start, msg, None)?;
        Ok(Outgoing { link, len })
    }

    fn name(&self, n: NameRef<'_>) -> Result<Atom, ConnectionError> {
        Ok(match n {
            NameRef::Inline(s) => Atom::from_untrusted(s)?,
            NameRef::Cached(id) => self.dec.atom(id)?,
        })
    }

    fn peer_pid(&self, id: u64) -> Pid {
        Pid {
            node: self.peer,
            id,
            creation: self.peer_creation,
        }
    }

    fn local_pid(&self, id: u64) -> Pid {
        Pid {
            node: self.local,
            id,
            creation: self.local_creation,
        }
    }

    fn reason(&self, payload: &[u8]) -> Result<GoError, ConnectionError> {
        match ergo_edf::decode::<Value>(payload, &self.dec)?.0 {
            Value::Error(Some(e)) => Ok(e),
            _ => Err(ConnectionError::ReasonNotError),
        }
    }

    /// Decodes one whole frame (as cut by [`frame::frame_len`] with our MaxMessageSize);
    /// compressed frames are inflated within `max_message_size` (0: unlimited).
    pub fn decode<'a>(
        &'a self,
        bytes: &'a [u8],
        max_message_size: u64,
    ) -> Result<Incoming<'a>, ConnectionError> {
        let f = Frame::parse(bytes)?;
        if let Message::Compressed {
            algorithm,
            original_len,
        } = f.message
        {
            let inner =
                compression::decompress(algorithm, original_len, f.payload, max_message_size)?;
            let fi = Frame::parse(&inner)?;
            if matches!(fi.message, Message::Compressed { .. }) {
                return Err(FrameError::Compression("nested compressed frame".into()).into());
            }
            return self.decode_frame(&fi, |p| Payload {
                bytes: Cow::Owned(p.to_vec()),
                caches: &self.dec,
            });
        }
        self.decode_frame(&f, |p| Payload {
            bytes: Cow::Borrowed(p),
            caches: &self.dec,
        })
    }

    fn decode_frame<'a, 'f>(
        &'a self,
        f: &Frame<'f>,
        payload: impl Fn(&'f [u8]) -> Payload<'a>,
    ) -> Result<Incoming<'a>, ConnectionError> {
        Ok(match f.message {
            Message::SendPid {
                from,
                flags,
                delivery,
                to,
            } => Incoming::Send {
                from: self.peer_pid(from),
                to: LocalTarget::Pid(self.local_pid(to)),
                priority: Priority::from_bits(flags),
                important: delivery,
                payload: payload(f.payload),
            },
            Message::SendName {
                from,
                flags,
                delivery,
                to,
            } => Incoming::Send {
                from: self.peer_pid(from),
                to: LocalTarget::Name(self.name(to)?),
                priority: Priority::from_bits(flags),
                important: delivery,
                payload: payload(f.payload),
            },
            Message::SendAlias {
                from,
                flags,
                delivery,
                to,
            } => Incoming::Send {
                from: self.peer_pid(from),
                to: LocalTarget::Alias(Alias {
                    node: self.local,
                    creation: self.local_creation,
                    id: to,
                }),
                priority: Priority::from_bits(flags),
                important: delivery,
                payload: payload(f.payload),
            },
            Message::Event {
                producer,
                priority,
                timestamp,
                name,
            } => Incoming::Event {
                event: Event {
                    name: self.name(name)?,
                    node: self.peer,
                },
                producer: self.peer_pid(producer),
                timestamp,
                priority: Priority::from_bits(priority),
                payload: payload(f.payload),
            },
            Message::Exit { from, to, .. } => Incoming::Exit {
                from: self.peer_pid(from),
                to: self.local_pid(to),
                reason: self.reason(f.payload)?,
            },
            Message::RequestPid {
                from,
                flags,
                reference,
                to,
            } => Incoming::Request {
                from: self.peer_pid(from),
                to: LocalTarget::Pid(self.local_pid(to)),
                reference: Ref {
                    node: self.peer,
                    creation: self.peer_creation,
                    id: reference,
                },
                priority: Priority::from_bits(flags),
                important: flags & FLAG_IMPORTANT != 0,
                payload: payload(f.payload),
            },
            Message::RequestName {
                from,
                flags,
                reference,
                to,
            } => Incoming::Request {
                from: self.peer_pid(from),
                to: LocalTarget::Name(self.name(to)?),
                reference: Ref {
                    node: self.peer,
                    creation: self.peer_creation,
                    id: reference,
                },
                priority: Priority::from_bits(flags),
                important: flags & FLAG_IMPORTANT != 0,
                payload: payload(f.payload),
            },
            Message::RequestAlias {
                from,
                flags,
                reference,
                to,
            } => Incoming::Request {
                from: self.peer_pid(from),
                to: LocalTarget::Alias(Alias {
                    node: self.local,
                    creation: self.local_creation,
                    id: to,
                }),
                reference: Ref {
                    node: self.peer,
                    creation: self.peer_creation,
                    id: reference,
                },
                priority: Priority::from_bits(flags),
                important: flags & FLAG_IMPORTANT != 0,
                payload: payload(f.payload),
            },
            Message::Response {
                from,
                priority,
                to,
                reference,
            } => Incoming::Response {
                from_id: from,
                priority: Priority::from_bits(priority),
                to: self.local_pid(to),
                reference: Ref {
                    node: self.local,
                    creation: self.local_creation,
                    id: reference,
                },
                payload: payload(f.payload),
            },
            Message::ResponseError {
                from,
                priority,
                to,
                reference,
                code,
            } => Incoming::ResponseError {
                from_id: from,
                priority: Priority::from_bits(priority),
                to: self.local_pid(to),
                reference: Ref {
                    node: self.local,
                    creation: self.local_creation,
                    id: reference,
                },
                code: match code {
                    0 => ResponseCode::Ok,
                    1 => ResponseCode::UnknownProcess,
                    2 => ResponseCode::MailboxFull,
                    3 => ResponseCode::Terminated,
                    255 => ResponseCode::Error(self.reason(f.payload)?),
                    c => return Err(ConnectionError::BadCode(c)),
                },
            },
            Message::TerminatePid { pid, .. } => Incoming::Terminate {
                target: RemoteTarget::Pid(self.peer_pid(pid)),
                reason: self.reason(f.payload)?,
            },
            Message::TerminateName { name, .. } => Incoming::Terminate {
                target: RemoteTarget::Name(ProcessId {
                    name: self.name(name)?,
                    node: self.peer,
                }),
                reason: self.reason(f.payload)?,
            },
            Message::TerminateAlias { alias, .. } => Incoming::Terminate {
                target: RemoteTarget::Alias(Alias {
                    node: self.peer,
                    creation: self.peer_creation,
                    id: alias,
                }),
                reason: self.reason(f.payload)?,
            },
            Message::TerminateEvent { name, .. } => Incoming::Terminate {
                target: RemoteTarget::Event(Event {
                    name: self.name(name)?,
                    node: self.peer,
                }),
                reason: self.reason(f.payload)?,
            },
            Message::Any => Incoming::Control(self.control_message(f.payload)?),
            Message::Compressed { .. } => {
                return Err(FrameError::Compression("nested compressed frame".into()).into())
            }
        })
    }

    fn control_message(&self, payload: &[u8]) -> Result<Control, ConnectionError> {
        let mut d = Decoder::new(payload, &self.dec);
        d.expect_tag(ergo_edf::tags::REGISTERED)?;
        let info = d.registered_type()?;
        let name = info.name();
        macro_rules! dispatch {
            ($($ty:ident => $variant:ident $(boxed $b:tt)?),* $(,)?) => {
                $(if name == <$ty as Registered>::type_name() {
                    let v = <$ty as Edf>::decode_body(&mut d)?;
                    return Ok(Control::$variant(dispatch!(@wrap v $($b)?)));
                })*
            };
            (@wrap $v:ident) => { $v };
            (@wrap $v:ident $b:tt) => { Box::new($v) };
        }
        dispatch! {
            MessageLinkPid => LinkPid, MessageUnlinkPid => UnlinkPid,
            MessageLinkProcessId => LinkProcessId, MessageUnlinkProcessId => UnlinkProcessId,
            MessageLinkAlias => LinkAlias, MessageUnlinkAlias => UnlinkAlias,
            MessageLinkEvent => LinkEvent, MessageUnlinkEvent => UnlinkEvent,
            MessageMonitorPid => MonitorPid, MessageDemonitorPid => DemonitorPid,
            MessageMonitorProcessId => MonitorProcessId, MessageDemonitorProcessId => DemonitorProcessId,
            MessageMonitorAlias => MonitorAlias, MessageDemonitorAlias => DemonitorAlias,
            MessageMonitorEvent => MonitorEvent, MessageDemonitorEvent => DemonitorEvent,
            MessageSpawn => Spawn boxed (), MessageApplicationStart => ApplicationStart boxed (),
            MessageUpdateCache => UpdateCache boxed (), MessageResult => Result,
        }
        Err(ConnectionError::UnknownControl(name.to_string()))
    }
}

/// A local target whose termination is announced to a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteTargetOf {
    /// A local PID's ID.
    Pid(u64),
    /// A local registered name.
    Name(Atom),
    /// A local alias's ID words.
    Alias([u64; 3]),
    /// A local event name.
    Event(Atom),
}
