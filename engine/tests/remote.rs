//! Links, monitors and events across two nodes over loopback TCP; node down; remote spawn and
//! application start; important delivery; compression of a process's remote sends.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;
use std::time::Duration;

use ergo_engine::proto::gen::NetworkFlags;
use ergo_engine::{
    Actor, Alias, ApplicationMode, ApplicationSpec, Atom, ChildSpec, Compression, CompressionKind,
    Context, Error, Event, EventOptions, HandleResult, Message, MessageDownAlias, MessageDownEvent,
    MessageDownPid, MessageDownProcessId, MessageEvent, MessageExitEvent, MessageExitPid,
    NetworkOptions, Node, NodeOptions, Pid, ProcessId, Reason, Ref, SpawnOptions, Target,
};

const WAIT: Duration = Duration::from_secs(10);

/// What a probe is told to do (local messages only).
enum Cmd {
    Link(Target),
    Monitor(Target),
    Demonitor(Target),
    MonitorEvent(Event),
    LinkEvent(Event),
    /// A call whose answer proves that everything sent before it has been handled.
    Sync(Target),
    Important(Target, String),
    Spawn(Atom, Atom, Duration),
    AppStart(Atom, Atom),
    RegisterEvent(Atom, usize),
    Publish(Atom, String),
    UnregisterEvent(Atom),
    CreateAlias,
    DeleteAlias(Alias),
    Compress(Compression),
    Send(Target, String),
    /// Sends 0..n as `i64`.
    SendMany(Target, i64),
    Stop(Reason),
}

/// What a probe saw.
#[derive(Debug)]
enum Seen {
    Msg(Pid, Message),
    Event(MessageEvent),
    Done(Result<String, Error>),
    Alias(Alias),
}

struct Probe {
    tx: Mutex<Sender<Seen>>,
    token: Option<Ref>,
}

impl Probe {
    fn new(tx: &Sender<Seen>) -> Probe {
        Probe {
            tx: Mutex::new(tx.clone()),
            token: None,
        }
    }
    fn tell(&self, s: Seen) {
        let _ = self.tx.lock().unwrap().send(s);
    }
}

fn text<T: std::fmt::Debug>(r: Result<T, Error>) -> Result<String, Error> {
    r.map(|v| format!("{v:?}"))
}

impl Actor for Probe {
    async fn handle_message(&mut self, ctx: &mut Context, from: Pid, m: Message) -> HandleResult {
        let cmd = match m.downcast::<Cmd>() {
            Ok(c) => c,
            Err(m) => {
                self.tell(Seen::Msg(from, m));
                return Ok(());
            }
        };
        let done = match cmd {
            Cmd::Link(t) => text(ctx.link(t)),
            Cmd::Monitor(t) => text(ctx.monitor(t)),
            Cmd::Demonitor(t) => text(ctx.demonitor(t)),
            Cmd::MonitorEvent(e) => text(ctx.monitor_event(e).map(|v| v.len())),
            Cmd::LinkEvent(e) => text(ctx.link_event(e).map(|v| v.len())),
            Cmd::Sync(t) => text(ctx.call(t, "sync".to_string()).await.map(|_| ())),
            Cmd::Important(t, s) => text(ctx.send_important(t, s, Duration::from_secs(5)).await),
            Cmd::Spawn(node, name, timeout) => ctx
                .remote_spawn(node, name, SpawnOptions::default(), vec![], timeout)
                .await
                .map(|p| p.node.to_string()),
            Cmd::AppStart(node, name) => text(
                ctx.remote_application_start(node, name, None, Duration::from_secs(5))
                    .await,
            ),
            Cmd::RegisterEvent(name, buffer) => {
                let r = ctx.register_event(
                    name,
                    EventOptions {
                        buffer,
                        notify: false,
                    },
                );
                self.token = r.as_ref().ok().copied();
                text(r)
            }
            Cmd::Publish(name, s) => text(ctx.send_event(name, self.token.unwrap_or_default(), s)),
            Cmd::UnregisterEvent(name) => text(ctx.unregister_event(name)),
            Cmd::CreateAlias => {
                let a = ctx.create_alias();
                self.tell(Seen::Alias(a));
                return Ok(());
            }
            Cmd::DeleteAlias(a) => text(ctx.delete_alias(a)),
            Cmd::Compress(c) => {
                ctx.set_compression(c);
                Ok(String::new())
            }
            Cmd::Send(t, s) => text(ctx.send(t, s)),
            Cmd::SendMany(t, n) => {
                let mut r = Ok(());
                for i in 0..n {
                    r = r.and(ctx.send(t, i));
                }
                text(r)
            }
            Cmd::Stop(r) => return Err(r),
        };
        self.tell(Seen::Done(done));
        Ok(())
    }

