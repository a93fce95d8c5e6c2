//! Logging: the node and each process log through `tracing`, each with its own level (Go
//! Ergo's `gen.LogLevel`). A process's level defaults to the node's; a message below it is
//! dropped before `tracing` sees it. Events carry the node and the PID (and registered name)
//! as fields, so a `tracing` subscriber can route and filter them further.
//!
//! Processes can also be *loggers* (Go Ergo's `LoggerAddPID`): every emitted message at or
//! above a logger's level is sent to it as a [`MessageLog`], through its mailbox's Log queue
//! (served after Urgent, System and Main).

use std::fmt;

/// A log level (Go Ergo's `LogLevel*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum LogLevel {
    /// Everything.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    #[default]
    Info,
    /// Something unexpected but handled.
    Warning,
    /// A failure.
    Error,
    /// A failure that ends the process.
    Panic,
    /// Nothing is logged.
    Disabled,
}

impl LogLevel {
    pub(crate) fn to_u8(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_u8(v: u8) -> LogLevel {
        match v {
            0 => LogLevel::Trace,
            1 => LogLevel::Debug,
            2 => LogLevel::Info,
            3 => LogLevel::Warning,
            4 => LogLevel::Error,
            5 => LogLevel::Panic,
            _ => LogLevel::Disabled,
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warning => "warning",
            LogLevel::Error => "error",
            LogLevel::Panic => "panic",
            LogLevel::Disabled => "disabled",
        })
    }
}

/// One log message, as a logger process receives it (in `handle_message`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageLog {
    /// The level.
    pub level: LogLevel,
    /// The node.
    pub node: ergo_edf::Atom,
    /// The process that logged, or `None` for the node itself.
    pub source: Option<ergo_edf::Pid>,
    /// Unix nanoseconds.
    pub time: i64,
    /// The text.
    pub text: String,
}

/// Emits one event if `level` passes `threshold`. Returns whether it was emitted.
pub(crate) fn emit(
    threshold: LogLevel,
    level: LogLevel,
    node: &str,
    pid: Option<&dyn fmt::Display>,
    name: Option<&str>,
    args: fmt::Arguments<'_>,
) -> bool {
    if level < threshold || level == LogLevel::Disabled || threshold == LogLevel::Disabled {
        return false;
    }
    let pid = pid.map(|p| p.to_string()).unwrap_or_default();
    let name = name.unwrap_or("");
    match level {
        LogLevel::Trace => tracing::trace!(node, pid, name, "{}", args),
        LogLevel::Debug => tracing::debug!(node, pid, name, "{}", args),
        LogLevel::Info => tracing::info!(node, pid, name, "{}", args),
        LogLevel::Warning => tracing::warn!(node, pid, name, "{}", args),
        LogLevel::Error | LogLevel::Panic => {
            tracing::error!(node, pid, name, level = %level, "{}", args)
        }
        LogLevel::Disabled => return false,
    }
    true
}
