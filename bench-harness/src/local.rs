//! The local scenarios: message throughput on one shard, on every shard, across shards, and
//! spawn speed / memory per idle process.

use std::sync::mpsc::{sync_channel, SyncSender};
use std::time::{Duration, Instant};

use ergo_engine::{
    rss_bytes, Actor, Context, Error, HandleResult, Message, Node, NodeOptions, Pid, SpawnOptions,
};

use crate::outcome::Outcome;

fn start(shards: usize) -> Result<Node, Error> {
    crate::metrics_switch::start(
        "bench@localhost",
        NodeOptions {
            shards,
            ..Default::default()
        },
    )
}

/// CPU time consumed so far by the calling thread (a shard thread, when called from an actor).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; CLOCK_THREAD_CPUTIME_ID needs nothing else.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if r != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Counts integers; reports the time (and its shard thread's CPU time) when it has seen
/// `expect` of them.
pub(crate) struct Receiver {
    pub(crate) seen: u64,
    pub(crate) expect: u64,
    pub(crate) done: SyncSender<(Instant, Duration)>,
}

impl Actor for Receiver {
    async fn handle_message(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if msg.is::<u64>() {
            self.seen += 1;
            if self.seen == self.expect {
                let _ = self.done.send((Instant::now(), thread_cpu()));
            }
        }
        Ok(())
    }
}

/// Sends `total` integers to `to` in chunks, re-arming itself between chunks so other processes
/// on its shard (its receiver) get to run.
pub(crate) struct Sender {
    pub(crate) to: Pid,
    pub(crate) left: u64,
}

pub(crate) struct Go;

const CHUNK: u64 = 256;

impl Actor for Sender {
    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if msg.is::<Go>() {
            let n = self.left.min(CHUNK);
            for i in 0..n {
                ctx.send(self.to, i)?;
            }
            self.left -= n;
            if self.left > 0 {
                let me = ctx.pid();
                ctx.send(me, Go)?;
            }
        }
        Ok(())
    }
}

fn pair(
    node: &Node,
    rx_shard: usize,
    tx_shard: usize,
    n: u64,
    done: SyncSender<(Instant, Duration)>,
) -> Result<Pid, Error> {
    let rx = node.spawn(
        Receiver {
            seen: 0,
            expect: n,
            done,
        },
        SpawnOptions {
            shard: Some(rx_shard),
            ..Default::default()
        },
    )?;
    node.spawn(
        Sender { to: rx, left: n },
        SpawnOptions {
            shard: Some(tx_shard),
            ..Default::default()
        },
    )
}

/// A node stopped when it goes out of scope, also when a scenario returns early with an error
/// (its shard threads would otherwise stay, pinned, through the next scenarios).
pub(crate) struct Stopping(pub(crate) Node);

impl std::ops::Deref for Stopping {
    type Target = Node;
    fn deref(&self) -> &Node {
        &self.0
    }
}

