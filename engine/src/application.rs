//! Applications: a named group of processes started, watched and stopped as a unit (Go Ergo's
//! `gen.ApplicationSpec`), with dependencies and a mode.
//!
//! An application's members are started in order as children of an internal *application
//! master* process, which links to them and applies the mode when one terminates:
//! - **temporary**: the others go on; the application stops when its last member has
//!   terminated;
//! - **transient**: a member terminating with a reason other than `normal` or `shutdown` stops
//!   the application (its other members in reverse start order) and then the node; a normal
//!   termination behaves as in temporary mode;
//! - **permanent**: any member terminating, for any reason, stops the application and the node.
//!
//! An application starts only when every application it depends on is running. `Node::stop`
//! stops running applications in reverse start order (dependents before their dependencies).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ergo_edf::{Atom, Pid};

use crate::registrar::{ApplicationRoute, RouteState};
use crate::supervisor::ChildSpec;
use crate::{
    Actor, Context, Error, HandleResult, Message, MessageExitPid, Node, Reason, SpawnOptions,
};
use ergo_proto::gen::ApplicationMode as WireMode;

/// What happens when a member terminates (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ApplicationMode {
    /// Members terminate independently; the application ends with its last member.
    #[default]
    Temporary,
    /// An abnormal member termination stops the application and the node.
    Transient,
    /// Any member termination stops the application and the node.
    Permanent,
}

/// An application's spec.
#[derive(Clone)]
pub struct ApplicationSpec {
    /// Its name.
    pub name: Atom,
    /// A line for humans.
    pub description: String,
    /// A version string.
    pub version: String,
    /// Applications that must be running before this one starts.
    pub depends: Vec<Atom>,
    /// The default mode (`Node::application_start` may override it).
    pub mode: ApplicationMode,
    /// Members, in start order (supervisors are members like any actor).
    pub group: Vec<ChildSpec>,
    /// How long `application_stop` waits for the members to stop.
    pub stop_timeout: Duration,
    /// Its weight among the nodes offering it, announced with its route to registrars that
    /// keep application routes (Go's `ApplicationSpec.Weight`).
    pub weight: isize,
    /// Environment variables of the application: its master (the group leader) holds them,
    /// and every member inherits them (over the node's, under their own).
    pub env: crate::EnvVars,
}

impl ApplicationSpec {
    /// A spec with no members yet.
    pub fn new(name: impl Into<Atom>) -> ApplicationSpec {
        ApplicationSpec {
            name: name.into(),
            description: String::new(),
            version: String::new(),
            depends: Vec::new(),
            mode: ApplicationMode::Temporary,
            group: Vec::new(),
            stop_timeout: Duration::from_secs(5),
            weight: 0,
            env: crate::EnvVars::default(),
        }
    }
}

/// An application's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplicationState {
    /// Loaded, not running.
    Loaded,
    /// Running, with its master process.
    Running {
        /// The master process.
        master: Pid,
        /// The mode it was started in.
        mode: ApplicationMode,
    },
}

/// One application, as `Node::applications` lists it.
#[derive(Clone, Debug)]
pub struct ApplicationInfo {
    /// Name.
    pub name: Atom,
    /// Description.
    pub description: String,
    /// Version.
    pub version: String,
    /// State.
    pub state: ApplicationState,
    /// Dependencies.
    pub depends: Vec<Atom>,
}

struct Entry {
    spec: Arc<ApplicationSpec>,
    state: ApplicationState,
}

/// The node's application table.
#[derive(Default)]
pub(crate) struct Apps {
    inner: Mutex<AppsInner>,
}

#[derive(Default)]
struct AppsInner {
    apps: HashMap<Atom, Entry>,
    /// Running applications in start order.
    started: Vec<Atom>,
}

impl Apps {
    fn lock(&self) -> MutexGuard<'_, AppsInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stopped(&self, name: Atom, master: Pid) {
        let mut a = self.lock();
        if let Some(e) = a.apps.get_mut(&name) {
            if matches!(e.state, ApplicationState::Running { master: m, .. } if m == master) {
                e.state = ApplicationState::Loaded;
                a.started.retain(|n| *n != name);
            }
        }
    }
}

/// Starts the members, watches them, applies the mode.
struct Master {
    spec: Arc<ApplicationSpec>,
    mode: ApplicationMode,
    members: Vec<Option<Pid>>,
    /// Stopping: members still to stop (next = last), the one being stopped, then the reason.
    stopping: Option<(Vec<Pid>, Option<Pid>, Reason, bool)>,
}

