//! Rust twins of the user types the Go transcript generator registered (`vectorsgen/msgs`).

use ergo_edf::{ensure_registered, Edf, Pid, RegisterError};

/// `msgs.Order`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/Order")]
pub struct Order {
    pub id: i64,
    pub item: String,
    pub qty: u16,
    pub price: f64,
    pub tags: Option<Vec<String>>,
}

/// `msgs.LateOrder` (registered after the handshake: travels by name).
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/LateOrder")]
pub struct LateOrder {
    pub id: i64,
    pub note: String,
}

/// `msgs.CallRequest`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/CallRequest")]
pub struct CallRequest {
    pub op: String,
    pub arg: isize,
}

/// `msgs.CallReply`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#vectorsgen/msgs/CallReply")]
pub struct CallReply {
    pub result: isize,
    pub by: Pid,
}

/// Registers the framework types and these twins (idempotent).
pub fn register_all() -> Result<(), RegisterError> {
    ergo_proto::register_framework_types()?;
    ensure_registered::<Order>()?;
    ensure_registered::<LateOrder>()?;
    ensure_registered::<CallRequest>()?;
    ensure_registered::<CallReply>()?;
    Ok(())
}