    async fn handle_call(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        req: Message,
    ) -> Result<Option<Message>, Reason> {
        Ok(Some(req))
    }

    async fn handle_event(&mut self, _ctx: &mut Context, ev: MessageEvent) -> HandleResult {
        self.tell(Seen::Event(ev));
        Ok(())
    }
}

fn node(name: &str, flags: u64) -> Node {
    let mut net = NetworkOptions::new("remote-secret");
    net.flags = NetworkFlags(net.flags.0 | flags);
    Node::start(
        name,
        NodeOptions {
            shards: 2,
            network: Some(net),
            ..Default::default()
        },
    )
    .unwrap()
}

/// Two connected nodes: `a` knows how to reach `b`.
fn pair(tag: &str, b_flags: u64) -> (Node, Node) {
    let b = node(&format!("{tag}b@localhost"), b_flags);
    let a = node(&format!("{tag}a@localhost"), 0);
    a.network()
        .get_node_with_route(b.name(), b.network_address().unwrap())
        .unwrap();
    (a, b)
}

fn probe(n: &Node, opts: SpawnOptions) -> (Pid, Receiver<Seen>) {
    let (tx, rx) = channel();
    (n.spawn(Probe::new(&tx), opts).unwrap(), rx)
}

fn trapping() -> SpawnOptions {
    SpawnOptions {
        trap_exit: true,
        ..Default::default()
    }
}

/// Runs a command on a probe and returns its outcome.
fn run(n: &Node, p: Pid, rx: &Receiver<Seen>, c: Cmd) -> Result<String, Error> {
    n.send(p, c).unwrap();
    match rx.recv_timeout(WAIT).expect("no answer from the probe") {
        Seen::Done(r) => r,
        Seen::Alias(a) => Ok(format!("{a:?}")),
        other => panic!("expected the command's outcome, got {other:?}"),
    }
}

fn next_msg(rx: &Receiver<Seen>) -> (Pid, Message) {
    match rx.recv_timeout(WAIT).expect("nothing arrived") {
        Seen::Msg(from, m) => (from, m),
        other => panic!("expected a message, got {other:?}"),
    }
}

fn next_event(rx: &Receiver<Seen>) -> MessageEvent {
    match rx.recv_timeout(WAIT).expect("no event arrived") {
        Seen::Event(e) => e,
        other => panic!("expected an event, got {other:?}"),
    }
}

fn no_connection() -> Reason {
    Reason::custom("no connection")
}

#[test]
fn remote_link_and_monitors_hear_the_target_terminate() {
    let (a, b) = pair("lm", 0);
    let (target, trx) = probe(&b, SpawnOptions::default().register("target"));
    let (watcher, wrx) = probe(&a, trapping());
    let name = ProcessId::new(Atom::new("target"), b.name());

    run(&a, watcher, &wrx, Cmd::Link(Target::Pid(target))).unwrap();
    run(&a, watcher, &wrx, Cmd::Monitor(Target::Pid(target))).unwrap();
    run(&a, watcher, &wrx, Cmd::Monitor(Target::ProcessId(name))).unwrap();
    // The call goes over the same link after the requests: once it is answered, the target's
    // shard has recorded them.
    run(&a, watcher, &wrx, Cmd::Sync(Target::Pid(target))).unwrap();

    b.send(target, Cmd::Stop(Reason::custom("boom"))).unwrap();
    let mut exit = None;
    let mut down_pid = None;
    let mut down_name = None;
    for _ in 0..3 {
        let (_, m) = next_msg(&wrx);
        let m = match m.downcast::<MessageExitPid>() {
            Ok(x) => {
                exit = Some(x);
                continue;
            }
            Err(m) => m,
        };
        let m = match m.downcast::<MessageDownPid>() {
            Ok(x) => {
                down_pid = Some(x);
                continue;
            }
            Err(m) => m,
        };
        down_name = Some(
            m.downcast::<MessageDownProcessId>()
                .expect("unexpected message"),
        );
    }
    let exit = exit.expect("no exit signal");
    assert_eq!(exit.pid, target);
    assert_eq!(exit.reason, Reason::custom("boom"));
    let down_pid = down_pid.expect("no down for the PID");
    assert_eq!(
        (down_pid.pid, down_pid.reason),
        (target, Reason::custom("boom"))
    );
    let down_name = down_name.expect("no down for the name");
    assert_eq!(down_name.process_id, name);
    assert_eq!(down_name.reason, Reason::custom("boom"));
    drop(trx);
    a.stop();
    b.stop();
}

