//! The etcd registrar's events (Go's `etcd.Event*` types) and how watch events become them;
//! the small process that owns the registrar event on the node and publishes them.
//!
//! The event is named as Go names it, `services/ergo/cluster/{cluster}/routes/`, and
//! registered on this node: a process subscribes with `ctx.monitor_event(event)` or
//! `ctx.link_event(event)`, where `event` is `Network::registrar()?.event()?`, and receives one
//! of the types below in `handle_event` (`MessageEvent::downcast_ref`).

use ergo_edf::{Atom, Edf, Event, Ref};

use super::layout::Paths;
use crate::registrar::{ConfigValue, RouteState};
use crate::{Actor, Context, EventOptions, HandleResult, Message, Pid};

/// A configuration item's effective value for this node changed (`None`: no longer set).
#[derive(Debug, Clone, PartialEq)]
pub struct EventConfigUpdate {
    /// The item.
    pub item: String,
    /// Its new effective value.
    pub value: Option<ConfigValue>,
}

/// A node registered in the cluster.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/registrar/etcd/EventNodeJoined")]
pub struct EventNodeJoined {
    /// The node.
    pub name: Atom,
}

/// A node's registration went away (clean stop, or its lease expired).
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/registrar/etcd/EventNodeLeft")]
pub struct EventNodeLeft {
    /// The node.
    pub name: Atom,
}

/// An application was loaded on a node.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/registrar/etcd/EventApplicationLoaded")]
pub struct EventApplicationLoaded {
    /// The application.
    pub name: Atom,
    /// The node.
    pub node: Atom,
    /// Its weight.
    pub weight: isize,
}

/// An application started on a node.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/registrar/etcd/EventApplicationStarted")]
pub struct EventApplicationStarted {
    /// The application.
    pub name: Atom,
    /// The node.
    pub node: Atom,
    /// Its weight.
    pub weight: isize,
    /// Its mode (1 temporary, 2 transient, 3 permanent).
    pub mode: ergo_proto::gen::ApplicationMode,
}

/// An application is stopping on a node.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/registrar/etcd/EventApplicationStopping")]
pub struct EventApplicationStopping {
    /// The application.
    pub name: Atom,
    /// The node.
    pub node: Atom,
}

/// An application's route went away from a node (Go emits this for every deleted application
/// key: the application was unloaded or its node left).
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/registrar/etcd/EventApplicationStopped")]
pub struct EventApplicationStopped {
    /// The application.
    pub name: Atom,
    /// The node.
    pub node: Atom,
}

/// Go declares this type but its registrar never sends it (a deleted application key is
/// [`EventApplicationStopped`]); kept so both sides name the same set.
#[derive(Edf, Debug, Clone, PartialEq, Eq)]
#[edf(name = "#ergo.services/registrar/etcd/EventApplicationUnloaded")]
pub struct EventApplicationUnloaded {
    /// The application.
    pub name: Atom,
    /// The node.
    pub node: Atom,
}

/// One of the registrar's events, before it is published as its own type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ClusterEvent {
    NodeJoined(EventNodeJoined),
    NodeLeft(EventNodeLeft),
    AppLoaded(EventApplicationLoaded),
    AppStarted(EventApplicationStarted),
    AppStopping(EventApplicationStopping),
    AppStopped(EventApplicationStopped),
    Config(EventConfigUpdate),
}

/// What a node or application key's change means (config keys are handled by the session,
/// which knows the effective values). `value` is `None` for a delete. Changes about this
/// node itself are no event (as Go).
pub(crate) fn route_event(
    paths: &Paths,
    me: Atom,
    key: &str,
    value: Option<&[u8]>,
) -> Option<ClusterEvent> {
    if let Some(name) = key.strip_prefix(paths.nodes.as_str()) {
        if name.is_empty() || name == me.as_str() {
            return None;
        }
        let name = Atom::new(name);
        return Some(match value {
            Some(_) => ClusterEvent::NodeJoined(EventNodeJoined { name }),
            None => ClusterEvent::NodeLeft(EventNodeLeft { name }),
        });
    }
    let rest = key.strip_prefix(paths.apps.as_str())?;
    let (app, node) = rest.split_once('/')?;
    if app.is_empty() || node.is_empty() || node.contains('/') {
        tracing::warn!(key, "etcd registrar: malformed application key");
        return None;
    }
    let (name, node) = (Atom::new(app), Atom::new(node));
    let Some(value) = value else {
        return Some(ClusterEvent::AppStopped(EventApplicationStopped {
            name,
            node,
        }));
    };
    let route = match super::layout::decode_app(value) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(key, error = %e, "etcd registrar: undecodable application route");
            return None;
        }
    };
    match route.state {
        RouteState::LOADED => Some(ClusterEvent::AppLoaded(EventApplicationLoaded {
            name,
            node,
            weight: route.weight,
        })),
        RouteState::RUNNING => Some(ClusterEvent::AppStarted(EventApplicationStarted {
            name,
            node,
            weight: route.weight,
            mode: route.mode,
        })),
        RouteState::STOPPING => Some(ClusterEvent::AppStopping(EventApplicationStopping {
            name,
            node,
        })),
        _ => None,
    }
}

/// Registers the EDF types of the events (so they can travel to remote subscribers).
pub(crate) fn register_types() -> Result<(), ergo_edf::RegisterError> {
    ergo_edf::ensure_registered::<EventNodeJoined>()?;
    ergo_edf::ensure_registered::<EventNodeLeft>()?;
    ergo_edf::ensure_registered::<EventApplicationLoaded>()?;
    ergo_edf::ensure_registered::<EventApplicationStarted>()?;
    ergo_edf::ensure_registered::<EventApplicationStopping>()?;
    ergo_edf::ensure_registered::<EventApplicationStopped>()?;
    ergo_edf::ensure_registered::<EventApplicationUnloaded>()?;
    Ok(())
}

/// The process that owns the registrar event: the registrar's thread sends it
/// [`ClusterEvent`]s, it publishes each as its own type.
pub(crate) struct EventOwner {
    pub(crate) name: Atom,
    pub(crate) token: Option<Ref>,
}

impl EventOwner {
    /// The event this owner registers on `node`.
    pub(crate) fn event(&self, node: Atom) -> Event {
        Event::new(self.name, node)
    }
}

impl Actor for EventOwner {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        let token = ctx
            .register_event(self.name, EventOptions::default())
            .map_err(|e| crate::Reason::custom(format!("registrar event: {e}")))?;
        self.token = Some(token);
        Ok(())
    }

    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        let (Ok(ev), Some(token)) = (msg.downcast::<ClusterEvent>(), self.token) else {
            return Ok(());
        };
        let name = self.name;
        let r = match ev {
            ClusterEvent::NodeJoined(e) => ctx.send_event(name, token, e),
            ClusterEvent::NodeLeft(e) => ctx.send_event(name, token, e),
            ClusterEvent::AppLoaded(e) => ctx.send_event(name, token, e),
            ClusterEvent::AppStarted(e) => ctx.send_event(name, token, e),
            ClusterEvent::AppStopping(e) => ctx.send_event(name, token, e),
            ClusterEvent::AppStopped(e) => ctx.send_event(name, token, e),
            ClusterEvent::Config(e) => ctx.send_event(name, token, e),
        };
        if let Err(e) = r {
            tracing::warn!(error = %e, "etcd registrar: event not published");
        }
        Ok(())
    }
}
