//! The codec's error types: one for encoding, one for decoding, one for registration.

use thiserror::Error;

/// Encoding failed. Texts follow Go Ergo's where Go has the same failure.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// A top-level nil cannot be encoded (nil only exists inside `any`, slice and map slots).
    #[error("nothing to encode")]
    NothingToEncode,
    /// An atom longer than 255 bytes.
    #[error("atom too long - max allowed length is 255 bytes (got {0})")]
    AtomTooLong(usize),
    /// A string longer than 65535 bytes.
    #[error("string too long - max allowed length is 2^16-1 (65535) bytes (got {0})")]
    StringTooLong(usize),
    /// An error text longer than 32767 bytes.
    #[error("error too long - max allowed length is 32767 bytes (got {0})")]
    ErrorTooLong(usize),
    /// A registered type name longer than 4095 bytes.
    #[error("type name too long - max allowed length is 4095 bytes (got {0})")]
    TypeNameTooLong(usize),
    /// A binary, slice or map with more than 2^32-1 bytes or elements.
    #[error("{what} too long - max allowed length is 2^32-1 (got {len})")]
    TooLong {
        /// What was too long.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// An unregistered composite type descriptor longer than 65535 bytes.
    #[error("type descriptor too long ({0} bytes, max 65535)")]
    DescriptorTooLong(usize),
    /// A time body longer than 255 bytes.
    #[error("time value too long ({0} bytes, max 255)")]
    TimeTooLong(usize),
    /// A dynamic [`Value`](crate::Value) does not fit the type its slot declares.
    #[error("value does not match its declared type: expected {expected}, got {got}")]
    Mismatch {
        /// The declared type.
        expected: String,
        /// What the value holds.
        got: String,
    },
    /// A custom marshaler failed.
    #[error("custom marshaler of {type_name} failed: {reason}")]
    Custom {
        /// The registered type.
        type_name: &'static str,
        /// The marshaler's reason.
        reason: String,
    },
    /// The bytes given for a custom-marshaled type are refused by its unmarshaler.
    #[error("the payload of {type_name} does not decode: {reason}")]
    CustomPayload {
        /// The registered type.
        type_name: String,
        /// Why the unmarshaler refused it.
        reason: String,
    },
    /// Nesting deeper than the codec allows.
    #[error("value nested deeper than {0} levels")]
    TooDeep(usize),
    /// A Rust type without an EDF mapping (Go: "no encoder for type").
    #[error("no encoder for this type (register it, or send a type with an EDF mapping)")]
    NoEncoder,
    /// A time Go cannot represent.
    #[error("time cannot be encoded: {0}")]
    BadTime(&'static str),
    /// A derived type that was never registered: Go refuses to encode it ("no encoder for
    /// type"), and a peer could not decode it, so it is refused here, at the sender.
    #[error("no encoder for type {0}: it is not registered (call ergo_edf::register or ensure_registered first)")]
    NotRegistered(&'static str),
}

/// Decoding failed. Bytes from outside never panic the decoder; they give one of these.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input ended before the value did.
    #[error("malformed EDF: end of data (needed {needed} more bytes at offset {offset})")]
    EndOfData {
        /// Where the read started.
        offset: usize,
        /// How many bytes were missing.
        needed: usize,
    },
    /// Empty input.
    #[error("end of data")]
    Empty,
    /// A tag byte that EDF does not define.
    #[error("unknown type {tag} for decoding (offset {offset})")]
    UnknownType {
        /// The byte.
        tag: u8,
        /// Its offset.
        offset: usize,
    },
    /// A tag that is valid EDF but not what the typed decoder expected.
    #[error("type mismatch at offset {offset}: expected {expected}, found {found}")]
    TypeMismatch {
        /// What the Rust type expects.
        expected: String,
        /// What the bytes say.
        found: String,
        /// Where.
        offset: usize,
    },
    /// An atom-cache ID but the sender announced no atom cache.
    #[error("malformed EDF: no AtomCache to decode id {0}")]
    NoAtomCache(u16),
    /// An atom-cache ID absent from the sender's atom cache.
    #[error("malformed EDF: unknown atom cache id {0}")]
    UnknownAtomId(u16),
    /// A type-cache ID but the sender announced no type cache.
    #[error("no RegCache to decode cached id {0}")]
    NoRegCache(u16),
    /// A type-cache ID absent from the sender's type cache.
    #[error("unknown reg cache id {0}")]
    UnknownRegId(u16),
    /// An error-cache ID but the sender announced no error cache.
    #[error("malformed EDF: no ErrCache to decode id {0}")]
    NoErrCache(u16),
    /// An error-cache ID absent from the sender's error cache.
    #[error("malformed EDF: unknown err cache id {0}")]
    UnknownErrId(u16),
    /// A registered type name this process has not registered.
    #[error("unknown reg type {0} for decoding")]
    UnknownRegType(String),
    /// A slice or map body without its marker.
    #[error("malformed EDF: bad {what} marker 0x{byte:02x} at offset {offset}")]
    BadMarker {
        /// Slice or map.
        what: &'static str,
        /// The byte found.
        byte: u8,
        /// Where.
        offset: usize,
    },
    /// A count larger than the bytes that remain could hold.
    #[error("malformed EDF: {what} count {count} exceeds the {remaining} remaining bytes")]
    CountTooLarge {
        /// Slice, map or binary.
        what: &'static str,
        /// The count read.
        count: u64,
        /// Bytes left.
        remaining: usize,
    },
    /// Text that is not UTF-8.
    #[error("malformed EDF: {0} is not valid UTF-8")]
    InvalidUtf8(&'static str),
    /// A string that is not UTF-8 in a `String` field of a registered struct. Go strings are
    /// bytes: declare the field as [`GoString`](crate::GoString) to accept any bytes.
    #[error("malformed EDF: field {field} of {type_name} is not valid UTF-8 (use ergo_edf::GoString for Go strings of any bytes)")]
    InvalidUtf8Field {
        /// The registered type.
        type_name: &'static str,
        /// The Rust field.
        field: &'static str,
    },
    /// An invalid time body.
    #[error("malformed EDF: invalid time value ({0})")]
    BadTime(&'static str),
    /// A type descriptor whose declared length does not match its contents.
    #[error("malformed EDF: type descriptor length mismatch")]
    DescriptorLength,
    /// The value nests deeper than the decoder allows.
    #[error("malformed EDF: nested deeper than {0} levels")]
    TooDeep(usize),
    /// A nil where the Rust type cannot hold one.
    #[error("unexpected nil for {0}")]
    UnexpectedNil(&'static str),
    /// A custom unmarshaler rejected its bytes.
    #[error("custom unmarshaler of {type_name} failed: {reason}")]
    Custom {
        /// The registered type.
        type_name: String,
        /// The unmarshaler's reason.
        reason: String,
    },
    /// The global atom table reached its limit.
    #[error("atom table is full ({0} atoms)")]
    AtomTableFull(usize),
    /// A value that is valid EDF but out of range for the Rust type (e.g. an array length).
    #[error("malformed EDF: {0}")]
    Invalid(String),
}

impl DecodeError {
    /// Names the field a text error happened in (used by `#[derive(Edf)]`): a string that is
    /// not UTF-8 becomes [`DecodeError::InvalidUtf8Field`]; other errors, and an error that
    /// names an inner field already, are kept.
    #[cold]
    pub fn in_field(self, type_name: &'static str, field: &'static str) -> DecodeError {
        match self {
            DecodeError::InvalidUtf8("string") => {
                DecodeError::InvalidUtf8Field { type_name, field }
            }
            other => other,
        }
    }
}

/// Registering a type or an error failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RegisterError {
    /// The name is registered already (Go: `gen.ErrTaken`).
    #[error("resource is taken: {0}")]
    Taken(String),
    /// A field's registered type must be registered before the type that uses it.
    #[error("(struct field encode) type {0} must be registered first")]
    NotRegisteredFirst(String),
    /// The name is too long, empty, or would collide with cache IDs.
    #[error("invalid registered type name {0:?}")]
    BadName(String),
    /// Too many registered types or errors for the cache ID space.
    #[error("too many registered {0}")]
    Full(&'static str),
    /// An error text too long to be registered.
    #[error("error too long - max allowed length is 32767 bytes")]
    ErrorTooLong,
}
