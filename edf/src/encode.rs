//! `Encoder`: appends EDF bytes to a buffer, using a set of [`EncodeCaches`].

use crate::cache::EncodeCaches;
use crate::error::EncodeError;
use crate::tags::*;
use crate::{Atom, GoError};

/// Writes EDF into a `Vec<u8>`. Cheap to create; holds no state but the buffer and caches.
pub struct Encoder<'a> {
    buf: &'a mut Vec<u8>,
    caches: &'a EncodeCaches,
    depth: usize,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `buf`.
    #[inline]
    pub fn new(buf: &'a mut Vec<u8>, caches: &'a EncodeCaches) -> Self {
        Encoder {
            buf,
            caches,
            depth: 0,
        }
    }

    /// The caches in use.
    #[inline]
    pub fn caches(&self) -> &'a EncodeCaches {
        self.caches
    }

    /// Bytes in the buffer.
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether the buffer is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The buffer, for custom marshalers.
    #[inline]
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        self.buf
    }

    /// Appends one byte.
    #[inline]
    pub fn put_u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Appends a big-endian u16.
    #[inline]
    pub fn put_u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a big-endian u32.
    #[inline]
    pub fn put_u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a big-endian u64.
    #[inline]
    pub fn put_u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends raw bytes.
    #[inline]
    pub fn put_bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// Writes a string body (`u16` length + bytes).
    #[inline]
    pub fn put_str(&mut self, s: &str) -> Result<(), EncodeError> {
        if s.len() > MAX_STRING_LEN {
            return Err(EncodeError::StringTooLong(s.len()));
        }
        self.buf.reserve(2 + s.len());
        self.put_u16(s.len() as u16);
        self.put_bytes(s.as_bytes());
        Ok(())
    }

    /// Writes a string body from bytes that need not be UTF-8 (Go strings are bytes).
    #[inline]
    pub fn put_str_bytes(&mut self, s: &[u8]) -> Result<(), EncodeError> {
        if s.len() > MAX_STRING_LEN {
            return Err(EncodeError::StringTooLong(s.len()));
        }
        self.buf.reserve(2 + s.len());
        self.put_u16(s.len() as u16);
        self.put_bytes(s);
        Ok(())
    }

    /// Writes a binary body (`u32` length + bytes).
    #[inline]
    pub fn put_binary(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        let len = u32::try_from(b.len()).map_err(|_| EncodeError::TooLong {
            what: "binary",
            len: b.len(),
        })?;
        self.buf.reserve(4 + b.len());
        self.put_u32(len);
        self.put_bytes(b);
        Ok(())
    }

    /// Writes an atom body: the cache ID if the atom is in our atom cache, else its text.
    #[inline]
    pub fn put_atom(&mut self, a: Atom) -> Result<(), EncodeError> {
        let a = match &self.caches.atom_mapping {
            Some(m) => m.get(&a).copied().unwrap_or(a),
            None => a,
        };
        if let Some(atoms) = &self.caches.atoms {
            if let Some(id) = atoms.get(&a) {
                self.put_u16(*id);
                return Ok(());
            }
        }
        let s = a.as_str();
        if s.len() > MAX_ATOM_LEN {
            return Err(EncodeError::AtomTooLong(s.len()));
        }
        self.put_u16(s.len() as u16);
        self.put_bytes(s.as_bytes());
        Ok(())
    }

    /// Writes an error body: `ff ff` for nil, the cache ID if cached, else its text.
    pub fn put_error(&mut self, e: Option<&GoError>) -> Result<(), EncodeError> {
        let Some(e) = e else {
            self.put_u16(ERROR_NIL);
            return Ok(());
        };
        if let Some(errors) = &self.caches.errors {
            if let Some(id) = errors.get(e.text()) {
                self.put_u16(*id);
                return Ok(());
            }
        }
        let t = e.text();
        if t.len() > MAX_ERROR_LEN {
            return Err(EncodeError::ErrorTooLong(t.len()));
        }
        self.put_u16(t.len() as u16);
        self.put_bytes(t.as_bytes());
        Ok(())
    }

    /// Writes `83` and the registered type's cache ID or name.
    #[inline]
    pub fn put_registered(&mut self, name: &str, index: Option<u32>) -> Result<(), EncodeError> {
        self.put_u8(REGISTERED);
        if let Some(id) = self.caches.type_id_for(name, index) {
            self.put_u16(id);
            return Ok(());
        }
        if name.len() > MAX_TYPE_NAME_LEN {
            return Err(EncodeError::TypeNameTooLong(name.len()));
        }
        self.put_u16(name.len() as u16);
        self.put_bytes(name.as_bytes());
        Ok(())
    }

    /// Writes a collection count (`u32`), failing above 2^32-1.
    #[inline]
    pub fn put_count(&mut self, what: &'static str, n: usize) -> Result<(), EncodeError> {
        let n32 = u32::try_from(n).map_err(|_| EncodeError::TooLong { what, len: n })?;
        self.put_u32(n32);
        Ok(())
    }

    /// Reserves a 2-byte length slot; returns its position for [`Encoder::patch_u16_len`].
    #[inline]
    pub fn reserve_u16(&mut self) -> usize {
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        at
    }

    /// Fills a slot from [`Encoder::reserve_u16`] with the number of bytes written after it.
    #[inline]
    pub fn patch_u16_len(&mut self, at: usize) -> Result<(), EncodeError> {
        let len = self.buf.len() - at - 2;
        let len16 = u16::try_from(len).map_err(|_| EncodeError::DescriptorTooLong(len))?;
        self.buf[at..at + 2].copy_from_slice(&len16.to_be_bytes());
        Ok(())
    }

    /// Reserves a 4-byte length slot; returns its position for [`Encoder::patch_u32_len`].
    #[inline]
    pub fn reserve_u32(&mut self) -> usize {
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0, 0, 0, 0]);
        at
    }

    /// Fills a slot from [`Encoder::reserve_u32`] with the number of bytes written after it.
    #[inline]
    pub fn patch_u32_len(&mut self, at: usize, what: &'static str) -> Result<(), EncodeError> {
        let len = self.buf.len() - at - 4;
        let len32 = u32::try_from(len).map_err(|_| EncodeError::TooLong { what, len })?;
        self.buf[at..at + 4].copy_from_slice(&len32.to_be_bytes());
        Ok(())
    }

    /// Enters one nesting level of a dynamic value.
    #[inline]
    pub(crate) fn enter(&mut self) -> Result<(), EncodeError> {
        self.depth += 1;
        if self.depth > crate::desc::MAX_DEPTH {
            return Err(EncodeError::TooDeep(crate::desc::MAX_DEPTH));
        }
        Ok(())
    }

    /// Leaves a nesting level.
    #[inline]
    pub(crate) fn leave(&mut self) {
        self.depth -= 1;
    }
}
