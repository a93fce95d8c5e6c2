//! `system_inspect`: the process Go's Observer calls on a node it inspects. It answers
//! Go Ergo 3.1's `app/system/inspect` requests as Go does: an `inspect` request starts (or
//! reuses) the inspector process for its subject, registered under Go's name, which answers
//! with the event to monitor; a `do` request acts at once and answers with its error (nil on
//! success). Anything else is answered with Go's `gen.ErrUnsupported` and changes nothing.

use ergo_edf::{errors, Atom, GoError, Pid, Ref};

use super::convert;
use super::messages::*;
use super::workers::{go_alias_string, go_pid_string, log_levels, Forward, Inspector, Subject};
use crate::{
    Actor, Context, Error, HandleResult, LogLevel, Message, Priority, Reason, SpawnOptions,
};

/// The registered name of the inspect process (Go's `inspect.Name`).
pub const SYSTEM_INSPECT: &str = "system_inspect";

/// The `system_inspect` actor. Start it with [`crate::Node::start_system_inspect`] (or spawn
/// it registered as [`SYSTEM_INSPECT`] yourself).
#[derive(Default)]
pub struct SystemInspect {
    /// The inspectors it started (their exits are expected and change nothing).
    inspectors: std::collections::HashSet<Pid>,
}

impl crate::Node {
    /// Spawns [`SystemInspect`] registered as `system_inspect`, so that Go's Observer (and
    /// any node that speaks Go's inspect requests) can inspect this node.
    pub fn start_system_inspect(&self) -> Result<Pid, Error> {
        super::register_types().map_err(|e| Error::Os(e.to_string()))?;
        self.spawn_register(
            SYSTEM_INSPECT,
            SystemInspect::default(),
            SpawnOptions::default(),
        )
    }
}

fn go_error(e: &Error) -> GoError {
    match e {
        Error::ProcessUnknown => errors::ErrProcessUnknown(),
        Error::NameUnknown(_) => errors::ErrNameUnknown(),
        Error::Taken(_) => errors::ErrTaken(),
        Error::Invalid(_) => errors::ErrIncorrect(),
        Error::Timeout => errors::ErrTimeout(),
        other => GoError::new(other.to_string()),
    }
}

fn result(r: Result<(), Error>) -> Option<GoError> {
    r.err().map(|e| go_error(&e))
}

/// Go's `error` value for a reason text (`normal`, `shutdown`, `kill` map to ours).
fn reason_of(e: Option<&GoError>) -> Reason {
    match e.map(|e| e.text()) {
        None | Some("normal") => Reason::Normal,
        Some("shutdown") => Reason::Shutdown,
        Some("kill") => Reason::Kill,
        Some(t) => Reason::custom(t),
    }
}

impl SystemInspect {
    /// Starts (or finds) the inspector registered as `name` and hands it the call.
    fn forward(
        &mut self,
        ctx: &mut Context,
        name: String,
        subject: Subject,
        from: Pid,
        r: Ref,
    ) -> Option<Message> {
        let name = Atom::new(&name);
        let event = name;
        let opts = SpawnOptions {
            link_parent: true,
            ..Default::default()
        };
        match ctx.spawn_register(name, Inspector::new(subject, event), opts) {
            Ok(pid) => {
                self.inspectors.insert(pid);
            }
            Err(Error::Taken(_)) => {}
            Err(e) => return Some(Message::new(go_error(&e))),
        }
        if let Err(e) = ctx.send(name, Forward { from, r }) {
            return Some(Message::new(go_error(&e)));
        }
        None
    }

    /// `ProcessUnknown` for a local PID that names no live process (cross-shard sends do not
    /// report it, Go's `Send`, `SendExit` and `Kill` do).
    async fn check_alive(ctx: &Context, pid: Pid) -> Result<(), Error> {
        let node = ctx.shard.node.clone();
        if pid.node != node.name {
            return Ok(());
        }
        let s = crate::shard::shard_of(pid.id);
        if pid.creation != node.creation
            || pid.id < crate::shard::FIRST_ID
            || s >= node.shards.len()
        {
            return Err(Error::ProcessUnknown);
        }
        let alive = super::gather::on_shard(&ctx.shard, &node, s, move |c| {
            c.procs.borrow().contains_key(&pid.id)
        })
        .await?;
        if alive {
            Ok(())
        } else {
            Err(Error::ProcessUnknown)
        }
    }

