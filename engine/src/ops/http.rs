//! The metrics/health HTTP listener: `GET /metrics`, `/health/live`, `/health/ready`.
//!
//! It runs on one control thread of its own (`ergo-ops-http`), with hyper's HTTP/1.1 server on
//! a current-thread tokio runtime that never leaves that thread: no tokio on the shards. Until
//! the node's own web server (a meta process on the rings) exists, this is the node's only
//! HTTP endpoint.
//!
//! Bounds: at most `max_connections` connections at once (more are closed at once), request
//! headers within 16 KiB and within `request_timeout`, every connection closed after
//! [`CONNECTION_LIFETIME`]. Malformed HTTP gets hyper's error answer (400, or 431 for headers
//! that are too large) and touches nothing; only `GET` and `HEAD` are served (405 otherwise).
//!
//! A scrape asks each shard for its counters and waits for them on this thread (bounded by
//! `scrape_timeout` per shard); health checks run here too.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};

use crate::node::NodeShared;
use crate::ops::health::Probe;
use crate::ops::metrics::Scraper;
use crate::ops::OpsOptions;
use crate::{Error, Node};

/// A connection is closed after this long, whatever it does (a scraper reconnects).
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// Largest request head accepted (hyper's read buffer).
const MAX_HEAD: usize = 16 * 1024;

/// The running listener; dropping it stops the thread.
pub(crate) struct Server {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

struct Ctx {
    node: Weak<NodeShared>,
    options: OpsOptions,
    scraper: Scraper,
}

impl Server {
    /// Binds `options.listen` (an error names the address) and starts the thread.
    pub(crate) fn start(node: &Node, options: &OpsOptions) -> Result<Server, Error> {
        let Some(want) = options.listen else {
            return Err(Error::Invalid("ops.listen is not set"));
        };
        let listener = std::net::TcpListener::bind(want)
            .map_err(|e| Error::Os(format!("metrics/health listener on {want}: {e}")))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let ctx = Arc::new(Ctx {
            node: Arc::downgrade(&node.0),
            options: options.clone(),
            scraper: Scraper::default(),
        });
        let (tx, rx) = tokio::sync::oneshot::channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| Error::Os(format!("metrics/health listener runtime: {e}")))?;
        let thread = std::thread::Builder::new()
            .name("ergo-ops-http".into())
            .spawn(move || {
                rt.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => serve(l, ctx, rx).await,
                        Err(e) => tracing::error!(error = %e, "metrics/health listener failed"),
                    }
                })
            })?;
        tracing::info!(%addr, "metrics/health listener started");
        Ok(Server {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            // The last handle of a node may be dropped on the listener's own thread.
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    ctx: Arc<Ctx>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(
        ctx.options.max_connections.max(1),
    ));
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                // Out of descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "metrics/health listener: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::debug!("metrics/health listener: too many connections, one closed");
            drop(stream);
            continue;
        };
        let ctx = ctx.clone();
        let conn_ctx = ctx.clone();
        let svc = hyper::service::service_fn(move |req| {
            let ctx = conn_ctx.clone();
            async move { Ok::<_, Infallible>(respond(&ctx, req)) }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(ctx.options.request_timeout)
            .max_buf_size(MAX_HEAD)
            .serve_connection(TokioIo::new(stream), svc);
        tokio::spawn(async move {
            // A connection past its lifetime is simply dropped (closed).
            if let Ok(Err(e)) = tokio::time::timeout(CONNECTION_LIFETIME, conn).await {
                tracing::debug!(error = %e, "metrics/health connection ended");
            }
            drop(permit);
        });
    }
}

fn text(status: StatusCode, body: String, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

const PLAIN: &str = "text/plain; charset=utf-8";

fn respond(ctx: &Ctx, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and HEAD\n".into(),
            PLAIN,
        );
        r.headers_mut()
            .insert(hyper::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let Some(node) = ctx.node.upgrade().map(Node::from_shared) else {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "node stopped\n".into(),
            PLAIN,
        );
    };
    let o = &ctx.options;
    match req.uri().path() {
        "/metrics" if o.metrics => text(
            StatusCode::OK,
            ctx.scraper.scrape(&node, o.scrape_timeout),
            crate::ops::metrics::CONTENT_TYPE,
        ),
        "/health/live" if o.health => probe(&node, Probe::Live),
        "/health/ready" if o.health => probe(&node, Probe::Ready),
        _ => text(StatusCode::NOT_FOUND, "not found\n".into(), PLAIN),
    }
}

fn probe(node: &Node, p: Probe) -> Response<Full<Bytes>> {
    let report = node.health(p);
    let status = if report.ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    text(status, report.to_text(), PLAIN)
}