#[test]
fn remote_targets_that_do_not_exist_and_demonitor() {
    let (a, b) = pair("nx", 0);
    let (watcher, wrx) = probe(&a, trapping());
    // A PID that never existed, and a name nobody has.
    let ghost = Pid::new(b.name(), 999_999_999, b.creation());
    run(&a, watcher, &wrx, Cmd::Monitor(Target::Pid(ghost))).unwrap();
    let (_, m) = next_msg(&wrx);
    let d = m.downcast::<MessageDownPid>().expect("a down message");
    assert_eq!((d.pid, d.reason), (ghost, Reason::NoProc));

    let nobody = ProcessId::new(Atom::new("nobody"), b.name());
    run(&a, watcher, &wrx, Cmd::Link(Target::ProcessId(nobody))).unwrap();
    let (_, m) = next_msg(&wrx);
    let x = m
        .downcast::<ergo_engine::MessageExitProcessId>()
        .expect("an exit signal");
    assert_eq!((x.process_id, x.reason), (nobody, Reason::NoProc));

    // An alias that does not exist (the peer answers "unknown alias", as Go does).
    let (owner, _orx) = probe(&b, SpawnOptions::default());
    let fake = Alias {
        node: b.name(),
        creation: b.creation(),
        id: [owner.id, 12345, 0],
    };
    run(&a, watcher, &wrx, Cmd::Monitor(Target::Alias(fake))).unwrap();
    let (_, m) = next_msg(&wrx);
    let d = m.downcast::<MessageDownAlias>().expect("a down message");
    assert_eq!((d.alias, d.reason), (fake, Reason::NoProc));

    // Demonitored: the target's end is not reported.
    let (target, _trx) = probe(&b, SpawnOptions::default());
    run(&a, watcher, &wrx, Cmd::Monitor(Target::Pid(target))).unwrap();
    run(&a, watcher, &wrx, Cmd::Sync(Target::Pid(target))).unwrap();
    run(&a, watcher, &wrx, Cmd::Demonitor(Target::Pid(target))).unwrap();
    run(&a, watcher, &wrx, Cmd::Sync(Target::Pid(target))).unwrap();
    b.send(target, Cmd::Stop(Reason::Normal)).unwrap();
    assert!(
        wrx.recv_timeout(Duration::from_millis(500)).is_err(),
        "a demonitored target was reported"
    );
    a.stop();
    b.stop();
}

#[test]
fn deleting_a_monitored_remote_alias_reports_unregistered() {
    let (a, b) = pair("al", 0);
    let (owner, orx) = probe(&b, SpawnOptions::default());
    let (watcher, wrx) = probe(&a, SpawnOptions::default());
    b.send(owner, Cmd::CreateAlias).unwrap();
    let alias = match orx.recv_timeout(WAIT).unwrap() {
        Seen::Alias(a) => a,
        other => panic!("{other:?}"),
    };
    run(&a, watcher, &wrx, Cmd::Monitor(Target::Alias(alias))).unwrap();
    run(&a, watcher, &wrx, Cmd::Sync(Target::Alias(alias))).unwrap();
    run(&b, owner, &orx, Cmd::DeleteAlias(alias)).unwrap();
    let (_, m) = next_msg(&wrx);
    let d = m.downcast::<MessageDownAlias>().expect("a down message");
    assert_eq!((d.alias, d.reason), (alias, Reason::custom("unregistered")));
    a.stop();
    b.stop();
}

