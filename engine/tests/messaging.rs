//! Messaging: ordering, priorities, names, aliases, calls, timers, bounded mailboxes, panics.

mod common;

use std::time::Duration;

use common::*;
use ergo_engine::{
    Actor, Context, Error, Fallback, HandleResult, Message, MessageFallback, MessageOptions, Pid,
    Priority, Reason, Ref, SpawnOptions,
};

/// Sends `count` numbered messages to `to` when told, from its own shard.
struct Burst {
    to: Pid,
    count: u64,
}

struct Fire;

impl Actor for Burst {
    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if msg.is::<Fire>() {
            for i in 0..self.count {
                ctx.send(self.to, (ctx.pid(), i))?;
            }
        }
        Ok(())
    }
}

#[test]
fn per_sender_order_is_kept_on_one_shard_and_across_shards() {
    let node = node("order", 2);
    let (probe, rx) = Probe::new();
    let sink = node
        .spawn(
            probe,
            SpawnOptions {
                shard: Some(0),
                ..Default::default()
            },
        )
        .unwrap();
    let same = node
        .spawn(
            Burst {
                to: sink,
                count: 5000,
            },
            SpawnOptions {
                shard: Some(0),
                ..Default::default()
            },
        )
        .unwrap();
    let other = node
        .spawn(
            Burst {
                to: sink,
                count: 5000,
            },
            SpawnOptions {
                shard: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
    node.send(same, Fire).unwrap();
    node.send(other, Fire).unwrap();
    let mut next = std::collections::HashMap::new();
    for _ in 0..10_000 {
        let (_, (from, i)) = next_as::<(Pid, u64)>(&rx);
        let n = next.entry(from).or_insert(0u64);
        assert_eq!(*n, i, "messages from {from:?} out of order");
        *n += 1;
    }
    assert_eq!(next.get(&same), Some(&5000));
    assert_eq!(next.get(&other), Some(&5000));
    node.stop();
}

/// Reports every `u32` it handles.
struct Gate {
    tx: std::sync::mpsc::Sender<u32>,
}

impl Actor for Gate {
    async fn handle_message(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if let Ok(n) = msg.downcast::<u32>() {
            let _ = self.tx.send(n);
        }
        Ok(())
    }
}

/// On `Fire`, sends its list of (value, priority) to the target from one handler, so all of
/// them are queued before the target (on the same shard) runs.
struct Filler {
    to: Pid,
    items: Vec<(u32, Priority)>,
}

impl Actor for Filler {
    async fn handle_message(&mut self, ctx: &mut Context, _f: Pid, m: Message) -> HandleResult {
        if m.is::<Fire>() {
            for (n, p) in self.items.clone() {
                let r = ctx.send_with_options(
                    self.to,
                    n,
                    MessageOptions {
                        priority: p,
                        important: false,
                    },
                );
                ctx.send("report", r)?;
            }
        }
        Ok(())
    }
}

#[test]
fn urgent_then_system_then_main() {
    let node = node("prio", 1);
    let (probe, _rx) = Probe::new();
    node.spawn_register("report", probe, SpawnOptions::default())
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let gate = node.spawn(Gate { tx }, SpawnOptions::default()).unwrap();
    let items = vec![
        (1, Priority::Normal),
        (2, Priority::High),
        (3, Priority::Max),
        (4, Priority::Normal),
        (5, Priority::Max),
    ];
    let filler = node
        .spawn(Filler { to: gate, items }, SpawnOptions::default())
        .unwrap();
    node.send(filler, Fire).unwrap();
    let got: Vec<u32> = (0..5).map(|_| rx.recv_timeout(WAIT).unwrap()).collect();
    assert_eq!(got, vec![3, 5, 2, 1, 4]);
    node.stop();
}

/// Answers calls with the request itself.
struct Echo;

impl Actor for Echo {
    async fn handle_call(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        req: Message,
    ) -> Result<Option<Message>, Reason> {
        Ok(Some(req))
    }
}

#[test]
fn names_and_aliases_route_messages() {
    let node = node("names", 2);
    let (probe, rx) = Probe::new();
    let pid = node
        .spawn_register("sink", probe, SpawnOptions::default())
        .unwrap();
    assert_eq!(node.whereis("sink"), Some(pid));
    node.send("sink", 7u8).unwrap();
    assert_eq!(next_as::<u8>(&rx).1, 7);
    let (probe2, _rx2) = Probe::new();
    assert_eq!(
        node.spawn_register("sink", probe2, SpawnOptions::default()),
        Err(Error::Taken("sink".into()))
    );
    assert!(matches!(
        node.send("nobody", 1u8),
        Err(Error::NameUnknown(_))
    ));

    // An alias made by the process reaches it; after deletion it does not.
    struct AliasMaker;
    impl Actor for AliasMaker {
        async fn handle_call(
            &mut self,
            ctx: &mut Context,
            _f: Pid,
            _r: Ref,
            req: Message,
        ) -> Result<Option<Message>, Reason> {
            if req.is::<()>() {
                return Ok(Some(Message::new(ctx.create_alias())));
            }
            if let Ok(a) = req.downcast::<ergo_engine::Alias>() {
                ctx.delete_alias(a)?;
                return Ok(Some(Message::new(())));
            }
            Ok(None)
        }
        async fn handle_message(&mut self, ctx: &mut Context, _f: Pid, m: Message) -> HandleResult {
            if let Ok(n) = m.downcast::<u32>() {
                ctx.send("sink", n)?;
            }
            Ok(())
        }
    }
    let am = node.spawn(AliasMaker, SpawnOptions::default()).unwrap();
    let alias: ergo_engine::Alias = node.call(am, (), WAIT).unwrap().downcast().unwrap();
    node.send(alias, 11u32).unwrap();
    assert_eq!(next_as::<u32>(&rx).1, 11);
    node.call(am, alias, WAIT).unwrap();
    node.send(alias, 12u32).unwrap();
    node.send(am, 13u32).unwrap();
    // 12 went nowhere; 13 arrives.
    assert_eq!(next_as::<u32>(&rx).1, 13);
    node.stop();
}

/// Calls `target` and reports the outcome to the probe registered as "report".
struct Caller {
    target: Pid,
    timeout: Duration,
}

impl Actor for Caller {
    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if let Ok(req) = msg.downcast::<u32>() {
            let r = ctx.call_timeout(self.target, req, self.timeout).await;
            let out: Result<u32, Error> = r.map(|m| m.downcast::<u32>().unwrap_or(0));
            ctx.send("report", out)?;
        }
        Ok(())
    }
}

/// Answers a call only when the next plain message arrives (a late reply from another handler).
struct Deferred {
    pending: Option<(Pid, Ref, u32)>,
}

/// Asks a `Deferred` whether it holds a request.
struct Holding;

impl Actor for Deferred {
    async fn handle_call(
        &mut self,
        _ctx: &mut Context,
        from: Pid,
        r: Ref,
        req: Message,
    ) -> Result<Option<Message>, Reason> {
        if req.is::<Holding>() {
            return Ok(Some(Message::new(self.pending.is_some())));
        }
        let n = req.downcast::<u32>().unwrap_or(0);
        if n == 0 {
            return Ok(None); // never answered: the caller times out
        }
        self.pending = Some((from, r, n));
        Ok(None)
    }
    async fn handle_message(&mut self, ctx: &mut Context, _from: Pid, _m: Message) -> HandleResult {
        if let Some((from, r, n)) = self.pending.take() {
            ctx.send_response(from, r, Message::new(n * 10));
        }
        Ok(())
    }
}

#[test]
fn call_gets_a_late_response_and_times_out_without_one() {
    for (shard_a, shard_b) in [(0, 0), (0, 1)] {
        let node = node("call", 2);
        let (probe, rx) = Probe::new();
        node.spawn_register("report", probe, SpawnOptions::default())
            .unwrap();
        let d = node
            .spawn(
                Deferred { pending: None },
                SpawnOptions {
                    shard: Some(shard_a),
                    ..Default::default()
                },
            )
            .unwrap();
        let c = node
            .spawn(
                Caller {
                    target: d,
                    timeout: Duration::from_millis(300),
                },
                SpawnOptions {
                    shard: Some(shard_b),
                    ..Default::default()
                },
            )
            .unwrap();
        node.send(c, 4u32).unwrap();
        // Once the callee holds the request, it answers from its next message.
        let mut holding = false;
        for _ in 0..10_000 {
            holding = node
                .call(d, Holding, WAIT)
                .unwrap()
                .downcast::<bool>()
                .unwrap();
            if holding {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(holding);
        node.send(d, ()).unwrap();
        assert_eq!(next_as::<Result<u32, Error>>(&rx).1, Ok(40));
        // No answer at all: timeout.
        node.send(c, 0u32).unwrap();
        assert_eq!(next_as::<Result<u32, Error>>(&rx).1, Err(Error::Timeout));
        node.stop();
    }
}

#[test]
fn call_to_a_missing_process_fails_at_once_and_external_call_works() {
    let node = node("call2", 2);
    let echo = node.spawn(Echo, SpawnOptions::default()).unwrap();
    let v = node.call(echo, 5u64, WAIT).unwrap();
    assert_eq!(v.downcast::<u64>().ok(), Some(5));
    node.kill(echo).unwrap();
    // Once the process is gone, calls fail with ProcessUnknown at once (not a timeout).
    for _ in 0..1000 {
        if !node.is_alive(echo) {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(!node.is_alive(echo));
    let r = node.call(echo, 5u64, WAIT).map(|_| ());
    assert_eq!(r, Err(Error::ProcessUnknown));
    node.stop();
}

/// Sets timers on request and reports what fired.
struct Timers;

impl Actor for Timers {
    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if msg.is::<Fire>() {
            let me = ctx.pid();
            let t1 = ctx.send_after(me, 1u32, Duration::from_millis(30));
            let _t2 = ctx.send_after(me, 2u32, Duration::from_millis(10));
            assert!(ctx.cancel_timer(t1));
            assert!(!ctx.cancel_timer(t1));
            ctx.send_after(me, 3u32, Duration::from_millis(60));
        } else if let Ok(n) = msg.downcast::<u32>() {
            ctx.send("report", n)?;
        }
        Ok(())
    }
}

#[test]
fn send_after_fires_and_cancel_stops_it() {
    let node = node("timers", 1);
    let (probe, rx) = Probe::new();
    node.spawn_register("report", probe, SpawnOptions::default())
        .unwrap();
    let t = node.spawn(Timers, SpawnOptions::default()).unwrap();
    node.send(t, Fire).unwrap();
    assert_eq!(next_as::<u32>(&rx).1, 2);
    assert_eq!(next_as::<u32>(&rx).1, 3);
    node.stop();
}

#[test]
fn a_panic_terminates_only_that_process() {
    let node = node("panic", 1);
    let (probe, rx) = Probe::new();
    let bad = node.spawn(probe, SpawnOptions::default()).unwrap();
    let (probe2, rx2) = Probe::new();
    let good = node.spawn(probe2, SpawnOptions::default()).unwrap();
    node.send(bad, Boom).unwrap();
    assert_eq!(terminated(&rx), Reason::Panic);
    node.send(good, 1u8).unwrap();
    assert_eq!(next_as::<u8>(&rx2).1, 1);
    node.stop();
}

#[test]
fn a_full_mailbox_sends_to_the_fallback() {
    let node = node("fallback", 1);
    let (probe, rx) = Probe::new();
    node.spawn_register("fb", probe, SpawnOptions::default())
        .unwrap();
    let (report, _rrx) = Probe::new();
    node.spawn_register("report", report, SpawnOptions::default())
        .unwrap();
    let (gtx, grx) = std::sync::mpsc::channel();
    let opts = SpawnOptions {
        mailbox_size: 2,
        fallback: Some(Fallback {
            name: "fb".into(),
            tag: "full".into(),
        }),
        ..Default::default()
    };
    let gate = node.spawn(Gate { tx: gtx }, opts).unwrap();
    let items = (1..=5).map(|n| (n, Priority::Normal)).collect();
    let filler = node
        .spawn(Filler { to: gate, items }, SpawnOptions::default())
        .unwrap();
    node.send(filler, Fire).unwrap();
    // The gate takes 1 and 2 (limit 2); 3..=5 overflow to the fallback, tagged.
    for want in 3..=5u32 {
        let (_, fb) = next_as::<MessageFallback>(&rx);
        assert_eq!(fb.pid, gate);
        assert_eq!(fb.tag, "full");
        assert_eq!(fb.message.downcast::<u32>().ok(), Some(want));
    }
    assert_eq!(grx.recv_timeout(WAIT).unwrap(), 1);
    assert_eq!(grx.recv_timeout(WAIT).unwrap(), 2);
    node.stop();
}

#[test]
fn a_full_mailbox_without_fallback_refuses_same_shard_sends() {
    let node = node("full", 1);
    let (gtx, _grx) = std::sync::mpsc::channel();
    let gate = node
        .spawn(
            Gate { tx: gtx },
            SpawnOptions {
                mailbox_size: 1,
                ..Default::default()
            },
        )
        .unwrap();
    let (probe, rx) = Probe::new();
    node.spawn_register("report", probe, SpawnOptions::default())
        .unwrap();
    let items = vec![
        (1, Priority::Normal),
        (2, Priority::Normal),
        (3, Priority::High),
    ];
    let filler = node
        .spawn(Filler { to: gate, items }, SpawnOptions::default())
        .unwrap();
    node.send(filler, Fire).unwrap();
    assert_eq!(next_as::<Result<(), Error>>(&rx).1, Ok(()));
    assert_eq!(next_as::<Result<(), Error>>(&rx).1, Err(Error::MailboxFull));
    // The bound is on the Main queue: a System message still goes in.
    assert_eq!(next_as::<Result<(), Error>>(&rx).1, Ok(()));
    node.stop();
}

#[test]
fn node_identity_and_info() {
    let node = node("info", 2);
    assert_eq!(node.name(), "info@localhost");
    assert!(node.creation() > 0);
    assert!(ergo_engine::Node::start("nohost", Default::default()).is_err());
    let (probe, _rx) = Probe::new();
    node.spawn(
        probe,
        SpawnOptions {
            shard: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    let info = node.info();
    assert_eq!(info.processes, 1);
    assert_eq!(info.shards.len(), 2);
    assert_eq!(info.shards[1].processes, 1);
    node.stop();
    assert_eq!(node.info().processes, 0);
}

/// Logs one message per level and reports which ones passed its level.
struct Logger;

impl Actor for Logger {
    async fn handle_call(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        req: Message,
    ) -> Result<Option<Message>, Reason> {
        if let Ok(level) = req.downcast::<ergo_engine::LogLevel>() {
            ctx.set_log_level(level);
        }
        use ergo_engine::LogLevel::*;
        let passed: Vec<bool> = [Debug, Info, Warning, Error]
            .into_iter()
            .map(|l| ctx.log(l, format_args!("level {l}")))
            .collect();
        Ok(Some(Message::new((ctx.log_level(), passed))))
    }
}

#[test]
fn log_levels_per_process_filter_messages() {
    use ergo_engine::LogLevel;
    let node = node("log", 1);
    assert_eq!(node.log_level(), LogLevel::Info);
    assert!(!node.log(LogLevel::Debug, format_args!("hidden")));
    assert!(node.log(LogLevel::Warning, format_args!("shown")));
    let inherit = node.spawn(Logger, SpawnOptions::default()).unwrap();
    let quiet = node
        .spawn(
            Logger,
            SpawnOptions {
                log_level: Some(LogLevel::Error),
                ..Default::default()
            },
        )
        .unwrap();
    let r = |pid, lvl: Option<LogLevel>| -> (LogLevel, Vec<bool>) {
        let m = match lvl {
            Some(l) => node.call(pid, l, WAIT),
            None => node.call(pid, (), WAIT),
        };
        m.unwrap().downcast().unwrap()
    };
    assert_eq!(
        r(inherit, None),
        (LogLevel::Info, vec![false, true, true, true])
    );
    assert_eq!(
        r(quiet, None),
        (LogLevel::Error, vec![false, false, false, true])
    );
    assert_eq!(
        r(quiet, Some(LogLevel::Trace)),
        (LogLevel::Trace, vec![true, true, true, true])
    );
    assert_eq!(
        r(quiet, Some(LogLevel::Disabled)),
        (LogLevel::Disabled, vec![false, false, false, false])
    );
    node.stop();
}

#[test]
fn process_info_reports_state_name_and_parent() {
    let node = node("pinfo", 2);
    let (probe, _rx) = Probe::trapping();
    let opts = SpawnOptions {
        shard: Some(1),
        mailbox_size: 10,
        ..Default::default()
    };
    let pid = node.spawn_register("probe", probe, opts).unwrap();
    let info = node.process_info(pid).unwrap();
    assert_eq!(info.pid, pid);
    assert_eq!(info.name, Some("probe".into()));
    assert_eq!(info.state, ergo_engine::ProcessState::Sleep);
    assert_eq!(info.shard, 1);
    assert_eq!(info.parent, None);
    assert_eq!(info.mailbox_limit, 10);
    assert!(info.trap_exit);
    node.kill(pid).unwrap();
    for _ in 0..10_000 {
        if node.process_info(pid).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(node.process_info(pid).err(), Some(Error::ProcessUnknown));
    node.stop();
}

/// Answers inspection with its counter.
struct Inspected(u32);

impl Actor for Inspected {
    async fn handle_message(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _m: Message,
    ) -> HandleResult {
        self.0 += 1;
        Ok(())
    }
    fn handle_inspect(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
    ) -> std::collections::BTreeMap<String, String> {
        [("seen".to_string(), self.0.to_string())]
            .into_iter()
            .collect()
    }
}

#[test]
fn inspect_asks_the_process_itself() {
    let node = node("inspect", 2);
    let pid = node.spawn(Inspected(0), SpawnOptions::default()).unwrap();
    node.send(pid, ()).unwrap();
    node.send(pid, ()).unwrap();
    // Inspection goes to the Urgent queue; wait until both messages are handled.
    for _ in 0..10_000 {
        if node
            .inspect(pid, WAIT)
            .unwrap()
            .get("seen")
            .map(String::as_str)
            == Some("2")
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let m = node.inspect(pid, WAIT).unwrap();
    assert_eq!(m.get("seen").map(String::as_str), Some("2"));
    node.stop();
}

#[test]
fn logger_processes_receive_log_messages_at_their_level() {
    use ergo_engine::{LogLevel, MessageLog};
    let node = node("loggers", 2);
    let (probe, rx) = Probe::new();
    let logger = node
        .spawn(
            probe,
            SpawnOptions {
                shard: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
    node.logger_add_pid(logger, LogLevel::Warning);
    assert!(node.log(LogLevel::Info, format_args!("below the logger's level")));
    assert!(node.log(LogLevel::Error, format_args!("node says {}", 1)));
    let (_, m) = next_as::<MessageLog>(&rx);
    assert_eq!(
        (m.level, m.source, m.text.as_str()),
        (LogLevel::Error, None, "node says 1")
    );
    // A process at level Info logs Debug..Error: Info passes its own level, the logger takes
    // Warning and Error.
    let p = node
        .spawn(
            Logger,
            SpawnOptions {
                shard: Some(0),
                ..Default::default()
            },
        )
        .unwrap();
    node.call(p, (), WAIT).unwrap();
    let (_, w) = next_as::<MessageLog>(&rx);
    let (_, e) = next_as::<MessageLog>(&rx);
    assert_eq!(
        (w.level, w.source, w.text.as_str()),
        (LogLevel::Warning, Some(p), "level warning")
    );
    assert_eq!((e.level, e.source), (LogLevel::Error, Some(p)));
    node.logger_remove_pid(logger);
    assert!(node.log(LogLevel::Error, format_args!("nobody listens")));
    assert!(rx.recv_timeout(Duration::from_millis(50)).is_err());
    node.stop();
}
