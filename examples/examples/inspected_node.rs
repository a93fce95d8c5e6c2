//! A node Go's Observer can browse: networking on loopback, `system_inspect` running, and a
//! few processes to look at (an application with a worker, a process with inspectable state,
//! a chatty pair, a process that logs).
//!
//! ```sh
//! cargo run --release -p ergo-examples --example inspected_node -- rust@localhost 127.0.0.1:15001 inspect-cookie
//! ```
//! Then point the Observer (running on a Go node with the same cookie) at `rust@localhost`
//! and the acceptor address.

use std::collections::BTreeMap;
use std::time::Duration;

use ergo_engine::supervisor::ChildSpec;
use ergo_engine::{
    AcceptorOptions, Actor, ApplicationMode, ApplicationSpec, Context, HandleResult, LogLevel,
    Message, NetworkOptions, Node, NodeOptions, Pid, SpawnOptions,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Counts what it receives; shows the count as its inspectable state.
#[derive(Default)]
struct Counter {
    seen: u64,
}

impl Actor for Counter {
    async fn handle_message(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _m: Message,
    ) -> HandleResult {
        self.seen += 1;
        Ok(())
    }
    fn handle_inspect(&mut self, _ctx: &mut Context, _from: Pid) -> BTreeMap<String, String> {
        BTreeMap::from([("seen".to_string(), self.seen.to_string())])
    }
}

/// Sends a message to `counter` and logs a line every `period`.
struct Ticker {
    period: Duration,
}

struct Tick;

impl Actor for Ticker {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        ctx.send_after(ctx.pid(), Tick, self.period);
        Ok(())
    }
    async fn handle_message(&mut self, ctx: &mut Context, _from: Pid, _m: Message) -> HandleResult {
        let _ = ctx.send("counter", 1u64);
        ctx.log(LogLevel::Info, format_args!("tick"));
        ctx.send_after(ctx.pid(), Tick, self.period);
        Ok(())
    }
}

fn main() -> Result<(), ergo_engine::Error> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "rust@localhost".into());
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:15001".into());
    let cookie = args.next().unwrap_or_else(|| "inspect-cookie".into());
    let addr = listen
        .parse()
        .map_err(|_| ergo_engine::Error::Invalid("listen address"))?;
    let mut net = NetworkOptions::new(&cookie);
    net.acceptors = vec![AcceptorOptions::new(addr)];
    net.pool_size = 1;
    let node = Node::start(
        &name,
        NodeOptions {
            shards: 2,
            pin: false,
            network: Some(net),
            ..Default::default()
        },
    )?;
    node.start_system_inspect()?;
    node.spawn_register("counter", Counter::default(), SpawnOptions::default())?;
    let mut app = ApplicationSpec::new("shop");
    app.description = "an application to inspect".into();
    app.version = "1.0".into();
    app.mode = ApplicationMode::Temporary;
    app.group.push(
        ChildSpec::new("ticker", || Ticker {
            period: Duration::from_millis(500),
        })
        .registered(),
    );
    node.application_load(app)?;
    node.application_start("shop", None)?;
    println!(
        "{} listening on {:?}",
        node.name(),
        node.acceptor_addresses()
    );
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
