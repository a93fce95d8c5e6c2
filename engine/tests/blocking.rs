//! Blocking work off the shards: a process that waits on the blocking pool (or blocks a
//! dedicated shard) does not hold up its neighbours; results come back as futures or messages;
//! panics and a full pool are reported, not lost.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{node, WAIT};
use ergo_engine::{
    Actor, BlockingOptions, Context, Error, HandleResult, Message, Node, NodeOptions, Pid, Reason,
    Ref, SpawnOptions,
};

/// Answers a call with its request.
struct Mirror;

impl Actor for Mirror {
    async fn handle_call(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        req: Message,
    ) -> Result<Option<Message>, Reason> {
        Ok(Some(req))
    }
}

/// On a call, blocks 200 ms and then until the test opens the gate, on the blocking pool, and
/// answers whether the gate opened (rather than timing out).
struct Waiter {
    started: Arc<AtomicBool>,
    gate: Arc<Mutex<Option<Receiver<()>>>>,
}

impl Actor for Waiter {
    async fn handle_call(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        _req: Message,
    ) -> Result<Option<Message>, Reason> {
        let (started, gate) = (self.started.clone(), self.gate.clone());
        let opened = ctx
            .spawn_blocking(move || {
                started.store(true, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(200));
                let rx = gate.lock().unwrap().take().expect("one call");
                rx.recv_timeout(WAIT).is_ok()
            })
            .map_err(|e| Reason::custom(e.to_string()))?
            .await
            .map_err(|e| Reason::custom(e.to_string()))?;
        Ok(Some(Message::new(opened)))
    }
}

fn wait_for(flag: &AtomicBool) {
    let t = std::time::Instant::now();
    while !flag.load(Ordering::SeqCst) {
        assert!(t.elapsed() < WAIT, "the blocking job never started");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_200ms_blocking_job_does_not_delay_a_neighbour_on_the_same_shard() {
    let node = node("blocking_neighbour", 1);
    let started = Arc::new(AtomicBool::new(false));
    let (open, gate) = channel();
    let waiter = node
        .spawn(
            Waiter {
                started: started.clone(),
                gate: Arc::new(Mutex::new(Some(gate))),
            },
            SpawnOptions::default(),
        )
        .unwrap();
    let echo = node.spawn(Mirror, SpawnOptions::default()).unwrap();
    assert_eq!(node.process_info(waiter).unwrap().shard, 0);
    assert_eq!(node.process_info(echo).unwrap().shard, 0);

    let n = node.clone();
    let caller = std::thread::spawn(move || n.call(waiter, (), WAIT));
    wait_for(&started);
    // The waiter's job is in its 200 ms sleep or waiting at the gate, which only opens after the
    // neighbour on the same shard answered: had the job held the shard, these calls could not
    // be answered and the waiter would report a closed gate.
    for i in 0..20u64 {
        let r = node.call(echo, i, WAIT).expect("the neighbour answers");
        assert_eq!(r.downcast::<u64>().ok(), Some(i));
    }
    open.send(()).unwrap();
    let opened = caller.join().unwrap().expect("the waiter answers");
    assert_eq!(opened.downcast::<bool>().ok(), Some(true));
    node.stop();
}

/// Sends every blocking result it receives to the test.
struct Collector {
    tx: Sender<Result<u64, Error>>,
    jobs: Vec<Box<dyn FnOnce() -> u64 + Send>>,
}

impl Actor for Collector {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        for job in self.jobs.drain(..) {
            ctx.spawn_blocking_send(job)
                .map_err(|e| Reason::custom(e.to_string()))?;
        }
        Ok(())
    }
    async fn handle_message(
        &mut self,
        _ctx: &mut Context,
        from: Pid,
        msg: Message,
    ) -> HandleResult {
        assert_eq!(from, _ctx.pid(), "a result comes from the process itself");
        if let Ok(r) = msg.downcast::<Result<u64, Error>>() {
            let _ = self.tx.send(r);
        }
        Ok(())
    }
}

#[test]
fn results_come_back_as_messages_and_a_panic_is_reported() {
    let node = node("blocking_messages", 1);
    let (tx, rx) = channel();
    let jobs: Vec<Box<dyn FnOnce() -> u64 + Send>> =
        vec![Box::new(|| 7), Box::new(|| panic!("job failed on purpose"))];
    node.spawn(Collector { tx, jobs }, SpawnOptions::default())
        .unwrap();
    let mut got = [
        rx.recv_timeout(WAIT).unwrap(),
        rx.recv_timeout(WAIT).unwrap(),
    ];
    got.sort_by_key(|r| r.is_err());
    assert_eq!(got[0], Ok(7));
    assert_eq!(
        got[1],
        Err(Error::BlockingPanicked("job failed on purpose".into()))
    );
    node.stop();
}

#[test]
fn a_full_blocking_pool_refuses_at_once() {
    let node = Node::start(
        "blocking_full@localhost",
        NodeOptions {
            shards: 1,
            pin: false,
            stop_timeout: Duration::from_millis(500),
            blocking: BlockingOptions {
                max_threads: 1,
                queue: 1,
                keep_alive: Duration::from_secs(1),
            },
            ..Default::default()
        },
    )
    .unwrap();
    let (release, held) = channel::<()>();
    let running = Arc::new(AtomicBool::new(false));
    let r = running.clone();
    let first = node
        .spawn_blocking(move || {
            r.store(true, Ordering::SeqCst);
            held.recv_timeout(WAIT).is_ok()
        })
        .unwrap();
    wait_for(&running);
    let second = node.spawn_blocking(|| true).expect("one job may wait");
    assert_eq!(
        node.spawn_blocking(|| true).err(),
        Some(Error::BlockingPoolFull)
    );
    release.send(()).unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    for t in [first, second] {
        let d = done.clone();
        // The tasks are futures; the node API hands them to a process to await.
        let (tx, rx) = channel();
        node.spawn(
            Awaiter {
                task: Some(t),
                tx,
                done: d,
            },
            SpawnOptions::default(),
        )
        .unwrap();
        assert_eq!(rx.recv_timeout(WAIT).unwrap(), Ok(true));
    }
    assert_eq!(done.load(Ordering::SeqCst), 2);
    node.stop();
}

struct Awaiter {
    task: Option<ergo_engine::BlockingTask<bool>>,
    tx: Sender<Result<bool, Error>>,
    done: Arc<AtomicUsize>,
}

impl Actor for Awaiter {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        ctx.send(ctx.pid(), ())
            .map_err(|e| Reason::custom(e.to_string()))
    }
    async fn handle_message(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _m: Message,
    ) -> HandleResult {
        if let Some(t) = self.task.take() {
            let r = t.await;
            self.done.fetch_add(1, Ordering::SeqCst);
            let _ = self.tx.send(r);
        }
        Ok(())
    }
}

