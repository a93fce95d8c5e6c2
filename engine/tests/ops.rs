//! Metrics and health over HTTP, scraped by a real HTTP client: the scrape is valid Prometheus
//! text, its counters match what a scenario sent, the probes follow the registrar, and
//! malformed HTTP gets an error while the node keeps serving.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ergo_engine::proto::registrar::{MessageRegisterReply, Packet};
use ergo_engine::registrar::RegistrarOptions;
use ergo_engine::{
    Actor, Context, HandleResult, Message, NetworkOptions, Node, NodeOptions, OpsOptions, Pid,
    Probe, SpawnOptions,
};

const WAIT: Duration = Duration::from_secs(15);

fn ops_node(name: &str, network: Option<NetworkOptions>) -> Node {
    Node::start(
        &format!("{name}@localhost"),
        NodeOptions {
            shards: 2,
            pin: false,
            stop_timeout: Duration::from_millis(500),
            network,
            ops: OpsOptions {
                listen: Some("127.0.0.1:0".parse().unwrap()),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .expect("node starts")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// GET `path`: status and body.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut r = agent()
        .get(&format!("http://{addr}{path}"))
        .call()
        .expect("HTTP request");
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().expect("body");
    (status, body)
}

/// Checks the text format line by line (every sample belongs to a family with a TYPE, names
/// and values are well formed), then parses it with `prometheus-parse`.
fn parse_scrape(text: &str) -> prometheus_parse::Scrape {
    let mut types: std::collections::HashMap<String, String> = Default::default();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').expect("TYPE name type");
            assert!(
                ["counter", "gauge", "histogram"].contains(&ty),
                "bad type in {line:?}"
            );
            types.insert(name.to_string(), ty.to_string());
            continue;
        }
        if line.starts_with("# HELP ") || line.is_empty() {
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment {line:?}");
        let (series, value) = line.rsplit_once(' ').expect("sample: series value");
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name in {line:?}"
        );
        if series.contains('{') {
            assert!(series.ends_with('}'), "unclosed labels in {line:?}");
        }
        assert!(
            value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
            "bad value in {line:?}"
        );
        let family = types.keys().any(|f| {
            name == f
                || name
                    .strip_prefix(f.as_str())
                    .is_some_and(|s| ["_bucket", "_sum", "_count", "_total"].contains(&s))
        });
        assert!(family, "sample without a TYPE line: {line:?}");
    }
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("prometheus-parse reads the scrape")
}

fn value(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let s = scrape
        .samples
        .iter()
        .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .unwrap_or_else(|| panic!("no sample {metric} {labels:?}"));
    match s.value {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => v,
        _ => panic!("{metric} is not a plain value"),
    }
}

fn scrape(addr: SocketAddr) -> prometheus_parse::Scrape {
    let (status, body) = get(addr, "/metrics");
    assert_eq!(status, 200, "{body}");
    parse_scrape(&body)
}

struct Consumer(Arc<AtomicU64>);
impl Actor for Consumer {
    async fn handle_message(&mut self, _: &mut Context, _: Pid, _: Message) -> HandleResult {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// On `(n, to)` sends `n` messages to `to`.
struct Producer;
impl Actor for Producer {
    async fn handle_message(&mut self, ctx: &mut Context, _: Pid, m: Message) -> HandleResult {
        if let Ok((n, to)) = m.downcast::<(u64, Pid)>() {
            for i in 0..n {
                ctx.send(to, i).expect("send");
            }
        }
        Ok(())
    }
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn scrape_is_prometheus_text_and_counts_what_a_scenario_sent() {
    let node = ops_node("ops-scrape", None);
    let addr = node.ops_address().expect("listener runs");
    let got = Arc::new(AtomicU64::new(0));
    let consumer = node
        .spawn(
            Consumer(got.clone()),
            SpawnOptions {
                shard: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
    let producer = node
        .spawn(
            Producer,
            SpawnOptions {
                shard: Some(0),
                ..Default::default()
            },
        )
        .unwrap();
    let before = scrape(addr);
    const N: u64 = 5000;
    node.send(producer, (N, consumer)).unwrap();
    wait_until("the consumer to get every message", || {
        got.load(Ordering::SeqCst) == N
    });
    let after = scrape(addr);
    let delta = |metric: &str, labels: &[(&str, &str)]| {
        value(&after, metric, labels) - value(&before, metric, labels)
    };
    let normal = [("priority", "normal")];
    // The producer's N sends; nothing else on the node sent.
    assert_eq!(delta("ergo_node_messages_sent_total", &normal), N as f64);
    // The consumer's N messages plus the producer's one order.
    assert_eq!(
        delta("ergo_node_messages_received_total", &normal),
        N as f64 + 1.0
    );
    assert_eq!(value(&after, "ergo_node_processes", &[]), 2.0);
    assert_eq!(value(&after, "ergo_node_processes_spawned_total", &[]), 2.0);
    assert!(value(&after, "ergo_node_memory_rss_bytes", &[]) > 0.0);
    // Cross-shard mail came through shard 1's inbound queue.
    assert!(delta("ergo_shard_inbox_items_total", &[("shard", "1")]) >= 1.0);
    assert!(delta("ergo_shard_loop_iterations_total", &[("shard", "0")]) >= 1.0);
    assert_eq!(value(&after, "ergo_scrape_shards_missing", &[]), 0.0);
    // Node::metrics agrees with the scrape.
    let m = node.metrics(Duration::from_secs(1));
    assert_eq!(m.shards.len(), 2);
    assert_eq!(
        m.sent()[0],
        value(&after, "ergo_node_messages_sent_total", &normal) as u64
    );
    node.stop();
}

#[test]
fn metrics_switch_off_serves_no_metrics_but_health() {
    let node = Node::start(
        "ops-off@localhost",
        NodeOptions {
            shards: 1,
            pin: false,
            ops: OpsOptions {
                listen: Some("127.0.0.1:0".parse().unwrap()),
                metrics: false,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap();
    let addr = node.ops_address().unwrap();
    assert_eq!(get(addr, "/metrics").0, 404);
    assert_eq!(get(addr, "/health/live").0, 200);
    node.stop();
}

/// Sends raw bytes and returns the status line of the answer.
fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
fn malformed_http_gets_an_error_and_the_node_keeps_serving() {
    let node = ops_node("ops-bad-http", None);
    let addr = node.ops_address().unwrap();
    let line = raw(addr, b"THIS IS NOT HTTP\r\n\r\n");
    assert!(line.starts_with("HTTP/1.1 400"), "got {line:?}");
    let line = raw(
        addr,
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
    );
    assert!(line.starts_with("HTTP/1.1 400"), "got {line:?}");
    let mut huge = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 64 * 1024));
    huge.extend_from_slice(b"\r\n\r\n");
    let line = raw(addr, &huge);
    assert!(line.starts_with("HTTP/1.1 431"), "got {line:?}");
    let line = raw(
        addr,
        b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(line.starts_with("HTTP/1.1 405"), "got {line:?}");
    assert_eq!(get(addr, "/nope").0, 404);
    // Still serving, and the node still runs processes.
    scrape(addr);
    assert_eq!(get(addr, "/health/ready").0, 200);
    let pid = node
        .spawn(Consumer(Arc::default()), SpawnOptions::default())
        .unwrap();
    assert!(node.is_alive(pid));
    node.stop();
}

#[test]
fn user_checks_and_required_applications_decide_readiness() {
    let node = ops_node("ops-checks", None);
    let addr = node.ops_address().unwrap();
    assert_eq!(get(addr, "/health/ready").0, 200);
    node.health_check_add("db", Probe::Ready, || Err("no connection".into()));
    let (status, body) = get(addr, "/health/ready");
    assert_eq!(status, 503);
    assert!(body.contains("fail db: no connection"), "{body}");
    assert_eq!(get(addr, "/health/live").0, 200);
    node.health_check_remove("db", Probe::Ready);
    node.health_require_application("billing");
    let (status, body) = get(addr, "/health/ready");
    assert_eq!(status, 503);
    assert!(body.contains("application billing"), "{body}");
    node.health_check_add("heart", Probe::Live, || Err("stuck".into()));
    assert_eq!(get(addr, "/health/live").0, 503);
    node.stop();
}

/// A registrar played by the test over the real protocol: it answers registrations while
/// `answer` is set, and holds the registrar's port so the node cannot take over.
struct FakeRegistrar {
    port: u16,
    answer: Arc<std::sync::atomic::AtomicBool>,
    held: Arc<std::sync::Mutex<Vec<TcpStream>>>,
}

impl FakeRegistrar {
    fn start() -> FakeRegistrar {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let answer = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let held: Arc<std::sync::Mutex<Vec<TcpStream>>> = Arc::default();
        let (a, h) = (answer.clone(), held.clone());
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                if !a.load(Ordering::SeqCst) {
                    continue; // dropped: the registration fails
                }
                let mut buf = vec![0u8; 4096];
                let mut have = 0;
                s.set_read_timeout(Some(WAIT)).unwrap();
                loop {
                    let n = s.read(&mut buf[have..]).unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    have += n;
                    if let Ok((Packet::Register(_), _)) = Packet::decode(&buf[..have]) {
                        let reply = Packet::RegisterReply(MessageRegisterReply { error: None });
                        s.write_all(&reply.encode().unwrap()).unwrap();
                        h.lock().unwrap().push(s);
                        break;
                    }
                }
            }
        });
        FakeRegistrar { port, answer, held }
    }

    /// The registrar goes away: registrations are closed, new ones refused.
    fn vanish(&self) {
        self.answer.store(false, Ordering::SeqCst);
        self.held.lock().unwrap().clear();
    }
}

#[test]
fn ready_flips_to_not_ready_when_the_registrar_is_gone() {
    let reg = FakeRegistrar::start();
    let mut net = NetworkOptions::new("cookie");
    net.registrar = Some(
        RegistrarOptions {
            port: reg.port,
            ..Default::default()
        }
        .into(),
    );
    let node = ops_node("ops-registrar", Some(net));
    let addr = node.ops_address().unwrap();
    let (status, body) = get(addr, "/health/ready");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("ok registrar"), "{body}");
    assert!(body.contains("ok acceptors"), "{body}");
    reg.vanish();
    wait_until("ready to fail", || get(addr, "/health/ready").0 == 503);
    let (_, body) = get(addr, "/health/ready");
    assert!(body.contains("fail registrar"), "{body}");
    // Alive all the same.
    assert_eq!(get(addr, "/health/live").0, 200);
    node.stop();
}

#[test]
fn handshakes_are_counted_per_acceptor() {
    let a = ops_node("ops-acc-a", Some(NetworkOptions::new("right")));
    let b = ops_node("ops-acc-b", Some(NetworkOptions::new("right")));
    let c = ops_node("ops-acc-c", Some(NetworkOptions::new("wrong")));
    let route = a.network_address().unwrap();
    b.network()
        .get_node_with_route(a.name(), route)
        .expect("same cookie connects");
    assert!(c.network().get_node_with_route(a.name(), route).is_err());
    wait_until("both handshakes counted", || {
        let acc = &a.metrics(Duration::from_secs(1)).acceptors[0];
        acc.handshakes_ok >= 1 && acc.handshakes_failed.values().sum::<u64>() >= 1
    });
    let s = scrape(a.ops_address().unwrap());
    let acc = route.to_string();
    assert!(
        value(
            &s,
            "ergo_acceptor_handshakes_total",
            &[
                ("acceptor", &acc),
                ("result", "failed"),
                ("cause", "cookie")
            ]
        ) >= 1.0
    );
    assert!(
        value(
            &s,
            "ergo_connection_links",
            &[("peer", "ops-acc-b@localhost")]
        ) >= 1.0
    );
    for n in [a, b, c] {
        n.stop();
    }
}

/// Traps exits (so a `shutdown` signal is only a message to it) and reports `terminate`.
struct Stubborn(std::sync::mpsc::Sender<()>);
impl Actor for Stubborn {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        ctx.set_trap_exit(true);
        Ok(())
    }
    fn terminate(&mut self, _: &mut Context, _: &ergo_engine::Reason) {
        let _ = self.0.send(());
    }
}

#[test]
fn stop_force_kills_everything_and_wait_returns() {
    let node = Node::start(
        "ops-force@localhost",
        NodeOptions {
            shards: 2,
            pin: false,
            stop_timeout: Duration::from_secs(60),
            ..Default::default()
        },
    )
    .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..4 {
        node.spawn(Stubborn(tx.clone()), SpawnOptions::default())
            .unwrap();
    }
    assert!(
        !node.wait_timeout(Duration::from_millis(10)),
        "running node reported stopped"
    );
    let waiter = {
        let n = node.clone();
        std::thread::spawn(move || n.wait())
    };
    node.stop_force();
    waiter.join().unwrap();
    assert!(node.wait_timeout(Duration::ZERO));
    assert_eq!(node.info().processes, 0);
    // As Go's Kill (node.StopForce kills every process), each terminate runs, once.
    drop(tx);
    assert_eq!(
        rx.iter().count(),
        4,
        "terminate ran once per killed process"
    );
}
