//! `Decoder`: reads EDF from a byte slice, using the sender's [`DecodeCaches`].
//!
//! Every read is bounds-checked and returns [`DecodeError`] on bad input; counts are checked
//! against the remaining bytes before anything is allocated; nesting is limited to
//! [`MAX_DEPTH`](crate::desc::MAX_DEPTH).

use std::sync::Arc;

use crate::cache::{CachedType, DecodeCaches};
use crate::desc::MAX_DEPTH;
use crate::error::DecodeError;
use crate::registry::{self, TypeInfo};
use crate::tags::*;
use crate::{Atom, GoError};

/// Reads EDF from a slice.
pub struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    caches: &'a DecodeCaches,
    depth: usize,
    /// Elements without bytes (of `[N]T` where `T` has an empty body) this decode may still make.
    empty_budget: usize,
}

/// Elements with empty bodies (of arrays like `[65][0]bool{}`, which are legal) one decode may
/// make: a fixed number, so that nested empty arrays cannot multiply into gigabytes and whether a
/// value decodes does not depend on what follows it.
pub const MAX_EMPTY_ELEMENTS: usize = 4096;

impl<'a> Decoder<'a> {
    /// A decoder over `input`, with the sender's caches.
    #[inline]
    pub fn new(input: &'a [u8], caches: &'a DecodeCaches) -> Self {
        Decoder {
            input,
            pos: 0,
            caches,
            depth: 0,
            empty_budget: MAX_EMPTY_ELEMENTS,
        }
    }

