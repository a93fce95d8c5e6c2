//! Options for spawning a process (Go Ergo's `ProcessOptions`).

use std::any::Any;
use std::sync::Arc;

use ergo_edf::Atom;

use crate::Priority;

/// Where messages go when a bounded mailbox is full (Go Ergo's `ProcessFallback`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fallback {
    /// The registered name of the fallback process; it receives `MessageFallback`.
    pub name: Atom,
    /// A tag copied into every `MessageFallback`.
    pub tag: Atom,
}

/// Compression of the messages a process sends to other nodes (Go Ergo's
/// `gen.Compression`): a frame longer than `threshold` bytes (header included) goes out
/// compressed. Local sends are never compressed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Compression {
    /// Compress messages to remote nodes.
    pub enable: bool,
    /// Only frames longer than this many bytes (0: Go's default, 1024; Go refuses less than
    /// 1024, so smaller values are raised to it).
    pub threshold: usize,
    /// Go's level: 0 default, 1 best speed, 2 best size.
    pub level: u8,
    /// The algorithm.
    pub kind: CompressionKind,
}

/// A compression algorithm (Go's `gen.CompressionType`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CompressionKind {
    /// gzip (Go's default).
    #[default]
    Gzip,
    /// zlib.
    Zlib,
    /// LZW (LSB order, literal width 8).
    Lzw,
}

impl CompressionKind {
    /// From Go's type name (`"gzip"`, `"zlib"`, `"lzw"`); anything else is gzip.
    pub fn from_go(s: &str) -> CompressionKind {
        match s {
            "zlib" => CompressionKind::Zlib,
            "lzw" => CompressionKind::Lzw,
            _ => CompressionKind::Gzip,
        }
    }
}

impl Compression {
    /// The codec's options, if compression is on.
    pub(crate) fn wire(&self) -> Option<ergo_proto::connection::CompressionOptions> {
        use ergo_proto::compression::Algorithm;
        self.enable
            .then(|| ergo_proto::connection::CompressionOptions {
                algorithm: match self.kind {
                    CompressionKind::Gzip => Algorithm::Gzip,
                    CompressionKind::Zlib => Algorithm::Zlib,
                    CompressionKind::Lzw => Algorithm::Lzw,
                },
                level: isize::from(self.level.min(2)),
                threshold: if self.threshold == 0 {
                    1024
                } else {
                    self.threshold.max(1024)
                },
            })
    }
}

/// How to spawn a process (Go Ergo's `ProcessOptions`, plus a shard choice).
///
/// ```
/// use ergo_engine::SpawnOptions;
/// let opts = SpawnOptions { mailbox_size: 1000, link_parent: true, ..Default::default() }.register("worker");
/// assert_eq!(opts.register.unwrap().as_str(), "worker");
/// ```
#[derive(Clone, Default)]
pub struct SpawnOptions {
    /// Register the process under this name.
    pub register: Option<Atom>,
    /// Link the child and its parent (exit signals both ways).
    pub link_parent: bool,
    /// The parent monitors the child (gets `MessageDownPid` when it terminates).
    pub monitor_parent: bool,
    /// Trap exits from the start (exit signals arrive as `MessageExitPid` messages).
    pub trap_exit: bool,
    /// Bound of the Main queue; 0 = unbounded. Messages past it go to `fallback`, or the send
    /// fails with `Error::MailboxFull` (when the sender is on the same shard).
    pub mailbox_size: u32,
    /// Where messages go when the mailbox is full.
    pub fallback: Option<Fallback>,
    /// The default priority of the messages this process sends.
    pub send_priority: Priority,
    /// Environment variables of the process (readable with `Context::env`).
    pub env: Vec<(Atom, Arc<dyn Any + Send + Sync>)>,
    /// The shard to start on, for `Node::spawn` (`None`: round robin). `Context::spawn` uses
    /// the parent's shard; `Context::spawn_on` takes the shard as an argument.
    pub shard: Option<usize>,
    /// Compression for remote sends (network issue).
    pub compression: Compression,
    /// The process's log level; `None`: the node's.
    pub log_level: Option<crate::LogLevel>,
}

impl SpawnOptions {
    /// The same options with a name to register.
    pub fn register(mut self, name: impl Into<Atom>) -> Self {
        self.register = Some(name.into());
        self
    }

    /// The same options with an environment variable.
    pub fn env(mut self, name: impl Into<Atom>, value: impl Any + Send + Sync) -> Self {
        self.env.push((name.into(), Arc::new(value)));
        self
    }
}
