//! The inspection API: paged process lists over many processes (and over gaps), the
//! per-process counters as messages flow, mailbox queues, application process lists, the same
//! answers from inside an actor, and bad arguments.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{node, WAIT};
use ergo_engine::inspect::ProcessShortInfo;
use ergo_engine::supervisor::ChildSpec;
use ergo_engine::{
    Actor, ApplicationSpec, Context, Error, HandleResult, Message, Node, Pid, Priority, Reason,
    Ref, SpawnOptions,
};

struct Idle;
impl Actor for Idle {}

/// Every page from 1000 on, following `next = last id + 1`; checks each page's order and size.
fn all_pages(n: &Node, limit: usize) -> Vec<ProcessShortInfo> {
    let mut start = 1000;
    let mut all = Vec::new();
    loop {
        let page = n.process_list_short_info(start, limit).unwrap();
        assert!(page.len() <= limit, "a page holds at most the limit");
        assert!(
            page.windows(2).all(|w| w[0].pid.id < w[1].pid.id),
            "a page is in PID order"
        );
        assert!(
            page.iter().all(|p| p.pid.id >= start),
            "a page starts at its start"
        );
        let Some(last) = page.last() else { break };
        start = last.pid.id + 1;
        all.extend(page);
    }
    all
}

#[test]
fn pages_cover_every_process_once_in_pid_order() {
    let n = node("inspect-pages", 2);
    let mut spawned = BTreeSet::new();
    for _ in 0..5000 {
        spawned.insert(n.spawn(Idle, SpawnOptions::default()).unwrap());
    }
    let all = all_pages(&n, 700);
    let listed: BTreeSet<Pid> = all.iter().map(|p| p.pid).collect();
    assert_eq!(listed.len(), all.len(), "no process twice");
    assert_eq!(listed, spawned, "every process, nothing else");
    assert!(all.windows(2).all(|w| w[0].pid.id < w[1].pid.id));
    assert_eq!(n.process_list().unwrap().len(), 5000);
    // Limit 0 is Go's 100.
    assert_eq!(n.process_list_short_info(1000, 0).unwrap().len(), 100);
    n.stop();
}

