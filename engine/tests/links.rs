//! Links, monitors, exit signals, trap-exit, kill, and events.

mod common;

use std::time::Duration;

use common::*;
use ergo_engine::{
    Actor, Context, Error, Event, EventOptions, HandleResult, Message, MessageDownEvent,
    MessageDownPid, MessageDownProcessId, MessageEventStart, MessageEventStop, MessageExitEvent,
    MessageExitPid, Pid, Reason, Ref, SpawnOptions, Target,
};

/// Runs one command from the test on its own shard: link, monitor, exit.
enum Cmd {
    Link(Target),
    Monitor(Target),
    Exit(Pid, Reason),
    Stop(Pid, Reason),
}

/// A probe that also executes commands.
struct Agent(Probe);

impl Actor for Agent {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        self.0.init(ctx)
    }
    async fn handle_message(&mut self, ctx: &mut Context, from: Pid, m: Message) -> HandleResult {
        match m.downcast::<Cmd>() {
            Ok(Cmd::Link(t)) => {
                let r = ctx.link(t);
                let _ = self.0.tx.send(Seen::Message(from, Message::new(r)));
                Ok(())
            }
            Ok(Cmd::Monitor(t)) => {
                let r = ctx.monitor(t);
                let _ = self.0.tx.send(Seen::Message(from, Message::new(r)));
                Ok(())
            }
            Ok(Cmd::Exit(p, r)) => {
                ctx.send_exit(p, r)?;
                Ok(())
            }
            Ok(Cmd::Stop(p, r)) => {
                ctx.send(p, StopWith(r))?;
                Ok(())
            }
            Err(m) => self.0.handle_message(ctx, from, m).await,
        }
    }
    fn terminate(&mut self, ctx: &mut Context, reason: &Reason) {
        self.0.terminate(ctx, reason)
    }
}

