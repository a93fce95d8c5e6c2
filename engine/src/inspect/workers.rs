//! The inspector processes `system_inspect` starts, one per subject (as Go does): each
//! registers an event (notify on, last value buffered), answers the forwarded request with
//! that event, publishes its subject's figures every second while someone is subscribed, and
//! stops after an idle period without subscribers (or when its subject is gone).

use std::collections::HashMap;
use std::time::Duration;

use ergo_edf::{Atom, Event, Pid, Ref};
use ergo_proto::gen::LogLevel as GoLogLevel;

use super::convert;
use super::messages::*;
use crate::{
    Actor, Context, EventOptions, HandleResult, LogLevel, Message, MessageEventStart,
    MessageEventStop, MessageLog, Reason,
};

/// How often a subscribed inspector publishes.
pub(crate) const PERIOD: Duration = Duration::from_secs(1);
/// How long an inspector without subscribers lives on.
pub(crate) const IDLE: Duration = Duration::from_secs(5);
/// The same for the log inspector.
pub(crate) const LOG_IDLE: Duration = Duration::from_secs(10);

/// A request `system_inspect` passes on: answer `from`'s call `r`.
pub(crate) struct Forward {
    pub(crate) from: Pid,
    pub(crate) r: Ref,
}

struct Generate;
struct Shutdown;

/// What an inspector looks at.
#[derive(Clone, Debug)]
pub(crate) enum Subject {
    Node,
    Network,
    Connection(Atom),
    ProcessList { start: u64, limit: usize },
    Process(Pid),
    ProcessState(Pid),
    Meta,
    MetaState,
    Log(Vec<LogLevel>),
    ApplicationList,
    ApplicationTree { application: Atom, limit: usize },
}

/// One inspector process.
pub(crate) struct Inspector {
    subject: Subject,
    event: Atom,
    token: Option<Ref>,
    generating: bool,
}

impl Inspector {
    /// An inspector publishing `subject` under event `event` (for the log inspector the
    /// event name is made at init from its PID, as Go does).
    pub(crate) fn new(subject: Subject, event: Atom) -> Inspector {
        Inspector {
            subject,
            event,
            token: None,
            generating: false,
        }
    }

    fn idle(&self) -> Duration {
        match self.subject {
            Subject::Log(_) => LOG_IDLE,
            _ => IDLE,
        }
    }

    fn event(&self, ctx: &Context) -> Event {
        Event {
            name: self.event,
            node: ctx.node_name(),
        }
    }

    fn publish<T: std::any::Any + Send + Sync>(&self, ctx: &mut Context, v: T) -> HandleResult {
        let Some(token) = self.token else {
            return Ok(());
        };
        if ctx.send_event(self.event, token, v).is_err() {
            return Err(Reason::Normal);
        }
        Ok(())
    }

    async fn response(&self, ctx: &mut Context) -> Message {
        let event = self.event(ctx);
        match &self.subject {
            Subject::Node => {
                let node = ctx.node();
                Message::new(ResponseInspectNode {
                    crc32: convert::crc32(node.name().as_str()),
                    event,
                    os: std::env::consts::OS.to_string(),
                    arch: go_arch().to_string(),
                    cores: std::thread::available_parallelism().map_or(1, |n| n.get()) as isize,
                    version: convert::framework_version(),
                    creation: node.creation(),
                })
            }
            Subject::Network => {
                let info = convert::network_info(&ctx.node());
                Message::new(ResponseInspectNetwork {
                    event,
                    stopped: info.is_none(),
                    info: info.unwrap_or_default(),
                })
            }
            Subject::Connection(peer) => {
                let info = connection_info(ctx, *peer).await;
                Message::new(ResponseInspectConnection {
                    event,
                    disconnected: info.is_none(),
                    info: info.unwrap_or_default(),
                })
            }
            Subject::ProcessList { .. } => Message::new(ResponseInspectProcessList { event }),
            Subject::Process(_) => Message::new(ResponseInspectProcess { event }),
            Subject::ProcessState(_) => Message::new(ResponseInspectProcessState { event }),
            Subject::Meta => Message::new(ResponseInspectMeta { event }),
            Subject::MetaState => Message::new(ResponseInspectMetaState { event }),
            Subject::Log(_) => Message::new(ResponseInspectLog { event }),
            Subject::ApplicationList => Message::new(ResponseInspectApplicationList { event }),
            Subject::ApplicationTree { .. } => {
                Message::new(ResponseInspectApplicationTree { event })
            }
        }
    }

