//! ENP frames (wire-spec §6): the 8-byte header, every message type's fixed part, and the
//! order byte. Parsing borrows from the receive buffer (no copy); writing appends to a `Vec`.
//!
//! A frame is `4e 01 <u32 total length incl. header> <order> <type>` + fixed fields + one EDF
//! value. The EDF payload is left as bytes here: decoding it needs the peer's caches, which the
//! connection owns.

use thiserror::Error;

/// ENP magic byte.
pub const MAGIC: u8 = 0x4e;
/// ENP version.
pub const VERSION: u8 = 1;
/// Header length.
pub const HEADER_LEN: usize = 8;
/// The important-delivery bit of the flags byte.
pub const FLAG_IMPORTANT: u8 = 0x80;

/// Message type bytes.
pub mod kind {
    /// Send to a PID.
    pub const SEND_PID: u8 = 101;
    /// Send to a name (inline).
    pub const SEND_NAME: u8 = 102;
    /// Send to a name (atom-cache ID).
    pub const SEND_NAME_CACHE: u8 = 103;
    /// Send to an alias.
    pub const SEND_ALIAS: u8 = 104;
    /// Event (inline name).
    pub const EVENT: u8 = 105;
    /// Event (atom-cache ID).
    pub const EVENT_CACHE: u8 = 106;
    /// Exit signal.
    pub const EXIT: u8 = 107;
    /// Call a PID.
    pub const REQUEST_PID: u8 = 121;
    /// Call a name (inline).
    pub const REQUEST_NAME: u8 = 122;
    /// Call a name (atom-cache ID).
    pub const REQUEST_NAME_CACHE: u8 = 123;
    /// Call an alias.
    pub const REQUEST_ALIAS: u8 = 124;
    /// Call reply.
    pub const RESPONSE: u8 = 129;
    /// Call error reply / important-delivery ack.
    pub const RESPONSE_ERROR: u8 = 130;
    /// A PID terminated.
    pub const TERMINATE_PID: u8 = 181;
    /// A name went away (inline).
    pub const TERMINATE_NAME: u8 = 182;
    /// A name went away (atom-cache ID).
    pub const TERMINATE_NAME_CACHE: u8 = 183;
    /// An alias went away.
    pub const TERMINATE_ALIAS: u8 = 184;
    /// An event went away (inline).
    pub const TERMINATE_EVENT: u8 = 185;
    /// An event went away (atom-cache ID).
    pub const TERMINATE_EVENT_CACHE: u8 = 186;
    /// Control message (registered struct).
    pub const ANY: u8 = 199;
    /// Compressed frame.
    pub const COMPRESSED: u8 = 200;
}

/// A frame could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// Not `4e`.
    #[error("malformed ENP frame: magic 0x{0:02x}")]
    BadMagic(u8),
    /// Not version 1.
    #[error("unsupported ENP version {0}")]
    BadVersion(u8),
    /// A length below the header size.
    #[error("malformed ENP frame: length {0}")]
    BadLength(u32),
    /// Above the configured maximum message size (checked before buffering the frame).
    #[error("received too long message: {len} bytes (max {max})")]
    TooLarge {
        /// The frame's length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The frame is shorter than its type's fixed part.
    #[error("ENP frame type {kind} too short: {len} bytes, needs {need}")]
    Truncated {
        /// Type byte.
        kind: u8,
        /// Frame length.
        len: usize,
        /// Minimum length.
        need: usize,
    },
    /// A type byte ENP does not define.
    #[error("unknown/unsupported message type {0}")]
    UnknownType(u8),
    /// A process or event name in a header that is not UTF-8.
    #[error("malformed ENP frame: name is not UTF-8")]
    BadName,
    /// A name longer than 255 bytes cannot be written into a header.
    #[error("name too long for an ENP header: {0} bytes")]
    NameTooLong(usize),
    /// A compressed frame with an unknown algorithm or a bad stream.
    #[error("compressed frame: {0}")]
    Compression(String),
}

/// A process or event name in a header: inline text, or an atom-cache ID of the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRef<'a> {
    /// The name itself.
    Inline(&'a str),
    /// An ID in the sender's atom cache.
    Cached(u16),
}

