//! The etcd registrar against a real etcd server (started per test on free loopback ports):
//! registration under a lease and its expiry when a node is killed, discovery and messaging
//! between two nodes, application routes, the configuration hierarchy, events, name clashes,
//! and a partition between a node and etcd. Also Go's stored bytes for routes, both ways.
//!
//! Without an `etcd` binary on PATH these tests fail, saying what to install.
#![cfg(feature = "etcd")]

mod common;
#[path = "common/etcd.rs"]
mod etcd_support;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Echo;
use ergo_engine::registrar::etcd::layout::{decode_app, decode_routes, encode_app, encode_routes};
use ergo_engine::registrar::etcd::{
    EtcdOptions, EtcdRegistrar, EventApplicationLoaded, EventApplicationStarted,
    EventApplicationStopped, EventApplicationStopping, EventConfigUpdate, EventNodeJoined,
    EventNodeLeft, RegistrationState,
};
use ergo_engine::registrar::{ApplicationRoute, ConfigValue, RegistrarClient, RouteState};
use ergo_engine::{
    Actor, ApplicationSpec, Atom, ChildSpec, Context, Error, Event, HandleResult, MessageEvent,
    NetworkOptions, Node, NodeOptions, ProcessId, SpawnOptions,
};
use ergo_proto::gen::{ApplicationMode as WireMode, Route, Version};
use etcd_support::{Etcd, Proxy};

const WAIT: Duration = Duration::from_secs(15);

fn options(endpoint: &str, cluster: &str, ttl: i64) -> EtcdOptions {
    EtcdOptions {
        endpoints: vec![endpoint.to_string()],
        cluster: cluster.to_string(),
        lease_ttl: ttl,
        dial_timeout: Duration::from_secs(3),
        request_timeout: Duration::from_secs(3),
        retry_min: Duration::from_millis(200),
        retry_max: Duration::from_secs(1),
        ..Default::default()
    }
}

fn start_node(name: &str, o: EtcdOptions) -> Result<Node, Error> {
    let mut net = NetworkOptions::new("etcd-cookie");
    net.registrar = Some(o.into());
    Node::start(
        name,
        NodeOptions {
            shards: 1,
            pin: false,
            stop_timeout: Duration::from_millis(500),
            network: Some(net),
            ..Default::default()
        },
    )
}

fn node_key(cluster: &str, node: &str) -> String {
    format!("services/ergo/cluster/{cluster}/routes/nodes/{node}")
}

fn app_key(cluster: &str, app: &str, node: &str) -> String {
    format!("services/ergo/cluster/{cluster}/routes/applications/{app}/{node}")
}

fn registrar(n: &Node) -> Arc<dyn RegistrarClient> {
    n.network().registrar().expect("the node has a registrar")
}

fn state(n: &Node) -> RegistrationState {
    let r = registrar(n);
    r.as_any()
        .and_then(|a| a.downcast_ref::<EtcdRegistrar>())
        .expect("an etcd registrar")
        .state()
}