    /// Publishes one round of figures; `Err(Normal)` ends the inspector (subject gone).
    async fn generate(&mut self, ctx: &mut Context) -> HandleResult {
        let node = ctx.node();
        let name = node.name();
        match self.subject.clone() {
            Subject::Node => {
                let info = convert::node_info(&node);
                self.publish(ctx, MessageInspectNode { node: name, info })?;
            }
            Subject::Network => {
                let info = convert::network_info(&node);
                self.publish(
                    ctx,
                    MessageInspectNetwork {
                        node: name,
                        stopped: info.is_none(),
                        info: info.unwrap_or_default(),
                    },
                )?;
            }
            Subject::Connection(peer) => {
                let info = connection_info(ctx, peer).await;
                let gone = info.is_none();
                self.publish(
                    ctx,
                    MessageInspectConnection {
                        node: name,
                        disconnected: gone,
                        info: info.unwrap_or_default(),
                    },
                )?;
                if gone {
                    return Err(Reason::Normal);
                }
            }
            Subject::ProcessList { start, limit } => {
                let list = ctx
                    .process_list_short_info(start, limit)
                    .await
                    .map_err(|e| Reason::custom(e.to_string()))?;
                let processes = list
                    .iter()
                    .map(|p| convert::short_info(&node.0, p))
                    .collect();
                self.publish(
                    ctx,
                    MessageInspectProcessList {
                        node: name,
                        processes: Some(processes),
                    },
                )?;
            }
            Subject::Process(pid) => match ctx.process_info(pid).await {
                Ok(info) => {
                    let info = convert::process_info(&node.0, &info);
                    self.publish(
                        ctx,
                        MessageInspectProcess {
                            node: name,
                            info,
                            terminated: false,
                        },
                    )?;
                }
                Err(_) => {
                    let _ = self.publish(
                        ctx,
                        MessageInspectProcess {
                            node: name,
                            info: Default::default(),
                            terminated: true,
                        },
                    );
                    return Err(Reason::Normal);
                }
            },
            Subject::ProcessState(pid) => match super::gather::inspect_state(ctx, pid).await {
                Ok(state) => {
                    let state: HashMap<String, String> = state.into_iter().collect();
                    self.publish(
                        ctx,
                        MessageInspectProcessState {
                            node: name,
                            pid,
                            state: Some(state),
                        },
                    )?;
                }
                Err(_) => return Err(Reason::Normal),
            },
            // No meta processes on this engine: Go's answer for an unknown meta process.
            Subject::Meta => {
                let _ = self.publish(
                    ctx,
                    MessageInspectMeta {
                        node: name,
                        info: Default::default(),
                        terminated: true,
                    },
                );
                return Err(Reason::Normal);
            }
            Subject::MetaState => return Err(Reason::Normal),
            Subject::Log(_) => return Ok(()),
            Subject::ApplicationList => {
                let applications = convert::application_list(&node);
                self.publish(
                    ctx,
                    MessageInspectApplicationList {
                        node: name,
                        applications: Some(applications),
                    },
                )?;
            }
            Subject::ApplicationTree { application, limit } => {
                let list = ctx
                    .application_process_list_short_info(application, limit)
                    .await
                    .map_err(|e| Reason::custom(e.to_string()))?;
                let processes = list
                    .iter()
                    .map(|p| convert::short_info(&node.0, p))
                    .collect();
                self.publish(
                    ctx,
                    MessageInspectApplicationTree {
                        node: name,
                        application,
                        processes: Some(processes),
                    },
                )?;
            }
        }
        ctx.send_after(ctx.pid(), Generate, PERIOD);
        Ok(())
    }

    fn log(&self, ctx: &mut Context, m: &MessageLog) -> HandleResult {
        let Subject::Log(levels) = &self.subject else {
            return Ok(());
        };
        if !levels.contains(&m.level) {
            return Ok(());
        }
        let level = convert::log_level(m.level);
        match m.source {
            None => self.publish(
                ctx,
                MessageInspectLogNode {
                    node: m.node,
                    creation: ctx.node().creation(),
                    timestamp: m.time,
                    level,
                    message: m.text.clone(),
                },
            ),
            Some(pid) => self.publish(
                ctx,
                MessageInspectLogProcess {
                    node: m.node,
                    name: Atom::default(),
                    pid,
                    timestamp: m.time,
                    level,
                    message: m.text.clone(),
                },
            ),
        }
    }
}