    fn set_process_level(ctx: &mut Context, pid: Pid, level: LogLevel) -> Result<(), Error> {
        let node = ctx.shard.node.clone();
        if pid.node != node.name {
            return Err(Error::NoConnection(pid.node));
        }
        if pid.creation != node.creation || pid.id < crate::shard::FIRST_ID {
            return Err(Error::ProcessUnknown);
        }
        let s = crate::shard::shard_of(pid.id);
        let run = move |core: &std::rc::Rc<crate::shard::ShardCore>| {
            let procs = core.procs.borrow();
            let c = procs.get(&pid.id).ok_or(Error::ProcessUnknown)?;
            c.log_level.set(level.to_u8());
            Ok(())
        };
        if s == ctx.shard.index {
            return run(&ctx.shard);
        }
        // Another shard: the change is made there; the answer does not wait for it.
        let remote = node.shards.get(s).ok_or(Error::ProcessUnknown)?;
        remote.publish(vec![crate::shard::Item::Run(Box::new(move |core| {
            let _ = run(core);
        }))]);
        Ok(())
    }
}

impl Actor for SystemInspect {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        // Inspectors are linked to this process (they end with it, as in Go); their own
        // ends must not end it.
        ctx.set_trap_exit(true);
        super::register_types().map_err(|e| Reason::custom(e.to_string()))
    }

    async fn handle_message(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if let Some(x) = msg.downcast_ref::<crate::MessageExitPid>() {
            if !self.inspectors.remove(&x.pid) {
                // Someone else's exit signal (the node stopping, a kill): obey it.
                return Err(x.reason.clone());
            }
        }
        Ok(())
    }

    async fn handle_call(
        &mut self,
        ctx: &mut Context,
        from: Pid,
        r: Ref,
        req: Message,
    ) -> Result<Option<Message>, Reason> {
        if req.is::<RequestInspectNode>() {
            return Ok(self.forward(ctx, "inspect_node".into(), Subject::Node, from, r));
        }
        if req.is::<RequestInspectNetwork>() {
            return Ok(self.forward(ctx, "inspect_network".into(), Subject::Network, from, r));
        }
        if let Some(q) = req.downcast_ref::<RequestInspectConnection>() {
            // Go formats the atom with its quotes (`Atom.String`).
            let name = format!("inspect_connection_'{}'", q.remote_node);
            let peer = q.remote_node;
            return Ok(self.forward(ctx, name, Subject::Connection(peer), from, r));
        }
        if let Some(q) = req.downcast_ref::<RequestInspectProcessList>() {
            let start = q.start.max(1000) as u64;
            let limit = if q.limit < 1 { 1000 } else { q.limit as usize };
            let name = format!(
                "inspect_process_list_{}_{}",
                start,
                start + limit as u64 - 1
            );
            return Ok(self.forward(ctx, name, Subject::ProcessList { start, limit }, from, r));
        }
        if let Some(q) = req.downcast_ref::<RequestInspectProcess>() {
            let name = format!("inspect_process_{}", go_pid_string(q.pid));
            return Ok(self.forward(ctx, name, Subject::Process(q.pid), from, r));
        }
        if let Some(q) = req.downcast_ref::<RequestInspectProcessState>() {
            if q.pid == ctx.pid() {
                let e = GoError::new("unable to inspect the state of itself");
                return Ok(Some(Message::new(e)));
            }
            let name = format!("inspect_process_state_{}", go_pid_string(q.pid));
            return Ok(self.forward(ctx, name, Subject::ProcessState(q.pid), from, r));
        }
        if let Some(q) = req.downcast_ref::<RequestInspectMeta>() {
            let name = format!("inspect_meta_{}", go_alias_string(q.meta));
            return Ok(self.forward(ctx, name, Subject::Meta, from, r));
        }
        if let Some(q) = req.downcast_ref::<RequestInspectMetaState>() {
            let name = format!("inspect_meta_state_{}", go_alias_string(q.meta));
            return Ok(self.forward(ctx, name, Subject::MetaState, from, r));
        }
        if let Some(q) = req.downcast_ref::<RequestInspectLog>() {
            let mut levels: Vec<_> = q.levels.clone().unwrap_or_default();
            levels.sort_by_key(|l| l.0);
            let suffix: String = if levels.is_empty() {
                "diwep".into()
            } else {
                levels
                    .iter()
                    .filter_map(|l| match l.0 {
                        -1 => Some('d'),
                        1 => Some('i'),
                        2 => Some('w'),
                        3 => Some('e'),
                        4 => Some('p'),
                        _ => None,
                    })
                    .collect()
            };
            let name = format!("inspect_log_{suffix}");
            return Ok(self.forward(ctx, name, Subject::Log(log_levels(&levels)), from, r));
        }
        if req.is::<RequestInspectApplicationList>() {
            let name = "inspect_application_list".to_string();
            return Ok(self.forward(ctx, name, Subject::ApplicationList, from, r));
        }
        if let Some(q) = req.downcast_ref::<RequestInspectApplicationTree>() {
            let limit = if q.limit < 1 { 1000 } else { q.limit as usize };
            let name = format!("inspect_application_tree_'{}'_{}", q.application, limit);
            let subject = Subject::ApplicationTree {
                application: q.application,
                limit,
            };
            return Ok(self.forward(ctx, name, subject, from, r));
        }

        // The `do` commands.
        if let Some(q) = req.downcast_ref::<RequestDoSend>() {
            let prio = match q.priority.0 {
                1 => Priority::High,
                2 => Priority::Max,
                _ => Priority::Normal,
            };
            // The value travels as decoded (`Value`); a remote recipient gets Go's bytes back.
            let opts = crate::MessageOptions {
                priority: prio,
                ..Default::default()
            };
            let error = match Self::check_alive(ctx, q.pid).await {
                Ok(()) => result(ctx.send_with_options(q.pid, q.message.clone(), opts)),
                Err(e) => Some(go_error(&e)),
            };
            return Ok(Some(Message::new(ResponseDoSend { error })));
        }
        if req.is::<RequestDoSendMeta>() {
            let error = Some(errors::ErrMetaUnknown());
            return Ok(Some(Message::new(ResponseDoSendMeta { error })));
        }
        if let Some(q) = req.downcast_ref::<RequestDoSendExit>() {
            let reason = reason_of(q.reason.as_ref());
            let error = match Self::check_alive(ctx, q.pid).await {
                Ok(()) => result(ctx.send_exit(q.pid, reason)),
                Err(e) => Some(go_error(&e)),
            };
            return Ok(Some(Message::new(ResponseDoSendExit { error })));
        }
        if req.is::<RequestDoSendExitMeta>() {
            let error = Some(errors::ErrMetaUnknown());
            return Ok(Some(Message::new(ResponseDoSendExit { error })));
        }
        if let Some(q) = req.downcast_ref::<RequestDoKill>() {
            let error = match Self::check_alive(ctx, q.pid).await {
                Ok(()) => result(ctx.kill(q.pid)),
                Err(e) => Some(go_error(&e)),
            };
            return Ok(Some(Message::new(ResponseDoKill { error })));
        }
        if let Some(q) = req.downcast_ref::<RequestDoSetLogLevel>() {
            let error = match convert::from_go_level(q.level) {
                Some(l) => {
                    ctx.node().set_log_level(l);
                    None
                }
                None => Some(errors::ErrIncorrect()),
            };
            return Ok(Some(Message::new(ResponseDoSetLogLevel { error })));
        }
        if let Some(q) = req.downcast_ref::<RequestDoSetLogLevelProcess>() {
            let error = match convert::from_go_level(q.level) {
                Some(l) => result(Self::set_process_level(ctx, q.pid, l)),
                None => Some(errors::ErrIncorrect()),
            };
            return Ok(Some(Message::new(ResponseDoSetLogLevel { error })));
        }
        if req.is::<RequestDoSetLogLevelMeta>() {
            let error = Some(errors::ErrMetaUnknown());
            return Ok(Some(Message::new(ResponseDoSetLogLevel { error })));
        }
        tracing::error!(node = %ctx.node_name(), "system_inspect: unsupported request");
        Ok(Some(Message::new(errors::ErrUnsupported())))
    }
}
