//! Where a message goes: a PID, a registered name, a `ProcessId` or an alias.

use ergo_edf::{Alias, Atom, Pid, ProcessId};

/// The addressee of a send, call, link or monitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// A process by PID.
    Pid(Pid),
    /// A process registered under this name on the local node.
    Name(Atom),
    /// A process registered under a name on a node.
    ProcessId(ProcessId),
    /// A process by one of its aliases.
    Alias(Alias),
}

impl From<Pid> for Target {
    fn from(p: Pid) -> Self {
        Target::Pid(p)
    }
}

impl From<Atom> for Target {
    fn from(a: Atom) -> Self {
        Target::Name(a)
    }
}

impl From<&str> for Target {
    fn from(a: &str) -> Self {
        Target::Name(Atom::new(a))
    }
}

impl From<ProcessId> for Target {
    fn from(p: ProcessId) -> Self {
        Target::ProcessId(p)
    }
}

impl From<Alias> for Target {
    fn from(a: Alias) -> Self {
        Target::Alias(a)
    }
}