/// The fixed part of a frame, by message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// 101: async send to a PID.
    SendPid {
        /// Sender PID ID (on the sending node).
        from: u64,
        /// Priority bits and the important flag.
        flags: u8,
        /// Important-delivery ID (only when the important flag is set).
        delivery: Option<u64>,
        /// Target PID ID (on the receiving node).
        to: u64,
    },
    /// 102/103: async send to a registered name.
    SendName {
        /// Sender PID ID.
        from: u64,
        /// Priority and flags.
        flags: u8,
        /// Important-delivery ID.
        delivery: Option<u64>,
        /// Target name.
        to: NameRef<'a>,
    },
    /// 104: async send to an alias.
    SendAlias {
        /// Sender PID ID.
        from: u64,
        /// Priority and flags.
        flags: u8,
        /// Important-delivery ID.
        delivery: Option<u64>,
        /// Target alias ID words.
        to: [u64; 3],
    },
    /// 105/106: an event published to this node's subscribers.
    Event {
        /// Producer PID ID.
        producer: u64,
        /// Priority (whole byte).
        priority: u8,
        /// Nanoseconds since the Unix epoch.
        timestamp: i64,
        /// Event name (its node is the sender).
        name: NameRef<'a>,
    },
    /// 107: exit signal.
    Exit {
        /// Sender PID ID.
        from: u64,
        /// Priority (ignored on receipt).
        priority: u8,
        /// Target PID ID.
        to: u64,
    },
    /// 121: call a PID.
    RequestPid {
        /// Caller PID ID.
        from: u64,
        /// Priority and flags.
        flags: u8,
        /// Call ref ID words (node/creation: the caller's).
        reference: [u64; 3],
        /// Target PID ID.
        to: u64,
    },
    /// 122/123: call a registered name.
    RequestName {
        /// Caller PID ID.
        from: u64,
        /// Priority and flags.
        flags: u8,
        /// Call ref ID words.
        reference: [u64; 3],
        /// Target name.
        to: NameRef<'a>,
    },
    /// 124: call an alias.
    RequestAlias {
        /// Caller PID ID.
        from: u64,
        /// Priority and flags.
        flags: u8,
        /// Call ref ID words.
        reference: [u64; 3],
        /// Target alias ID words.
        to: [u64; 3],
    },
    /// 129: call reply.
    Response {
        /// Responder PID ID (informational).
        from: u64,
        /// Priority (whole byte).
        priority: u8,
        /// Caller PID ID (on the receiving node).
        to: u64,
        /// The call's ref ID words.
        reference: [u64; 3],
    },
    /// 130: call error reply or important-delivery ack.
    ResponseError {
        /// Responder or target PID ID (0 for name/alias targets of important acks).
        from: u64,
        /// Priority (whole byte).
        priority: u8,
        /// Caller/sender PID ID.
        to: u64,
        /// Ref ID words.
        reference: [u64; 3],
        /// 0 ok, 1 unknown process, 2 mailbox full, 3 terminated, 255 error value follows.
        code: u8,
    },
    /// 181: a PID of the sender terminated.
    TerminatePid {
        /// Priority (ignored).
        priority: u8,
        /// The terminated PID ID.
        pid: u64,
    },
    /// 182/183: a registered name went away.
    TerminateName {
        /// Priority (ignored).
        priority: u8,
        /// The name.
        name: NameRef<'a>,
    },
    /// 184: an alias went away.
    TerminateAlias {
        /// Priority (ignored).
        priority: u8,
        /// Alias ID words.
        alias: [u64; 3],
    },
    /// 185/186: an event went away.
    TerminateEvent {
        /// Priority (ignored).
        priority: u8,
        /// Event name.
        name: NameRef<'a>,
    },
    /// 199: a control message (the payload is a registered `net/proto` struct).
    Any,
    /// 200: a compressed frame (the payload is the compressed original frame).
    Compressed {
        /// 100 LZW, 101 ZLIB, 102 GZIP.
        algorithm: u8,
        /// Length of the original frame.
        original_len: u32,
    },
}

/// One parsed frame, borrowing from the buffer it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Header byte 6: the receiver's decode-queue hint; 0 means unordered.
    pub order: u8,
    /// Fixed fields.
    pub message: Message<'a>,
    /// The EDF value (or compressed bytes for type 200; the error value of a 130 with code 255).
    pub payload: &'a [u8],
}

/// How long the frame at the start of `buf` is, once its header is there.
///
/// `Ok(None)`: fewer than 6 bytes buffered. Fails on a bad magic/version/length, or a length above
/// `max_message_size` (0 = unlimited) — before the frame's bytes are buffered.
pub fn frame_len(buf: &[u8], max_message_size: u64) -> Result<Option<usize>, FrameError> {
    if buf.len() < 6 {
        return Ok(None);
    }
    if buf[0] != MAGIC {
        return Err(FrameError::BadMagic(buf[0]));
    }
    if buf[1] != VERSION {
        return Err(FrameError::BadVersion(buf[1]));
    }
    let len = u32::from_be_bytes([buf[2], buf[3], buf[4], buf[5]]);
    if (len as usize) < HEADER_LEN {
        return Err(FrameError::BadLength(len));
    }
    if max_message_size > 0 && u64::from(len) > max_message_size {
        return Err(FrameError::TooLarge {
            len: u64::from(len),
            max: max_message_size,
        });
    }
    Ok(Some(len as usize))
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    kind: u8,
}