#[test]
fn losing_the_connection_reports_no_connection_and_the_next_send_redials() {
    let (a, b) = pair("nd", 0);
    let (target, _trx) = probe(&b, SpawnOptions::default());
    let (watcher, wrx) = probe(&a, trapping());
    run(&a, watcher, &wrx, Cmd::Monitor(Target::Pid(target))).unwrap();
    run(&a, watcher, &wrx, Cmd::Link(Target::Pid(target))).unwrap();
    run(&a, watcher, &wrx, Cmd::Sync(Target::Pid(target))).unwrap();

    assert!(a.network().node(b.name()).unwrap().disconnect());
    let mut got = Vec::new();
    for _ in 0..2 {
        let (_, m) = next_msg(&wrx);
        match m.downcast::<MessageDownPid>() {
            Ok(d) => got.push(("down", d.pid, d.reason)),
            Err(m) => {
                let x = m.downcast::<MessageExitPid>().expect("exit or down");
                got.push(("exit", x.pid, x.reason));
            }
        }
    }
    got.sort_by_key(|g| g.0);
    assert_eq!(
        got,
        vec![
            ("down", target, no_connection()),
            ("exit", target, no_connection())
        ]
    );
    // The next call dials again.
    run(&a, watcher, &wrx, Cmd::Sync(Target::Pid(target))).unwrap();
    assert!(a.is_connected(b.name()));
    a.stop();
    b.stop();
}

#[test]
fn remote_events_cross_once_per_node_and_fan_out() {
    let (a, b) = pair("ev", 0);
    let (producer, prx) = probe(&b, SpawnOptions::default());
    let prices = Atom::new("prices");
    run(&b, producer, &prx, Cmd::RegisterEvent(prices, 2)).unwrap();
    for p in ["p1", "p2", "p3"] {
        run(&b, producer, &prx, Cmd::Publish(prices, p.into())).unwrap();
    }
    let event = Event::new(prices, b.name());

    // Three subscribers on `a`: each gets the producer's buffer (the last two) on subscribing.
    let mut subs = Vec::new();
    for i in 0..3 {
        let opts = if i == 2 {
            trapping()
        } else {
            SpawnOptions::default()
        };
        let (s, srx) = probe(&a, opts);
        let cmd = if i == 2 {
            Cmd::LinkEvent(event)
        } else {
            Cmd::MonitorEvent(event)
        };
        assert_eq!(run(&a, s, &srx, cmd).unwrap(), "0");
        for want in ["p2", "p3"] {
            let e = next_event(&srx);
            assert_eq!(e.event, event);
            assert_eq!(e.downcast_ref::<String>().map(String::as_str), Some(want));
        }
        subs.push((s, srx));
    }
    let before = b.network().events_sent();
    run(&b, producer, &prx, Cmd::Publish(prices, "p4".into())).unwrap();
    for (_, srx) in &subs {
        let e = next_event(srx);
        assert_eq!(e.downcast_ref::<String>().map(String::as_str), Some("p4"));
    }
    assert_eq!(
        b.network().events_sent() - before,
        1,
        "one event message for a node with three subscribers"
    );

    // The producer unregisters: monitors get a down message, the link an exit signal, with
    // Go's reason `unregistered`.
    run(&b, producer, &prx, Cmd::UnregisterEvent(prices)).unwrap();
    for (i, (_, srx)) in subs.iter().enumerate() {
        let (_, m) = next_msg(srx);
        if i == 2 {
            let x = m.downcast::<MessageExitEvent>().expect("an exit signal");
            assert_eq!((x.event, x.reason), (event, Reason::custom("unregistered")));
        } else {
            let d = m.downcast::<MessageDownEvent>().expect("a down message");
            assert_eq!((d.event, d.reason), (event, Reason::custom("unregistered")));
        }
    }

    // An event that does not exist: the subscriber hears it went down.
    let (s, srx) = probe(&a, SpawnOptions::default());
    let nope = Event::new(Atom::new("nope"), b.name());
    run(&a, s, &srx, Cmd::MonitorEvent(nope)).unwrap();
    let (_, m) = next_msg(&srx);
    let d = m.downcast::<MessageDownEvent>().expect("a down message");
    assert_eq!(d.event, nope);
    assert_eq!(d.reason, Reason::custom("unknown event"));
    a.stop();
    b.stop();
}

struct Worker;

impl Actor for Worker {
    async fn handle_call(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        req: Message,
    ) -> Result<Option<Message>, Reason> {
        let s = req.downcast::<String>().unwrap_or_default();
        Ok(Some(Message::new(format!("{s}@{}", ctx.node_name()))))
    }
}

