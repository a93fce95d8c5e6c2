//! `pubsub`: one producer node publishes one event to subscribers spread over consumer nodes
//! (Go Ergo's distributed pub/sub benchmark: 1 producer, 10 consumer nodes x 100k subscribers).
//!
//! Each subscriber monitors the producer's event from its own node
//! (`monitor_event(Event { node: producer, name })`); the producer sends one network message per
//! consumer node, which that node fans out to its local subscribers. Measured: the time from
//! publishing to the last subscriber's receipt, the delivery rate, and the event messages the
//! producer node sent to other nodes for that one publication (`Network::events_sent`).
//!
//! A remote subscription is confirmed asynchronously, so the event keeps its last value
//! (`buffer: 1`) and a "ready" value is published before anyone subscribes: each subscriber gets
//! it when its subscription is in place. The measured value is published once every subscriber
//! has had its "ready".

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ergo_engine::{
    Actor, Atom, Context, Error, Event, EventOptions, HandleResult, Message, MessageDownEvent,
    MessageEvent, NetworkOptions, Node, NodeOptions, Pid, Ref, SpawnOptions,
};

use crate::outcome::{Outcome, PubsubFigures};
use crate::progress::Progress;

/// Sizes of a `pubsub` run.
#[derive(Clone, Debug)]
pub struct Params {
    pub consumer_nodes: usize,
    pub per_node: u64,
}

const EVENT: &str = "bench_event";
/// How long the subscriptions may make no progress before the run gives up.
const STALL: Duration = Duration::from_secs(30);
/// The value every subscriber gets when its subscription is in place (the buffered one).
const READY: u64 = 1;
/// The value whose delivery is measured.
const MEASURED: u64 = 2;

/// Registers the event (keeping its last value) and publishes "ready"; publishes the measured
/// value when asked.
struct Producer {
    token: Option<Ref>,
}

struct Publish(SyncSender<Result<(Instant, Instant), Error>>);

impl Actor for Producer {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        let options = EventOptions {
            notify: false,
            buffer: 1,
        };
        let token = ctx.register_event(EVENT, options)?;
        ctx.send_event(EVENT, token, READY)?;
        self.token = Some(token);
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
            let r = ctx.send_event(EVENT, token, MEASURED);
            let _ = reply.send(r.map(|()| (t0, Instant::now())));
        }
        Ok(())
    }
}

/// One consumer node's counters; the subscriber that completes a count reports the time.
struct NodeCounts {
    expect: u64,
    ready: AtomicU64,
    seen: AtomicU64,
    all_ready: SyncSender<Instant>,
    all_seen: SyncSender<Instant>,
    failed: SyncSender<String>,
}

fn count(c: &NodeCounts, value: Option<u64>) {
    let (counter, done) = match value {
        Some(READY) => (&c.ready, &c.all_ready),
        Some(MEASURED) => (&c.seen, &c.all_seen),
        _ => return,
    };
    if counter.fetch_add(1, Ordering::Relaxed) + 1 == c.expect {
        // One report per node into a channel with room for every node: never blocks a shard.
        let _ = done.try_send(Instant::now());
    }
}

/// Subscribes to the producer's event and counts what arrives.
struct Subscriber {
    event: Event,
    counts: Arc<NodeCounts>,
}

impl Actor for Subscriber {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        // On another node this returns at once; the subscription is confirmed (with the
        // buffered "ready") or refused (`MessageDownEvent`) later.
        for ev in ctx.monitor_event(self.event)? {
            count(&self.counts, ev.downcast_ref::<u64>().copied());
        }
        Ok(())
    }

    async fn handle_event(&mut self, _ctx: &mut Context, event: MessageEvent) -> HandleResult {
        count(&self.counts, event.downcast_ref::<u64>().copied());
        Ok(())
    }

    async fn handle_message(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if let Some(down) = msg.downcast_ref::<MessageDownEvent>() {
            // Never block a shard: the first report is enough.
            let _ = self
                .counts
                .failed
                .try_send(format!("subscription refused: {}", down.reason));
        }
        Ok(())
    }
}

/// Spawns a node's subscribers when told to.
struct Spawner;

struct SpawnSubscribers {
    event: Event,
    counts: Arc<NodeCounts>,
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
            for _ in 0..s.counts.expect {
                let sub = Subscriber {
                    event: s.event,
                    counts: s.counts.clone(),
                };
                if let Err(e) = ctx.spawn(sub, SpawnOptions::default()) {
                    r = Err(e);
                    break;
                }
            }
            // One report per node into a channel with room for every node.
            let _ = s.spawned.try_send(r);
        }
        Ok(())
    }
}