/// Go's `runtime.GOARCH` spelling of this machine's architecture.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64",
        other => other,
    }
}

/// The connection figures of `peer`, with the bytes sent summed over its links' shards.
async fn connection_info(ctx: &Context, peer: Atom) -> Option<super::gen_types::RemoteNodeInfo> {
    let node = ctx.shard.node.clone();
    let net = node.network.get()?.clone();
    let pool = net.pool(peer)?;
    let mut bytes_out = 0;
    for l in &pool.all {
        let link = l.link;
        let s = super::gather::on_shard(&ctx.shard, &node, l.shard, move |core| {
            core.net.borrow().io.stats(link)
        })
        .await
        .ok()
        .flatten();
        bytes_out += s.map_or(0, |s| s.bytes_out);
    }
    convert::remote_node_info(&net, peer, bytes_out)
}

impl Actor for Inspector {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        if let Subject::Log(_) = self.subject {
            self.event = Atom::new(&format!(
                "{}_{}",
                ctx.name()
                    .map(|n| n.as_str().to_string())
                    .unwrap_or_default(),
                go_pid_string(ctx.pid())
            ));
        }
        let options = EventOptions {
            notify: true,
            buffer: if matches!(self.subject, Subject::Log(_)) {
                0
            } else {
                1
            },
        };
        let token = ctx
            .register_event(self.event, options)
            .map_err(|e| Reason::custom(e.to_string()))?;
        self.token = Some(token);
        ctx.send_after(ctx.pid(), Shutdown, self.idle());
        Ok(())
    }

    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if let Some(f) = msg.downcast_ref::<Forward>() {
            let (from, r) = (f.from, f.r);
            let reply = self.response(ctx).await;
            ctx.send_response(from, r, reply);
        } else if msg.is::<Generate>() {
            if self.generating {
                self.generate(ctx).await?;
            }
        } else if msg.is::<Shutdown>() {
            if !self.generating {
                return Err(Reason::Normal);
            }
        } else if msg.is::<MessageEventStart>() {
            self.generating = true;
            if let Subject::Log(levels) = &self.subject {
                let min = levels.iter().copied().min().unwrap_or(LogLevel::Debug);
                ctx.node().logger_add_pid(ctx.pid(), min);
            } else {
                ctx.send(ctx.pid(), Generate)
                    .map_err(|e| Reason::custom(e.to_string()))?;
            }
        } else if msg.is::<MessageEventStop>() {
            if self.generating {
                self.generating = false;
                if let Subject::Log(_) = self.subject {
                    ctx.node().logger_remove_pid(ctx.pid());
                }
                ctx.send_after(ctx.pid(), Shutdown, self.idle());
            }
        } else if let Some(m) = msg.downcast_ref::<MessageLog>() {
            self.log(ctx, m)?;
        }
        Ok(())
    }

    fn terminate(&mut self, ctx: &mut Context, _reason: &Reason) {
        if let Subject::Log(_) = self.subject {
            ctx.node().logger_remove_pid(ctx.pid());
        }
    }
}

/// Go's `PID.String()`: `<CRC32.hi.lo>` with Go Ergo's CRC table and the id's two halves.
pub(crate) fn go_pid_string(pid: Pid) -> String {
    format!(
        "<{}.{}.{}>",
        convert::crc32(pid.node.as_str()),
        (pid.id >> 32) as i32,
        pid.id as i32
    )
}

/// Go's `Alias.String()`.
pub(crate) fn go_alias_string(a: ergo_edf::Alias) -> String {
    format!(
        "Alias#<{}.{}.{}.{}>",
        convert::crc32(a.node.as_str()),
        a.id[0],
        a.id[1],
        a.id[2]
    )
}

/// Go's log levels of a `RequestInspectLog` (empty: debug to panic), as ours.
pub(crate) fn log_levels(levels: &[GoLogLevel]) -> Vec<LogLevel> {
    if levels.is_empty() {
        return vec![
            LogLevel::Debug,
            LogLevel::Info,
            LogLevel::Warning,
            LogLevel::Error,
            LogLevel::Panic,
        ];
    }
    levels
        .iter()
        .filter_map(|l| convert::from_go_level(*l))
        .collect()
}
