//! The etcd registrar's thread: the etcd client and its tokio runtime (current-thread), the
//! registration under a lease, its keep-alive, the one watcher on `services/ergo`, and the
//! re-registration with backoff after etcd was unreachable. The [`Handle`] lets other
//! threads hand it work and wait for the answer; nothing tokio runs on their side.

use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ergo_edf::Atom;
use ergo_proto::gen::{ApplicationRoute, Route};
use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, EventType, GetOptions, PutOptions, Txn, TxnOp,
    WatchOptions,
};
use tokio::sync::watch;

use super::events::{route_event, ClusterEvent, EventConfigUpdate};
use super::layout::{self, ConfigStore, PREFIX};
use super::{EtcdError, EtcdOptions, RegistrationState, Shared};

/// Other threads' way to the registrar's thread.
pub(crate) struct Handle {
    rt: tokio::runtime::Handle,
    client: Client,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Application route changes, written to etcd one after another in the order made.
    apps: tokio::sync::mpsc::UnboundedSender<AppOp>,
}

/// A change of one of our application routes.
enum AppOp {
    Put(ApplicationRoute),
    Delete(Atom),
}

/// Writes application route changes in order (a stop's `stopping` before its `loaded`).
async fn app_writer(
    sh: Arc<Shared>,
    mut c: Client,
    mut ops: tokio::sync::mpsc::UnboundedReceiver<AppOp>,
) {
    let t = sh.options.request_timeout;
    while let Some(op) = ops.recv().await {
        let r = match op {
            AppOp::Put(route) => {
                let lease = sh.lease.load(Ordering::Acquire);
                if lease == 0 {
                    // Not registered now: the next registration puts it.
                    continue;
                }
                let key = sh.paths.app_key(route.name, sh.me);
                match layout::encode_app(&route) {
                    Ok(v) => timed(t, c.put(key, v, Some(PutOptions::new().with_lease(lease))))
                        .await
                        .map(|_| ()),
                    Err(e) => Err(e),
                }
            }
            AppOp::Delete(app) => timed(t, c.delete(sh.paths.app_key(app, sh.me), None))
                .await
                .map(|_| ()),
        };
        if let Err(e) = r {
            tracing::warn!(node = %sh.me, error = %e, "etcd registrar: application route not written");
        }
    }
}

fn connect_options(o: &EtcdOptions) -> ConnectOptions {
    let ka = o
        .keep_alive
        .unwrap_or_else(|| Duration::from_secs(o.lease_ttl as u64) / 3)
        .max(Duration::from_secs(1));
    let mut c = ConnectOptions::new()
        .with_connect_timeout(o.dial_timeout)
        .with_timeout(o.request_timeout)
        .with_keep_alive(ka, ka)
        .with_keep_alive_while_idle(true);
    if let Some((u, p)) = &o.user {
        c = c.with_user(u.clone(), p.clone());
    }
    if let Some(t) = &o.tls {
        let mut tls = etcd_client::TlsOptions::new();
        if let Some(ca) = &t.ca_pem {
            tls = tls.ca_certificate(etcd_client::Certificate::from_pem(ca));
        }
        if let Some((cert, key)) = &t.identity {
            tls = tls.identity(etcd_client::Identity::from_pem(cert, key));
        }
        if let Some(d) = &t.domain {
            tls = tls.domain_name(d.clone());
        }
        c = c.with_tls(tls);
    }
    c
}

async fn timed<T>(
    d: Duration,
    f: impl std::future::Future<Output = Result<T, etcd_client::Error>>,
) -> Result<T, EtcdError> {
    match tokio::time::timeout(d, f).await {
        Ok(r) => r.map_err(EtcdError::from),
        Err(_) => Err(EtcdError::Timeout(d)),
    }
}