/// A one-shard node with a route to `peer`. The subscribers are children of a spawner, so
/// `stop` would wait its whole timeout for them to go: a short one, since nothing here needs an
/// orderly shutdown.
fn start_node(name: &str, peer: Option<&Node>) -> Result<Node, Error> {
    let mut net = NetworkOptions::new("bench");
    if let Some(p) = peer {
        if let Some(addr) = p.network_address() {
            net.routes.insert(p.name(), addr.into());
        }
    }
    crate::metrics_switch::start(
        name,
        NodeOptions {
            shards: 1,
            network: Some(net),
            stop_timeout: Duration::from_millis(100),
            ..Default::default()
        },
    )
}

/// Runs the scenario once.
pub fn run(p: &Params) -> Result<Outcome, String> {
    let producer = start_node("pubsub-producer@localhost", None)
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
        let node = start_node(
            &format!("pubsub-consumer{}@localhost", i + 1),
            Some(producer),
        )
        .map_err(e("starting a consumer node"))?;
        consumers.push(node);
    }
    // Connected before the subscribers come, as in Go's benchmark (the subscription time then
    // does not include dialing).
    for node in consumers.iter() {
        node.network()
            .get_node(producer.name())
            .map_err(e("connecting a consumer node"))?;
    }

    let n = p.consumer_nodes;
    let total = p.per_node * n as u64;
    let (ready_tx, ready_rx) = sync_channel(n);
    let (seen_tx, seen_rx) = sync_channel(n);
    let (failed_tx, failed_rx) = sync_channel(1);
    let (spawned_tx, spawned_rx) = sync_channel(n);
    let mut counts = Vec::with_capacity(n);
    let t_sub = Instant::now();
    for node in consumers.iter() {
        let c = Arc::new(NodeCounts {
            expect: p.per_node,
            ready: AtomicU64::new(0),
            seen: AtomicU64::new(0),
            all_ready: ready_tx.clone(),
            all_seen: seen_tx.clone(),
            failed: failed_tx.clone(),
        });
        counts.push(c.clone());
        let spawner = node
            .spawn(Spawner, SpawnOptions::default())
            .map_err(e("spawning a spawner"))?;
        node.send(
            spawner,
            SpawnSubscribers {
                event,
                counts: c,
                spawned: spawned_tx.clone(),
            },
        )
        .map_err(e("starting the subscribers"))?;
    }
    let sum = |f: fn(&NodeCounts) -> u64| counts.iter().map(|c| f(c)).sum::<u64>();

    // Every subscriber spawned and its subscription confirmed.
    let progress = Progress::items(total, "pubsub subscriptions");
    let deadline = Instant::now() + Duration::from_secs(600);
    let (mut spawned, mut ready) = (0, 0);
    let (mut last_count, mut last_progress) = (0, Instant::now());
    while spawned < n || ready < n {
        let confirmed = sum(|c| c.ready.load(Ordering::Relaxed));
        progress.set(confirmed);
        if confirmed != last_count {
            (last_count, last_progress) = (confirmed, Instant::now());
        } else if last_progress.elapsed() > STALL {
            return Err(format!(
                "{confirmed} of {total} subscriptions confirmed, none more in {} s",
                STALL.as_secs()
            ));
        }
        if let Ok(f) = failed_rx.try_recv() {
            return Err(f);
        }
        while let Ok(r) = spawned_rx.try_recv() {
            r.map_err(e("spawning subscribers"))?;
            spawned += 1;
        }
        match ready_rx.recv_timeout(Duration::from_millis(50)) {
            Ok(_) => ready += 1,
            Err(_) if Instant::now() > deadline => {
                let got = sum(|c| c.ready.load(Ordering::Relaxed));
                return Err(format!("{got} of {total} subscriptions confirmed in 600 s"));
            }
            Err(_) => {}
        }
    }
    let subscribe_seconds = t_sub.elapsed().as_secs_f64();
    drop(progress);

    let network = producer.network();
    let sent_before = network.events_sent();
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
    for _ in 0..n {
        match seen_rx.recv_timeout(wait) {
            Ok(t) => last = last.max(t),
            Err(_) => {
                let got = sum(|c| c.seen.load(Ordering::Relaxed));
                return Err(format!(
                    "delivered {got} of {total} events in {} s",
                    wait.as_secs()
                ));
            }
        }
    }
    let network_messages = network.events_sent() - sent_before;
    let delivered = sum(|c| c.seen.load(Ordering::Relaxed));
    Ok(Outcome::Pubsub(PubsubFigures {
        consumer_nodes: n as u64,
        subscribers: total,
        delivered,
        subscribe_seconds,
        publish_seconds: (t1 - t0).as_secs_f64(),
        delivery_seconds: (last - t0).as_secs_f64(),
        network_messages,
    }))
}
