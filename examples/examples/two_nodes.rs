//! Two nodes talking over TCP: a `shop` node hosts a registered counter, publishes an event and
//! lets peers spawn workers; a `buyer` node finds it through the registrar, calls the counter by
//! name, sends a registered struct, monitors the counter, subscribes to the event, and spawns a
//! worker on the shop.
//!
//! Run both in one process: `cargo run --release -p ergo-examples --example two_nodes`
//! or in two terminals: `... --example two_nodes -- shop` then `... --example two_nodes -- buyer`.
//! The nodes find each other through the registrar on UDP/TCP 4499 (the first node on the host
//! runs it; a Go Ergo node's registrar works as well).

use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;
use std::time::Duration;

use ergo_edf::Edf;
use ergo_engine::proto::gen::NetworkFlags;
use ergo_engine::registrar::RegistrarOptions;
use ergo_engine::{
    Actor, Atom, Context, Event, EventOptions, HandleResult, Message, MessageDownProcessId,
    MessageEvent, NetworkOptions, Node, NodeOptions, Pid, ProcessId, Reason, Ref, SpawnOptions,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A message type that crosses nodes as itself (Go sees `#ergo_examples/Order`).
#[derive(Edf, Debug, Clone, PartialEq)]
#[edf(name = "#ergo_examples/Order")]
struct Order {
    item: String,
    quantity: i64,
}

/// Counts orders; answers calls with the count; publishes every order as a `sales` event.
#[derive(Default)]
struct Counter {
    orders: i64,
    token: Option<Ref>,
}

impl Actor for Counter {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        self.token = Some(ctx.register_event("sales", EventOptions::default())?);
        Ok(())
    }

    async fn handle_message(&mut self, ctx: &mut Context, from: Pid, msg: Message) -> HandleResult {
        if let Ok(order) = msg.downcast::<Order>() {
            self.orders += order.quantity;
            println!("shop:  {} x {} from {from}", order.quantity, order.item);
            let token = self.token.unwrap_or_default();
            ctx.send_event(
                "sales",
                token,
                format!("sold {} {}", order.quantity, order.item),
            )?;
        }
        Ok(())
    }

    async fn handle_call(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        _req: Message,
    ) -> Result<Option<Message>, Reason> {
        Ok(Some(Message::new(self.orders)))
    }
}

/// What peers may spawn here: answers calls with a greeting.
struct Worker;

impl Actor for Worker {
    async fn handle_call(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        req: Message,
    ) -> Result<Option<Message>, Reason> {
        let who = req.downcast::<String>().unwrap_or_default();
        Ok(Some(Message::new(format!(
            "hello {who}, from {}",
            ctx.pid()
        ))))
    }
}

/// The buyer's process: subscribes to the shop's events and watches its counter.
struct Watcher(Mutex<Sender<String>>);

/// Tells the watcher what to watch.
struct Watch(ProcessId);

impl Actor for Watcher {
    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        let msg = match msg.downcast::<Watch>() {
            Ok(Watch(counter)) => {
                ctx.monitor(counter)?;
                ctx.monitor_event(Event::new(Atom::new("sales"), counter.node))?;
                return Ok(());
            }
            Err(msg) => msg,
        };
        if let Ok(down) = msg.downcast::<MessageDownProcessId>() {
            let _ = self
                .0
                .lock()
                .unwrap()
                .send(format!("the counter went away: {}", down.reason));
        }
        Ok(())
    }

    async fn handle_event(&mut self, _ctx: &mut Context, ev: MessageEvent) -> HandleResult {
        if let Some(s) = ev.downcast_ref::<String>() {
            let _ = self
                .0
                .lock()
                .unwrap()
                .send(format!("event {}: {s}", ev.event.name));
        }
        Ok(())
    }
}

fn start(name: &str, flags: u64) -> Node {
    ergo_edf::ensure_registered::<Order>().expect("register Order");
    let mut net = NetworkOptions::new("cookie-123");
    net.registrar = Some(RegistrarOptions::default().into());
    net.flags = NetworkFlags(net.flags.0 | flags);
    Node::start(
        name,
        NodeOptions {
            network: Some(net),
            ..Default::default()
        },
    )
    .expect("start the node")
}

fn shop() -> Node {
    let shop = start("shop@localhost", NetworkFlags::REMOTE_SPAWN);
    shop.spawn_register("counter", Counter::default(), SpawnOptions::default())
        .expect("spawn the counter");
    shop.network()
        .enable_spawn("worker", |_args| Worker, &[])
        .expect("enable remote spawn");
    println!("shop:  listening on {}", shop.network_address().unwrap());
    shop
}

fn buyer() {
    let buyer = start("buyer@localhost", 0);
    let shop = Atom::new("shop@localhost");
    let counter = ProcessId::new(Atom::new("counter"), shop);

    // A process of ours that monitors the counter and subscribes to its event.
    let (tx, rx) = channel();
    let watcher = buyer
        .spawn(Watcher(Mutex::new(tx)), SpawnOptions::default())
        .expect("spawn the watcher");
    buyer
        .send(watcher, Watch(counter))
        .expect("tell the watcher");
    // Let the subscription reach the shop before the orders do.
    std::thread::sleep(Duration::from_millis(300));

    for (item, quantity) in [("apples", 3), ("pears", 2)] {
        let order = Order {
            item: item.into(),
            quantity,
        };
        buyer.send(counter, order).expect("send an order");
    }
    let total = buyer
        .call(counter, "how many?".to_string(), Duration::from_secs(5))
        .expect("call the counter");
    println!(
        "buyer: the shop has {} items ordered",
        total.downcast::<i64>().unwrap_or(-1)
    );
    for _ in 0..2 {
        if let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
            println!("buyer: {line}");
        }
    }

    let remote = buyer
        .network()
        .get_node(shop)
        .expect("connected to the shop");
    println!(
        "buyer: {} runs {} {}, up {} s",
        remote.name(),
        remote.version().name,
        remote.version().release,
        remote.uptime()
    );
    let worker = remote
        .spawn("worker", SpawnOptions::default(), vec![])
        .expect("remote spawn");
    let hi = buyer
        .call(worker, "buyer".to_string(), Duration::from_secs(5))
        .expect("call the worker");
    println!("buyer: {}", hi.downcast::<String>().unwrap_or_default());
    buyer.stop();
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("shop") => {
            let _shop = shop();
            println!("shop:  running for 60 s");
            std::thread::sleep(Duration::from_secs(60));
        }
        Some("buyer") => buyer(),
        _ => {
            let shop = shop();
            buyer();
            shop.stop();
        }
    }
}