impl Master {
    fn begin_stop(&mut self, ctx: &mut Context, reason: Reason, stop_node: bool) -> HandleResult {
        let queue: Vec<Pid> = self.members.iter().flatten().copied().collect();
        self.stopping = Some((queue, None, reason, stop_node));
        self.stop_next(ctx)
    }

    fn stop_next(&mut self, ctx: &mut Context) -> HandleResult {
        loop {
            let Some((queue, current, reason, stop_node)) = self.stopping.as_mut() else {
                return Ok(());
            };
            if current.is_some() {
                return Ok(());
            }
            match queue.pop() {
                Some(pid) => {
                    if ctx.send_exit(pid, Reason::Shutdown).is_ok() {
                        *current = Some(pid);
                        return Ok(());
                    }
                }
                None => {
                    if *stop_node {
                        tracing::warn!(application = %self.spec.name, %reason, "application failed, stopping the node");
                        ctx.node().stop();
                    }
                    return Err(reason.clone());
                }
            }
        }
    }
}

impl Actor for Master {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        ctx.set_trap_exit(true);
        // Members and everything they spawn inherit the application (for inspection).
        ctx.cell.ext().application = Some(self.spec.name);
        for c in &self.spec.group {
            let mut opts = SpawnOptions {
                link_parent: true,
                ..c.options.clone()
            };
            if c.register {
                opts.register = Some(c.name);
            }
            let pid = (c.factory)().spawn_boxed(ctx, opts)?;
            self.members.push(Some(pid));
        }
        Ok(())
    }

    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        message: Message,
    ) -> HandleResult {
        let Ok(MessageExitPid { pid, reason }) = message.downcast::<MessageExitPid>() else {
            return Ok(());
        };
        let member = self.members.iter().position(|m| *m == Some(pid));
        if let Some((queue, current, _, _)) = self.stopping.as_mut() {
            if *current == Some(pid) {
                *current = None;
            } else {
                queue.retain(|p| *p != pid);
            }
            return self.stop_next(ctx);
        }
        let Some(i) = member else {
            // Not a member: someone (the node, `application_stop`) asks us to stop.
            return self.begin_stop(ctx, reason, false);
        };
        self.members[i] = None;
        let abnormal = !reason.is_normal_or_shutdown();
        match self.mode {
            ApplicationMode::Permanent => self.begin_stop(ctx, reason, true),
            ApplicationMode::Transient if abnormal => self.begin_stop(ctx, reason, true),
            _ => {
                if self.members.iter().all(|m| m.is_none()) {
                    return Err(Reason::Normal);
                }
                Ok(())
            }
        }
    }

    fn terminate(&mut self, ctx: &mut Context, _reason: &Reason) {
        ctx.node().0.apps.stopped(self.spec.name, ctx.pid());
        announce(&ctx.node(), &self.spec, self.mode, Some(RouteState::LOADED));
    }
}

impl Node {
    /// Loads an application (makes it known; does not start it).
    pub fn application_load(&self, spec: ApplicationSpec) -> Result<Atom, Error> {
        let name = spec.name;
        let mut a = self.0.apps.lock();
        if a.apps.contains_key(&name) {
            return Err(Error::ApplicationRunning(name));
        }
        a.apps.insert(
            name,
            Entry {
                spec: Arc::new(spec),
                state: ApplicationState::Loaded,
            },
        );
        let spec = a.apps.get(&name).map(|e| e.spec.clone());
        drop(a);
        if let Some(spec) = spec {
            announce(self, &spec, spec.mode, Some(RouteState::LOADED));
        }
        Ok(name)
    }

    /// Unloads a loaded (not running) application.
    pub fn application_unload(&self, name: impl Into<Atom>) -> Result<(), Error> {
        let name = name.into();
        let mut a = self.0.apps.lock();
        match a.apps.get(&name).map(|e| e.state) {
            None => Err(Error::ApplicationUnknown(name)),
            Some(ApplicationState::Running { .. }) => Err(Error::ApplicationRunning(name)),
            Some(ApplicationState::Loaded) => {
                if let Some(e) = a.apps.remove(&name) {
                    drop(a);
                    announce(self, &e.spec, e.spec.mode, None);
                }
                Ok(())
            }
        }
    }

