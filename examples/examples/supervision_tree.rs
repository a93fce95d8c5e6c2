//! A supervision tree: a one-for-one supervisor with two workers and a nested all-for-one
//! supervisor. Workers crash on purpose; the output shows who is restarted, and the ordered
//! shutdown at the end.
//!
//! Run: `cargo run --release -p ergo-examples --example supervision_tree`

use std::time::Duration;

use ergo_engine::{
    Actor, Atom, ChildSpec, Context, HandleResult, Message, Node, NodeOptions, Pid, Reason,
    RestartStrategy, SpawnOptions, Supervisor, SupervisorRestart, SupervisorSpec, SupervisorType,
    WhichChildren,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tells a worker to crash.
struct Crash;

struct Worker {
    name: Atom,
}

impl Actor for Worker {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        println!("  start  {:<8} {}", self.name.as_str(), ctx.pid());
        Ok(())
    }

    async fn handle_message(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if msg.is::<Crash>() {
            return Err(Reason::custom("crashed on purpose"));
        }
        Ok(())
    }

    fn terminate(&mut self, ctx: &mut Context, reason: &Reason) {
        println!(
            "  stop   {:<8} {} ({reason})",
            self.name.as_str(),
            ctx.pid()
        );
    }
}

fn worker(name: &'static str) -> ChildSpec {
    ChildSpec::new(name, move || Worker {
        name: Atom::new(name),
    })
    .registered()
}

fn restart() -> SupervisorRestart {
    SupervisorRestart {
        strategy: RestartStrategy::Permanent,
        intensity: 5,
        period: Duration::from_secs(5),
    }
}

fn main() -> Result<(), ergo_engine::Error> {
    let node = Node::start("tree@localhost", NodeOptions::default())?;
    let inner = SupervisorSpec {
        kind: SupervisorType::AllForOne,
        restart: restart(),
        children: vec![worker("db-a"), worker("db-b")],
        disable_auto_shutdown: false,
    };
    let top = SupervisorSpec {
        kind: SupervisorType::OneForOne,
        restart: restart(),
        children: vec![
            worker("web"),
            ChildSpec::new("db-sup", move || Supervisor::new(inner.clone())).registered(),
            worker("cache"),
        ],
        disable_auto_shutdown: false,
    };
    println!("starting the tree:");
    node.spawn_register("top", Supervisor::new(top), SpawnOptions::default())?;
    std::thread::sleep(Duration::from_millis(50));

    println!("crash 'web' (one-for-one: only it restarts):");
    node.send("web", Crash)?;
    std::thread::sleep(Duration::from_millis(50));

    println!("crash 'db-a' (all-for-one below db-sup: both db workers restart):");
    node.send("db-a", Crash)?;
    std::thread::sleep(Duration::from_millis(50));

    let children = node.call("top", WhichChildren, Duration::from_secs(1))?;
    if let Ok(list) = children.downcast::<Vec<(Atom, Pid)>>() {
        println!("children of 'top' now:");
        for (name, pid) in list {
            println!("  {:<8} {pid}", name.as_str());
        }
    }

    println!("node stop (ordered shutdown, last started first):");
    node.stop();
    Ok(())
}
