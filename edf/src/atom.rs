//! `Atom`: an interned string of at most 255 bytes (node, process and event names).
//!
//! Atoms are interned in one process-wide table, as in Erlang: an `Atom` is a `Copy` pointer, it
//! compares and hashes in O(1), and cloning a PID never touches shared memory. Interned text is
//! never freed, so the table is bounded: decoding a *new* atom from the network fails with
//! [`DecodeError::AtomTableFull`](crate::DecodeError::AtomTableFull) once
//! [`atom_table_limit`] atoms exist (default 1,048,576, settable with [`set_atom_table_limit`]).

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use ustr::Ustr;

use crate::tags::MAX_ATOM_LEN;

static ATOM_LIMIT: AtomicUsize = AtomicUsize::new(1 << 20);

/// The most atoms the table holds before decoding new ones fails.
pub fn atom_table_limit() -> usize {
    ATOM_LIMIT.load(Ordering::Relaxed)
}

/// Sets the most atoms the table holds before decoding new ones from bytes fails.
pub fn set_atom_table_limit(limit: usize) {
    ATOM_LIMIT.store(limit, Ordering::Relaxed);
}

/// An interned string of at most 255 bytes. `Copy`, pointer-sized, O(1) equality and hash.
///
/// ```
/// use ergo_edf::Atom;
/// let a = Atom::new("node@localhost");
/// assert_eq!(a, Atom::new("node@localhost"));
/// assert_eq!(a.as_str(), "node@localhost");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Atom(Ustr);

impl Atom {
    /// Interns `s`. Atoms longer than 255 bytes can be made but not encoded (the encoder
    /// returns [`EncodeError::AtomTooLong`](crate::EncodeError::AtomTooLong)).
    pub fn new(s: &str) -> Atom {
        Atom(Ustr::from(s))
    }

    /// The empty atom.
    pub fn empty() -> Atom {
        Atom(Ustr::from(""))
    }

    /// Interns text that came from outside (the network, a file), refusing to grow the table
    /// past [`atom_table_limit`] and refusing text longer than 255 bytes.
    pub fn from_untrusted(s: &str) -> Result<Atom, crate::DecodeError> {
        if s.len() > MAX_ATOM_LEN {
            return Err(crate::DecodeError::Invalid(format!(
                "atom of {} bytes",
                s.len()
            )));
        }
        if let Some(u) = Ustr::from_existing(s) {
            return Ok(Atom(u));
        }
        let limit = atom_table_limit();
        if ustr::num_entries() >= limit {
            return Err(crate::DecodeError::AtomTableFull(limit));
        }
        Ok(Atom(Ustr::from(s)))
    }

    /// The text.
    pub fn as_str(&self) -> &'static str {
        self.0.as_str()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether this is the empty atom.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The hash computed when the atom was interned.
    pub fn precomputed_hash(&self) -> u64 {
        self.0.precomputed_hash()
    }
}

impl Default for Atom {
    fn default() -> Self {
        Atom::empty()
    }
}

impl From<&str> for Atom {
    fn from(s: &str) -> Self {
        Atom::new(s)
    }
}

impl From<&String> for Atom {
    fn from(s: &String) -> Self {
        Atom::new(s)
    }
}

impl AsRef<str> for Atom {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Atom {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Atom {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}'", self.as_str())
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hasher for maps keyed by [`Atom`]: uses the hash computed at interning.
#[derive(Default, Clone, Copy)]
pub struct AtomHasher(u64);

impl std::hash::Hasher for AtomHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by `Atom`'s Hash (via Ustr); fold anything else in.
        for b in bytes {
            self.0 = self.0.rotate_left(5) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// `BuildHasher` for [`AtomHasher`].
pub type AtomBuildHasher = std::hash::BuildHasherDefault<AtomHasher>;
/// A `HashMap` keyed by atoms, hashing with the interned hash.
pub type AtomMap<V> = std::collections::HashMap<Atom, V, AtomBuildHasher>;
