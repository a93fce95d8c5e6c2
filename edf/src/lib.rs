//! # ergo-edf: the Ergo Data Format, byte-compatible with Go Ergo 3.x
//!
//! Every message between Ergo nodes is one EDF value. This crate encodes and decodes EDF with
//! the same bytes as Go Ergo's `net/edf` (wire-spec §3), proven against golden vectors captured
//! from real Go nodes. It is pure: no I/O, no threads, no clocks.
//!
//! Two ways in:
//! - **Typed** ([`Edf`]): Rust types encode and decode directly, without an intermediate value.
//!   `#[derive(Edf)]` makes a struct or newtype a *registered type*, named like Go names it.
//! - **Dynamic** ([`Value`]): any EDF value, including values of registered types known only by
//!   their registered layout. Used for `any` fields and by tools.
//!
//! ```
//! use ergo_edf::{Atom, Edf, Pid};
//!
//! #[derive(Edf, Debug, PartialEq)]
//! #[edf(name = "#github.com/myapp/orders/Order")]
//! struct Order { id: i64, item: String, qty: u16, owner: Pid }
//!
//! ergo_edf::ensure_registered::<Order>().unwrap();
//! let order = Order { id: 1, item: "apple".into(), qty: 3, owner: Pid::new(Atom::new("a@host"), 1001, 1) };
//! let bytes = ergo_edf::to_vec(&order).unwrap();
//! assert_eq!(bytes[0], 0x83); // registered type, by name
//! assert_eq!(ergo_edf::from_slice::<Order>(&bytes).unwrap(), order);
//! ```
//!
//! Caches (atom, type and error dictionaries of a connection) are passed explicitly:
//! [`EncodeCaches`] for what we send, [`DecodeCaches`] built from what the peer announced.
//!
//! Untrusted input never panics the decoder: every length is checked against the bytes that
//! remain before anything is allocated, and nesting is bounded ([`desc::MAX_DEPTH`]).
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

extern crate self as ergo_edf;

mod any;
mod atom;
mod cache;
mod decode;
pub mod desc;
mod encode;
mod error;
mod goerror;
mod gomap;
mod gostring;
mod ids;
mod maps;
mod ordering;
pub mod registry;
pub mod tags;
mod time;
mod typed;
mod value;

pub use any::{decode_any, encode_any};
pub use atom::{
    atom_table_limit, set_atom_table_limit, Atom, AtomBuildHasher, AtomHasher, AtomMap,
};
pub use cache::{CachedType, DecodeCaches, EncodeCaches};
pub use decode::{Decoder, MAX_EMPTY_ELEMENTS};
pub use desc::TypeDesc;
pub use encode::Encoder;
pub use error::{DecodeError, EncodeError, RegisterError};
pub use goerror::{errors, register_error, registered_errors, GoError, FRAMEWORK_ERRORS};
pub use gomap::{GoKey, GoMap};
pub use gostring::GoString;
pub use ids::{Alias, Event, Pid, ProcessId, Ref};
pub use maps::EdfMap;
pub use registry::{
    ensure_registered, register, register_schema, EdfCustom, Field, RegKind, RegSlot, Registered,
    TypeInfo,
};
pub use time::Time;
pub use typed::{decode_tagged, encode_tagged, Edf, TagKind};
pub use value::Value;

/// Re-exported so users can name it: strings of up to 24 bytes decode without allocating.
pub use compact_str::CompactString;

/// `#[derive(Edf)]`: makes a struct (named fields) or a newtype a registered EDF type.
///
/// Attributes on the type: `#[edf(name = "#go/pkg/path/Type")]` sets the registered name (a
/// literal or any `&'static str` constant); `#[edf(package = PKG)]` names it `PKG/TypeName`, so a
/// Go package path is written once (default: `#` + the Rust module path with `/` + `/` + the
/// type name); `#[edf(custom)]` uses the type's [`EdfCustom`] impl for its body (Go's
/// `MarshalEDF`/`MarshalBinary`).
///
/// A derived type must be registered ([`register`], [`ensure_registered`]) before a value of
/// it is encoded: Go cannot decode a type it does not know, so an unregistered one is refused
/// at the sender ([`EncodeError::NotRegistered`]).
///
/// ```
/// use ergo_edf::Edf;
/// const PKG: &str = "#github.com/myapp/orders";
/// #[derive(Edf)]
/// #[edf(package = PKG)]
/// struct Order { id: i64 }
/// #[derive(Edf)]
/// #[edf(package = PKG)]
/// struct Refund { id: i64 }
/// use ergo_edf::Registered;
/// assert_eq!(Order::type_name(), "#github.com/myapp/orders/Order");
/// assert!(matches!(ergo_edf::to_vec(&Refund { id: 1 }), Err(ergo_edf::EncodeError::NotRegistered(_))));
/// ergo_edf::ensure_registered::<Refund>().unwrap();
/// assert!(ergo_edf::to_vec(&Refund { id: 1 }).is_ok());
/// ```
pub use ergo_edf_derive::Edf;

/// Encodes `value` as one tagged EDF value (no caches) into a new vector.
pub fn to_vec<T: Edf>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut buf = Vec::new();
    encode(value, &mut buf, EncodeCaches::none())?;
    Ok(buf)
}

/// Appends `value` as one tagged EDF value to `buf`, with `caches`.
#[inline]
pub fn encode<T: Edf>(
    value: &T,
    buf: &mut Vec<u8>,
    caches: &EncodeCaches,
) -> Result<(), EncodeError> {
    if value.is_nil() {
        // A top-level nil cannot be encoded (Go: "nothing to encode").
        return Err(EncodeError::NothingToEncode);
    }
    let start = buf.len();
    let mut enc = Encoder::new(buf, caches);
    let r = encode_tagged(value, &mut enc);
    if r.is_err() {
        buf.truncate(start);
    }
    r
}

/// Decodes one tagged EDF value of type `T` (no caches). Trailing bytes are ignored, as Go does.
pub fn from_slice<T: Edf>(bytes: &[u8]) -> Result<T, DecodeError> {
    decode(bytes, DecodeCaches::none()).map(|(v, _)| v)
}

/// Decodes one tagged EDF value of type `T` with the sender's `caches`; returns it and the
/// number of bytes it took.
#[inline]
pub fn decode<T: Edf>(bytes: &[u8], caches: &DecodeCaches) -> Result<(T, usize), DecodeError> {
    let mut dec = Decoder::new(bytes, caches);
    let v = decode_tagged::<T>(&mut dec)?;
    Ok((v, dec.position()))
}