/// Starts the thread; returns once connected and (with `register`) registered, or with why not.
pub(crate) fn start(shared: Arc<Shared>, register: bool) -> Result<Handle, EtcdError> {
    let (tx, rx) = mpsc::sync_channel(1);
    let (stop_tx, stop_rx) = watch::channel(false);
    let (apps_tx, apps_rx) = tokio::sync::mpsc::unbounded_channel();
    let sh = shared.clone();
    let thread = std::thread::Builder::new()
        .name("ergo-etcd-registrar".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(EtcdError::Io(e)));
                    return;
                }
            };
            rt.block_on(async move {
                let o = &sh.options;
                let client = match timed(
                    o.dial_timeout,
                    Client::connect(o.endpoints.clone(), Some(connect_options(o))),
                )
                .await
                {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let mut c = client.clone();
                if register {
                    match register_new(&sh, &mut c, None).await {
                        Ok(lease) => {
                            sh.lease.store(lease, Ordering::Release);
                            sh.set_state(RegistrationState::Registered);
                            let _ = load_config(&sh, &mut c).await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                } else if let Err(e) = timed(o.request_timeout, c.get(PREFIX, None)).await {
                    // A resolving-only client still proves etcd answers.
                    let _ = tx.send(Err(e));
                    return;
                }
                tokio::spawn(app_writer(sh.clone(), client.clone(), apps_rx));
                let _ = tx.send(Ok((tokio::runtime::Handle::current(), client)));
                if register {
                    run(sh, c, stop_rx).await;
                } else {
                    let mut stop_rx = stop_rx;
                    let _ = stop_rx.wait_for(|s| *s).await;
                }
            });
        })?;
    match rx.recv() {
        Ok(Ok((rt, client))) => Ok(Handle {
            rt,
            client,
            shared,
            stop: stop_tx,
            thread: Mutex::new(Some(thread)),
            apps: apps_tx,
        }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => {
            let _ = thread.join();
            Err(EtcdError::Stopped)
        }
    }
}

/// Grants a lease and puts the node's key under it, only if the key is free, or (`old`
/// given: re-registering) if it is still held by our old lease. Then puts our applications.
async fn register_new(sh: &Shared, c: &mut Client, old: Option<i64>) -> Result<i64, EtcdError> {
    let t = sh.options.request_timeout;
    let key = sh.paths.node_key(sh.me);
    let value = layout::encode_routes(&sh.routes)?;
    let lease = timed(t, c.lease_grant(sh.options.lease_ttl, None))
        .await?
        .id();
    let put = || {
        TxnOp::put(
            key.clone(),
            value.clone(),
            Some(PutOptions::new().with_lease(lease)),
        )
    };
    let mut won = timed(
        t,
        c.txn(
            Txn::new()
                .when(vec![Compare::create_revision(
                    key.clone(),
                    CompareOp::Equal,
                    0,
                )])
                .and_then(vec![put()]),
        ),
    )
    .await
    .map(|r| r.succeeded());
    if let (Ok(false), Some(old)) = (&won, old) {
        won = timed(
            t,
            c.txn(
                Txn::new()
                    .when(vec![Compare::lease(key.clone(), CompareOp::Equal, old)])
                    .and_then(vec![put()]),
            ),
        )
        .await
        .map(|r| r.succeeded());
    }
    match won {
        Ok(true) => {}
        other => {
            let _ = timed(t, c.lease_revoke(lease)).await;
            return Err(match other {
                Err(e) => e,
                _ => EtcdError::Taken {
                    node: sh.me,
                    cluster: sh.paths.cluster.clone(),
                },
            });
        }
    }
    if let Some(old) = old {
        let _ = timed(t.min(Duration::from_secs(2)), c.lease_revoke(old)).await;
    }
    let apps: Vec<ApplicationRoute> = sh
        .apps
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .cloned()
        .collect();
    for a in apps {
        let v = layout::encode_app(&a)?;
        timed(
            t,
            c.put(
                sh.paths.app_key(a.name, sh.me),
                v,
                Some(PutOptions::new().with_lease(lease)),
            ),
        )
        .await?;
    }
    tracing::info!(node = %sh.me, cluster = %sh.paths.cluster, lease, "etcd registrar: registered");
    Ok(lease)
}

/// Reads the configuration relevant to this node (both config paths, at one revision) afresh,
/// and records that revision for the watch to start after.
async fn load_config(sh: &Shared, c: &mut Client) -> Result<(), EtcdError> {
    let t = sh.options.request_timeout;
    let mut store = ConfigStore::default();
    let mut revision = 0;
    for path in [&sh.paths.config, &sh.paths.global_config] {
        let mut opts = GetOptions::new().with_prefix();
        if revision > 0 {
            opts = opts.with_revision(revision);
        }
        let resp = timed(t, c.get(path.as_str(), Some(opts))).await?;
        if revision == 0 {
            revision = resp.header().map_or(0, |h| h.revision());
        }
        for kv in resp.kvs() {
            let Ok(key) = kv.key_str() else { continue };
            if let Some((_, rel, _)) = ConfigStore::relevant(&sh.paths, sh.me, key) {
                let text = String::from_utf8_lossy(kv.value());
                store.set(rel, Some(layout::parse_config_value(&text)));
            }
        }
    }
    tracing::debug!(node = %sh.me, items = store.len(), "etcd registrar: configuration loaded");
    *sh.config.write().unwrap_or_else(|e| e.into_inner()) = store;
    sh.config_revision.store(revision, Ordering::Release);
    Ok(())
}

fn publish(sh: &Shared, ev: ClusterEvent) {
    if let Some((_, pid)) = sh.event {
        if let Err(e) = sh.node.send(pid, ev) {
            tracing::debug!(error = %e, "etcd registrar: event owner gone");
        }
    }
}

/// One watch event: a node or application route, or a config item.
fn handle_event(sh: &Shared, ev: &etcd_client::Event) {
    let Some(kv) = ev.kv() else { return };
    let Ok(key) = kv.key_str() else { return };
    let put = ev.event_type() == EventType::Put;
    if let Some((_, rel, item)) = ConfigStore::relevant(&sh.paths, sh.me, key) {
        let value = put.then(|| layout::parse_config_value(&String::from_utf8_lossy(kv.value())));
        let changed = {
            let mut store = sh.config.write().unwrap_or_else(|e| e.into_inner());
            let before = store.lookup(&sh.paths.cluster, sh.me, item);
            store.set(rel, value);
            let after = store.lookup(&sh.paths.cluster, sh.me, item);
            (before != after).then_some(after)
        };
        if let Some(value) = changed {
            publish(
                sh,
                ClusterEvent::Config(EventConfigUpdate {
                    item: item.to_string(),
                    value,
                }),
            );
        }
        return;
    }
    if let Some(e) = route_event(&sh.paths, sh.me, key, put.then(|| kv.value())) {
        publish(sh, e);
    }
}

enum Served {
    Stopped,
    Lost(String),
}

/// Keeps the lease alive and turns the watch into events until the connection is lost (or
/// the lease expired) or the registrar stops.
async fn serve(
    sh: &Shared,
    c: &mut Client,
    lease: i64,
    stop: &mut watch::Receiver<bool>,
) -> Served {
    let t = sh.options.request_timeout;
    let ttl = Duration::from_secs(sh.options.lease_ttl as u64);
    let (mut keeper, mut acks) = match timed(t, c.lease_keep_alive(lease)).await {
        Ok(k) => k,
        Err(e) => return Served::Lost(format!("keep-alive: {e}")),
    };
    // From just after the configuration's read: a change made meanwhile is not lost.
    let mut wopts = WatchOptions::new().with_prefix();
    let rev = sh.config_revision.load(Ordering::Acquire);
    if rev > 0 {
        wopts = wopts.with_start_revision(rev + 1);
    }
    let mut watcher = match timed(t, c.watch(PREFIX, Some(wopts))).await {
        Ok(w) => w,
        Err(e) => return Served::Lost(format!("watch: {e}")),
    };
    let mut tick = tokio::time::interval((ttl / 3).max(Duration::from_millis(200)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_ack = Instant::now();
    loop {
        tokio::select! {
            _ = stop.changed() => return Served::Stopped,
            _ = tick.tick() => {
                if last_ack.elapsed() > ttl {
                    return Served::Lost("no keep-alive answer within the lease TTL".into());
                }
                if let Err(e) = timed(t, keeper.keep_alive()).await {
                    return Served::Lost(format!("keep-alive: {e}"));
                }
            }
            m = acks.message() => match m {
                Ok(Some(r)) if r.ttl() > 0 => last_ack = Instant::now(),
                Ok(Some(_)) => return Served::Lost("the lease expired".into()),
                Ok(None) => return Served::Lost("keep-alive stream closed".into()),
                Err(e) => return Served::Lost(format!("keep-alive: {e}")),
            },
            m = watcher.message() => match m {
                Ok(Some(resp)) => {
                    if resp.canceled() {
                        return Served::Lost(format!("watch canceled: {}", resp.cancel_reason()));
                    }
                    for ev in resp.events() {
                        handle_event(sh, ev);
                    }
                }
                Ok(None) => return Served::Lost("watch stream closed".into()),
                Err(e) => return Served::Lost(format!("watch: {e}")),
            },
        }
    }
}

/// The registration's life: serve, and after a loss register again with backoff, until
/// stopped; then revoke the lease (the node leaves the cluster at once).
async fn run(sh: Arc<Shared>, mut c: Client, mut stop: watch::Receiver<bool>) {
    let o = &sh.options;
    loop {
        match serve(&sh, &mut c, sh.lease.load(Ordering::Acquire), &mut stop).await {
            Served::Stopped => break,
            Served::Lost(why) => {
                tracing::warn!(node = %sh.me, reason = %why, "etcd registrar: lost etcd, registering again");
            }
        }
        sh.set_state(RegistrationState::Retrying);
        let mut wait = o.retry_min;
        loop {
            if *stop.borrow() {
                break;
            }
            let old = sh.lease.load(Ordering::Acquire);
            match register_new(&sh, &mut c, Some(old)).await {
                Ok(lease) => {
                    sh.lease.store(lease, Ordering::Release);
                    if let Err(e) = load_config(&sh, &mut c).await {
                        tracing::warn!(error = %e, "etcd registrar: configuration not reloaded");
                    }
                    sh.set_state(RegistrationState::Registered);
                    break;
                }
                Err(e @ EtcdError::Taken { .. }) => {
                    tracing::error!(node = %sh.me, error = %e, "etcd registrar: another node took this name while etcd was unreachable; this node is no longer registered");
                    sh.lease.store(0, Ordering::Release);
                    sh.set_state(RegistrationState::Taken);
                    let _ = stop.wait_for(|s| *s).await;
                    sh.set_state(RegistrationState::Stopped);
                    return;
                }
                Err(e) => {
                    tracing::warn!(node = %sh.me, error = %e, retry_in = ?wait, "etcd registrar: etcd unreachable");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.changed() => break,
                    }
                    wait = (wait * 2).min(o.retry_max);
                }
            }
        }
        if *stop.borrow() {
            break;
        }
    }
    let lease = sh.lease.swap(0, Ordering::AcqRel);
    if lease != 0 {
        let t = o.request_timeout.min(Duration::from_secs(5));
        match timed(t, c.lease_revoke(lease)).await {
            Ok(_) => tracing::info!(node = %sh.me, "etcd registrar: left the cluster"),
            Err(e) => {
                tracing::warn!(node = %sh.me, error = %e, "etcd registrar: lease not revoked; it expires by itself")
            }
        }
    }
    sh.set_state(RegistrationState::Stopped);
}

impl Handle {
    /// Runs `f` on the registrar's thread and waits for its answer (at most the request
    /// timeout).
    fn call<T: Send + 'static>(
        &self,
        f: impl std::future::Future<Output = Result<T, EtcdError>> + Send + 'static,
    ) -> Result<T, EtcdError> {
        let t = self.shared.options.request_timeout;
        let (tx, rx) = mpsc::sync_channel(1);
        self.rt.spawn(async move {
            let r = match tokio::time::timeout(t, f).await {
                Ok(r) => r,
                Err(_) => Err(EtcdError::Timeout(t)),
            };
            let _ = tx.send(r);
        });
        match rx.recv_timeout(t + Duration::from_secs(1)) {
            Ok(r) => r,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(EtcdError::Timeout(t)),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(EtcdError::Stopped),
        }
    }

    /// `node`'s routes from its key.
    pub(crate) fn resolve(&self, node: Atom) -> Result<Vec<Route>, EtcdError> {
        let mut c = self.client.clone();
        let key = self.shared.paths.node_key(node);
        self.call(async move {
            let resp = c.get(key, None).await?;
            match resp.kvs().first() {
                Some(kv) => layout::decode_routes(kv.value()),
                None => Err(EtcdError::NoRoute(node)),
            }
        })
    }

    /// Every other node's route of `app`.
    pub(crate) fn resolve_application(
        &self,
        app: Atom,
    ) -> Result<Vec<ApplicationRoute>, EtcdError> {
        let mut c = self.client.clone();
        let prefix = self.shared.paths.app_prefix(app);
        let me = self.shared.me;
        self.call(async move {
            let resp = c.get(prefix, Some(GetOptions::new().with_prefix())).await?;
            let mut out = Vec::new();
            for kv in resp.kvs() {
                match layout::decode_app(kv.value()) {
                    Ok(r) if r.node != me => out.push(r),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(key = %String::from_utf8_lossy(kv.key()), error = %e, "etcd registrar: skipped an application route")
                    }
                }
            }
            Ok(out)
        })
    }

    /// The other registered nodes.
    pub(crate) fn nodes(&self) -> Result<Vec<Atom>, EtcdError> {
        let mut c = self.client.clone();
        let prefix = self.shared.paths.nodes.clone();
        let me = self.shared.me;
        self.call(async move {
            let resp = c
                .get(prefix.as_str(), Some(GetOptions::new().with_prefix()))
                .await?;
            Ok(resp
                .kvs()
                .iter()
                .filter_map(|kv| {
                    kv.key_str()
                        .ok()?
                        .strip_prefix(prefix.as_str())
                        .map(Atom::new)
                })
                .filter(|n| *n != me)
                .collect())
        })
    }

    /// Puts one of our application routes under the current lease, without waiting (in
    /// order with the other changes; a route put while unregistered goes out with the next
    /// registration).
    pub(crate) fn put_app(&self, route: ApplicationRoute) {
        let _ = self.apps.send(AppOp::Put(route));
    }

    /// Deletes one of our application routes, without waiting.
    pub(crate) fn delete_app(&self, app: Atom) {
        let _ = self.apps.send(AppOp::Delete(app));
    }

    /// Leaves the cluster (revokes the lease) and ends the thread.
    pub(crate) fn stop(&self) {
        let _ = self.stop.send(true);
        let t = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = t {
            if std::thread::current().id() != t.thread().id() {
                let _ = t.join();
            }
        }
        if let Some((_, pid)) = self.shared.event {
            let _ = self.shared.node.kill(pid);
        }
    }
}