impl<'a> Reader<'a> {
    fn need(&self, n: usize) -> Result<(), FrameError> {
        if self.pos + n > self.b.len() {
            return Err(FrameError::Truncated {
                kind: self.kind,
                len: self.b.len(),
                need: self.pos + n,
            });
        }
        Ok(())
    }
    fn u8(&mut self) -> Result<u8, FrameError> {
        self.need(1)?;
        self.pos += 1;
        Ok(self.b[self.pos - 1])
    }
    fn u16(&mut self) -> Result<u16, FrameError> {
        self.need(2)?;
        self.pos += 2;
        Ok(u16::from_be_bytes([
            self.b[self.pos - 2],
            self.b[self.pos - 1],
        ]))
    }
    fn u32(&mut self) -> Result<u32, FrameError> {
        self.need(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(&self.b[self.pos..self.pos + 4]);
        self.pos += 4;
        Ok(u32::from_be_bytes(a))
    }
    fn u64(&mut self) -> Result<u64, FrameError> {
        self.need(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&self.b[self.pos..self.pos + 8]);
        self.pos += 8;
        Ok(u64::from_be_bytes(a))
    }
    fn ids(&mut self) -> Result<[u64; 3], FrameError> {
        Ok([self.u64()?, self.u64()?, self.u64()?])
    }
    fn name(&mut self, cached: bool) -> Result<NameRef<'a>, FrameError> {
        if cached {
            return Ok(NameRef::Cached(self.u16()?));
        }
        let n = usize::from(self.u8()?);
        self.need(n)?;
        let s = std::str::from_utf8(&self.b[self.pos..self.pos + n])
            .map_err(|_| FrameError::BadName)?;
        self.pos += n;
        Ok(NameRef::Inline(s))
    }
    fn delivery(&mut self, flags: u8) -> Result<Option<u64>, FrameError> {
        let id = self.u64()?;
        Ok((flags & FLAG_IMPORTANT != 0).then_some(id))
    }
}