#[test]
fn pages_skip_long_runs_of_terminated_processes() {
    let n = node("inspect-gaps", 1);
    // More dead ids than one slice probes, with a few live processes between them.
    let mut keep = Vec::new();
    for i in 0..40_000 {
        let pid = n.spawn(Idle, SpawnOptions::default()).unwrap();
        if i % 10_000 == 9_999 {
            keep.push(pid);
        } else {
            n.kill(pid).unwrap();
        }
    }
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let all = all_pages(&n, 3);
        let listed: Vec<Pid> = all.iter().map(|p| p.pid).collect();
        if listed == keep {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "kills land: {}",
            listed.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    n.stop();
}

/// Counts what it gets; `Burst(k)` makes it send `k` messages to `to`.
struct Chatty;
struct Burst(Pid, u32);

impl Actor for Chatty {
    async fn handle_message(&mut self, ctx: &mut Context, _from: Pid, m: Message) -> HandleResult {
        if let Some(Burst(to, k)) = m.downcast_ref::<Burst>() {
            for i in 0..*k {
                ctx.send(*to, i)
                    .map_err(|e| Reason::custom(e.to_string()))?;
            }
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
        Ok(Some(req))
    }
}

#[test]
fn counters_move_as_messages_flow() {
    let n = node("inspect-counters", 2);
    let a = n.spawn(Chatty, SpawnOptions::default()).unwrap();
    let b = n.spawn(Chatty, SpawnOptions::default()).unwrap();
    let before = n.process_info(b).unwrap();
    assert_eq!((before.messages_in, before.messages_out), (0, 0));
    assert!(before.behavior.ends_with("Chatty"), "{}", before.behavior);
    n.send(a, Burst(b, 250)).unwrap();
    // A call behind the burst: when it answers, a has sent everything.
    n.call(a, 0u8, WAIT).unwrap();
    n.call(b, 0u8, WAIT).unwrap();
    let ia = n.process_info(a).unwrap();
    let ib = n.process_info(b).unwrap();
    assert_eq!(ia.messages_in, 2, "the burst order and the call");
    assert!(
        ia.messages_out >= 251,
        "250 sends and a reply: {}",
        ia.messages_out
    );
    assert_eq!(ib.messages_in, 251, "250 messages and the call");
    assert!(ia.running_time > Duration::ZERO);
    assert!(ib.running_time >= before.running_time);
    let short = n.process_list_short_info(1000, 10).unwrap();
    let sb = short.iter().find(|p| p.pid == b).unwrap();
    assert_eq!(sb.messages_in, ib.messages_in);
    n.stop();
}

/// Awaits an answer that never comes, so that its mailbox fills while it waits.
struct Stuck(Pid);
impl Actor for Stuck {
    async fn handle_message(&mut self, ctx: &mut Context, _from: Pid, m: Message) -> HandleResult {
        if m.is::<&'static str>() {
            let _ = ctx.call_timeout(self.0, 1u8, Duration::from_secs(30)).await;
        }
        Ok(())
    }
}

struct Silent;
impl Actor for Silent {}

#[test]
fn mailbox_queues_are_counted_per_priority() {
    let n = node("inspect-queues", 1);
    let silent = n.spawn(Silent, SpawnOptions::default()).unwrap();
    let p = n.spawn(Stuck(silent), SpawnOptions::default()).unwrap();
    n.send(p, "wait").unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while n.process_info(p).unwrap().state != ergo_engine::ProcessState::WaitResponse {
        assert!(std::time::Instant::now() < deadline, "it waits");
        std::thread::sleep(Duration::from_millis(5));
    }
    for _ in 0..3 {
        n.send(p, 1u32).unwrap();
    }
    let high = ergo_engine::MessageOptions {
        priority: Priority::High,
        ..Default::default()
    };
    n.send_with_options(p, 2u32, high).unwrap();
    let info = n.process_info(p).unwrap();
    assert_eq!(info.mailbox_queues.main, 3);
    assert_eq!(info.mailbox_queues.system, 1);
    assert_eq!(info.mailbox, 4);
    n.stop();
}

/// A member that spawns a child.
struct Member;
impl Actor for Member {
    fn init(&mut self, ctx: &mut Context) -> HandleResult {
        ctx.spawn(Idle, SpawnOptions::default())
            .map_err(|e| Reason::custom(e.to_string()))?;
        Ok(())
    }
}

#[test]
fn application_process_lists_hold_its_members_and_their_children() {
    let n = node("inspect-apps", 2);
    let outsider = n.spawn(Idle, SpawnOptions::default()).unwrap();
    let mut spec = ApplicationSpec::new("store");
    spec.group
        .push(ChildSpec::new("member", || Member).registered());
    n.application_load(spec).unwrap();
    assert!(
        matches!(
            n.application_process_list("store", 0),
            Err(Error::Invalid(_))
        ),
        "a loaded application that is not running"
    );
    let master = n.application_start("store", None).unwrap();
    let list = n.application_process_list_short_info("store", 0).unwrap();
    let member = n.whereis("member").unwrap();
    let pids: Vec<Pid> = list.iter().map(|p| p.pid).collect();
    assert!(pids.contains(&master) && pids.contains(&member), "{pids:?}");
    assert_eq!(pids.len(), 3, "master, member, and the member's child");
    assert!(!pids.contains(&outsider));
    assert!(list
        .iter()
        .all(|p| p.application.map(|a| a.as_str().to_string()) == Some("store".into())));
    let child = list
        .iter()
        .find(|p| p.parent == Some(member))
        .expect("the child");
    assert_eq!(
        n.process_info(child.pid).unwrap().application,
        Some("store".into())
    );
    assert_eq!(n.process_info(outsider).unwrap().application, None);
    assert_eq!(
        n.application_process_list("store", 2).unwrap().len(),
        2,
        "limit"
    );
    assert!(matches!(
        n.application_process_list("nothing", 0),
        Err(Error::ApplicationUnknown(_))
    ));
    n.stop();
}

/// Answers a call with the first page of the process list, gathered from inside the actor.
struct Lister;
impl Actor for Lister {
    async fn handle_call(
        &mut self,
        ctx: &mut Context,
        _from: Pid,
        _r: Ref,
        _req: Message,
    ) -> Result<Option<Message>, Reason> {
        let page = ctx.process_list_short_info(1000, 1000).await;
        let pids: Result<Vec<Pid>, Error> = page.map(|p| p.into_iter().map(|i| i.pid).collect());
        let me = ctx.process_info(ctx.pid()).await.map(|i| i.messages_in);
        Ok(Some(Message::new((pids, me))))
    }
}

#[test]
fn an_actor_gets_the_same_lists_without_blocking_its_shard() {
    let n = node("inspect-ctx", 2);
    for _ in 0..50 {
        n.spawn(Idle, SpawnOptions::default()).unwrap();
    }
    let lister = n.spawn(Lister, SpawnOptions::default()).unwrap();
    let from_node: Vec<Pid> = n
        .process_list_short_info(1000, 1000)
        .unwrap()
        .into_iter()
        .map(|p| p.pid)
        .collect();
    let reply = n.call(lister, (), WAIT).unwrap();
    let (pids, me) = reply
        .downcast::<(Result<Vec<Pid>, Error>, Result<u64, Error>)>()
        .unwrap_or_else(|_| panic!("the lister's answer"));
    assert_eq!(pids.unwrap(), from_node);
    assert_eq!(me.unwrap(), 1, "the call being handled");
    n.stop();
}

#[test]
fn bad_arguments_are_errors() {
    let n = node("inspect-bad", 1);
    assert!(matches!(
        n.process_list_short_info(999, 10),
        Err(Error::Invalid(_))
    ));
    let gone = n.spawn(Idle, SpawnOptions::default()).unwrap();
    n.kill(gone).unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while n.process_info(gone).is_ok() {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(matches!(n.process_info(gone), Err(Error::ProcessUnknown)));
    let foreign = Pid::new("other@host".into(), 5000, 1);
    assert!(matches!(
        n.process_info(foreign),
        Err(Error::NoConnection(_))
    ));
    let bad_shard = Pid::new(n.name(), (7 << 10) | 900, n.creation());
    assert!(matches!(
        n.process_info(bad_shard),
        Err(Error::ProcessUnknown)
    ));
    n.stop();
}