/// Waits (bounded) until `pid` has left its shard's table (its `terminate` runs just before).
fn wait_gone(node: &ergo_engine::Node, pid: Pid) {
    for _ in 0..10_000 {
        if !node.is_alive(pid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("{pid} did not go away");
}

fn agent(
    node: &ergo_engine::Node,
    trap: bool,
    shard: usize,
) -> (Pid, std::sync::mpsc::Receiver<Seen>) {
    let (p, rx) = if trap {
        Probe::trapping()
    } else {
        Probe::new()
    };
    let pid = node
        .spawn(
            Agent(p),
            SpawnOptions {
                shard: Some(shard),
                ..Default::default()
            },
        )
        .unwrap();
    (pid, rx)
}

#[test]
fn a_link_propagates_termination_unless_trapped() {
    for shards in [(0, 0), (0, 1)] {
        let node = node("link", 2);
        let (a, arx) = agent(&node, false, shards.0);
        let (b, brx) = agent(&node, false, shards.1);
        let (c, crx) = agent(&node, true, shards.1);
        node.send(a, Cmd::Link(b.into())).unwrap();
        assert_eq!(next_as::<Result<(), Error>>(&arx).1, Ok(()));
        node.send(c, Cmd::Link(b.into())).unwrap();
        assert_eq!(next_as::<Result<(), Error>>(&crx).1, Ok(()));
        // b dies with a custom reason: a (not trapping) dies with it, c gets a message.
        // Sent by a, so it reaches b after a's link request.
        node.send(a, Cmd::Stop(b, Reason::custom("bad"))).unwrap();
        assert_eq!(terminated(&brx), Reason::custom("bad"));
        assert_eq!(terminated(&arx), Reason::custom("bad"));
        let (from, exit) = next_as::<MessageExitPid>(&crx);
        assert_eq!(from, b);
        assert_eq!(
            exit,
            MessageExitPid {
                pid: b,
                reason: Reason::custom("bad")
            }
        );
        node.stop();
    }
}

#[test]
fn linking_to_a_missing_process_yields_noproc() {
    let node = node("link2", 2);
    let (gone, grx) = agent(&node, false, 1);
    node.send(gone, StopWith(Reason::Normal)).unwrap();
    assert_eq!(terminated(&grx), Reason::Normal);
    wait_gone(&node, gone);
    let (c, crx) = agent(&node, true, 0);
    node.send(c, Cmd::Link(gone.into())).unwrap();
    assert_eq!(next_as::<Result<(), Error>>(&crx).1, Ok(()));
    assert_eq!(
        next_as::<MessageExitPid>(&crx).1,
        MessageExitPid {
            pid: gone,
            reason: Reason::NoProc
        }
    );
    node.stop();
}

#[test]
fn monitors_deliver_down_messages_by_pid_and_by_name() {
    let node = node("mon", 2);
    let (w, wrx) = agent(&node, false, 0);
    let (t, trx) = Probe::new();
    let target = node
        .spawn_register(
            "target",
            t,
            SpawnOptions {
                shard: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
    node.send(w, Cmd::Monitor(target.into())).unwrap();
    let r1: Ref = next_as::<Result<Ref, Error>>(&wrx).1.unwrap();
    node.send(w, Cmd::Monitor("target".into())).unwrap();
    let r2: Ref = next_as::<Result<Ref, Error>>(&wrx).1.unwrap();
    // Sent by the watcher, so it arrives after the monitor requests.
    node.send(w, Cmd::Stop(target, Reason::Shutdown)).unwrap();
    assert_eq!(terminated(&trx), Reason::Shutdown);
    let mut got_pid = false;
    let mut got_name = false;
    for _ in 0..2 {
        match wrx.recv_timeout(WAIT).unwrap() {
            Seen::Message(_, m) => {
                let m = match m.downcast::<MessageDownPid>() {
                    Ok(d) => {
                        assert_eq!(
                            d,
                            MessageDownPid {
                                pid: target,
                                r: r1,
                                reason: Reason::Shutdown
                            }
                        );
                        got_pid = true;
                        continue;
                    }
                    Err(m) => m,
                };
                let d = m
                    .downcast::<MessageDownProcessId>()
                    .expect("a down message");
                assert_eq!(d.r, r2);
                assert_eq!(d.process_id.name, "target");
                assert_eq!(d.reason, Reason::Shutdown);
                got_name = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(got_pid && got_name);
    // The watcher itself is unaffected.
    node.send(w, 1u8).unwrap();
    assert_eq!(next_as::<u8>(&wrx).1, 1);
    // Monitoring something already gone: down with NoProc.
    wait_gone(&node, target);
    node.send(w, Cmd::Monitor(target.into())).unwrap();
    let r3 = next_as::<Result<Ref, Error>>(&wrx).1.unwrap();
    assert_eq!(
        next_as::<MessageDownPid>(&wrx).1,
        MessageDownPid {
            pid: target,
            r: r3,
            reason: Reason::NoProc
        }
    );
    node.stop();
}

#[test]
fn exit_signals_are_trapped_whatever_their_reason_and_node_kill_is_not() {
    for shards in [(0, 0), (0, 1)] {
        let node = node("exit", 2);
        let (killer, _krx) = agent(&node, false, shards.0);
        let (t, trx) = agent(&node, true, shards.1);
        node.send(killer, Cmd::Exit(t, Reason::custom("please")))
            .unwrap();
        assert_eq!(
            next_as::<MessageExitPid>(&trx).1,
            MessageExitPid {
                pid: killer,
                reason: Reason::custom("please")
            }
        );
        // As Go: an exit signal whose reason is `kill` is an ordinary exit signal, trapped.
        node.send(killer, Cmd::Exit(t, Reason::Kill)).unwrap();
        assert_eq!(
            next_as::<MessageExitPid>(&trx).1,
            MessageExitPid {
                pid: killer,
                reason: Reason::Kill
            }
        );
        // Only a kill (Go's node.Kill) ends a trapping process; its terminate runs with `kill`.
        node.kill(t).unwrap();
        assert_eq!(terminated(&trx), Reason::Kill);
        // Not trapping: an exit signal terminates with its reason, `kill` too, via terminate.
        let (u, urx) = agent(&node, false, shards.1);
        node.send(killer, Cmd::Exit(u, Reason::custom("go")))
            .unwrap();
        assert_eq!(terminated(&urx), Reason::custom("go"));
        let (v, vrx) = agent(&node, false, shards.1);
        node.send(killer, Cmd::Exit(v, Reason::Kill)).unwrap();
        assert_eq!(terminated(&vrx), Reason::Kill);
        node.stop();
    }
}

#[test]
fn a_kill_does_not_spread_through_links() {
    let node = node("killspread", 2);
    let (watcher, wrx) = agent(&node, true, 0);
    let (t, trx) = agent(&node, false, 1);
    node.send(watcher, Cmd::Link(t.into())).unwrap();
    assert_eq!(next_as::<Result<(), Error>>(&wrx).1, Ok(()));
    node.kill(t).unwrap();
    assert_eq!(terminated(&trx), Reason::Kill);
    // The trapping watcher (a supervisor, say) hears of it and lives on.
    assert_eq!(
        next_as::<MessageExitPid>(&wrx).1,
        MessageExitPid {
            pid: t,
            reason: Reason::Kill
        }
    );
    node.send(watcher, 5u8).unwrap();
    assert_eq!(next_as::<u8>(&wrx).1, 5);
    node.stop();
}

#[test]
fn an_exit_signal_from_the_parent_is_never_trapped() {
    let node = node("parentexit", 1);
    struct Parent {
        tx: std::sync::mpsc::Sender<Seen>,
        child: Option<Pid>,
        child_probe: Option<Probe>,
    }
    impl Actor for Parent {
        fn init(&mut self, ctx: &mut Context) -> HandleResult {
            let probe = self.child_probe.take().expect("one child");
            let child = ctx
                .spawn(
                    probe,
                    SpawnOptions {
                        trap_exit: true,
                        ..Default::default()
                    },
                )
                .map_err(|e| Reason::custom(e.to_string()))?;
            self.child = Some(child);
            let _ = self.tx.send(Seen::Message(child, Message::new(child)));
            Ok(())
        }
        async fn handle_message(&mut self, ctx: &mut Context, _f: Pid, m: Message) -> HandleResult {
            if let Ok(r) = m.downcast::<Reason>() {
                let child = self.child.expect("spawned in init");
                ctx.send_exit(child, r)?;
            }
            Ok(())
        }
    }
    let (probe, crx) = Probe::trapping();
    let (tx, prx) = std::sync::mpsc::channel();
    let parent = node
        .spawn(
            Parent {
                tx,
                child: None,
                child_probe: Some(probe),
            },
            SpawnOptions::default(),
        )
        .unwrap();
    let (_, child) = next_as::<Pid>(&prx);
    // The child traps exits, and still an exit signal from its parent terminates it.
    let (other, _orx) = agent(&node, false, 0);
    node.send(other, Cmd::Exit(child, Reason::custom("not parent")))
        .unwrap();
    assert_eq!(
        next_as::<MessageExitPid>(&crx).1,
        MessageExitPid {
            pid: other,
            reason: Reason::custom("not parent")
        }
    );
    node.send(parent, Reason::custom("from parent")).unwrap();
    assert_eq!(terminated(&crx), Reason::custom("from parent"));
    node.stop();
}

#[test]
fn spawn_options_link_and_monitor_the_parent() {
    let node = node("spawnlink", 1);
    struct Parent {
        tx: std::sync::mpsc::Sender<Seen>,
    }
    impl Actor for Parent {
        fn init(&mut self, ctx: &mut Context) -> HandleResult {
            ctx.set_trap_exit(true);
            Ok(())
        }
        async fn handle_message(
            &mut self,
            ctx: &mut Context,
            from: Pid,
            m: Message,
        ) -> HandleResult {
            if m.is::<u8>() {
                let (p1, _r1) = Probe::new();
                let c1 = ctx.spawn(
                    p1,
                    SpawnOptions {
                        link_parent: true,
                        ..Default::default()
                    },
                )?;
                let (p2, _r2) = Probe::new();
                let c2 = ctx.spawn(
                    p2,
                    SpawnOptions {
                        monitor_parent: true,
                        ..Default::default()
                    },
                )?;
                ctx.send(c1, StopWith(Reason::custom("one")))?;
                ctx.send(c2, StopWith(Reason::custom("two")))?;
                let _ = self.tx.send(Seen::Message(from, Message::new((c1, c2))));
                return Ok(());
            }
            let _ = self.tx.send(Seen::Message(from, m));
            Ok(())
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let p = node.spawn(Parent { tx }, SpawnOptions::default()).unwrap();
    node.send(p, 0u8).unwrap();
    let (c1, c2) = next_as::<(Pid, Pid)>(&rx).1;
    let (_, e) = next_as::<MessageExitPid>(&rx);
    assert_eq!(
        e,
        MessageExitPid {
            pid: c1,
            reason: Reason::custom("one")
        }
    );
    let (_, d) = next_as::<MessageDownPid>(&rx);
    assert_eq!((d.pid, d.reason), (c2, Reason::custom("two")));
    node.stop();
}

/// Owns an event; publishes what it is sent; unregisters on `()`.
struct Producer {
    token: Option<Ref>,
    tx: std::sync::mpsc::Sender<Seen>,
}

impl Actor for Producer {
    /// A barrier: answered after everything sent to it before.
    async fn handle_call(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        _req: Message,
    ) -> Result<Option<Message>, Reason> {
        Ok(Some(Message::new(())))
    }

    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        self.token = Some(ctx.register_event(
            "ticks",
            EventOptions {
                notify: true,
                buffer: 2,
            },
        )?);
        Ok(())
    }
    async fn handle_message(&mut self, ctx: &mut Context, from: Pid, m: Message) -> HandleResult {
        if let Some(n) = m.downcast_ref::<u32>() {
            let token = self.token.ok_or(Reason::custom("no token"))?;
            ctx.send_event("ticks", token, *n)?;
        } else if m.is::<()>() {
            ctx.unregister_event("ticks")?;
        } else {
            let _ = self.tx.send(Seen::Message(from, m));
        }
        Ok(())
    }
}

/// Subscribes on request and reports the buffered events it got back.
struct Subscriber(Probe, bool);

impl Actor for Subscriber {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        self.0.init(ctx)
    }
    async fn handle_message(&mut self, ctx: &mut Context, from: Pid, m: Message) -> HandleResult {
        match m.downcast::<Event>() {
            Ok(ev) => {
                let r = if self.1 {
                    ctx.link_event(ev)
                } else {
                    ctx.monitor_event(ev)
                };
                let buffered: Vec<u32> = r?
                    .iter()
                    .filter_map(|e| e.downcast_ref::<u32>().copied())
                    .collect();
                let _ = self.0.tx.send(Seen::Message(from, Message::new(buffered)));
                Ok(())
            }
            Err(m) => self.0.handle_message(ctx, from, m).await,
        }
    }
    async fn handle_event(
        &mut self,
        ctx: &mut Context,
        e: ergo_engine::MessageEvent,
    ) -> HandleResult {
        self.0.handle_event(ctx, e).await
    }
    fn terminate(&mut self, ctx: &mut Context, reason: &Reason) {
        self.0.terminate(ctx, reason)
    }
}

#[test]
fn events_buffer_publish_notify_and_unregister() {
    let node = node("events", 2);
    let (ptx, prx) = std::sync::mpsc::channel();
    let producer = node
        .spawn(
            Producer {
                token: None,
                tx: ptx,
            },
            SpawnOptions {
                shard: Some(0),
                ..Default::default()
            },
        )
        .unwrap();
    for n in 1..=3u32 {
        node.send(producer, n).unwrap();
    }
    // All three are published before anyone subscribes.
    node.call(producer, 0u8, WAIT).unwrap();
    let ev = Event::new("ticks".into(), node.name());
    // A monitor subscriber gets the last two buffered values, then live ones.
    let (p, mrx) = Probe::new();
    let m = node
        .spawn(
            Subscriber(p, false),
            SpawnOptions {
                shard: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
    node.send(m, ev).unwrap();
    assert_eq!(next_as::<Vec<u32>>(&mrx).1, vec![2, 3]);
    assert_eq!(next_as::<MessageEventStart>(&prx).1.name, "ticks");
    // A link subscriber that traps exits.
    let (p, lrx) = Probe::trapping();
    let l = node
        .spawn(
            Subscriber(p, true),
            SpawnOptions {
                shard: Some(0),
                ..Default::default()
            },
        )
        .unwrap();
    node.send(l, ev).unwrap();
    assert_eq!(next_as::<Vec<u32>>(&lrx).1, vec![2, 3]);
    node.send(producer, 4u32).unwrap();
    for rx in [&mrx, &lrx] {
        match rx.recv_timeout(WAIT).unwrap() {
            Seen::Event(e) => {
                assert_eq!(e.event, ev);
                assert_eq!(e.downcast_ref::<u32>(), Some(&4));
            }
            other => panic!("expected an event, got {other:?}"),
        }
    }
    node.send(producer, ()).unwrap();
    assert_eq!(next_as::<MessageDownEvent>(&mrx).1.event, ev);
    assert_eq!(
        next_as::<MessageExitEvent>(&lrx).1,
        MessageExitEvent {
            event: ev,
            reason: Reason::custom("unregistered")
        }
    );
    node.stop();
    let _ = Duration::ZERO;
}

#[test]
fn notify_stop_when_the_last_subscriber_leaves() {
    let node = node("events2", 1);
    let (ptx, prx) = std::sync::mpsc::channel();
    let _producer = node
        .spawn(
            Producer {
                token: None,
                tx: ptx,
            },
            SpawnOptions::default(),
        )
        .unwrap();
    let ev = Event::new("ticks".into(), node.name());
    let (p, mrx) = Probe::new();
    let m = node
        .spawn(Subscriber(p, false), SpawnOptions::default())
        .unwrap();
    node.send(m, ev).unwrap();
    assert_eq!(next_as::<Vec<u32>>(&mrx).1, Vec::<u32>::new());
    assert_eq!(next_as::<MessageEventStart>(&prx).1.name, "ticks");
    node.send(m, StopWith(Reason::Normal)).unwrap();
    assert_eq!(next_as::<MessageEventStop>(&prx).1.name, "ticks");
    node.stop();
}

#[test]
fn spawn_on_another_shard_links_across_shards() {
    let node = node("spawnon", 2);
    struct Parent {
        tx: std::sync::mpsc::Sender<Seen>,
    }
    impl Actor for Parent {
        fn init(&mut self, ctx: &mut Context) -> HandleResult {
            ctx.set_trap_exit(true);
            Ok(())
        }
        async fn handle_message(
            &mut self,
            ctx: &mut Context,
            from: Pid,
            m: Message,
        ) -> HandleResult {
            if m.is::<u8>() {
                let (p, _r) = Probe::new();
                let opts = SpawnOptions {
                    link_parent: true,
                    ..Default::default()
                };
                let child = ctx.spawn_on(1, p, opts).await?;
                let _ = self
                    .tx
                    .send(Seen::Message(from, Message::new((ctx.shard(), child))));
                ctx.send(child, StopWith(Reason::custom("bye")))?;
                return Ok(());
            }
            let _ = self.tx.send(Seen::Message(from, m));
            Ok(())
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let p = node
        .spawn(
            Parent { tx },
            SpawnOptions {
                shard: Some(0),
                ..Default::default()
            },
        )
        .unwrap();
    node.send(p, 0u8).unwrap();
    let (shard, child) = next_as::<(usize, Pid)>(&rx).1;
    assert_eq!(shard, 0);
    assert_ne!(child.id % 1024, 0, "the child lives on shard 1");
    let (_, e) = next_as::<MessageExitPid>(&rx);
    assert_eq!(
        e,
        MessageExitPid {
            pid: child,
            reason: Reason::custom("bye")
        }
    );
    node.stop();
}

#[test]
fn links_and_monitors_by_name_and_alias_report_how_the_target_was_named() {
    use ergo_engine::{Alias, MessageDownAlias, MessageExitProcessId};
    let node = node("byname", 2);
    // The target makes an alias for itself on request.
    struct Target(Probe);
    impl Actor for Target {
        async fn handle_call(
            &mut self,
            ctx: &mut Context,
            _f: Pid,
            _r: Ref,
            _m: Message,
        ) -> Result<Option<Message>, Reason> {
            Ok(Some(Message::new(ctx.create_alias())))
        }
        async fn handle_message(
            &mut self,
            ctx: &mut Context,
            from: Pid,
            m: Message,
        ) -> HandleResult {
            self.0.handle_message(ctx, from, m).await
        }
        fn terminate(&mut self, ctx: &mut Context, reason: &Reason) {
            self.0.terminate(ctx, reason)
        }
    }
    let (p, trx) = Probe::new();
    let target = node
        .spawn_register(
            "named",
            Target(p),
            SpawnOptions {
                shard: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
    let alias: Alias = node.call(target, (), WAIT).unwrap().downcast().unwrap();
    let (w, wrx) = agent(&node, true, 0);
    node.send(w, Cmd::Link("named".into())).unwrap();
    assert_eq!(next_as::<Result<(), Error>>(&wrx).1, Ok(()));
    node.send(w, Cmd::Monitor(alias.into())).unwrap();
    let r = next_as::<Result<Ref, Error>>(&wrx).1.unwrap();
    node.send(w, Cmd::Stop(target, Reason::custom("gone")))
        .unwrap();
    assert_eq!(terminated(&trx), Reason::custom("gone"));
    let mut exit = None;
    let mut down = None;
    for _ in 0..2 {
        match wrx.recv_timeout(WAIT).unwrap() {
            Seen::Message(_, m) => match m.downcast::<MessageExitProcessId>() {
                Ok(e) => exit = Some(e),
                Err(m) => down = m.downcast::<MessageDownAlias>().ok(),
            },
            other => panic!("unexpected {other:?}"),
        }
    }
    let exit = exit.expect("an exit signal by name");
    assert_eq!(
        (exit.process_id.name.as_str(), exit.reason),
        ("named", Reason::custom("gone"))
    );
    assert_eq!(
        down,
        Some(MessageDownAlias {
            alias,
            r,
            reason: Reason::custom("gone")
        })
    );
    node.stop();
}

#[test]
fn unregistering_a_name_or_deleting_an_alias_notifies_with_unregistered() {
    use ergo_engine::{Alias, MessageDownAlias, MessageExitProcessId};
    let node = node("unreg", 2);
    /// Makes an alias, gives up its name, or deletes an alias, on request.
    struct Target;
    impl Actor for Target {
        async fn handle_call(
            &mut self,
            ctx: &mut Context,
            _f: Pid,
            _r: Ref,
            m: Message,
        ) -> Result<Option<Message>, Reason> {
            let m = match m.downcast::<Alias>() {
                Ok(a) => return Ok(Some(Message::new(ctx.delete_alias(a)))),
                Err(m) => m,
            };
            match m.downcast::<&'static str>() {
                Ok("unregister") => Ok(Some(Message::new(ctx.unregister_name()))),
                _ => Ok(Some(Message::new(ctx.create_alias()))),
            }
        }
    }
    let target = node
        .spawn_register(
            "leaving",
            Target,
            SpawnOptions {
                shard: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
    let alias: Alias = node.call(target, (), WAIT).unwrap().downcast().unwrap();
    let (w, wrx) = agent(&node, true, 0);
    node.send(w, Cmd::Link("leaving".into())).unwrap();
    assert_eq!(next_as::<Result<(), Error>>(&wrx).1, Ok(()));
    node.send(w, Cmd::Monitor(alias.into())).unwrap();
    let r = next_as::<Result<Ref, Error>>(&wrx).1.unwrap();

    let unregistered: Result<(), Error> = node
        .call(target, "unregister", WAIT)
        .unwrap()
        .downcast()
        .unwrap();
    assert_eq!(unregistered, Ok(()));
    match wrx.recv_timeout(WAIT).unwrap() {
        Seen::Message(_, m) => {
            let e = m
                .downcast::<MessageExitProcessId>()
                .expect("an exit signal by name");
            assert_eq!(
                (e.process_id.name.as_str(), e.reason),
                ("leaving", Reason::custom("unregistered"))
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    let deleted: Result<(), Error> = node.call(target, alias, WAIT).unwrap().downcast().unwrap();
    assert_eq!(deleted, Ok(()));
    match wrx.recv_timeout(WAIT).unwrap() {
        Seen::Message(_, m) => {
            let d = m
                .downcast::<MessageDownAlias>()
                .expect("a down message by alias");
            assert_eq!(
                d,
                MessageDownAlias {
                    alias,
                    r,
                    reason: Reason::custom("unregistered")
                }
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(node.is_alive(target), "the process itself goes on");
    node.stop();
}
