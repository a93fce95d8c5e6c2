//! The control messages carried by ENP type 199 (`MessageAny`), `#ergo.services/ergo/net/proto/...`
//! (wire-spec §6.8): link/monitor requests, remote spawn and application start, and results.

use std::collections::HashMap;

use ergo_edf::{
    ensure_registered, Alias, Atom, Edf, Event, GoError, Pid, ProcessId, Ref, RegisterError, Value,
};

use crate::gen::{ApplicationMode, ApplicationOptionsExtra, ProcessOptionsExtra};

macro_rules! target_request {
    ($($(#[$doc:meta])* $name:ident($target:ty) = $go:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Edf, Debug, Clone, PartialEq)]
        #[edf(name = $go)]
        pub struct $name {
            /// The process that wants to hear about the target.
            pub source: Pid,
            /// The target on the receiving node.
            pub target: $target,
            /// The requester's ref, echoed in the [`MessageResult`].
            pub reference: Ref,
        }
    )*};
}

target_request! {
    /// Link `source` to a PID.
    MessageLinkPid(Pid) = "#ergo.services/ergo/net/proto/MessageLinkPID";
    /// Remove a link to a PID.
    MessageUnlinkPid(Pid) = "#ergo.services/ergo/net/proto/MessageUnlinkPID";
    /// Link to a registered name.
    MessageLinkProcessId(ProcessId) = "#ergo.services/ergo/net/proto/MessageLinkProcessID";
    /// Remove a link to a registered name.
    MessageUnlinkProcessId(ProcessId) = "#ergo.services/ergo/net/proto/MessageUnlinkProcessID";
    /// Link to an alias.
    MessageLinkAlias(Alias) = "#ergo.services/ergo/net/proto/MessageLinkAlias";
    /// Remove a link to an alias.
    MessageUnlinkAlias(Alias) = "#ergo.services/ergo/net/proto/MessageUnlinkAlias";
    /// Link to an event (the result carries the event's buffered messages).
    MessageLinkEvent(Event) = "#ergo.services/ergo/net/proto/MessageLinkEvent";
    /// Remove a link to an event.
    MessageUnlinkEvent(Event) = "#ergo.services/ergo/net/proto/MessageUnlinkEvent";
    /// Monitor a PID.
    MessageMonitorPid(Pid) = "#ergo.services/ergo/net/proto/MessageMonitorPID";
    /// Remove a monitor of a PID.
    MessageDemonitorPid(Pid) = "#ergo.services/ergo/net/proto/MessageDemonitorPID";
    /// Monitor a registered name.
    MessageMonitorProcessId(ProcessId) = "#ergo.services/ergo/net/proto/MessageMonitorProcessID";
    /// Remove a monitor of a registered name.
    MessageDemonitorProcessId(ProcessId) = "#ergo.services/ergo/net/proto/MessageDemonitorProcessID";
    /// Monitor an alias.
    MessageMonitorAlias(Alias) = "#ergo.services/ergo/net/proto/MessageMonitorAlias";
    /// Remove a monitor of an alias.
    MessageDemonitorAlias(Alias) = "#ergo.services/ergo/net/proto/MessageDemonitorAlias";
    /// Monitor an event (the result carries the event's buffered messages).
    MessageMonitorEvent(Event) = "#ergo.services/ergo/net/proto/MessageMonitorEvent";
    /// Remove a monitor of an event.
    MessageDemonitorEvent(Event) = "#ergo.services/ergo/net/proto/MessageDemonitorEvent";
}

/// Spawn the process factory registered for remote spawn under `name`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/net/proto/MessageSpawn")]
pub struct MessageSpawn {
    /// The factory name enabled for remote spawn.
    pub name: Atom,
    /// Options (parent PID and leader must be set).
    pub options: ProcessOptionsExtra,
    /// The requester's ref.
    pub reference: Ref,
}

/// Start the application `name` (enabled for remote start) in `mode`.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/net/proto/MessageApplicationStart")]
pub struct MessageApplicationStart {
    /// The application.
    pub name: Atom,
    /// 0: the application's default, 1 temporary, 2 transient, 3 permanent.
    pub mode: ApplicationMode,
    /// Options.
    pub options: ApplicationOptionsExtra,
    /// The requester's ref.
    pub reference: Ref,
}

/// Never sent by Go 3.x; registered so its ID space matches. Do not send it to Go.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/net/proto/MessageUpdateCache")]
pub struct MessageUpdateCache {
    /// Atom cache additions.
    pub atom_cache: Option<HashMap<u16, Atom>>,
    /// Atom mapping.
    pub atom_mapping: Option<HashMap<Atom, Atom>>,
    /// Type cache additions.
    pub reg_cache: Option<HashMap<u16, String>>,
    /// Error cache additions.
    pub err_cache: Option<HashMap<u16, GoError>>,
    /// The requester's ref.
    pub reference: Ref,
}

/// The reply to every request above, matched by the whole ref.
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo.services/ergo/net/proto/MessageResult")]
pub struct MessageResult {
    /// The failure, if any.
    pub error: Option<GoError>,
    /// The result: nil, a PID (spawn), or a typed `[]gen.MessageEvent` (event link/monitor).
    pub result: Value,
    /// The request's ref, echoed.
    pub reference: Ref,
}

/// Registers the control messages, in Go's order (idempotent). Needs the `gen` types first.
pub fn register_control_types() -> Result<(), RegisterError> {
    ensure_registered::<MessageLinkPid>()?;
    ensure_registered::<MessageUnlinkPid>()?;
    ensure_registered::<MessageLinkProcessId>()?;
    ensure_registered::<MessageUnlinkProcessId>()?;
    ensure_registered::<MessageLinkAlias>()?;
    ensure_registered::<MessageUnlinkAlias>()?;
    ensure_registered::<MessageLinkEvent>()?;
    ensure_registered::<MessageUnlinkEvent>()?;
    ensure_registered::<MessageMonitorPid>()?;
    ensure_registered::<MessageDemonitorPid>()?;
    ensure_registered::<MessageMonitorProcessId>()?;
    ensure_registered::<MessageDemonitorProcessId>()?;
    ensure_registered::<MessageMonitorAlias>()?;
    ensure_registered::<MessageDemonitorAlias>()?;
    ensure_registered::<MessageMonitorEvent>()?;
    ensure_registered::<MessageDemonitorEvent>()?;
    ensure_registered::<MessageSpawn>()?;
    ensure_registered::<MessageApplicationStart>()?;
    ensure_registered::<MessageUpdateCache>()?;
    ensure_registered::<MessageResult>()?;
    Ok(())
}