#[test]
fn remote_spawn_from_the_node_api_and_from_a_process() {
    let (a, b) = pair("sp", NetworkFlags::REMOTE_SPAWN);
    b.network()
        .enable_spawn("worker", |_args| Worker, &[])
        .unwrap();
    b.network()
        .enable_spawn(
            "only-for-others",
            |_args| Worker,
            &[Atom::new("someone@else")],
        )
        .unwrap();
    let rn = a.network().get_node(b.name()).unwrap();
    assert_eq!(rn.creation(), b.creation());
    assert_eq!(rn.info().unwrap().node, b.name());

    let w = rn
        .spawn_register("w1", "worker", SpawnOptions::default(), vec![])
        .unwrap();
    assert_eq!(w.node, b.name());
    assert_eq!(b.whereis("w1"), Some(w));
    let reply = a.call(w, "hi".to_string(), WAIT).unwrap();
    assert_eq!(
        reply.downcast::<String>().ok(),
        Some(format!("hi@{}", b.name()))
    );
    assert_eq!(
        rn.spawn("nope", SpawnOptions::default(), vec![]),
        Err(Error::Network("unknown name".into()))
    );
    assert_eq!(
        rn.spawn("only-for-others", SpawnOptions::default(), vec![]),
        Err(Error::Network("not allowed".into()))
    );

    // From inside a process.
    let (p, prx) = probe(&a, SpawnOptions::default());
    let got = run(&a, p, &prx, Cmd::Spawn(b.name(), Atom::new("worker"), WAIT)).unwrap();
    assert_eq!(got, b.name().to_string());

    // A node that did not enable remote spawn in its flags does not answer (as Go).
    let (c, d) = pair("ns", 0);
    d.network()
        .enable_spawn("worker", |_args| Worker, &[])
        .unwrap();
    let (p, prx) = probe(&c, SpawnOptions::default());
    let r = run(
        &c,
        p,
        &prx,
        Cmd::Spawn(d.name(), Atom::new("worker"), Duration::from_millis(500)),
    );
    assert_eq!(r, Err(Error::Timeout));
    for n in [a, b, c, d] {
        n.stop();
    }
}

struct Member(Mutex<Sender<Pid>>);

impl Actor for Member {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        let _ = self.0.lock().unwrap().send(ctx.pid());
        Ok(())
    }
}

#[test]
fn remote_application_start() {
    let (a, b) = pair("ap", NetworkFlags::REMOTE_APPLICATION_START);
    let (tx, rx) = channel();
    let mut spec = ApplicationSpec::new("shop");
    let tx = Mutex::new(tx);
    let tx = std::sync::Arc::new(tx);
    spec.group = vec![ChildSpec::new("till", move || {
        Member(Mutex::new(tx.lock().unwrap().clone()))
    })];
    b.application_load(spec).unwrap();
    let rn = a.network().get_node(b.name()).unwrap();
    assert_eq!(
        rn.application_start_permanent("shop"),
        Err(Error::Network("unknown name".into())),
        "not enabled for remote start yet"
    );
    b.network().enable_application_start("shop", &[]).unwrap();
    rn.application_start_permanent("shop").unwrap();
    let member = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(member.node, b.name());
    assert_eq!(b.applications_running(), vec![Atom::new("shop")]);
    let info = b
        .applications()
        .into_iter()
        .find(|i| i.name == Atom::new("shop"))
        .unwrap();
    assert!(matches!(
        info.state,
        ergo_engine::ApplicationState::Running {
            mode: ApplicationMode::Permanent,
            ..
        }
    ));

    // From a process: already running.
    let (p, prx) = probe(&a, SpawnOptions::default());
    let r = run(&a, p, &prx, Cmd::AppStart(b.name(), Atom::new("shop")));
    assert!(r.is_err(), "{r:?}");
    a.stop();
    b.stop();
}

#[test]
fn important_delivery_confirms_or_says_why_not() {
    let (a, b) = pair("im", 0);
    let (target, trx) = probe(&b, SpawnOptions::default().register("here"));
    let (p, prx) = probe(&a, SpawnOptions::default());
    let ok = run(
        &a,
        p,
        &prx,
        Cmd::Important(Target::Pid(target), "hello".into()),
    );
    assert_eq!(ok, Ok("()".into()));
    let (_, m) = next_msg(&trx);
    assert_eq!(m.downcast::<String>().ok().as_deref(), Some("hello"));

    let ghost = Pid::new(b.name(), 999_999_999, b.creation());
    let r = run(&a, p, &prx, Cmd::Important(Target::Pid(ghost), "x".into()));
    assert_eq!(r, Err(Error::ProcessUnknown));
    let nobody = ProcessId::new(Atom::new("nobody"), b.name());
    let r = run(
        &a,
        p,
        &prx,
        Cmd::Important(Target::ProcessId(nobody), "x".into()),
    );
    assert_eq!(r, Err(Error::ProcessUnknown));
    let here = ProcessId::new(Atom::new("here"), b.name());
    let r = run(
        &a,
        p,
        &prx,
        Cmd::Important(Target::ProcessId(here), "y".into()),
    );
    assert_eq!(r, Ok("()".into()));
    a.stop();
    b.stop();
}

