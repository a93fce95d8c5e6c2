//! Test support for the etcd tests: a node that registers in etcd and runs until killed.
//!
//! `etcd-test-node <name@host> <endpoint> <cluster> <lease-ttl-seconds>`; prints `ready` on
//! stdout once registered, then sleeps until its process is killed.

use std::io::Write;
use std::time::Duration;

use ergo_engine::registrar::etcd::EtcdOptions;
use ergo_engine::{NetworkOptions, Node, NodeOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: etcd-test-node <name@host> <endpoint> <cluster> <lease-ttl-seconds>");
        std::process::exit(2);
    }
    let Ok(ttl) = args[4].parse::<i64>() else {
        eprintln!("lease TTL must be a number of seconds");
        std::process::exit(2);
    };
    let mut net = NetworkOptions::new("etcd-test");
    net.registrar = Some(
        EtcdOptions {
            endpoints: vec![args[2].clone()],
            cluster: args[3].clone(),
            lease_ttl: ttl,
            ..Default::default()
        }
        .into(),
    );
    let node = match Node::start(
        &args[1],
        NodeOptions {
            shards: 1,
            pin: false,
            network: Some(net),
            ..Default::default()
        },
    ) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("node did not start: {e}");
            std::process::exit(1);
        }
    };
    println!("ready");
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(Duration::from_secs(3600));
        let _ = node.name();
    }
}
