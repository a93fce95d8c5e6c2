//! The inspection API: paged process lists, one process's figures, an application's
//! processes. On [`Node`] the calls block the calling thread (for threads that are not
//! shards); on [`Context`] they are `async` and never block the actor's shard.
//!
//! A page is gathered shard by shard in bounded slices (see `local::SLICE_PROBES`): no call
//! copies the whole process table, and no shard is held for more than one slice at a time.

use std::sync::Arc;

use ergo_edf::{Atom, Pid};

use super::local::first_seq;
use super::ProcessShortInfo;
use crate::application::ApplicationState;
use crate::node::NodeShared;
use crate::{shard, Context, Error, Node, ProcessInfo};

/// Go's default page size when the limit is 0.
const DEFAULT_LIMIT: usize = 100;

fn check_page(start: u64, limit: usize) -> Result<usize, Error> {
    if start < shard::FIRST_ID {
        return Err(Error::Invalid(
            "a process list starts at PID id 1000 or above",
        ));
    }
    Ok(if limit == 0 { DEFAULT_LIMIT } else { limit })
}

fn finish_page(mut all: Vec<ProcessShortInfo>, limit: usize) -> Vec<ProcessShortInfo> {
    all.sort_by_key(|p| p.pid.id);
    all.truncate(limit);
    all
}

fn check_application(node: &Node, name: Atom) -> Result<(), Error> {
    let app = node
        .applications()
        .into_iter()
        .find(|a| a.name == name)
        .ok_or(Error::ApplicationUnknown(name))?;
    match app.state {
        ApplicationState::Running { .. } => Ok(()),
        _ => Err(Error::Invalid("the application is not running")),
    }
}

/// Gathers up to `limit` processes with id ≥ `start` (of `app` only, if given), blocking.
fn gather_blocking(
    node: &Node,
    start: u64,
    limit: usize,
    app: Option<Atom>,
) -> Result<Vec<ProcessShortInfo>, Error> {
    let mut all = Vec::new();
    for s in 0..node.0.shards.len() {
        let mut seq = first_seq(start, s);
        let mut got = 0;
        loop {
            let want = limit - got;
            let (page, next) = node.run_on(s, move |c| c.list_slice(seq, want, app))?;
            got += page.len();
            all.extend(page.into_iter().filter(|p| p.pid.id >= start));
            match next {
                Some(n) if got < limit => seq = n,
                _ => break,
            }
        }
    }
    Ok(finish_page(all, limit))
}

/// [`gather_blocking`] from inside an actor.
async fn gather_async(
    ctx: &Context,
    start: u64,
    limit: usize,
    app: Option<Atom>,
) -> Result<Vec<ProcessShortInfo>, Error> {
    let node: Arc<NodeShared> = ctx.shard.node.clone();
    let mut all = Vec::new();
    for s in 0..node.shards.len() {
        let mut seq = first_seq(start, s);
        let mut got = 0;
        loop {
            let want = limit - got;
            let (page, next) = super::gather::on_shard(&ctx.shard, &node, s, move |c| {
                c.list_slice(seq, want, app)
            })
            .await?;
            got += page.len();
            all.extend(page.into_iter().filter(|p| p.pid.id >= start));
            match next {
                Some(n) if got < limit => seq = n,
                _ => break,
            }
        }
    }
    Ok(finish_page(all, limit))
}

fn local_pid(node: &Arc<NodeShared>, pid: Pid) -> Result<usize, Error> {
    if pid.node != node.name {
        return Err(Error::NoConnection(pid.node));
    }
    let s = shard::shard_of(pid.id);
    if pid.creation != node.creation || pid.id < shard::FIRST_ID || s >= node.shards.len() {
        return Err(Error::ProcessUnknown);
    }
    Ok(s)
}

impl Node {
    /// Every process of the node, by PID (Go's `ProcessList`). Gathered in bounded slices;
    /// with many processes prefer the paged [`Node::process_list_short_info`].
    pub fn process_list(&self) -> Result<Vec<Pid>, Error> {
        Ok(gather_blocking(self, shard::FIRST_ID, usize::MAX, None)?
            .into_iter()
            .map(|p| p.pid)
            .collect())
    }

    /// One page of the process list (Go's `ProcessListShortInfo(start, limit)`): up to
    /// `limit` processes (0 means 100) whose PID id is `start` or above, in PID order. The
    /// next page starts one past the last id returned. `start` below 1000 is an error, as in
    /// Go.
    pub fn process_list_short_info(
        &self,
        start: u64,
        limit: usize,
    ) -> Result<Vec<ProcessShortInfo>, Error> {
        let limit = check_page(start, limit)?;
        gather_blocking(self, start, limit, None)
    }

    /// The processes running under application `name` (its members and everything they
    /// spawned, inherited from parent to child), in PID order, at most `limit` (0: all).
    pub fn application_process_list(
        &self,
        name: impl Into<Atom>,
        limit: usize,
    ) -> Result<Vec<Pid>, Error> {
        Ok(self
            .application_process_list_short_info(name, limit)?
            .into_iter()
            .map(|p| p.pid)
            .collect())
    }

    /// [`Node::application_process_list`] with each process's figures.
    pub fn application_process_list_short_info(
        &self,
        name: impl Into<Atom>,
        limit: usize,
    ) -> Result<Vec<ProcessShortInfo>, Error> {
        let name = name.into();
        check_application(self, name)?;
        let limit = if limit == 0 { usize::MAX } else { limit };
        gather_blocking(self, shard::FIRST_ID, limit, Some(name))
    }
}

impl Context {
    /// [`Node::process_list_short_info`] from inside an actor (awaits the other shards;
    /// does not block this one).
    pub async fn process_list_short_info(
        &self,
        start: u64,
        limit: usize,
    ) -> Result<Vec<ProcessShortInfo>, Error> {
        let limit = check_page(start, limit)?;
        gather_async(self, start, limit, None).await
    }

    /// [`Node::application_process_list_short_info`] from inside an actor.
    pub async fn application_process_list_short_info(
        &self,
        name: impl Into<Atom>,
        limit: usize,
    ) -> Result<Vec<ProcessShortInfo>, Error> {
        let name = name.into();
        check_application(&self.node(), name)?;
        let limit = if limit == 0 { usize::MAX } else { limit };
        gather_async(self, shard::FIRST_ID, limit, Some(name)).await
    }

    /// [`Node::process_info`] from inside an actor.
    pub async fn process_info(&self, pid: Pid) -> Result<ProcessInfo, Error> {
        let node = self.shard.node.clone();
        let s = local_pid(&node, pid)?;
        super::gather::on_shard(&self.shard, &node, s, move |c| c.process_info_local(pid)).await?
    }
}
