//! The EHS R1 handshake (wire-spec §5), sans-IO: message framing, the SHA-256 digests, and the
//! state machines of the dialer, the acceptor and the pool join. Bytes and messages in, messages
//! out; the caller owns sockets, TLS and the 1-second read deadline.

use std::collections::HashMap;

use ergo_edf::{
    ensure_registered, Atom, DecodeCaches, Decoder, Edf, EncodeCaches, GoError, RegisterError,
    Registered,
};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::gen::{NetworkFlags, Version};

/// Handshake magic byte.
pub const MAGIC: u8 = 0x57;
/// Handshake version.
pub const VERSION: u8 = 1;
/// Header length (`57 01 <u32>`).
pub const HEADER_LEN: usize = 6;
/// Longest handshake message (EDF part).
pub const MAX_MESSAGE_LEN: usize = 65535;

/// `handshake.MessageHello`.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/net/handshake/MessageHello")]
pub struct MessageHello {
    /// 64 lowercase hex characters.
    pub salt: String,
    /// The side's digest (see [`digest`]).
    pub digest: String,
    /// The TLS certificate digest (acceptor with TLS only).
    pub digest_cert: String,
}

/// `handshake.MessageJoin`: opens an extra link of an existing connection.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/net/handshake/MessageJoin")]
pub struct MessageJoin {
    /// The dialer's node name.
    pub node: Atom,
    /// The connection ID from the acceptor's Accept.
    pub connection_id: String,
    /// A fresh salt.
    pub salt: String,
    /// `sha256(connection_id:salt:cookie)`.
    pub digest: String,
}

/// `handshake.MessageIntroduce`: a node's identity and its caches.
#[derive(Edf, Debug, Clone, PartialEq, Default)]
#[edf(name = "#ergo.services/ergo/net/handshake/MessageIntroduce")]
pub struct MessageIntroduce {
    /// Node name.
    pub node: Atom,
    /// The application's node version (free-form).
    pub version: Version,
    /// Capabilities.
    pub flags: NetworkFlags,
    /// Creation (non-zero).
    pub creation: i64,
    /// Largest frame this node accepts (0: unlimited).
    pub max_message_size: isize,
    /// Atom cache announced.
    pub atom_cache: Option<HashMap<u16, Atom>>,
    /// Type cache announced (ID -> registered name).
    pub reg_cache: Option<HashMap<u16, String>>,
    /// Error cache announced.
    pub err_cache: Option<HashMap<u16, GoError>>,
    /// The dialer's digest; empty from the acceptor.
    pub digest: String,
}

/// `handshake.MessageAccept`.
#[derive(Edf, Debug, Clone, PartialEq, Eq, Default)]
#[edf(name = "#ergo.services/ergo/net/handshake/MessageAccept")]
pub struct MessageAccept {
    /// The new connection's ID (32 hex characters), empty elsewhere.
    pub id: String,
    /// Links the dialer should open in all.
    pub pool_size: isize,
    /// Where to open them.
    pub pool_dsn: Option<Vec<String>>,
    /// The join-accept digest (join replies only).
    pub digest: String,
    /// The TLS certificate digest (join replies with TLS only).
    pub digest_cert: String,
}

/// Registers the handshake messages (idempotent). Needs the `gen` types first.
pub fn register_handshake_types() -> Result<(), RegisterError> {
    ensure_registered::<MessageHello>()?;
    ensure_registered::<MessageJoin>()?;
    ensure_registered::<MessageIntroduce>()?;
    ensure_registered::<MessageAccept>()?;
    Ok(())
}

/// One handshake message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Hello.
    Hello(MessageHello),
    /// Join.
    Join(MessageJoin),
    /// Introduce.
    Introduce(Box<MessageIntroduce>),
    /// Accept.
    Accept(MessageAccept),
}

impl Message {
    fn name(&self) -> &'static str {
        match self {
            Message::Hello(_) => "Hello",
            Message::Join(_) => "Join",
            Message::Introduce(_) => "Introduce",
            Message::Accept(_) => "Accept",
        }
    }
}

