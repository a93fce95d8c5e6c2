//! `pubsub`: one producer node publishes one event to subscribers spread over consumer nodes
//! (Go Ergo's distributed pub/sub benchmark: 1 producer, 10 consumer nodes x 100k subscribers).
//!
//! Each subscriber monitors the producer's event from its own node
//! (`monitor_event(Event { node: producer, name })`); the producer should send one network
//! message per consumer node, which that node fans out to its local subscribers. Measured: the
//! time from publishing to the last subscriber's receipt, the delivery rate, and (when the engine
//! counts them) the network messages the producer node sent for the event.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ergo_engine::{
    Actor, Atom, Context, Error, Event, EventOptions, HandleResult, Message, MessageEvent,
    NetworkOptions, Node, NodeOptions, Pid, Ref, SpawnOptions,
};

use crate::network::net_node;
use crate::outcome::{Outcome, PubsubFigures};
use crate::progress::Progress;

/// Sizes of a `pubsub` run.
#[derive(Clone, Debug)]
pub struct Params {
    pub consumer_nodes: usize,
    pub per_node: u64,
}

const EVENT: &str = "bench_event";

/// Registers the event; publishes it when asked.
struct Producer {
    token: Option<Ref>,
}

struct Publish(SyncSender<Result<(Instant, Instant), Error>>);

impl Actor for Producer {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        self.token = Some(ctx.register_event(EVENT, EventOptions::default())?);
        Ok(())
    }

    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if let Ok(Publish(reply)) = msg.downcast::<Publish>() {
            let Some(token) = self.token else {
                return Ok(());
            };
            let t0 = Instant::now();
            let r = ctx.send_event(EVENT, token, 42u64);
            let _ = reply.send(r.map(|()| (t0, Instant::now())));
        }
        Ok(())
    }
}

/// Counts its node's deliveries; the one that completes the node's share reports the time.
struct Subscriber {
    event: Event,
    seen: Arc<AtomicU64>,
    expect: u64,
    done: SyncSender<Instant>,
}

impl Actor for Subscriber {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        ctx.monitor_event(self.event)?;
        Ok(())
    }

    async fn handle_event(&mut self, _ctx: &mut Context, _event: MessageEvent) -> HandleResult {
        if self.seen.fetch_add(1, Ordering::Relaxed) + 1 == self.expect {
            let _ = self.done.send(Instant::now());
        }
        Ok(())
    }
}

/// Tries one subscription and reports its outcome.
struct Probe {
    event: Event,
    result: SyncSender<Result<(), Error>>,
}

impl Actor for Probe {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        let r = ctx.monitor_event(self.event).map(|_| ());
        if r.is_ok() {
            ctx.unsubscribe_event(self.event);
        }
        let _ = self.result.send(r);
        Ok(())
    }
}

/// Spawns a node's subscribers when told to.
struct Spawner;

struct SpawnSubscribers {
    n: u64,
    event: Event,
    seen: Arc<AtomicU64>,
    ready: Arc<AtomicU64>,
    done: SyncSender<Instant>,
    spawned: SyncSender<Result<(), Error>>,
}

impl Actor for Spawner {
    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if let Ok(s) = msg.downcast::<SpawnSubscribers>() {
            let mut r = Ok(());
            for _ in 0..s.n {
                let sub = Subscriber {
                    event: s.event,
                    seen: s.seen.clone(),
                    expect: s.n,
                    done: s.done.clone(),
                };
                if let Err(e) = ctx.spawn(sub, SpawnOptions::default()) {
                    r = Err(e);
                    break;
                }
                s.ready.fetch_add(1, Ordering::Relaxed);
            }
            let _ = s.spawned.send(r);
        }
        Ok(())
    }
}

/// The error `pubsub` reports when subscribing to another node's event fails.
pub fn unsupported(e: &Error) -> String {
    format!("remote events not supported by this engine build (monitor_event of another node's event: {e})")
}

/// Runs the scenario once.
pub fn run(p: &Params) -> Result<Outcome, String> {
    let producer = Node::start(
        "pubsub-producer@localhost",
        NodeOptions {
            shards: 1,
            network: Some(NetworkOptions::new("bench")),
            ..Default::default()
        },
    )
    .map_err(|e| format!("starting the producer node: {e}"))?;
    let mut consumers: Vec<Node> = Vec::with_capacity(p.consumer_nodes);
    let r = run_on(&producer, &mut consumers, p);
    for c in &consumers {
        c.stop();
    }
    producer.stop();
    r
}

