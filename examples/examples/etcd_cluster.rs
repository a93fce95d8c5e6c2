//! Nodes that find each other through etcd (Go Ergo's etcd registrar layout): `alpha` hosts a
//! registered `greeter` and an application, and subscribes to the registrar's cluster events;
//! `beta` joins, lists the cluster, resolves the application and calls the greeter by name.
//! Both read the cluster configuration item `greeting`.
//!
//! Needs a running etcd (v3 API). With one on `localhost:2379`:
//! `cargo run --release -p ergo-examples --example etcd_cluster`
//! Elsewhere: `... --example etcd_cluster -- --endpoints host1:2379,host2:2379`
//! (or `ETCD_ENDPOINTS=...`); `--cluster NAME` picks the cluster (default `ergo-example`).
//! Try `etcdctl put 'services/ergo/cluster/ergo-example/config/*/greeting' 'hi there'` while it
//! runs: both nodes see the new value, and alpha's subscriber prints the event.

use std::time::Duration;

use ergo_engine::registrar::etcd::{
    EtcdOptions, EventApplicationStarted, EventConfigUpdate, EventNodeJoined, EventNodeLeft,
};
use ergo_engine::registrar::ConfigValue;
use ergo_engine::{
    Actor, ApplicationSpec, Atom, ChildSpec, Context, Event, HandleResult, Message, MessageEvent,
    NetworkOptions, Node, NodeOptions, Pid, ProcessId, Reason, Ref, SpawnOptions,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Answers a call with a greeting.
struct Greeter;

impl Actor for Greeter {
    async fn handle_call(
        &mut self,
        ctx: &mut Context,
        from: Pid,
        _r: Ref,
        request: Message,
    ) -> Result<Option<Message>, Reason> {
        let who = request.downcast::<String>().unwrap_or_default();
        Ok(Some(Message::new(format!(
            "hello {who} ({from}), from {}",
            ctx.node().name()
        ))))
    }
}

/// Prints the registrar's cluster events.
struct Watcher(Event);

impl Actor for Watcher {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        ctx.monitor_event(self.0)
            .map_err(|e| Reason::custom(e.to_string()))?;
        Ok(())
    }

    async fn handle_event(&mut self, _ctx: &mut Context, ev: MessageEvent) -> HandleResult {
        if let Some(e) = ev.downcast_ref::<EventNodeJoined>() {
            println!("alpha: event: node {} joined", e.name);
        } else if let Some(e) = ev.downcast_ref::<EventNodeLeft>() {
            println!("alpha: event: node {} left", e.name);
        } else if let Some(e) = ev.downcast_ref::<EventApplicationStarted>() {
            println!("alpha: event: application {} started on {}", e.name, e.node);
        } else if let Some(e) = ev.downcast_ref::<EventConfigUpdate>() {
            println!("alpha: event: config {} is now {:?}", e.item, e.value);
        }
        Ok(())
    }
}

struct Idle;
impl Actor for Idle {}

fn start(name: &str, etcd: &EtcdOptions) -> Result<Node, Box<dyn std::error::Error>> {
    let mut net = NetworkOptions::new("example-cookie");
    net.registrar = Some(etcd.clone().into());
    Ok(Node::start(
        name,
        NodeOptions {
            network: Some(net),
            ..Default::default()
        },
    )?)
}

fn greeting(node: &Node) -> String {
    let registrar = match node.network().registrar() {
        Ok(r) => r,
        Err(e) => return format!("(error: {e})"),
    };
    match registrar.config_item("greeting") {
        Ok(Some(ConfigValue::String(s))) => s,
        Ok(Some(other)) => format!("{other:?}"),
        Ok(None) => "(not set)".into(),
        Err(e) => format!("(error: {e})"),
    }
}

fn alpha(etcd: &EtcdOptions) -> Result<Node, Box<dyn std::error::Error>> {
    let node = start("alpha@localhost", etcd)?;
    node.spawn_register("greeter", Greeter, SpawnOptions::default())?;
    let event = node.network().registrar()?.event()?;
    node.spawn(Watcher(event), SpawnOptions::default())?;
    let mut app = ApplicationSpec::new("inventory");
    app.weight = 10;
    app.group = vec![ChildSpec::new("idle", || Idle)];
    node.application_load(app)?;
    node.application_start("inventory", None)?;
    println!("alpha: registered in etcd; greeting = {}", greeting(&node));
    Ok(node)
}

fn beta(etcd: &EtcdOptions) -> Result<Node, Box<dyn std::error::Error>> {
    let node = start("beta@localhost", etcd)?;
    let registrar = node.network().registrar()?;
    println!("beta:  cluster nodes: {:?}", registrar.nodes()?);
    for r in registrar.resolve_application(Atom::new("inventory"))? {
        println!(
            "beta:  application {} runs on {} (weight {})",
            r.name, r.node, r.weight
        );
    }
    let reply = node.call(
        ProcessId::new(Atom::new("greeter"), Atom::new("alpha@localhost")),
        "beta".to_string(),
        Duration::from_secs(5),
    )?;
    println!("beta:  {}", reply.downcast::<String>().unwrap_or_default());
    println!("beta:  greeting = {}", greeting(&node));
    Ok(node)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut endpoints =
        std::env::var("ETCD_ENDPOINTS").unwrap_or_else(|_| "localhost:2379".to_string());
    let mut cluster = "ergo-example".to_string();
    let mut role = "both".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--endpoints" => endpoints = it.next().cloned().ok_or("--endpoints needs a value")?,
            "--cluster" => cluster = it.next().cloned().ok_or("--cluster needs a value")?,
            "alpha" | "beta" | "both" => role = a.clone(),
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let etcd = EtcdOptions {
        endpoints: endpoints.split(',').map(str::to_string).collect(),
        cluster,
        ..Default::default()
    };
    match role.as_str() {
        "alpha" => {
            let _node = alpha(&etcd)?;
            println!("alpha: running; stop with Ctrl-C");
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        "beta" => beta(&etcd)?.stop(),
        _ => {
            let a = alpha(&etcd)?;
            let b = beta(&etcd)?;
            std::thread::sleep(Duration::from_millis(300));
            b.stop();
            std::thread::sleep(Duration::from_millis(300));
            a.stop();
        }
    }
    Ok(())
}