/// The handshake failed; the link must be closed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HandshakeError {
    /// Not `57`.
    #[error("malformed handshake packet (magic 0x{0:02x})")]
    BadMagic(u8),
    /// Not version 1.
    #[error("mismatch handshake version {0}")]
    BadVersion(u8),
    /// Longer than 65535.
    #[error("too long handshake message ({0} bytes)")]
    TooLong(usize),
    /// The EDF value is not a handshake message.
    #[error("malformed handshake message: {0}")]
    Decode(String),
    /// A message other than the one this step expects.
    #[error("unexpected handshake message {got} (expected {expected})")]
    Unexpected {
        /// What came.
        got: &'static str,
        /// What this step expects.
        expected: &'static str,
    },
    /// A digest does not match: wrong cookie (or a tampered exchange).
    #[error("handshake digest mismatch ({0}): wrong cookie?")]
    Digest(&'static str),
    /// The TLS certificate digest does not match the peer's certificate.
    #[error("handshake certificate digest mismatch")]
    CertDigest,
    /// The peer introduced itself with our own name.
    #[error("peer introduced itself with our own name {0}")]
    SameName(Atom),
    /// The peer is not the node we dialed.
    #[error("dialed {dialed} but the peer is {peer}")]
    WrongPeer {
        /// The node we dialed.
        dialed: Atom,
        /// The node that answered.
        peer: Atom,
    },
    /// The peer's creation is 0.
    #[error("peer {0} introduced creation 0")]
    ZeroCreation(Atom),
    /// Encoding our own message failed.
    #[error("cannot encode handshake message: {0}")]
    Encode(String),
}

/// Appends a framed handshake message (no caches) to `out`.
pub fn encode(msg: &Message, out: &mut Vec<u8>) -> Result<(), HandshakeError> {
    let start = out.len();
    out.extend_from_slice(&[MAGIC, VERSION, 0, 0, 0, 0]);
    let none = EncodeCaches::none();
    let r = match msg {
        Message::Hello(m) => ergo_edf::encode(m, out, none),
        Message::Join(m) => ergo_edf::encode(m, out, none),
        Message::Introduce(m) => ergo_edf::encode(&**m, out, none),
        Message::Accept(m) => ergo_edf::encode(m, out, none),
    };
    r.map_err(|e| HandshakeError::Encode(e.to_string()))?;
    let len = out.len() - start - HEADER_LEN;
    if len > MAX_MESSAGE_LEN {
        out.truncate(start);
        return Err(HandshakeError::TooLong(len));
    }
    out[start + 2..start + 6].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(())
}

/// Reads one framed handshake message from the start of `buf`.
///
/// `Ok(None)` until the whole message is buffered; then the message and the bytes it took
/// (what follows belongs to ENP).
pub fn decode(buf: &[u8]) -> Result<Option<(Message, usize)>, HandshakeError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    if buf[0] != MAGIC {
        return Err(HandshakeError::BadMagic(buf[0]));
    }
    if buf[1] != VERSION {
        return Err(HandshakeError::BadVersion(buf[1]));
    }
    let len = u32::from_be_bytes([buf[2], buf[3], buf[4], buf[5]]) as usize;
    if len > MAX_MESSAGE_LEN {
        return Err(HandshakeError::TooLong(len));
    }
    let Some(body) = buf.get(HEADER_LEN..HEADER_LEN + len) else {
        return Ok(None);
    };
    Ok(Some((decode_body(body)?, HEADER_LEN + len)))
}

fn decode_body(body: &[u8]) -> Result<Message, HandshakeError> {
    let err = |e: ergo_edf::DecodeError| HandshakeError::Decode(e.to_string());
    let mut dec = Decoder::new(body, DecodeCaches::none());
    dec.expect_tag(ergo_edf::tags::REGISTERED).map_err(err)?;
    let info = dec.registered_type().map_err(err)?;
    let name = info.name();
    Ok(if name == MessageHello::type_name() {
        Message::Hello(MessageHello::decode_body(&mut dec).map_err(err)?)
    } else if name == MessageJoin::type_name() {
        Message::Join(MessageJoin::decode_body(&mut dec).map_err(err)?)
    } else if name == MessageIntroduce::type_name() {
        Message::Introduce(Box::new(
            MessageIntroduce::decode_body(&mut dec).map_err(err)?,
        ))
    } else if name == MessageAccept::type_name() {
        Message::Accept(MessageAccept::decode_body(&mut dec).map_err(err)?)
    } else {
        return Err(HandshakeError::Decode(format!(
            "{name} is not a handshake message"
        )));
    })
}