/// `what: error`, for `map_err`.
fn e(what: &'static str) -> impl Fn(Error) -> String {
    move |err| format!("{what}: {err}")
}

fn run_on(producer: &Node, consumers: &mut Vec<Node>, p: &Params) -> Result<Outcome, String> {
    let producer_pid = producer
        .spawn(Producer { token: None }, SpawnOptions::default())
        .map_err(e("spawning the producer"))?;
    let event = Event::new(Atom::new(EVENT), producer.name());
    for i in 0..p.consumer_nodes {
        let node = net_node(
            &format!("pubsub-consumer{}@localhost", i + 1),
            Some(producer),
        )
        .map_err(e("starting a consumer node"))?;
        consumers.push(node);
    }

    // One subscription first: an engine without remote events fails here, plainly.
    let (ptx, prx) = sync_channel(1);
    consumers[0]
        .spawn(Probe { event, result: ptx }, SpawnOptions::default())
        .map_err(e("spawning the probe"))?;
    match prx.recv_timeout(Duration::from_secs(30)) {
        Ok(Ok(())) => {}
        Ok(Err(err)) => return Err(unsupported(&err)),
        Err(_) => return Err("the probe subscription did not answer in 30 s".into()),
    }

    let total = p.per_node * p.consumer_nodes as u64;
    let ready = Arc::new(AtomicU64::new(0));
    let (done_tx, done_rx) = sync_channel(p.consumer_nodes);
    let (spawned_tx, spawned_rx) = sync_channel(p.consumer_nodes);
    let mut counters = Vec::with_capacity(p.consumer_nodes);
    let t_sub = Instant::now();
    for node in consumers.iter() {
        let spawner = node
            .spawn(Spawner, SpawnOptions::default())
            .map_err(e("spawning a spawner"))?;
        let seen = Arc::new(AtomicU64::new(0));
        counters.push(seen.clone());
        node.send(
            spawner,
            SpawnSubscribers {
                n: p.per_node,
                event,
                seen,
                ready: ready.clone(),
                done: done_tx.clone(),
                spawned: spawned_tx.clone(),
            },
        )
        .map_err(e("starting the subscribers"))?;
    }
    let progress = Progress::items(total, "pubsub subscribers");
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut spawned = 0;
    while spawned < p.consumer_nodes {
        progress.set(ready.load(Ordering::Relaxed));
        match spawned_rx.recv_timeout(Duration::from_millis(100)) {
            Ok(Ok(())) => spawned += 1,
            Ok(Err(err)) => return Err(unsupported(&err)),
            Err(_) if Instant::now() > deadline => {
                return Err("subscribers not ready in 600 s".into());
            }
            Err(_) => {}
        }
    }
    let subscribe_seconds = t_sub.elapsed().as_secs_f64();
    drop(progress);

    let (ptx, prx) = sync_channel(1);
    producer
        .send(producer_pid, Publish(ptx))
        .map_err(e("asking the producer to publish"))?;
    let (t0, t1) = prx
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| "the producer did not publish in 30 s".to_string())?
        .map_err(e("publishing"))?;
    let mut last = t0;
    let wait = Duration::from_secs(60) + Duration::from_micros(total);
    for _ in 0..p.consumer_nodes {
        match done_rx.recv_timeout(wait) {
            Ok(t) => last = last.max(t),
            Err(_) => {
                let got: u64 = counters.iter().map(|c| c.load(Ordering::Relaxed)).sum();
                return Err(format!(
                    "delivered {got} of {total} events in {} s",
                    wait.as_secs()
                ));
            }
        }
    }
    let delivered = counters.iter().map(|c| c.load(Ordering::Relaxed)).sum();
    Ok(Outcome::Pubsub(PubsubFigures {
        consumer_nodes: p.consumer_nodes as u64,
        subscribers: total,
        delivered,
        subscribe_seconds,
        publish_seconds: (t1 - t0).as_secs_f64(),
        delivery_seconds: (last - t0).as_secs_f64(),
        network_messages: None,
    }))
}