    /// The caches in use.
    #[inline]
    pub fn caches(&self) -> &'a DecodeCaches {
        self.caches
    }

    /// Bytes consumed so far.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    /// The bytes not read yet.
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        &self.input[self.pos..]
    }

    #[cold]
    fn eod(&self, n: usize) -> DecodeError {
        if self.input.is_empty() {
            DecodeError::Empty
        } else {
            DecodeError::EndOfData {
                offset: self.pos,
                needed: n - self.remaining(),
            }
        }
    }

    /// Takes `n` bytes.
    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(self.eod(n));
        }
        let s = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Takes exactly `N` bytes as an array.
    #[inline]
    pub fn take_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        match self.input.get(self.pos..self.pos + N) {
            Some(s) => {
                self.pos += N;
                let mut a = [0u8; N];
                a.copy_from_slice(s);
                Ok(a)
            }
            None => Err(self.eod(N)),
        }
    }

    /// Reads one byte.
    #[inline]
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        match self.input.get(self.pos) {
            Some(b) => {
                self.pos += 1;
                Ok(*b)
            }
            None => Err(self.eod(1)),
        }
    }

    /// Looks at the next byte.
    #[inline]
    pub fn peek_u8(&self) -> Result<u8, DecodeError> {
        self.input.get(self.pos).copied().ok_or_else(|| self.eod(1))
    }

    /// Reads a big-endian u16.
    #[inline]
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.take_array()?))
    }

    /// Reads a big-endian u32.
    #[inline]
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.take_array()?))
    }

    /// Reads a big-endian u64.
    #[inline]
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.take_array()?))
    }

    /// Reads a big-endian i64.
    #[inline]
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.take_array()?))
    }

    /// Reads an expected tag byte.
    #[inline]
    pub fn expect_tag(&mut self, tag: u8) -> Result<(), DecodeError> {
        let offset = self.pos;
        let got = self.u8()?;
        if got == tag {
            Ok(())
        } else {
            Err(self.mismatch(tag_name(tag), got, offset))
        }
    }

    #[cold]
    pub(crate) fn mismatch(&self, expected: &str, got: u8, offset: usize) -> DecodeError {
        let found = if crate::desc::is_basic_tag(got)
            || matches!(
                got,
                TYPE_HEADER | REGISTERED | ANY | SLICE | ARRAY | MAP | NIL
            ) {
            tag_name(got).to_string()
        } else {
            return DecodeError::UnknownType { tag: got, offset };
        };
        DecodeError::TypeMismatch {
            expected: expected.to_string(),
            found,
            offset,
        }
    }

    /// Reads a string body.
    #[inline]
    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        let n = usize::from(self.u16()?);
        let b = self.take(n)?;
        std::str::from_utf8(b).map_err(|_| DecodeError::InvalidUtf8("string"))
    }

    /// Reads a string body as bytes, UTF-8 or not (Go strings are bytes).
    #[inline]
    pub fn str_bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }

    /// Reads a binary body.
    #[inline]
    pub fn binary(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u32()? as usize;
        if n > self.remaining() {
            return Err(DecodeError::CountTooLarge {
                what: "binary",
                count: n as u64,
                remaining: self.remaining(),
            });
        }
        self.take(n)
    }

    /// Reads an atom body (literal or cached), applying the atom mapping.
    #[inline]
    pub fn atom(&mut self) -> Result<Atom, DecodeError> {
        let n = self.u16()?;
        let a = if n < ATOM_CACHE_MIN {
            let b = self.take(usize::from(n))?;
            let s = std::str::from_utf8(b).map_err(|_| DecodeError::InvalidUtf8("atom"))?;
            Atom::from_untrusted(s)?
        } else {
            let cache = self
                .caches
                .atoms
                .as_ref()
                .ok_or(DecodeError::NoAtomCache(n))?;
            match cache.get(usize::from(n - ATOM_CACHE_MIN)) {
                Some(Some(a)) => *a,
                _ => return Err(DecodeError::UnknownAtomId(n)),
            }
        };
        Ok(match &self.caches.atom_mapping {
            Some(m) => m.get(&a).copied().unwrap_or(a),
            None => a,
        })
    }

    /// Reads an error body: `None` for nil.
    pub fn error(&mut self) -> Result<Option<GoError>, DecodeError> {
        let n = self.u16()?;
        if n == ERROR_NIL {
            return Ok(None);
        }
        if n >= ERROR_CACHE_MIN {
            let cache = self
                .caches
                .errors
                .as_ref()
                .ok_or(DecodeError::NoErrCache(n))?;
            return match cache.get(usize::from(n - ERROR_CACHE_MIN)) {
                Some(Some(e)) => Ok(Some(e.clone())),
                _ => Err(DecodeError::UnknownErrId(n)),
            };
        }
        let b = self.take(usize::from(n))?;
        let s = std::str::from_utf8(b).map_err(|_| DecodeError::InvalidUtf8("error"))?;
        Ok(Some(GoError::new(s)))
    }

    /// Reads `83` + name-or-ID and resolves it to a registered type.
    pub fn registered_type(&mut self) -> Result<Arc<TypeInfo>, DecodeError> {
        let n = self.u16()?;
        if n < TYPE_CACHE_MIN {
            let b = self.take(usize::from(n))?;
            let name = std::str::from_utf8(b).map_err(|_| DecodeError::InvalidUtf8("type name"))?;
            return registry::lookup(name)
                .ok_or_else(|| DecodeError::UnknownRegType(name.to_string()));
        }
        match self.cached_type(n)? {
            CachedType::Known(info) => Ok(info.clone()),
            CachedType::Unknown(name) => Err(DecodeError::UnknownRegType(name.to_string())),
        }
    }

    fn cached_type(&self, id: u16) -> Result<&'a CachedType, DecodeError> {
        let cache = self
            .caches
            .types
            .as_ref()
            .ok_or(DecodeError::NoRegCache(id))?;
        match cache.get(usize::from(id - TYPE_CACHE_MIN)) {
            Some(Some(t)) => Ok(t),
            _ => Err(DecodeError::UnknownRegId(id)),
        }
    }

    /// Reads `83` + name-or-ID (the `83` already consumed) and checks it names `name`.
    #[inline]
    pub fn expect_registered_name(
        &mut self,
        name: &str,
        index: Option<u32>,
    ) -> Result<(), DecodeError> {
        let offset = self.pos;
        let n = self.u16()?;
        if n < TYPE_CACHE_MIN {
            let b = self.take(usize::from(n))?;
            if b == name.as_bytes() {
                return Ok(());
            }
            return Err(DecodeError::TypeMismatch {
                expected: name.to_string(),
                found: String::from_utf8_lossy(b).into_owned(),
                offset,
            });
        }
        let found = match self.cached_type(n)? {
            CachedType::Known(info) => {
                if Some(info.index()) == index || info.name() == name {
                    return Ok(());
                }
                info.name()
            }
            CachedType::Unknown(other) => {
                if &**other == name {
                    return Ok(());
                }
                other
            }
        };
        Err(DecodeError::TypeMismatch {
            expected: name.to_string(),
            found: found.to_string(),
            offset,
        })
    }

    /// Reads a collection count and checks that the remaining bytes could hold it
    /// (Go's sanity rule), so nothing is allocated for a lying count.
    #[inline]
    pub fn count(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n > self.remaining() {
            return Err(DecodeError::CountTooLarge {
                what,
                count: n as u64,
                remaining: self.remaining(),
            });
        }
        Ok(n)
    }

    /// A safe capacity for `count` elements of at least `min_body` bytes each.
    #[inline]
    pub fn capacity_for(&self, count: usize, min_body: usize) -> usize {
        count.min(self.remaining() / min_body.max(1))
    }

    /// Accounts for `n` elements whose bodies take no bytes; fails past [`MAX_EMPTY_ELEMENTS`].
    #[inline]
    pub fn spend_empty(&mut self, n: usize) -> Result<(), DecodeError> {
        match self.empty_budget.checked_sub(n) {
            Some(left) => {
                self.empty_budget = left;
                Ok(())
            }
            None => Err(DecodeError::CountTooLarge {
                what: "empty elements",
                count: n as u64,
                remaining: self.remaining(),
            }),
        }
    }

    /// Enters one nesting level; fails past [`MAX_DEPTH`].
    #[inline]
    pub fn enter(&mut self) -> Result<(), DecodeError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep(MAX_DEPTH));
        }
        Ok(())
    }

    /// Leaves a nesting level.
    #[inline]
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}
