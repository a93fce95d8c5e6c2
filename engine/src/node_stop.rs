//! Stopping a node: graceful [`Node::stop`] (applications, then `shutdown` to the top of each
//! tree, then by force after `stop_timeout`), [`Node::stop_force`], and waiting for the end
//! ([`Node::wait`]). The shards are joined last, with a deadline, so a handler that never returns
//! cannot hang the caller.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::process::{Envelope, ExitVia, Kind, FLAG_KILLED};
use crate::shard::{self, Item, NODE_ID};
use crate::{Node, Priority, Reason};

impl Node {
    /// Blocks until the node has stopped (by [`Node::stop`], [`Node::stop_force`], or a
    /// permanent application that ended).
    pub fn wait(&self) {
        let (m, cv) = &self.0.stopped;
        let mut done = m.lock().unwrap_or_else(|p| p.into_inner());
        while !*done {
            done = cv.wait(done).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// [`Node::wait`] for at most `timeout`; whether the node has stopped.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let (m, cv) = &self.0.stopped;
        let deadline = Instant::now() + timeout;
        let mut done = m.lock().unwrap_or_else(|p| p.into_inner());
        while !*done {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            done = cv
                .wait_timeout(done, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Stops the node without waiting for processes to finish: applications are not asked
    /// to stop, every process is killed (reason `kill`; as with Go's Kill its `terminate` runs), then
    /// the shards stop. For when [`Node::stop`] did not finish in time.
    pub fn stop_force(&self) {
        self.0.stopping.store(true, Ordering::Release);
        for i in 0..self.0.shards.len() {
            let _ = self.run_on_within(i, Some(Duration::from_secs(1)), |core| {
                let cells: Vec<_> = core.procs.borrow().values().cloned().collect();
                for c in cells {
                    c.ext().kill = Some(Reason::Kill);
                    c.set_flag(FLAG_KILLED, true);
                    c.wake(&core.run_queue);
                }
            });
        }
        self.wait_processes(Instant::now() + Duration::from_secs(1));
        self.shutdown_threads();
        tracing::warn!(node = %self.0.name, "node stopped by force");
    }

    /// Stops the node gracefully: stops applications (in reverse start order), sends `shutdown`
    /// exit signals to processes without a parent (supervisors stop their children in order),
    /// waits up to `stop_timeout`, terminates what is left with reason `shutdown`, then stops the
    /// shards. From a shard thread it starts the stop on a helper thread and returns at once.
    pub fn stop(&self) {
        if let Some(core) = shard::current() {
            if Arc::ptr_eq(&core.node, &self.0) {
                let n = self.clone();
                let _ = std::thread::Builder::new()
                    .name("ergo-node-stop".into())
                    .spawn(move || n.stop());
                return;
            }
        }
        if self.0.stopping.load(Ordering::Acquire) {
            self.shutdown_threads();
            return;
        }
        crate::application::stop_all(self);
        self.0.stopping.store(true, Ordering::Release);
        let deadline = Instant::now() + self.0.stop_timeout;
        // 1. Processes without a parent get a shutdown exit signal.
        for i in 0..self.0.shards.len() {
            let _ = self.run_on_within(i, Some(self.0.stop_timeout), |core| {
                let from = core.make_pid(NODE_ID);
                let top: Vec<u64> = core
                    .procs
                    .borrow()
                    .iter()
                    .filter(|(_, c)| c.parent.get() == 0)
                    .map(|(id, _)| *id)
                    .collect();
                for id in top {
                    let env = Envelope {
                        from,
                        kind: Kind::Exit(Box::new((Reason::Shutdown, ExitVia::Pid))),
                    };
                    let _ = core.deliver(id, env, Priority::Max);
                }
            });
        }
        self.wait_processes(deadline);
        // 2. What is left is terminated by force, still with reason `shutdown`.
        for i in 0..self.0.shards.len() {
            let _ = self.run_on_within(i, Some(self.0.stop_timeout), |core| {
                let cells: Vec<_> = core.procs.borrow().values().cloned().collect();
                for c in cells {
                    c.ext().kill = Some(Reason::Shutdown);
                    c.set_flag(FLAG_KILLED, true);
                    c.wake(&core.run_queue);
                }
            });
        }
        self.wait_processes(Instant::now() + Duration::from_secs(1));
        self.shutdown_threads();
        tracing::info!(node = %self.0.name, "node stopped");
    }

    pub(crate) fn wait_processes(&self, deadline: Instant) {
        while self.0.processes() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    pub(crate) fn shutdown_threads(&self) {
        self.0.stopping.store(true, Ordering::Release);
        self.0.blocking.close();
        if let Some(net) = self.0.network.get() {
            net.stop();
        }
        let threads: Vec<_> =
            std::mem::take(&mut *self.0.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for s in &self.0.shards {
            s.publish(vec![Item::Stop]);
        }
        let deadline = Instant::now() + self.0.stop_timeout;
        for t in threads {
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            if t.is_finished() {
                let _ = t.join();
            } else {
                tracing::error!(node = %self.0.name, "a shard did not stop in time (a handler that never returns?); leaving it");
            }
        }
        let server = self
            .0
            .ops_server
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(server);
        let (m, cv) = &self.0.stopped;
        *m.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_all();
    }
}
