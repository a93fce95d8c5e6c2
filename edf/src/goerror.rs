//! `GoError`: an error value as EDF carries it (its text), and the process-wide error registry
//! whose entries may travel as error-cache IDs.
//!
//! The fifteen framework errors of Go Ergo are registered first, in Go's order, so their IDs
//! (32768..32782) match every Go 3.x node.

use std::fmt;
use std::sync::{Arc, LazyLock, RwLock};

use crate::error::RegisterError;
use crate::tags::{ERROR_CACHE_MIN, MAX_ERROR_LEN};

/// An error as it crosses the wire: Go sends only its text.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct GoError(Arc<str>);

impl GoError {
    /// An error with this text.
    pub fn new(text: impl Into<Arc<str>>) -> GoError {
        GoError(text.into())
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.0
    }

    /// Is this one of the framework's registered errors (compared by text, as Go does on decode)?
    pub fn is(&self, other: &GoError) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl fmt::Debug for GoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error({:?})", &*self.0)
    }
}

impl fmt::Display for GoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GoError {}

impl From<&str> for GoError {
    fn from(s: &str) -> Self {
        GoError::new(s)
    }
}

impl From<String> for GoError {
    fn from(s: String) -> Self {
        GoError::new(s)
    }
}

/// The texts of Go Ergo's pre-registered errors, in registration order (IDs 32768..).
pub const FRAMEWORK_ERRORS: [&str; 15] = [
    "incorrect value or argument",
    "timed out",
    "not supported",
    "unknown",
    "unknown name",
    "not allowed",
    "unknown process",
    "process terminated",
    "unknown meta process",
    "unknown application",
    "resource is taken",
    "normal",
    "shutdown",
    "kill",
    "panic",
];

/// The framework's errors by name, as Go Ergo's `gen` package calls them.
pub mod errors {
    use super::{registered_error, GoError};

    macro_rules! framework_error {
        ($(#[$doc:meta] $name:ident = $idx:expr;)*) => {$(
            #[$doc]
            #[allow(non_snake_case)]
            pub fn $name() -> GoError { registered_error($idx) }
        )*};
    }

    framework_error! {
        /// `gen.ErrIncorrect`: "incorrect value or argument".
        ErrIncorrect = 0;
        /// `gen.ErrTimeout`: "timed out".
        ErrTimeout = 1;
        /// `gen.ErrUnsupported`: "not supported".
        ErrUnsupported = 2;
        /// `gen.ErrUnknown`: "unknown".
        ErrUnknown = 3;
        /// `gen.ErrNameUnknown`: "unknown name".
        ErrNameUnknown = 4;
        /// `gen.ErrNotAllowed`: "not allowed".
        ErrNotAllowed = 5;
        /// `gen.ErrProcessUnknown`: "unknown process".
        ErrProcessUnknown = 6;
        /// `gen.ErrProcessTerminated`: "process terminated".
        ErrProcessTerminated = 7;
        /// `gen.ErrMetaUnknown`: "unknown meta process".
        ErrMetaUnknown = 8;
        /// `gen.ErrApplicationUnknown`: "unknown application".
        ErrApplicationUnknown = 9;
        /// `gen.ErrTaken`: "resource is taken".
        ErrTaken = 10;
        /// `gen.TerminateReasonNormal`: "normal".
        TerminateReasonNormal = 11;
        /// `gen.TerminateReasonShutdown`: "shutdown".
        TerminateReasonShutdown = 12;
        /// `gen.TerminateReasonKill`: "kill".
        TerminateReasonKill = 13;
        /// `gen.TerminateReasonPanic`: "panic".
        TerminateReasonPanic = 14;
    }
}

static ERRORS: LazyLock<RwLock<Vec<GoError>>> =
    LazyLock::new(|| RwLock::new(FRAMEWORK_ERRORS.iter().map(|t| GoError::new(*t)).collect()));

fn registered_error(index: usize) -> GoError {
    let table = ERRORS.read().unwrap_or_else(|e| e.into_inner());
    table[index].clone()
}

/// Registers an error so that it may travel as an error-cache ID. Returns its ID.
/// Registering a text twice fails with [`RegisterError::Taken`] (as Go's `RegisterError`).
pub fn register_error(err: &GoError) -> Result<u16, RegisterError> {
    if err.text().len() > MAX_ERROR_LEN {
        return Err(RegisterError::ErrorTooLong);
    }
    let mut table = ERRORS.write().unwrap_or_else(|e| e.into_inner());
    if table.iter().any(|e| e.text() == err.text()) {
        return Err(RegisterError::Taken(err.text().to_string()));
    }
    let id = usize::from(ERROR_CACHE_MIN) + table.len();
    if id >= 0xffff {
        return Err(RegisterError::Full("errors"));
    }
    table.push(err.clone());
    Ok(id as u16)
}

/// Every registered error with its cache ID (what a node announces in its handshake).
pub fn registered_errors() -> Vec<(u16, GoError)> {
    let table = ERRORS.read().unwrap_or_else(|e| e.into_inner());
    table
        .iter()
        .enumerate()
        .map(|(i, e)| (ERROR_CACHE_MIN + i as u16, e.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framework_errors_have_go_ids() {
        let all = registered_errors();
        assert_eq!(all[0], (32768, GoError::new("incorrect value or argument")));
        assert_eq!(all[6], (32774, GoError::new("unknown process")));
        assert_eq!(all[14], (32782, GoError::new("panic")));
        assert_eq!(errors::ErrTimeout().text(), "timed out");
    }

    #[test]
    fn registering_twice_is_taken() {
        let e = GoError::new("goerror test: twice");
        let id = register_error(&e).unwrap();
        assert!(id > 32782);
        assert_eq!(
            register_error(&e),
            Err(RegisterError::Taken(e.text().into()))
        );
    }
}