impl<'a> Frame<'a> {
    /// Parses one whole frame (`buf` is exactly the frame, as cut by [`frame_len`]).
    pub fn parse(buf: &'a [u8]) -> Result<Frame<'a>, FrameError> {
        let len = frame_len(buf, 0)?.ok_or(FrameError::BadLength(buf.len() as u32))?;
        if len != buf.len() {
            return Err(FrameError::BadLength(len as u32));
        }
        let order = buf[6];
        let kind_byte = buf[7];
        let mut r = Reader {
            b: buf,
            pos: HEADER_LEN,
            kind: kind_byte,
        };
        use kind::*;
        let message = match kind_byte {
            SEND_PID => {
                let from = r.u64()?;
                let flags = r.u8()?;
                let delivery = r.delivery(flags)?;
                Message::SendPid {
                    from,
                    flags,
                    delivery,
                    to: r.u64()?,
                }
            }
            SEND_NAME | SEND_NAME_CACHE => {
                let from = r.u64()?;
                let flags = r.u8()?;
                let delivery = r.delivery(flags)?;
                Message::SendName {
                    from,
                    flags,
                    delivery,
                    to: r.name(kind_byte == SEND_NAME_CACHE)?,
                }
            }
            SEND_ALIAS => {
                let from = r.u64()?;
                let flags = r.u8()?;
                let delivery = r.delivery(flags)?;
                Message::SendAlias {
                    from,
                    flags,
                    delivery,
                    to: r.ids()?,
                }
            }
            EVENT | EVENT_CACHE => {
                let producer = r.u64()?;
                let priority = r.u8()?;
                let timestamp = r.u64()? as i64;
                Message::Event {
                    producer,
                    priority,
                    timestamp,
                    name: r.name(kind_byte == EVENT_CACHE)?,
                }
            }
            EXIT => Message::Exit {
                from: r.u64()?,
                priority: r.u8()?,
                to: r.u64()?,
            },
            REQUEST_PID => Message::RequestPid {
                from: r.u64()?,
                flags: r.u8()?,
                reference: r.ids()?,
                to: r.u64()?,
            },
            REQUEST_NAME | REQUEST_NAME_CACHE => Message::RequestName {
                from: r.u64()?,
                flags: r.u8()?,
                reference: r.ids()?,
                to: r.name(kind_byte == REQUEST_NAME_CACHE)?,
            },
            REQUEST_ALIAS => Message::RequestAlias {
                from: r.u64()?,
                flags: r.u8()?,
                reference: r.ids()?,
                to: r.ids()?,
            },
            RESPONSE => Message::Response {
                from: r.u64()?,
                priority: r.u8()?,
                to: r.u64()?,
                reference: r.ids()?,
            },
            RESPONSE_ERROR => Message::ResponseError {
                from: r.u64()?,
                priority: r.u8()?,
                to: r.u64()?,
                reference: r.ids()?,
                code: r.u8()?,
            },
            TERMINATE_PID => Message::TerminatePid {
                priority: r.u8()?,
                pid: r.u64()?,
            },
            TERMINATE_NAME | TERMINATE_NAME_CACHE => Message::TerminateName {
                priority: r.u8()?,
                name: r.name(kind_byte == TERMINATE_NAME_CACHE)?,
            },
            TERMINATE_ALIAS => Message::TerminateAlias {
                priority: r.u8()?,
                alias: r.ids()?,
            },
            TERMINATE_EVENT | TERMINATE_EVENT_CACHE => Message::TerminateEvent {
                priority: r.u8()?,
                name: r.name(kind_byte == TERMINATE_EVENT_CACHE)?,
            },
            ANY => Message::Any,
            COMPRESSED => Message::Compressed {
                algorithm: r.u8()?,
                original_len: r.u32()?,
            },
            other => return Err(FrameError::UnknownType(other)),
        };
        Ok(Frame {
            order,
            message,
            payload: &buf[r.pos..],
        })
    }

    /// The type byte of this frame.
    pub fn kind(&self) -> u8 {
        self.message.kind()
    }

    /// Appends the whole frame (header, fixed part, payload) to `out`.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), FrameError> {
        let start = begin(self.order, &self.message, out)?;
        out.extend_from_slice(self.payload);
        finish(out, start)
    }
}

impl Message<'_> {
    /// The type byte.
    pub fn kind(&self) -> u8 {
        use kind::*;
        let cached = |n: &NameRef<'_>| matches!(n, NameRef::Cached(_));
        match self {
            Message::SendPid { .. } => SEND_PID,
            Message::SendName { to, .. } => {
                if cached(to) {
                    SEND_NAME_CACHE
                } else {
                    SEND_NAME
                }
            }
            Message::SendAlias { .. } => SEND_ALIAS,
            Message::Event { name, .. } => {
                if cached(name) {
                    EVENT_CACHE
                } else {
                    EVENT
                }
            }
            Message::Exit { .. } => EXIT,
            Message::RequestPid { .. } => REQUEST_PID,
            Message::RequestName { to, .. } => {
                if cached(to) {
                    REQUEST_NAME_CACHE
                } else {
                    REQUEST_NAME
                }
            }
            Message::RequestAlias { .. } => REQUEST_ALIAS,
            Message::Response { .. } => RESPONSE,
            Message::ResponseError { .. } => RESPONSE_ERROR,
            Message::TerminatePid { .. } => TERMINATE_PID,
            Message::TerminateName { name, .. } => {
                if cached(name) {
                    TERMINATE_NAME_CACHE
                } else {
                    TERMINATE_NAME
                }
            }
            Message::TerminateAlias { .. } => TERMINATE_ALIAS,
            Message::TerminateEvent { name, .. } => {
                if cached(name) {
                    TERMINATE_EVENT_CACHE
                } else {
                    TERMINATE_EVENT
                }
            }
            Message::Any => ANY,
            Message::Compressed { .. } => COMPRESSED,
        }
    }
}

fn put_name(out: &mut Vec<u8>, n: &NameRef<'_>) -> Result<(), FrameError> {
    match n {
        NameRef::Cached(id) => out.extend_from_slice(&id.to_be_bytes()),
        NameRef::Inline(s) => {
            let len = u8::try_from(s.len()).map_err(|_| FrameError::NameTooLong(s.len()))?;
            out.push(len);
            out.extend_from_slice(s.as_bytes());
        }
    }
    Ok(())
}

fn put_ids(out: &mut Vec<u8>, ids: &[u64; 3]) {
    for id in ids {
        out.extend_from_slice(&id.to_be_bytes());
    }
}

