//! The built-in identifiers of Ergo: `Pid`, `ProcessId`, `Ref`, `Alias`, `Event`.
//!
//! All are `Copy` (their node names are [`Atom`]s), so passing them around costs no allocation
//! and no shared-memory traffic.

use std::fmt;

use crate::Atom;

/// A process identifier: the node it lives on, a 64-bit ID, and the node's creation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Pid {
    /// The node (`name@host`).
    pub node: Atom,
    /// The process number, unique within one node creation.
    pub id: u64,
    /// The node's creation (Unix seconds at node start).
    pub creation: i64,
}

impl Pid {
    /// Builds a PID.
    pub fn new(node: Atom, id: u64, creation: i64) -> Pid {
        Pid { node, id, creation }
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Pid {
    /// Go Ergo's form: `<8E3A1B2C.0.1001>` (CRC32 of the node name, 0, ID).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<{:08X}.0.{}>",
            crc32(self.node.as_str().as_bytes()),
            self.id
        )
    }
}

/// A registered process name on a node. On the wire the node comes first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ProcessId {
    /// The registered name.
    pub name: Atom,
    /// The node.
    pub node: Atom,
}

impl ProcessId {
    /// Builds a ProcessID.
    pub fn new(name: Atom, node: Atom) -> ProcessId {
        ProcessId { name, node }
    }
}

impl fmt::Debug for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<{:08X}.'{}'>",
            crc32(self.node.as_str().as_bytes()),
            self.name
        )
    }
}

/// A reference: unique-ish token used for calls, monitors and links.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Ref {
    /// The node that made it.
    pub node: Atom,
    /// That node's creation.
    pub creation: i64,
    /// Three 64-bit words.
    pub id: [u64; 3],
}

impl fmt::Debug for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Ref#<{:08X}.{}.{}.{}>",
            crc32(self.node.as_str().as_bytes()),
            self.id[0],
            self.id[1],
            self.id[2]
        )
    }
}

/// An alias: a reference that addresses a process. Same layout as [`Ref`], its own tag.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Alias {
    /// The node.
    pub node: Atom,
    /// The node's creation.
    pub creation: i64,
    /// Three 64-bit words.
    pub id: [u64; 3],
}

impl fmt::Debug for Alias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Alias#<{:08X}.{}.{}.{}>",
            crc32(self.node.as_str().as_bytes()),
            self.id[0],
            self.id[1],
            self.id[2]
        )
    }
}

/// A registered event on a node. On the wire the node comes first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Event {
    /// The event name.
    pub name: Atom,
    /// The node.
    pub node: Atom,
}

impl Event {
    /// Builds an Event.
    pub fn new(name: Atom, node: Atom) -> Event {
        Event { name, node }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Event#<{:08X}:'{}'>",
            crc32(self.node.as_str().as_bytes()),
            self.name
        )
    }
}

/// IEEE CRC-32, used only to print node names the way Go Ergo does.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_ieee_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn pid_prints_like_go() {
        let p = Pid::new(Atom::new("123456789"), 1001, 1);
        assert_eq!(p.to_string(), "<CBF43926.0.1001>");
    }
}