    /// Starts a loaded application in `mode` (`None`: the spec's mode). Its dependencies must be
    /// running.
    pub fn application_start(
        &self,
        name: impl Into<Atom>,
        mode: Option<ApplicationMode>,
    ) -> Result<Pid, Error> {
        let name = name.into();
        let spec = {
            let a = self.0.apps.lock();
            let e = a.apps.get(&name).ok_or(Error::ApplicationUnknown(name))?;
            if let ApplicationState::Running { .. } = e.state {
                return Err(Error::ApplicationRunning(name));
            }
            for d in &e.spec.depends {
                match a.apps.get(d).map(|x| x.state) {
                    Some(ApplicationState::Running { .. }) => {}
                    _ => return Err(Error::ApplicationDepends(name, *d)),
                }
            }
            e.spec.clone()
        };
        let mode = mode.unwrap_or(spec.mode);
        let options = SpawnOptions {
            env: spec.env.0.clone(),
            ..Default::default()
        };
        let master = Master {
            spec: spec.clone(),
            mode,
            members: Vec::new(),
            stopping: None,
        };
        let pid = self.spawn(master, options)?;
        let mut a = self.0.apps.lock();
        if let Some(e) = a.apps.get_mut(&name) {
            e.state = ApplicationState::Running { master: pid, mode };
        }
        a.started.push(name);
        drop(a);
        announce(self, &spec, mode, Some(RouteState::RUNNING));
        Ok(pid)
    }

    /// Stops a running application: its members in reverse start order, with reason
    /// `shutdown`. Waits up to the spec's `stop_timeout`.
    pub fn application_stop(&self, name: impl Into<Atom>) -> Result<(), Error> {
        let name = name.into();
        let (master, timeout) = {
            let a = self.0.apps.lock();
            let e = a.apps.get(&name).ok_or(Error::ApplicationUnknown(name))?;
            match e.state {
                ApplicationState::Running { master, mode } => {
                    let spec = e.spec.clone();
                    drop(a);
                    announce(self, &spec, mode, Some(RouteState::STOPPING));
                    (master, spec.stop_timeout)
                }
                ApplicationState::Loaded => return Ok(()),
            }
        };
        self.send_exit(master, Reason::Shutdown)?;
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(ApplicationState::Loaded) =
                self.0.apps.lock().apps.get(&name).map(|e| e.state)
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = self.kill(master);
        Err(Error::Timeout)
    }

    /// Every loaded application.
    pub fn applications(&self) -> Vec<ApplicationInfo> {
        let a = self.0.apps.lock();
        let mut v: Vec<ApplicationInfo> = a
            .apps
            .values()
            .map(|e| ApplicationInfo {
                name: e.spec.name,
                description: e.spec.description.clone(),
                version: e.spec.version.clone(),
                state: e.state,
                depends: e.spec.depends.clone(),
            })
            .collect();
        v.sort_by(|x, y| x.name.as_str().cmp(y.name.as_str()));
        v
    }

    /// Names of running applications, in start order.
    pub fn applications_running(&self) -> Vec<Atom> {
        self.0.apps.lock().started.clone()
    }
}

/// Stops every running application, last started first (node shutdown).
pub(crate) fn stop_all(node: &Node) {
    loop {
        let last = node.0.apps.lock().started.last().copied();
        let Some(name) = last else { break };
        if node.application_stop(name).is_err() {
            node.0.apps.lock().started.retain(|n| *n != name);
        }
    }
}

/// Tells the node's registrar (when it keeps application routes, as etcd's does) about an
/// application's new state; `None`: unloaded. Only an enabled network announces (as Go);
/// registrars that do not keep application routes decline, which is not an error here.
fn announce(node: &Node, spec: &ApplicationSpec, mode: ApplicationMode, state: Option<RouteState>) {
    let Some(net) = node.0.network.get() else {
        return;
    };
    if net.mode() != crate::NetworkMode::Enabled {
        return;
    }
    let Some(registrar) = net.registrar() else {
        return;
    };
    let r = match state {
        Some(state) => registrar.register_application_route(ApplicationRoute {
            node: node.name(),
            name: spec.name,
            weight: spec.weight,
            mode: WireMode(match mode {
                ApplicationMode::Temporary => 1,
                ApplicationMode::Transient => 2,
                ApplicationMode::Permanent => 3,
            }),
            state,
        }),
        None => registrar.unregister_application_route(spec.name),
    };
    if let Err(e) = r {
        tracing::debug!(app = %spec.name, error = %e, "application route not announced");
    }
}