/// The digests of wire-spec §5.2: SHA-256 of `:`-joined text, as 64 lowercase hex characters.
pub mod digest {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            s.push(HEX[usize::from(b >> 4)] as char);
            s.push(HEX[usize::from(b & 15)] as char);
        }
        s
    }

    fn sha(parts: &[&str], tail: &[u8]) -> String {
        let mut h = Sha256::new();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                h.update(b":");
            }
            h.update(p.as_bytes());
        }
        h.update(tail);
        hex(&h.finalize())
    }

    /// Dialer's Hello: `sha256(saltD:cookie)`.
    pub fn hello(salt_d: &str, cookie: &str) -> String {
        sha(&[salt_d, cookie], &[])
    }
    /// Acceptor's Hello: `sha256(saltA:hello_digest:cookie)`.
    pub fn hello_reply(salt_a: &str, hello_digest: &str, cookie: &str) -> String {
        sha(&[salt_a, hello_digest, cookie], &[])
    }
    /// Dialer's Introduce: `sha256(saltA:cookie)`.
    pub fn introduce(salt_a: &str, cookie: &str) -> String {
        sha(&[salt_a, cookie], &[])
    }
    /// Join: `sha256(connID:saltJ:cookie)`.
    pub fn join(connection_id: &str, salt_j: &str, cookie: &str) -> String {
        sha(&[connection_id, salt_j, cookie], &[])
    }
    /// Join reply: `sha256(join_digest:cookie)`.
    pub fn join_reply(join_digest: &str, cookie: &str) -> String {
        sha(&[join_digest, cookie], &[])
    }
    /// TLS: acceptor's Hello `DigestCert` = `sha256("saltA:saltD:cookie" ‖ sha1(leaf cert DER))`.
    pub fn hello_cert(salt_a: &str, salt_d: &str, cookie: &str, cert_sha1: &[u8; 20]) -> String {
        sha(&[salt_a, salt_d, cookie], cert_sha1)
    }
    /// TLS: join reply `DigestCert` = `sha256("join_digest:saltJ:cookie" ‖ sha1(leaf cert DER))`.
    pub fn join_cert(
        join_digest: &str,
        salt_j: &str,
        cookie: &str,
        cert_sha1: &[u8; 20],
    ) -> String {
        sha(&[join_digest, salt_j, cookie], cert_sha1)
    }
    /// The SHA-1 of a certificate's DER bytes (the fingerprint the cert digests bind).
    pub fn cert_fingerprint(der: &[u8]) -> [u8; 20] {
        use sha1::Digest as _;
        sha1::Sha1::digest(der).into()
    }
    /// Renders random bytes as a salt or connection ID (lowercase hex).
    pub fn hex_string(bytes: &[u8]) -> String {
        hex(bytes)
    }
}

/// What this node tells its peers about itself.
#[derive(Debug, Clone)]
pub struct LocalNode {
    /// `name@host`.
    pub node: Atom,
    /// Unix seconds at start, non-zero.
    pub creation: i64,
    /// The application's version.
    pub version: Version,
    /// Capabilities.
    pub flags: NetworkFlags,
    /// Largest frame accepted (0: unlimited).
    pub max_message_size: u64,
    /// The shared secret.
    pub cookie: String,
    /// Atoms announced.
    pub atom_cache: Vec<(u16, Atom)>,
    /// Types announced.
    pub reg_cache: Vec<(u16, String)>,
    /// Errors announced.
    pub err_cache: Vec<(u16, GoError)>,
}

impl LocalNode {
    /// A node announcing its own name as atom 256, every registered type as `4096 + index` and
    /// every registered error (as Go does).
    pub fn new(node: Atom, creation: i64, cookie: &str) -> LocalNode {
        LocalNode {
            node,
            creation,
            version: Version::default(),
            flags: NetworkFlags::GO_DEFAULT,
            max_message_size: 0,
            cookie: cookie.to_string(),
            atom_cache: vec![(256, node)],
            reg_cache: ergo_edf::registry::registered_types()
                .iter()
                .filter_map(|t| Some((t.cache_id()?, t.name().to_string())))
                .collect(),
            err_cache: ergo_edf::registered_errors(),
        }
    }

    /// Our Introduce.
    pub fn introduce(&self, digest: String) -> MessageIntroduce {
        let some = |b: bool| b;
        MessageIntroduce {
            node: self.node,
            version: self.version.clone(),
            flags: self.flags,
            creation: self.creation,
            max_message_size: self.max_message_size as isize,
            atom_cache: some(!self.atom_cache.is_empty())
                .then(|| self.atom_cache.iter().copied().collect()),
            reg_cache: some(!self.reg_cache.is_empty())
                .then(|| self.reg_cache.iter().cloned().collect()),
            err_cache: some(!self.err_cache.is_empty())
                .then(|| self.err_cache.iter().cloned().collect()),
            digest,
        }
    }

