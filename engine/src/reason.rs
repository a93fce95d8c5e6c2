//! Why a process terminated, and the errors of the engine's API.

use std::fmt;
use std::sync::Arc;

/// The reason a process terminated (Go Ergo's `TerminateReason*` values, plus custom ones).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The process finished its work (`normal`).
    Normal,
    /// The process was asked to stop by its parent, supervisor or node (`shutdown`).
    Shutdown,
    /// The process was killed; cannot be trapped (`kill`).
    Kill,
    /// A handler panicked (`panic`).
    Panic,
    /// The target process did not exist (`unknown process`), in exit signals and down messages.
    NoProc,
    /// Any other reason.
    Custom(Arc<str>),
}

impl Reason {
    /// A custom reason.
    pub fn custom(s: impl Into<Arc<str>>) -> Reason {
        Reason::Custom(s.into())
    }

    /// `normal` or `shutdown`: the reasons a `transient` child is not restarted for.
    pub fn is_normal_or_shutdown(&self) -> bool {
        matches!(self, Reason::Normal | Reason::Shutdown)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Normal => f.write_str("normal"),
            Reason::Shutdown => f.write_str("shutdown"),
            Reason::Kill => f.write_str("kill"),
            Reason::Panic => f.write_str("panic"),
            Reason::NoProc => f.write_str("unknown process"),
            Reason::Custom(s) => f.write_str(s),
        }
    }
}

impl fmt::Debug for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<&str> for Reason {
    fn from(s: &str) -> Self {
        Reason::custom(s)
    }
}

/// Errors of the engine's API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The target process does not exist (or not any more).
    #[error("unknown process")]
    ProcessUnknown,
    /// No process is registered under that name.
    #[error("unknown name {0}")]
    NameUnknown(ergo_edf::Atom),
    /// The name is already registered.
    #[error("name {0} is taken")]
    Taken(ergo_edf::Atom),
    /// The process already has a registered name.
    #[error("process already has a name")]
    HasName,
    /// The target's mailbox is full and it has no fallback.
    #[error("mailbox of the target process is full")]
    MailboxFull,
    /// A call did not get its response in time.
    #[error("call timed out")]
    Timeout,
    /// The node is stopping or stopped.
    #[error("node is not running")]
    NodeTerminated,
    /// The process terminated (the caller, or the callee before it replied).
    #[error("process terminated: {0}")]
    Terminated(Reason),
    /// `init` refused to start the process.
    #[error("process init failed: {0}")]
    InitFailed(Reason),
    /// No connection to the target's node (network disabled, or the node cannot be reached).
    #[error("no connection to node {0}")]
    NoConnection(ergo_edf::Atom),
    /// A message could not cross the network (no EDF mapping for its type, too large, ...).
    #[error("network: {0}")]
    Network(String),
    /// The event is not registered.
    #[error("unknown event {0}")]
    EventUnknown(ergo_edf::Atom),
    /// The event token does not match, or the caller does not own the event.
    #[error("not the owner of event {0}")]
    EventOwner(ergo_edf::Atom),
    /// An argument was not acceptable (a node name without `@`, zero shards, ...).
    #[error("invalid argument: {0}")]
    Invalid(&'static str),
    /// An application name is unknown.
    #[error("unknown application {0}")]
    ApplicationUnknown(ergo_edf::Atom),
    /// An application depends on one that is not running.
    #[error("application {0} depends on {1}, which is not running")]
    ApplicationDepends(ergo_edf::Atom, ergo_edf::Atom),
    /// The application is already running (or already loaded).
    #[error("application {0} is already running")]
    ApplicationRunning(ergo_edf::Atom),
    /// The operating system refused something (io_uring, eventfd, threads).
    #[error("system error: {0}")]
    Os(String),
    /// The process already links to or monitors that target (Go's `ErrTargetExist`).
    #[error("target already exists")]
    TargetExists,
    /// The process does not link to or monitor that target (Go's `ErrTargetUnknown`).
    #[error("unknown target")]
    TargetUnknown,
    /// The blocking pool has as many jobs waiting as its bound allows
    /// ([`crate::BlockingOptions::queue`]).
    #[error("blocking pool is full")]
    BlockingPoolFull,
    /// A job on the blocking pool panicked (the panic's message).
    #[error("blocking job panicked: {0}")]
    BlockingPanicked(String),
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Os(e.to_string())
    }
}

impl From<Error> for Reason {
    /// Lets handlers use `?` on engine calls: the process terminates with the error as reason.
    fn from(e: Error) -> Self {
        match e {
            Error::Terminated(r) | Error::InitFailed(r) => r,
            e => Reason::custom(e.to_string()),
        }
    }
}