/// Writes the header and fixed part of a frame; the EDF payload is appended by the caller, then
/// [`finish`] patches the length. Returns the frame's start offset in `out`.
///
/// The delivery-ID slot of 101–104 is zero-filled unless the important flag is set.
/// On error nothing is left in `out`.
pub fn begin(order: u8, m: &Message<'_>, out: &mut Vec<u8>) -> Result<usize, FrameError> {
    let start = out.len();
    let r = write_fixed(order, m, out);
    if r.is_err() {
        out.truncate(start);
    }
    r.map(|()| start)
}

fn write_fixed(order: u8, m: &Message<'_>, out: &mut Vec<u8>) -> Result<(), FrameError> {
    out.extend_from_slice(&[MAGIC, VERSION, 0, 0, 0, 0, order, m.kind()]);
    let u64s = |out: &mut Vec<u8>, v: u64| out.extend_from_slice(&v.to_be_bytes());
    let delivery = |flags: u8, d: &Option<u64>| {
        if flags & FLAG_IMPORTANT != 0 {
            d.unwrap_or(0)
        } else {
            0
        }
    };
    match m {
        Message::SendPid {
            from,
            flags,
            delivery: d,
            to,
        } => {
            u64s(out, *from);
            out.push(*flags);
            u64s(out, delivery(*flags, d));
            u64s(out, *to);
        }
        Message::SendName {
            from,
            flags,
            delivery: d,
            to,
        } => {
            u64s(out, *from);
            out.push(*flags);
            u64s(out, delivery(*flags, d));
            put_name(out, to)?;
        }
        Message::SendAlias {
            from,
            flags,
            delivery: d,
            to,
        } => {
            u64s(out, *from);
            out.push(*flags);
            u64s(out, delivery(*flags, d));
            put_ids(out, to);
        }
        Message::Event {
            producer,
            priority,
            timestamp,
            name,
        } => {
            u64s(out, *producer);
            out.push(*priority);
            u64s(out, *timestamp as u64);
            put_name(out, name)?;
        }
        Message::Exit { from, priority, to } => {
            u64s(out, *from);
            out.push(*priority);
            u64s(out, *to);
        }
        Message::RequestPid {
            from,
            flags,
            reference,
            to,
        } => {
            u64s(out, *from);
            out.push(*flags);
            put_ids(out, reference);
            u64s(out, *to);
        }
        Message::RequestName {
            from,
            flags,
            reference,
            to,
        } => {
            u64s(out, *from);
            out.push(*flags);
            put_ids(out, reference);
            put_name(out, to)?;
        }
        Message::RequestAlias {
            from,
            flags,
            reference,
            to,
        } => {
            u64s(out, *from);
            out.push(*flags);
            put_ids(out, reference);
            put_ids(out, to);
        }
        Message::Response {
            from,
            priority,
            to,
            reference,
        } => {
            u64s(out, *from);
            out.push(*priority);
            u64s(out, *to);
            put_ids(out, reference);
        }
        Message::ResponseError {
            from,
            priority,
            to,
            reference,
            code,
        } => {
            u64s(out, *from);
            out.push(*priority);
            u64s(out, *to);
            put_ids(out, reference);
            out.push(*code);
        }
        Message::TerminatePid { priority, pid } => {
            out.push(*priority);
            u64s(out, *pid);
        }
        Message::TerminateName { priority, name } | Message::TerminateEvent { priority, name } => {
            out.push(*priority);
            put_name(out, name)?;
        }
        Message::TerminateAlias { priority, alias } => {
            out.push(*priority);
            put_ids(out, alias);
        }
        Message::Any => {}
        Message::Compressed {
            algorithm,
            original_len,
        } => {
            out.push(*algorithm);
            out.extend_from_slice(&original_len.to_be_bytes());
        }
    }
    Ok(())
}

/// Patches the length of the frame that [`begin`] started at `start`.
pub fn finish(out: &mut [u8], start: usize) -> Result<(), FrameError> {
    let len = out.len() - start;
    let len32 = u32::try_from(len).map_err(|_| FrameError::TooLarge {
        len: len as u64,
        max: u64::from(u32::MAX),
    })?;
    out[start + 2..start + 6].copy_from_slice(&len32.to_be_bytes());
    Ok(())
}

/// The order byte for a process ID: `id mod 255`, as Go computes it, except that 0 (which means
/// "unordered" to the receiver) is replaced by 255 so that every sender stays ordered.
#[inline]
pub fn order_for(id: u64) -> u8 {
    match (id % 255) as u8 {
        0 => 255,
        o => o,
    }
}