fn wait_until(what: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if what() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn echo(n: &Node) -> Receiver<(ergo_engine::Pid, ergo_engine::Message)> {
    let (tx, rx) = channel();
    n.spawn_register("echo", Echo(Mutex::new(tx)), SpawnOptions::default())
        .expect("echo spawns");
    rx
}

fn call_echo(from: &Node, on: &Node, text: &str) -> Result<String, Error> {
    from.call(
        ProcessId::new(Atom::new("echo"), on.name()),
        text.to_string(),
        Duration::from_secs(5),
    )
    .map(|m| m.downcast::<String>().unwrap_or_default())
}

#[test]
fn etcd_registers_routes_under_a_lease_leaves_on_stop_and_a_killed_node_expires_within_ttl() {
    let etcd = Etcd::start();
    let kv = etcd.kv();
    let a = start_node("a@localhost", options(&etcd.endpoint, "c1", 10)).unwrap();
    let stored = kv
        .get(&node_key("c1", "a@localhost"))
        .unwrap()
        .expect("the node's routes are in etcd");
    let routes = decode_routes(&stored).expect("routes decode");
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0].port, a.network_address().unwrap().port());
    assert_eq!(routes[0].handshake_version.name, "EHS");
    // A clean stop revokes the lease: the key goes at once, not after the TTL.
    a.stop();
    assert!(kv.wait_key(
        &node_key("c1", "a@localhost"),
        false,
        Duration::from_secs(2)
    ));

    // A node in another process, killed with SIGKILL: its key goes when its lease expires.
    let ttl = 2;
    let mut child = Command::new(env!("CARGO_BIN_EXE_etcd-test-node"))
        .args(["k@localhost", &etcd.endpoint, "c1", &ttl.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the child node starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    let key = node_key("c1", "k@localhost");
    assert!(kv.get(&key).unwrap().is_some(), "the child registered");
    child.kill().unwrap();
    let killed = Instant::now();
    child.wait().unwrap();
    assert!(
        kv.get(&key).unwrap().is_some(),
        "a killed node cannot unregister itself: only its lease removes the key"
    );
    assert!(
        kv.wait_key(&key, false, Duration::from_secs(ttl as u64 + 1)),
        "the key of a killed node is gone within TTL + 1 s"
    );
    assert!(killed.elapsed() <= Duration::from_secs(ttl as u64 + 1));
}

#[test]
fn etcd_two_nodes_discover_and_message_each_other() {
    let etcd = Etcd::start();
    let a = start_node("a@localhost", options(&etcd.endpoint, "c2", 10)).unwrap();
    let b = start_node("b@localhost", options(&etcd.endpoint, "c2", 10)).unwrap();
    let a_rx = echo(&a);
    let _b_rx = echo(&b);
    // No static route: each finds the other through etcd.
    assert_eq!(call_echo(&b, &a, "from b").unwrap(), "pong:from b");
    assert_eq!(call_echo(&a, &b, "from a").unwrap(), "pong:from a");
    b.send(
        ProcessId::new(Atom::new("echo"), a.name()),
        "hello".to_string(),
    )
    .unwrap();
    let (from, m) = loop {
        let (from, m) = a_rx.recv_timeout(WAIT).expect("a's echo got the message");
        if m.downcast_ref::<String>().map(String::as_str) == Some("hello") {
            break (from, m);
        }
    };
    assert_eq!(from.node, b.name());
    assert!(m.is::<String>());
    assert_eq!(registrar(&a).nodes().unwrap(), vec![b.name()]);
    assert_eq!(registrar(&b).nodes().unwrap(), vec![a.name()]);
    let routes = registrar(&b).resolve(a.name()).unwrap();
    assert_eq!(routes[0].port, a.network_address().unwrap().port());
    assert!(registrar(&b)
        .resolve(Atom::new("nobody@localhost"))
        .is_err());
    let info = registrar(&a).info();
    assert!(info.support_config && info.support_event && info.support_register_application);
    b.stop();
    a.stop();
}

struct Idle;
impl Actor for Idle {}

fn shop() -> ApplicationSpec {
    let mut s = ApplicationSpec::new("shop");
    s.weight = 5;
    s.group = vec![ChildSpec::new("idle", || Idle)];
    s
}

fn stored_app(kv: &etcd_support::Kv, key: &str) -> Option<ApplicationRoute> {
    kv.get(key)
        .unwrap()
        .map(|v| decode_app(&v).expect("application route decodes"))
}

#[test]
fn etcd_application_routes_follow_load_start_stop_and_unload() {
    let etcd = Etcd::start();
    let kv = etcd.kv();
    let a = start_node("a@localhost", options(&etcd.endpoint, "c3", 10)).unwrap();
    let b = start_node("b@localhost", options(&etcd.endpoint, "c3", 10)).unwrap();
    let key = app_key("c3", "shop", "a@localhost");
    a.application_load(shop()).unwrap();
    assert!(wait_until(
        || stored_app(&kv, &key).is_some_and(|r| r.state == RouteState::LOADED)
    ));
    a.application_start("shop", Some(ergo_engine::ApplicationMode::Transient))
        .unwrap();
    assert!(wait_until(
        || stored_app(&kv, &key).is_some_and(|r| r.state == RouteState::RUNNING)
    ));
    let want = ApplicationRoute {
        node: a.name(),
        name: Atom::new("shop"),
        weight: 5,
        mode: WireMode(2),
        state: RouteState::RUNNING,
    };
    assert_eq!(stored_app(&kv, &key), Some(want.clone()));
    assert_eq!(
        registrar(&b)
            .resolve_application(Atom::new("shop"))
            .unwrap(),
        vec![want]
    );
    assert!(
        registrar(&a)
            .resolve_application(Atom::new("shop"))
            .unwrap()
            .is_empty(),
        "a node's own application routes are left out"
    );
    a.application_stop("shop").unwrap();
    assert!(wait_until(
        || stored_app(&kv, &key).is_some_and(|r| r.state == RouteState::LOADED)
    ));
    a.application_unload("shop").unwrap();
    assert!(kv.wait_key(&key, false, WAIT));
    b.stop();
    a.stop();
}

#[test]
fn etcd_config_hierarchy_with_every_prefix() {
    let etcd = Etcd::start();
    let kv = etcd.kv();
    let me = "a@localhost";
    let cross = format!("services/ergo/config/c4/{me}/x");
    let node = format!("services/ergo/cluster/c4/config/{me}/x");
    let cluster = "services/ergo/cluster/c4/config/*/x".to_string();
    let global = "services/ergo/config/global/x".to_string();
    kv.put(&global, "global");
    kv.put(&cluster, "cluster");
    kv.put(&node, "node");
    kv.put(&cross, "cross");
    kv.put("services/ergo/config/other/a@localhost/x", "other cluster");
    kv.put(
        "services/ergo/cluster/c4/config/z@localhost/x",
        "other node",
    );
    kv.put("services/ergo/config/global/count", "int:42");
    kv.put("services/ergo/cluster/c4/config/*/ratio", "float:0.75");
    kv.put(
        &format!("services/ergo/cluster/c4/config/{me}/on"),
        "bool:true",
    );
    kv.put("services/ergo/config/global/bad", "int:forty");
    let a = start_node(me, options(&etcd.endpoint, "c4", 10)).unwrap();
    let r = registrar(&a);
    let s = |v: &str| Some(ConfigValue::String(v.to_string()));
    assert_eq!(r.config_item("x").unwrap(), s("cross"));
    assert_eq!(r.config_item("count").unwrap(), Some(ConfigValue::Int(42)));
    assert_eq!(
        r.config_item("ratio").unwrap(),
        Some(ConfigValue::Float(0.75))
    );
    assert_eq!(r.config_item("on").unwrap(), Some(ConfigValue::Bool(true)));
    assert_eq!(r.config_item("bad").unwrap(), s("int:forty"));
    assert_eq!(r.config_item("missing").unwrap(), None);
    let all = r.config(&["count", "on", "missing"]).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all["count"], ConfigValue::Int(42));
    // Each level gives way to the next as the more specific ones go (seen through the watch).
    for (gone, next) in [
        (&cross, s("node")),
        (&node, s("cluster")),
        (&cluster, s("global")),
        (&global, None),
    ] {
        kv.delete(gone);
        assert!(
            wait_until(|| r.config_item("x").unwrap() == next),
            "after deleting {gone}, x is {next:?}"
        );
    }
    // And a new value arrives the same way.
    kv.put(&node, "int:7");
    assert!(wait_until(
        || r.config_item("x").unwrap() == Some(ConfigValue::Int(7))
    ));
    a.stop();
}