    /// The caches we encode with on a connection (those we announced).
    pub fn encode_caches(&self) -> EncodeCaches {
        EncodeCaches::default()
            .with_atoms(self.atom_cache.iter().map(|(id, a)| (*a, *id)))
            .with_types(self.reg_cache.iter().map(|(id, n)| (n.as_str(), *id)))
            .with_errors(self.err_cache.iter().map(|(id, e)| (e.clone(), *id)))
    }
}

/// The peer as its Introduce described it.
#[derive(Debug, Clone)]
pub struct Peer {
    /// Its Introduce, as received.
    pub introduce: MessageIntroduce,
    /// The caches to decode its frames with.
    pub decode_caches: DecodeCaches,
}

impl Peer {
    /// Builds the decode caches from an Introduce.
    pub fn from_introduce(introduce: MessageIntroduce) -> Peer {
        let mut c = DecodeCaches::default();
        if let Some(a) = &introduce.atom_cache {
            c = c.with_atoms(a.iter().map(|(id, a)| (*id, *a)));
        }
        if let Some(r) = &introduce.reg_cache {
            c = c.with_types(r.iter().map(|(id, n)| (*id, n.as_str())));
        }
        if let Some(e) = &introduce.err_cache {
            c = c.with_errors(e.iter().map(|(id, e)| (*id, e.clone())));
        }
        Peer {
            introduce,
            decode_caches: c,
        }
    }
    /// Node name.
    pub fn node(&self) -> Atom {
        self.introduce.node
    }
    /// Creation.
    pub fn creation(&self) -> i64 {
        self.introduce.creation
    }
    /// Capabilities.
    pub fn flags(&self) -> NetworkFlags {
        self.introduce.flags
    }
}

/// A completed handshake.
#[derive(Debug, Clone)]
pub struct Established {
    /// The peer.
    pub peer: Peer,
    /// The connection ID.
    pub connection_id: String,
    /// Links in the pool (the acceptor's choice).
    pub pool_size: usize,
    /// Where extra links go.
    pub pool_dsn: Vec<String>,
}

/// What a state machine wants done next.
#[derive(Debug)]
pub enum Step {
    /// Send these messages, then wait for the next one.
    Send(Vec<Message>),
    /// Send these (maybe none) and switch the link to ENP.
    Done(Vec<Message>, Box<Established>),
}

fn unexpected(got: &Message, expected: &'static str) -> HandshakeError {
    HandshakeError::Unexpected {
        got: got.name(),
        expected,
    }
}

fn check_peer(me: Atom, intro: &MessageIntroduce) -> Result<(), HandshakeError> {
    if intro.node == me {
        return Err(HandshakeError::SameName(me));
    }
    if intro.creation == 0 {
        return Err(HandshakeError::ZeroCreation(intro.node));
    }
    Ok(())
}

enum DialState {
    AwaitHello,
    AwaitAccept,
    AwaitIntroduce(MessageAccept),
    Finished,
}

/// The dialer side of the full handshake (first link of a connection).
pub struct Dialer {
    me: LocalNode,
    dialed: Atom,
    salt: String,
    hello_digest: String,
    cert: Option<[u8; 20]>,
    state: DialState,
}

impl Dialer {
    /// Starts a handshake towards `dialed`; returns the machine and the Hello to send.
    /// `salt` is 64 random hex characters; `peer_cert_sha1` is the SHA-1 of the acceptor's leaf
    /// certificate when the link is TLS (its digest is then verified).
    pub fn start(
        me: LocalNode,
        dialed: Atom,
        salt: String,
        peer_cert_sha1: Option<[u8; 20]>,
    ) -> (Dialer, Message) {
        let hello_digest = digest::hello(&salt, &me.cookie);
        let hello = Message::Hello(MessageHello {
            salt: salt.clone(),
            digest: hello_digest.clone(),
            digest_cert: String::new(),
        });
        (
            Dialer {
                me,
                dialed,
                salt,
                hello_digest,
                cert: peer_cert_sha1,
                state: DialState::AwaitHello,
            },
            hello,
        )
    }

