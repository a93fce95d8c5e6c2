//! The built-in registrar's packets (ESRD R1, wire-spec §4): `01 <type> <u16 len> <EDF>`, with
//! the EDF value encoded without caches.

use ergo_edf::{ensure_registered, Atom, DecodeCaches, Edf, EncodeCaches, GoError, RegisterError};
use thiserror::Error;

use crate::gen::Route;

/// Protocol version byte.
pub const VERSION: u8 = 1;
/// TCP: register routes.
pub const REGISTER: u8 = 44;
/// TCP: the reply to a registration.
pub const REGISTER_REPLY: u8 = 45;
/// UDP: resolve a node's routes.
pub const RESOLVE: u8 = 46;
/// UDP: the reply to a resolve.
pub const RESOLVE_REPLY: u8 = 47;
/// The default registrar port (TCP and UDP).
pub const DEFAULT_PORT: u16 = 4499;

/// `registrar.MessageRegisterRoutes`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/net/registrar/MessageRegisterRoutes")]
pub struct MessageRegisterRoutes {
    /// The registering node.
    pub node: Atom,
    /// One route per acceptor.
    pub routes: Option<Vec<Route>>,
}

/// `registrar.MessageRegisterReply`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/net/registrar/MessageRegisterReply")]
pub struct MessageRegisterReply {
    /// nil on success; "resource is taken" or "incorrect value or argument".
    pub error: Option<GoError>,
}

/// `registrar.MessageResolveRoutes`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/net/registrar/MessageResolveRoutes")]
pub struct MessageResolveRoutes {
    /// The node to resolve.
    pub node: Atom,
}

/// `registrar.MessageResolveReply`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/net/registrar/MessageResolveReply")]
pub struct MessageResolveReply {
    /// The routes (nil when unknown).
    pub routes: Option<Vec<Route>>,
    /// nil, or "unknown".
    pub error: Option<GoError>,
}

/// Registers the registrar messages (idempotent). Needs the `gen` types first.
pub fn register_registrar_types() -> Result<(), RegisterError> {
    ensure_registered::<MessageRegisterRoutes>()?;
    ensure_registered::<MessageRegisterReply>()?;
    ensure_registered::<MessageResolveRoutes>()?;
    ensure_registered::<MessageResolveReply>()?;
    Ok(())
}

/// One registrar packet.
#[derive(Debug, Clone, PartialEq)]
pub enum Packet {
    /// 44.
    Register(MessageRegisterRoutes),
    /// 45.
    RegisterReply(MessageRegisterReply),
    /// 46.
    Resolve(MessageResolveRoutes),
    /// 47.
    ResolveReply(MessageResolveReply),
}

/// A registrar packet could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RegistrarError {
    /// Shorter than its header or its length field.
    #[error("registrar packet truncated ({0} bytes)")]
    Truncated(usize),
    /// Not version 1.
    #[error("unsupported registrar protocol version {0}")]
    BadVersion(u8),
    /// Not 44..=47.
    #[error("unknown registrar packet type {0}")]
    UnknownType(u8),
    /// The EDF value.
    #[error("registrar packet value: {0}")]
    Decode(#[from] ergo_edf::DecodeError),
    /// Encoding failed.
    #[error("registrar packet encode: {0}")]
    Encode(#[from] ergo_edf::EncodeError),
    /// The value is longer than a u16 length allows.
    #[error("registrar packet too long ({0} bytes)")]
    TooLong(usize),
}

fn encode_with<T: Edf>(kind: u8, v: &T) -> Result<Vec<u8>, RegistrarError> {
    let mut out = vec![VERSION, kind, 0, 0];
    ergo_edf::encode(v, &mut out, EncodeCaches::none())?;
    let len = out.len() - 4;
    let len16 = u16::try_from(len).map_err(|_| RegistrarError::TooLong(len))?;
    out[2..4].copy_from_slice(&len16.to_be_bytes());
    Ok(out)
}

impl Packet {
    /// The packet's bytes.
    pub fn encode(&self) -> Result<Vec<u8>, RegistrarError> {
        match self {
            Packet::Register(m) => encode_with(REGISTER, m),
            Packet::RegisterReply(m) => encode_with(REGISTER_REPLY, m),
            Packet::Resolve(m) => encode_with(RESOLVE, m),
            Packet::ResolveReply(m) => encode_with(RESOLVE_REPLY, m),
        }
    }

    /// Reads one packet from the start of `b` (a TCP read or a UDP datagram); returns it and the
    /// number of bytes it took.
    pub fn decode(b: &[u8]) -> Result<(Packet, usize), RegistrarError> {
        if b.len() < 4 {
            return Err(RegistrarError::Truncated(b.len()));
        }
        if b[0] != VERSION {
            return Err(RegistrarError::BadVersion(b[0]));
        }
        let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
        let body = b
            .get(4..4 + len)
            .ok_or(RegistrarError::Truncated(b.len()))?;
        let none = DecodeCaches::none();
        let p = match b[1] {
            REGISTER => Packet::Register(ergo_edf::decode(body, none)?.0),
            REGISTER_REPLY => Packet::RegisterReply(ergo_edf::decode(body, none)?.0),
            RESOLVE => Packet::Resolve(ergo_edf::decode(body, none)?.0),
            RESOLVE_REPLY => Packet::ResolveReply(ergo_edf::decode(body, none)?.0),
            t => return Err(RegistrarError::UnknownType(t)),
        };
        Ok((p, 4 + len))
    }
}