#[test]
fn a_process_with_compression_sends_compressed_frames() {
    let (a, b) = pair("cz", 0);
    let (target, trx) = probe(&b, SpawnOptions::default());
    let (p, prx) = probe(&a, SpawnOptions::default());
    let big = "compressible ".repeat(5_000); // 65 000 bytes: under EDF's string limit
    let rn = a.network().node(b.name()).unwrap();
    for kind in [
        CompressionKind::Gzip,
        CompressionKind::Zlib,
        CompressionKind::Lzw,
    ] {
        let c = Compression {
            enable: true,
            threshold: 1024,
            level: 0,
            kind,
        };
        run(&a, p, &prx, Cmd::Compress(c)).unwrap();
        let before = rn.info().unwrap().bytes_out;
        run(&a, p, &prx, Cmd::Send(Target::Pid(target), big.clone())).unwrap();
        let (_, m) = next_msg(&trx);
        assert_eq!(m.downcast::<String>().ok().as_deref(), Some(big.as_str()));
        let sent = rn.info().unwrap().bytes_out - before;
        assert!(
            sent < big.len() as u64 / 10,
            "{kind:?}: {sent} bytes on the wire for {} bytes",
            big.len()
        );
    }
    // Off again: the message crosses as it is.
    run(&a, p, &prx, Cmd::Compress(Compression::default())).unwrap();
    let before = rn.info().unwrap().bytes_out;
    run(&a, p, &prx, Cmd::Send(Target::Pid(target), big.clone())).unwrap();
    let _ = next_msg(&trx);
    assert!(rn.info().unwrap().bytes_out - before > big.len() as u64);
    a.stop();
    b.stop();
}

#[test]
fn a_connection_is_a_pool_of_links_and_each_sender_keeps_its_order() {
    let (a, b) = pair("pl", 0);
    let info = a.network().node(b.name()).unwrap().info().unwrap();
    assert_eq!(
        info.pool_size, 3,
        "the dialer joins the links the acceptor asks for"
    );
    let deadline = std::time::Instant::now() + WAIT;
    while b
        .network()
        .node(a.name())
        .unwrap()
        .info()
        .unwrap()
        .pool_size
        != 3
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the acceptor never saw 3 links"
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    // Eight senders (spread over the links by their PIDs), one receiver.
    let (sink, srx) = probe(&b, SpawnOptions::default());
    let mut senders = Vec::new();
    for _ in 0..8 {
        senders.push(probe(&a, SpawnOptions::default()));
    }
    const N: i64 = 2000;
    for (p, _) in &senders {
        a.send(*p, Cmd::SendMany(Target::Pid(sink), N)).unwrap();
    }
    for (_, prx) in &senders {
        assert!(matches!(prx.recv_timeout(WAIT), Ok(Seen::Done(Ok(_)))));
    }
    let mut next: std::collections::HashMap<Pid, i64> = Default::default();
    for _ in 0..(N * senders.len() as i64) {
        let (from, m) = next_msg(&srx);
        let i = m.downcast::<i64>().expect("a number");
        let want = next.entry(from).or_insert(0);
        assert_eq!(i, *want, "out of order from {from:?}");
        *want += 1;
    }
    assert_eq!(next.len(), senders.len());
    assert!(next.values().all(|&n| n == N));

    // One broken link takes the connection down; the next message dials a new pool.
    assert!(b.network().node(a.name()).unwrap().disconnect());
    let deadline = std::time::Instant::now() + WAIT;
    while a.is_connected(b.name()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the dialer kept a broken connection"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let (p, prx) = &senders[0];
    run(&a, *p, prx, Cmd::Sync(Target::Pid(sink))).unwrap();
    assert_eq!(
        a.network()
            .node(b.name())
            .unwrap()
            .info()
            .unwrap()
            .pool_size,
        3
    );
    a.stop();
    b.stop();
}