    /// Feeds the next message from the acceptor.
    pub fn handle(&mut self, msg: Message) -> Result<Step, HandshakeError> {
        match (std::mem::replace(&mut self.state, DialState::Finished), msg) {
            (DialState::AwaitHello, Message::Hello(h)) => {
                if h.digest != digest::hello_reply(&h.salt, &self.hello_digest, &self.me.cookie) {
                    return Err(HandshakeError::Digest("acceptor hello"));
                }
                if let Some(fp) = &self.cert {
                    if h.digest_cert != digest::hello_cert(&h.salt, &self.salt, &self.me.cookie, fp)
                    {
                        return Err(HandshakeError::CertDigest);
                    }
                }
                let intro = self
                    .me
                    .introduce(digest::introduce(&h.salt, &self.me.cookie));
                self.state = DialState::AwaitAccept;
                Ok(Step::Send(vec![Message::Introduce(Box::new(intro))]))
            }
            (DialState::AwaitAccept, Message::Accept(a)) => {
                self.state = DialState::AwaitIntroduce(a);
                Ok(Step::Send(vec![]))
            }
            (DialState::AwaitIntroduce(accept), Message::Introduce(intro)) => {
                check_peer(self.me.node, &intro)?;
                if intro.node != self.dialed {
                    return Err(HandshakeError::WrongPeer {
                        dialed: self.dialed,
                        peer: intro.node,
                    });
                }
                let est = Established {
                    peer: Peer::from_introduce(*intro),
                    connection_id: accept.id,
                    pool_size: accept.pool_size.max(1) as usize,
                    pool_dsn: accept.pool_dsn.unwrap_or_default(),
                };
                Ok(Step::Done(
                    vec![Message::Accept(MessageAccept::default())],
                    Box::new(est),
                ))
            }
            (DialState::AwaitHello, m) => Err(unexpected(&m, "Hello")),
            (DialState::AwaitAccept, m) => Err(unexpected(&m, "Accept")),
            (DialState::AwaitIntroduce(_), m) => Err(unexpected(&m, "Introduce")),
            (DialState::Finished, m) => Err(unexpected(&m, "nothing")),
        }
    }
}

/// What an acceptor learned from a Join (the caller checks the connection exists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    /// The dialer's node.
    pub node: Atom,
    /// The connection it wants to join.
    pub connection_id: String,
    /// The reply to send if that connection is live (otherwise close the link).
    pub reply: MessageAccept,
}

enum AcceptState {
    AwaitFirst,
    AwaitIntroduce,
    AwaitAccept(Box<Peer>),
    Finished,
}

/// Outcome of the acceptor's first message.
#[derive(Debug)]
pub enum AcceptStep {
    /// A full handshake goes on.
    Step(Step),
    /// A pool link asks to join; the state machine is finished.
    Join(JoinRequest),
}

/// The acceptor side: a full handshake, or a pool join.
pub struct Acceptor {
    me: LocalNode,
    salt: String,
    connection_id: String,
    pool_size: usize,
    pool_dsn: Vec<String>,
    cert: Option<[u8; 20]>,
    state: AcceptState,
}

impl Acceptor {
    /// An acceptor for one new link. `salt` (64 hex) and `connection_id` (32 hex) are random;
    /// `pool_dsn` is where extra links should connect; `cert_sha1` when the link is TLS.
    pub fn new(
        me: LocalNode,
        salt: String,
        connection_id: String,
        pool_size: usize,
        pool_dsn: Vec<String>,
        cert_sha1: Option<[u8; 20]>,
    ) -> Acceptor {
        Acceptor {
            me,
            salt,
            connection_id,
            pool_size,
            pool_dsn,
            cert: cert_sha1,
            state: AcceptState::AwaitFirst,
        }
    }

