//! Environment variables with Go's inheritance: a process sees its own, then its parent's
//! (taken at spawn), its application's (through the master, the group leader), then the
//! node's; names are case-insensitive; `env_default` falls back.

use std::sync::mpsc::{channel, Sender};
use std::time::Duration;

use ergo_engine::{
    ApplicationSpec, ChildSpec, Context, EnvVars, HandleResult, Node, NodeOptions, SpawnOptions,
};

const WAIT: Duration = Duration::from_secs(10);

type Seen = Vec<(&'static str, Option<String>)>;

fn look(ctx: &Context) -> Seen {
    [
        "node_only",
        "app_only",
        "parent_only",
        "own_only",
        "layered",
        "missing",
    ]
    .into_iter()
    .map(|k| (k, ctx.env::<String>(k).map(|v| v.to_string())))
    .collect()
}

/// Reports what it sees in `init`.
struct Leaf(Sender<Seen>);
impl ergo_engine::Actor for Leaf {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        let _ = self.0.send(look(ctx));
        Ok(())
    }
}

/// A member of the application: sets a variable of its own, then spawns a leaf with one.
struct Parent(Sender<Seen>);
impl ergo_engine::Actor for Parent {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        ctx.set_env("PARENT_ONLY", "parent".to_string());
        ctx.set_env("layered", "parent".to_string());
        let _ = self.0.send(look(ctx));
        let opts = SpawnOptions::default()
            .env("own_only", "own".to_string())
            .env("Layered", "own".to_string());
        ctx.spawn(Leaf(self.0.clone()), opts)
            .map_err(ergo_engine::Reason::from)?;
        Ok(())
    }
}

fn get<'a>(seen: &'a Seen, k: &str) -> Option<&'a str> {
    seen.iter()
        .find(|(n, _)| *n == k)
        .and_then(|(_, v)| v.as_deref())
}

#[test]
fn a_process_sees_own_then_parent_then_application_then_node_variables() {
    let mut env = EnvVars::default();
    env.set("NODE_ONLY", "node".to_string());
    env.set("layered", "node".to_string());
    let node = Node::start(
        "env-inherit@localhost",
        NodeOptions {
            shards: 1,
            pin: false,
            env,
            ..Default::default()
        },
    )
    .unwrap();
    let (tx, rx) = channel();
    let mut spec = ApplicationSpec::new("envapp");
    spec.env.set("app_only", "app".to_string());
    spec.env.set("LAYERED", "app".to_string());
    let t = tx.clone();
    spec.group
        .push(ChildSpec::new("parent", move || Parent(t.clone())));
    node.application_load(spec).unwrap();
    node.application_start("envapp", None).unwrap();
    let parent = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(get(&parent, "node_only"), Some("node"));
    assert_eq!(get(&parent, "app_only"), Some("app"));
    assert_eq!(get(&parent, "parent_only"), Some("parent"));
    assert_eq!(get(&parent, "layered"), Some("parent"));
    assert_eq!(get(&parent, "own_only"), None);
    let leaf = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(get(&leaf, "node_only"), Some("node"));
    assert_eq!(get(&leaf, "app_only"), Some("app"));
    assert_eq!(get(&leaf, "parent_only"), Some("parent"));
    assert_eq!(get(&leaf, "own_only"), Some("own"));
    assert_eq!(get(&leaf, "layered"), Some("own"));
    assert_eq!(get(&leaf, "missing"), None);
    node.stop();
}

/// Answers `env_default` and `env_list` figures.
struct Defaults(Sender<(String, u32, usize)>);
impl ergo_engine::Actor for Defaults {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        let name = ctx.env_default("NAME", "fallback".to_string()).to_string();
        let port = *ctx.env_default("port", 9000u32);
        let _ = self.0.send((name, port, ctx.env_list().len()));
        Ok(())
    }
}

#[test]
fn env_default_falls_back_and_node_variables_set_later_are_seen() {
    let node = Node::start(
        "env-default@localhost",
        NodeOptions {
            shards: 1,
            pin: false,
            ..Default::default()
        },
    )
    .unwrap();
    let (tx, rx) = channel();
    node.spawn(Defaults(tx.clone()), SpawnOptions::default())
        .unwrap();
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), ("fallback".into(), 9000, 0));
    node.set_env("name", "from-node".to_string());
    node.set_env("PORT", 1234u32);
    assert_eq!(node.env_default("Port", 1u32).as_ref(), &1234);
    node.spawn(Defaults(tx.clone()), SpawnOptions::default())
        .unwrap();
    assert_eq!(
        rx.recv_timeout(WAIT).unwrap(),
        ("from-node".into(), 1234, 2)
    );
    // A value of another type is not a `T`: the default.
    node.set_env("port", "not a number".to_string());
    node.spawn(Defaults(tx), SpawnOptions::default()).unwrap();
    assert_eq!(rx.recv_timeout(WAIT).unwrap().1, 9000);
    node.unset_env("port");
    assert!(node.env::<String>("port").is_none());
    node.stop();
}