/// Blocks its shard's thread in the handler itself until the gate opens.
struct ThreadBlocker {
    gate: Arc<Mutex<Option<Receiver<()>>>>,
    started: Arc<AtomicBool>,
}

impl Actor for ThreadBlocker {
    async fn handle_message(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _m: Message,
    ) -> HandleResult {
        self.started.store(true, Ordering::SeqCst);
        if let Some(rx) = self.gate.lock().unwrap().take() {
            let _ = rx.recv_timeout(WAIT);
        }
        Ok(())
    }
}

#[test]
fn a_process_blocking_a_dedicated_shard_stalls_nobody_else() {
    let node = Node::start(
        "blocking_dedicated@localhost",
        NodeOptions {
            shards: 1,
            dedicated_shards: 1,
            pin: false,
            stop_timeout: Duration::from_millis(500),
            ..Default::default()
        },
    )
    .unwrap();
    let dedicated = node.dedicated_shard(0).expect("one dedicated shard");
    assert_eq!(dedicated, 1);
    assert_eq!(node.dedicated_shard(1), None);
    let (open, gate) = channel();
    let started = Arc::new(AtomicBool::new(false));
    let blocker = node
        .spawn(
            ThreadBlocker {
                gate: Arc::new(Mutex::new(Some(gate))),
                started: started.clone(),
            },
            SpawnOptions {
                shard: Some(dedicated),
                ..Default::default()
            },
        )
        .unwrap();
    // Default placement never picks the dedicated shard.
    let echoes: Vec<Pid> = (0..4)
        .map(|_| node.spawn(Mirror, SpawnOptions::default()).unwrap())
        .collect();
    for e in &echoes {
        assert_eq!(node.process_info(*e).unwrap().shard, 0);
    }
    node.send(blocker, ()).unwrap();
    wait_for(&started);
    for (i, e) in echoes.iter().enumerate() {
        let r = node.call(*e, i as u64, WAIT).expect("shard 0 is not held");
        assert_eq!(r.downcast::<u64>().ok(), Some(i as u64));
    }
    open.send(()).unwrap();
    node.stop();
}