    /// Feeds the next message from the dialer.
    pub fn handle(&mut self, msg: Message) -> Result<AcceptStep, HandshakeError> {
        let cookie = self.me.cookie.clone();
        match (
            std::mem::replace(&mut self.state, AcceptState::Finished),
            msg,
        ) {
            (AcceptState::AwaitFirst, Message::Hello(h)) => {
                let hello_digest = digest::hello(&h.salt, &cookie);
                if h.digest != hello_digest {
                    return Err(HandshakeError::Digest("dialer hello"));
                }
                let digest_cert = match &self.cert {
                    Some(fp) => digest::hello_cert(&self.salt, &h.salt, &cookie, fp),
                    None => String::new(),
                };
                let reply = MessageHello {
                    salt: self.salt.clone(),
                    digest: digest::hello_reply(&self.salt, &hello_digest, &cookie),
                    digest_cert,
                };
                self.state = AcceptState::AwaitIntroduce;
                Ok(AcceptStep::Step(Step::Send(vec![Message::Hello(reply)])))
            }
            (AcceptState::AwaitFirst, Message::Join(j)) => {
                let join_digest = digest::join(&j.connection_id, &j.salt, &cookie);
                if j.digest != join_digest {
                    return Err(HandshakeError::Digest("join"));
                }
                let digest_cert = match &self.cert {
                    Some(fp) => digest::join_cert(&join_digest, &j.salt, &cookie, fp),
                    None => String::new(),
                };
                let reply = MessageAccept {
                    digest: digest::join_reply(&join_digest, &cookie),
                    digest_cert,
                    ..Default::default()
                };
                Ok(AcceptStep::Join(JoinRequest {
                    node: j.node,
                    connection_id: j.connection_id,
                    reply,
                }))
            }
            (AcceptState::AwaitIntroduce, Message::Introduce(intro)) => {
                check_peer(self.me.node, &intro)?;
                if intro.digest != digest::introduce(&self.salt, &cookie) {
                    return Err(HandshakeError::Digest("dialer introduce"));
                }
                let accept = MessageAccept {
                    id: self.connection_id.clone(),
                    pool_size: self.pool_size as isize,
                    pool_dsn: Some(self.pool_dsn.clone()),
                    digest: String::new(),
                    digest_cert: String::new(),
                };
                let mine = self.me.introduce(String::new());
                self.state = AcceptState::AwaitAccept(Box::new(Peer::from_introduce(*intro)));
                Ok(AcceptStep::Step(Step::Send(vec![
                    Message::Accept(accept),
                    Message::Introduce(Box::new(mine)),
                ])))
            }
            (AcceptState::AwaitAccept(peer), Message::Accept(_)) => {
                let est = Established {
                    peer: *peer,
                    connection_id: self.connection_id.clone(),
                    pool_size: self.pool_size,
                    pool_dsn: self.pool_dsn.clone(),
                };
                Ok(AcceptStep::Step(Step::Done(vec![], Box::new(est))))
            }
            (AcceptState::AwaitFirst, m) => Err(unexpected(&m, "Hello or Join")),
            (AcceptState::AwaitIntroduce, m) => Err(unexpected(&m, "Introduce")),
            (AcceptState::AwaitAccept(_), m) => Err(unexpected(&m, "Accept")),
            (AcceptState::Finished, m) => Err(unexpected(&m, "nothing")),
        }
    }
}

/// The dialer side of a pool join.
pub struct JoinDialer {
    cookie: String,
    salt: String,
    join_digest: String,
    cert: Option<[u8; 20]>,
    done: bool,
}

impl JoinDialer {
    /// Starts a join of connection `connection_id`; returns the machine and the Join to send.
    pub fn start(
        me: &LocalNode,
        connection_id: &str,
        salt: String,
        peer_cert_sha1: Option<[u8; 20]>,
    ) -> (JoinDialer, Message) {
        let join_digest = digest::join(connection_id, &salt, &me.cookie);
        let msg = Message::Join(MessageJoin {
            node: me.node,
            connection_id: connection_id.to_string(),
            salt: salt.clone(),
            digest: join_digest.clone(),
        });
        (
            JoinDialer {
                cookie: me.cookie.clone(),
                salt,
                join_digest,
                cert: peer_cert_sha1,
                done: false,
            },
            msg,
        )
    }

    /// Feeds the acceptor's reply; `Ok(())` means the link is part of the pool now.
    pub fn handle(&mut self, msg: Message) -> Result<(), HandshakeError> {
        if self.done {
            return Err(unexpected(&msg, "nothing"));
        }
        let Message::Accept(a) = msg else {
            return Err(unexpected(&msg, "Accept"));
        };
        if a.digest != digest::join_reply(&self.join_digest, &self.cookie) {
            return Err(HandshakeError::Digest("join reply"));
        }
        if let Some(fp) = &self.cert {
            if a.digest_cert != digest::join_cert(&self.join_digest, &self.salt, &self.cookie, fp) {
                return Err(HandshakeError::CertDigest);
            }
        }
        self.done = true;
        Ok(())
    }
}