impl Drop for Stopping {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// 1 sender -> 1 receiver; on one shard, or (`cross`) on two.
pub fn one_to_one(shards: usize, n: u64, cross: bool) -> Result<Outcome, Error> {
    let node = Stopping(start(shards)?);
    let (tx, rx) = sync_channel(1);
    let other = if cross { 1 % node.shards() } else { 0 };
    let sender = pair(&node, 0, other, n, tx)?;
    let cpu0 = node_cpu(&node, 0)?;
    let t0 = Instant::now();
    node.send(sender, Go)?;
    let (end, cpu1) = rx
        .recv_timeout(Duration::from_secs(120))
        .map_err(|_| Error::Timeout)?;
    let scenario = if cross {
        "local-1-1-cross"
    } else {
        "local-1-1"
    };
    let cpu_s = cpu1.saturating_sub(cpu0).as_secs_f64();
    Ok(Outcome::Throughput {
        scenario,
        messages: n,
        elapsed_s: (end - t0).as_secs_f64(),
        cpu_s,
        frames_per_send: None,
    })
}

/// N pairs, pair i on shard i.
pub fn n_to_n(shards: usize, n: u64) -> Result<Outcome, Error> {
    let node = Stopping(start(shards)?);
    let pairs = node.shards();
    let (tx, rx) = sync_channel(pairs);
    let mut senders = Vec::new();
    for i in 0..pairs {
        senders.push(pair(&node, i, i, n, tx.clone())?);
    }
    let mut cpu0 = Duration::ZERO;
    for i in 0..pairs {
        cpu0 += node_cpu(&node, i)?;
    }
    let t0 = Instant::now();
    for s in &senders {
        node.send(*s, Go)?;
    }
    let mut end = t0;
    let mut cpu1 = Duration::ZERO;
    for _ in 0..pairs {
        let (t, c) = rx
            .recv_timeout(Duration::from_secs(120))
            .map_err(|_| Error::Timeout)?;
        end = end.max(t);
        cpu1 += c;
    }
    Ok(Outcome::Throughput {
        scenario: "local-n-n",
        messages: n * pairs as u64,
        elapsed_s: (end - t0).as_secs_f64(),
        cpu_s: cpu1.saturating_sub(cpu0).as_secs_f64(),
        frames_per_send: None,
    })
}

/// Reports its shard thread's CPU time when called.
struct CpuProbe;

impl Actor for CpuProbe {
    async fn handle_call(
        &mut self,
        _ctx: &mut Context,
        _from: Pid,
        _r: ergo_engine::Ref,
        _req: Message,
    ) -> Result<Option<Message>, ergo_engine::Reason> {
        Ok(Some(Message::new(thread_cpu())))
    }
}

/// The CPU time shard `shard` has used so far.
pub(crate) fn node_cpu(node: &Node, shard: usize) -> Result<Duration, Error> {
    let p = node.spawn(
        CpuProbe,
        SpawnOptions {
            shard: Some(shard),
            ..Default::default()
        },
    )?;
    let d = node
        .call(p, (), Duration::from_secs(10))?
        .downcast::<Duration>()
        .unwrap_or_default();
    node.kill(p)?;
    Ok(d)
}

/// An idle process.
struct Idle;
impl Actor for Idle {}

/// Spawns `n` idle children on its shard when told to.
struct Spawner;

struct SpawnMany(u64, SyncSender<Result<Instant, Error>>);

impl Actor for Spawner {
    async fn handle_message(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        msg: Message,
    ) -> HandleResult {
        if let Ok(SpawnMany(n, done)) = msg.downcast::<SpawnMany>() {
            let mut r = Ok(());
            for _ in 0..n {
                if let Err(e) = ctx.spawn(Idle, SpawnOptions::default()) {
                    r = Err(e);
                    break;
                }
            }
            let _ = done.send(r.map(|_| Instant::now()));
        }
        Ok(())
    }
}

/// Spawns `n` idle processes spread over the shards; reports the spawn time and the growth of
/// the resident set per process after settling.
pub fn memusage(shards: usize, n: u64) -> Result<Outcome, Error> {
    let node = Stopping(start(shards)?);
    let k = node.shards();
    let mut spawners = Vec::new();
    for i in 0..k {
        spawners.push(node.spawn(
            Spawner,
            SpawnOptions {
                shard: Some(i),
                ..Default::default()
            },
        )?);
    }
    std::thread::sleep(Duration::from_millis(200));
    let before = rss_bytes();
    let (tx, rx) = sync_channel(k);
    let t0 = Instant::now();
    for (i, s) in spawners.iter().enumerate() {
        let share = n / k as u64 + u64::from((i as u64) < n % k as u64);
        node.send(*s, SpawnMany(share, tx.clone()))?;
    }
    let mut end = t0;
    for _ in 0..k {
        let t = rx
            .recv_timeout(Duration::from_secs(300))
            .map_err(|_| Error::Timeout)??;
        end = end.max(t);
    }
    std::thread::sleep(Duration::from_millis(500));
    let after = rss_bytes();
    let procs = node.info().processes as u64 - k as u64;
    Ok(Outcome::Memory {
        processes: procs,
        spawn_seconds: (end - t0).as_secs_f64(),
        bytes_per_process: after.saturating_sub(before) as f64 / procs.max(1) as f64,
    })
}

/// Runs one memusage measurement of `n` processes in a child process (this binary,
/// `run memusage --json --in-process`) and reads its JSON line.
pub fn memusage_in_child(shards: usize, n: u64) -> Result<Outcome, Error> {
    let exe = std::env::current_exe().map_err(|e| Error::Os(e.to_string()))?;
    let out = std::process::Command::new(exe)
        .args([
            "run",
            "memusage",
            "--json",
            "--in-process",
            "--shards",
            &shards.to_string(),
            "--processes",
            &n.to_string(),
        ])
        .output()
        .map_err(|e| Error::Os(e.to_string()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("\"memusage\""))
        .ok_or(Error::Os("memusage child printed nothing".into()))?;
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| Error::Os(e.to_string()))?;
    if let Some(e) = v.get("error") {
        return Err(Error::Os(format!("memusage child: {e}")));
    }
    if !out.status.success() {
        return Err(Error::Os(format!("memusage child failed: {}", out.status)));
    }
    let f = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_f64())
            .ok_or_else(|| Error::Os(format!("memusage child printed no {k}")))
    };
    Ok(Outcome::Memory {
        processes: f("processes")? as u64,
        spawn_seconds: f("spawn_seconds")?,
        bytes_per_process: f("bytes_per_process")?,
    })
}
