//! `GoString`: a Go `string` as bytes. Go strings may hold any bytes, not only UTF-8; this type
//! carries them losslessly (tag `0x8d`, like `String`), where a Rust `String` must refuse them.

use std::borrow::Cow;
use std::fmt;

/// A Go `string`: any bytes, usually but not necessarily UTF-8.
///
/// Use it for fields a Go peer may fill with arbitrary bytes; it encodes and decodes exactly as
/// Go's `string` (`8d`, u16 length, bytes), so every string Go sends round-trips.
///
/// ```
/// use ergo_edf::GoString;
/// let s: GoString = ergo_edf::from_slice(&[0x8d, 0x00, 0x02, b'a', 0xff]).unwrap();
/// assert_eq!(s.as_bytes(), b"a\xff");
/// assert!(s.to_str().is_err());
/// assert_eq!(ergo_edf::to_vec(&s).unwrap(), [0x8d, 0x00, 0x02, b'a', 0xff]);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GoString(Vec<u8>);

impl GoString {
    /// A string of these bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> GoString {
        GoString(bytes.into())
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The text, if the bytes are UTF-8.
    pub fn to_str(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.0)
    }

    /// The text with invalid sequences replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for GoString {
    /// Go's `%q` spirit: valid text as a string literal, other bytes as `\xNN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GoString(\"")?;
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                write!(f, "{}", c.escape_debug())?;
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\")")
    }
}

impl fmt::Display for GoString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

impl From<String> for GoString {
    fn from(s: String) -> Self {
        GoString(s.into_bytes())
    }
}

impl From<&str> for GoString {
    fn from(s: &str) -> Self {
        GoString(s.as_bytes().to_vec())
    }
}

impl From<Vec<u8>> for GoString {
    fn from(b: Vec<u8>) -> Self {
        GoString(b)
    }
}

impl From<&[u8]> for GoString {
    fn from(b: &[u8]) -> Self {
        GoString(b.to_vec())
    }
}

impl TryFrom<GoString> for String {
    type Error = std::string::FromUtf8Error;
    fn try_from(s: GoString) -> Result<String, Self::Error> {
        String::from_utf8(s.0)
    }
}

impl PartialEq<str> for GoString {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for GoString {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}
