//! Local ping-pong: two processes on one node bounce a counter back and forth, then the pinger
//! calls the ponger (an `async` handler awaiting a `call`) and reports the result.
//!
//! Run: `cargo run --release -p ergo-examples --example ping_pong`

use std::sync::mpsc::{channel, Sender};
use std::time::{Duration, Instant};

use ergo_engine::{
    Actor, Context, HandleResult, Message, Node, NodeOptions, Pid, Reason, Ref, SpawnOptions,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A ball with a hit counter.
struct Ball(u64);

/// Asks the ponger how many balls it has returned.
struct HowMany;

struct Ponger {
    returned: u64,
}

impl Actor for Ponger {
    async fn handle_message(&mut self, ctx: &mut Context, from: Pid, msg: Message) -> HandleResult {
        if let Ok(Ball(n)) = msg.downcast::<Ball>() {
            self.returned += 1;
            ctx.send(from, Ball(n + 1))?;
        }
        Ok(())
    }

    async fn handle_call(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        req: Message,
    ) -> Result<Option<Message>, Reason> {
        if req.is::<HowMany>() {
            return Ok(Some(Message::new(self.returned)));
        }
        Ok(None)
    }
}

struct Pinger {
    ponger: Pid,
    rounds: u64,
    started: Option<Instant>,
    done: Sender<String>,
}

/// Starts the rally.
struct Serve;

impl Actor for Pinger {
    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if msg.is::<Serve>() {
            self.started = Some(Instant::now());
            return Ok(ctx.send(self.ponger, Ball(0))?);
        }
        if let Ok(Ball(n)) = msg.downcast::<Ball>() {
            if n < self.rounds {
                return Ok(ctx.send(self.ponger, Ball(n + 1))?);
            }
            let took = self.started.map(|t| t.elapsed()).unwrap_or_default();
            // While this call is in flight the shard runs other processes.
            let returned = ctx
                .call(self.ponger, HowMany)
                .await?
                .downcast::<u64>()
                .unwrap_or(0);
            let _ = self.done.send(format!(
                "{n} hits in {took:?} ({:.0} ns per hit); the ponger returned {returned} balls",
                took.as_nanos() as f64 / n as f64
            ));
            return Err(Reason::Normal);
        }
        Ok(())
    }
}

fn main() -> Result<(), ergo_engine::Error> {
    let node = Node::start("pingpong@localhost", NodeOptions::default())?;
    println!("node {} started with {} shards", node.name(), node.shards());
    let (tx, rx) = channel();
    let ponger = node.spawn_register("ponger", Ponger { returned: 0 }, SpawnOptions::default())?;
    // Same shard as the ponger: every hit is a same-shard send (no atomics, no syscalls).
    let pinger = node.spawn(
        Pinger {
            ponger,
            rounds: 1_000_000,
            started: None,
            done: tx,
        },
        SpawnOptions {
            shard: Some(0),
            ..Default::default()
        },
    )?;
    node.send(pinger, Serve)?;
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(line) => println!("{line}"),
        Err(_) => println!("no answer within 60 s"),
    }
    node.stop();
    Ok(())
}