/// Subscribes to the registrar event and hands every publication to the test.
struct Subscriber {
    event: Event,
    tx: Mutex<Sender<MessageEvent>>,
}

impl Actor for Subscriber {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        ctx.monitor_event(self.event)
            .map_err(|e| ergo_engine::Reason::custom(e.to_string()))?;
        Ok(())
    }
    async fn handle_event(&mut self, _ctx: &mut Context, event: MessageEvent) -> HandleResult {
        let _ = self.tx.lock().unwrap().send(event);
        Ok(())
    }
}

/// Waits for the first publication that is a `T` matching `want`, skipping others.
fn expect_event<T: PartialEq + std::fmt::Debug + 'static>(rx: &Receiver<MessageEvent>, want: T) {
    let deadline = Instant::now() + WAIT;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(ev) => {
                if ev.downcast_ref::<T>() == Some(&want) {
                    return;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no event {want:?} seen");
}

#[test]
fn etcd_events_reach_a_subscriber() {
    let etcd = Etcd::start();
    let kv = etcd.kv();
    let a = start_node("a@localhost", options(&etcd.endpoint, "c5", 10)).unwrap();
    let event = registrar(&a).event().unwrap();
    assert_eq!(event.name.as_str(), "services/ergo/cluster/c5/routes/");
    assert_eq!(event.node, a.name());
    let (tx, rx) = channel();
    a.spawn(
        Subscriber {
            event,
            tx: Mutex::new(tx),
        },
        SpawnOptions::default(),
    )
    .unwrap();
    let b = start_node("b@localhost", options(&etcd.endpoint, "c5", 10)).unwrap();
    let (shop_, bn) = (Atom::new("shop"), b.name());
    expect_event(&rx, EventNodeJoined { name: bn });
    b.application_load(shop()).unwrap();
    expect_event(
        &rx,
        EventApplicationLoaded {
            name: shop_,
            node: bn,
            weight: 5,
        },
    );
    b.application_start("shop", None).unwrap();
    expect_event(
        &rx,
        EventApplicationStarted {
            name: shop_,
            node: bn,
            weight: 5,
            mode: WireMode(1),
        },
    );
    b.application_stop("shop").unwrap();
    expect_event(
        &rx,
        EventApplicationStopping {
            name: shop_,
            node: bn,
        },
    );
    kv.put("services/ergo/cluster/c5/config/*/level", "int:3");
    expect_event(
        &rx,
        EventConfigUpdate {
            item: "level".into(),
            value: Some(ConfigValue::Int(3)),
        },
    );
    kv.put("services/ergo/cluster/c5/config/a@localhost/level", "int:4");
    expect_event(
        &rx,
        EventConfigUpdate {
            item: "level".into(),
            value: Some(ConfigValue::Int(4)),
        },
    );
    // A change hidden by a more specific level changes nothing: no event for it; the next
    // event seen is the one of the specific level going.
    kv.put("services/ergo/config/global/level", "int:5");
    kv.delete("services/ergo/cluster/c5/config/a@localhost/level");
    let ev = rx.recv_timeout(WAIT).expect("an event");
    assert_eq!(
        ev.downcast_ref::<EventConfigUpdate>(),
        Some(&EventConfigUpdate {
            item: "level".into(),
            value: Some(ConfigValue::Int(3)),
        })
    );
    // Leaving: the lease revoked takes the node's and its applications' keys.
    b.stop();
    expect_event(
        &rx,
        EventApplicationStopped {
            name: shop_,
            node: bn,
        },
    );
    expect_event(&rx, EventNodeLeft { name: bn });
    a.stop();
}

#[test]
fn etcd_a_name_held_by_a_live_node_is_refused_at_start() {
    let etcd = Etcd::start();
    let kv = etcd.kv();
    let a = start_node("a@localhost", options(&etcd.endpoint, "c6", 10)).unwrap();
    let before = kv.get(&node_key("c6", "a@localhost")).unwrap();
    let err = start_node("a@localhost", options(&etcd.endpoint, "c6", 10))
        .expect_err("the same name twice is refused");
    assert!(
        err.to_string().contains("already registered"),
        "the error says why: {err}"
    );
    assert_eq!(kv.get(&node_key("c6", "a@localhost")).unwrap(), before);
    assert_eq!(state(&a), RegistrationState::Registered);
    // Another cluster is another namespace.
    let other = start_node("a@localhost", options(&etcd.endpoint, "c6-other", 10)).unwrap();
    other.stop();
    a.stop();
}

#[test]
fn etcd_unreachable_at_start_is_an_error() {
    let port = etcd_support::free_port();
    let mut o = options(&format!("127.0.0.1:{port}"), "c7", 2);
    o.dial_timeout = Duration::from_secs(1);
    o.request_timeout = Duration::from_secs(1);
    let err = start_node("a@localhost", o).expect_err("no etcd, no registration");
    assert!(err.to_string().contains("etcd"), "{err}");
}

#[test]
fn etcd_partition_the_node_keeps_its_connections_registers_again_and_messages_flow() {
    let etcd = Etcd::start();
    let kv = etcd.kv();
    let proxy = Proxy::start(&etcd.endpoint);
    let ttl = 2;
    let a = start_node("a@localhost", options(&proxy.endpoint(), "c8", ttl)).unwrap();
    let b = start_node("b@localhost", options(&etcd.endpoint, "c8", 10)).unwrap();
    let _a_rx = echo(&a);
    assert_eq!(call_echo(&b, &a, "before").unwrap(), "pong:before");
    let key = node_key("c8", "a@localhost");

    // Partition a from etcd: its lease expires, but its connection to b goes on.
    proxy.block();
    proxy.drop_all();
    assert!(
        kv.wait_key(&key, false, Duration::from_secs(ttl as u64 + 5)),
        "a's key expires while a cannot reach etcd"
    );
    assert!(wait_until(|| state(&a) == RegistrationState::Retrying));
    assert_eq!(call_echo(&b, &a, "during").unwrap(), "pong:during");

    // Heal: a registers again, and peers find it through etcd again.
    proxy.unblock();
    assert!(
        kv.wait_key(&key, true, WAIT),
        "a registers again after the heal"
    );
    assert!(wait_until(|| state(&a) == RegistrationState::Registered));
    let routes = decode_routes(&kv.get(&key).unwrap().unwrap()).unwrap();
    assert_eq!(routes[0].port, a.network_address().unwrap().port());
    let c = start_node("c@localhost", options(&etcd.endpoint, "c8", 10)).unwrap();
    assert_eq!(call_echo(&c, &a, "after").unwrap(), "pong:after");
    assert_eq!(call_echo(&b, &a, "after").unwrap(), "pong:after");
    // a keeps its new lease alive past several TTLs.
    std::thread::sleep(Duration::from_secs(ttl as u64 * 2));
    assert!(kv.get(&key).unwrap().is_some());
    c.stop();
    b.stop();
    a.stop();
}

#[test]
fn etcd_a_name_taken_during_a_partition_is_reported_not_stolen_back() {
    let etcd = Etcd::start();
    let kv = etcd.kv();
    let proxy = Proxy::start(&etcd.endpoint);
    let ttl = 2;
    let a = start_node("a@localhost", options(&proxy.endpoint(), "c9", ttl)).unwrap();
    let key = node_key("c9", "a@localhost");
    proxy.block();
    proxy.drop_all();
    assert!(kv.wait_key(&key, false, Duration::from_secs(ttl as u64 + 5)));
    // Meanwhile another node takes the name.
    let a2 = start_node("a@localhost", options(&etcd.endpoint, "c9", 10)).unwrap();
    let a2_port = a2.network_address().unwrap().port();
    proxy.unblock();
    assert!(
        wait_until(|| state(&a) == RegistrationState::Taken),
        "the first node finds its name taken"
    );
    let routes = decode_routes(&kv.get(&key).unwrap().unwrap()).unwrap();
    assert_eq!(routes[0].port, a2_port, "the key stays the new owner's");
    a.stop();
    let routes = decode_routes(&kv.get(&key).unwrap().unwrap()).unwrap();
    assert_eq!(
        routes[0].port, a2_port,
        "stopping the old node does not remove the new owner's key"
    );
    a2.stop();
}

#[test]
fn etcd_over_tls_and_with_user_and_password() {
    use ergo_engine::registrar::etcd::EtcdTls;
    // TLS: etcd serves its clients over TLS only; the node trusts its CA.
    let etcd = Etcd::start_tls();
    let kv = etcd.kv();
    let mut o = options(&etcd.endpoint, "c10", 10);
    o.tls = Some(EtcdTls {
        ca_pem: etcd.ca_pem.clone(),
        identity: None,
        domain: Some("localhost".into()),
    });
    let a = start_node("a@localhost", o.clone()).unwrap();
    assert!(kv.get(&node_key("c10", "a@localhost")).unwrap().is_some());
    a.stop();
    // Without trusting its CA, the node cannot register.
    let mut untrusted = o;
    untrusted.tls = Some(EtcdTls {
        ca_pem: None,
        identity: None,
        domain: Some("localhost".into()),
    });
    untrusted.dial_timeout = Duration::from_secs(1);
    untrusted.request_timeout = Duration::from_secs(1);
    assert!(start_node("b@localhost", untrusted).is_err());

    // User and password: etcd with authentication on.
    let etcd = Etcd::start();
    etcd.kv().enable_auth("s3cret");
    let mut o = options(&etcd.endpoint, "c10", 10);
    o.user = Some(("root".into(), "s3cret".into()));
    let a = start_node("a@localhost", o.clone()).unwrap();
    let kv =
        etcd_support::Kv::connect_with(&etcd.endpoint, None, Some(("root", "s3cret"))).unwrap();
    assert!(kv.get(&node_key("c10", "a@localhost")).unwrap().is_some());
    a.stop();
    o.user = Some(("root".into(), "wrong".into()));
    let err = start_node("b@localhost", o).expect_err("a wrong password is refused");
    assert!(err.to_string().contains("etcd"), "{err}");
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {path}: {e}"))
        .trim()
        .to_string()
}

#[test]
fn etcd_route_values_are_the_bytes_go_stores() {
    ergo_proto::register_framework_types().unwrap();
    let v = |n: &str| Version::new(n, "R1", "MIT");
    // As Go's etcd registrar stores them (edf.Encode + base64), produced by Go Ergo.
    let routes = vec![
        Route {
            host: "10.1.2.3".into(),
            port: 15000,
            tls: false,
            handshake_version: v("EHS"),
            proto_version: v("ENP"),
        },
        Route {
            host: String::new(),
            port: 15001,
            tls: true,
            handshake_version: v("EHS"),
            proto_version: v("ENP"),
        },
    ];
    let go_nodes = fixture("etcd_route_nodes.txt");
    assert_eq!(decode_routes(go_nodes.as_bytes()).unwrap(), routes);
    assert_eq!(encode_routes(&routes).unwrap(), go_nodes);
    let app = ApplicationRoute {
        node: Atom::new("gonode@host1"),
        name: Atom::new("shop"),
        weight: 7,
        mode: WireMode(2),
        state: RouteState::RUNNING,
    };
    let go_app = fixture("etcd_route_application.txt");
    assert_eq!(decode_app(go_app.as_bytes()).unwrap(), app);
    assert_eq!(encode_app(&app).unwrap(), go_app);
    // Bad bytes are an error, not a panic.
    assert!(decode_routes(b"not base64!").is_err());
    assert!(decode_routes(b"AAAA").is_err());
}
