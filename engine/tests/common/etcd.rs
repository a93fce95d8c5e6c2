//! Test support for the etcd registrar: a real etcd server per test (free loopback ports, a
//! temporary data directory, stopped and removed on drop), a small blocking KV client for
//! the test thread, and a TCP proxy that can drop and refuse connections (a partition).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use etcd_client::{Client, GetOptions};

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local address").port()
}

/// A running etcd server.
pub struct Etcd {
    child: Child,
    dir: PathBuf,
    /// `127.0.0.1:port` of its client listener.
    pub endpoint: String,
    /// With TLS: the CA (PEM) that signed its certificate (for `localhost`).
    pub ca_pem: Option<String>,
}

/// A CA, and a server certificate and key for `localhost` signed by it (PEM).
fn tls_material() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().expect("CA key");
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let server = CertificateParams::new(vec!["localhost".to_string()]).expect("server params");
    let key = KeyPair::generate().expect("server key");
    let cert = server
        .signed_by(&key, &ca_cert, &ca_key)
        .expect("server certificate");
    (
        pem("CERTIFICATE", ca_cert.der()),
        pem("CERTIFICATE", cert.der()),
        pem("PRIVATE KEY", &key.serialize_der()),
    )
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

impl Etcd {
    /// Starts `etcd` from PATH. Fails the test (never skips) when it is not installed.
    pub fn start() -> Etcd {
        Etcd::start_with(false)
    }

    /// Starts `etcd` serving its clients over TLS only (see [`Etcd::ca_pem`]).
    pub fn start_tls() -> Etcd {
        Etcd::start_with(true)
    }

    fn start_with(tls: bool) -> Etcd {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join("etcd").is_file()))
            .unwrap_or(false);
        assert!(
            found,
            "the etcd tests need an `etcd` server binary on PATH: install it \
             (Debian/Ubuntu: `apt-get install etcd-server`; or an etcd release from etcd.io)"
        );
        let (cport, pport) = (free_port(), free_port());
        let dir =
            std::env::temp_dir().join(format!("ergo-etcd-test-{}-{}", std::process::id(), cport));
        let _ = std::fs::remove_dir_all(&dir);
        let scheme = if tls { "https" } else { "http" };
        let client_url = format!("{scheme}://127.0.0.1:{cport}");
        let mut tls_args: Vec<String> = Vec::new();
        let mut ca_pem = None;
        if tls {
            let (ca, cert, key) = tls_material();
            let certs = dir.with_extension("certs");
            std::fs::create_dir_all(&certs).expect("certificate directory");
            std::fs::write(certs.join("server.pem"), cert).expect("write certificate");
            std::fs::write(certs.join("server.key"), key).expect("write key");
            tls_args = vec![
                "--cert-file".into(),
                certs.join("server.pem").display().to_string(),
                "--key-file".into(),
                certs.join("server.key").display().to_string(),
            ];
            ca_pem = Some(ca);
        }
        let peer_url = format!("http://127.0.0.1:{pport}");
        let child = Command::new("etcd")
            .arg("--name")
            .arg("t")
            .arg("--data-dir")
            .arg(&dir)
            .arg("--listen-client-urls")
            .arg(&client_url)
            .arg("--advertise-client-urls")
            .arg(&client_url)
            .arg("--listen-peer-urls")
            .arg(&peer_url)
            .arg("--initial-advertise-peer-urls")
            .arg(&peer_url)
            .arg("--initial-cluster")
            .arg(format!("t={peer_url}"))
            .arg("--log-level")
            .arg("error")
            .args(&tls_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("etcd starts");
        let etcd = Etcd {
            child,
            dir,
            endpoint: format!("127.0.0.1:{cport}"),
            ca_pem,
        };
        // Ready when it answers a read.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(kv) = Kv::connect_with(&etcd.endpoint, etcd.ca_pem.as_deref(), None) {
                if kv.get("health-probe").is_ok() {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "etcd did not come up in 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        etcd
    }

    /// A blocking client of this server.
    pub fn kv(&self) -> Kv {
        Kv::connect_with(&self.endpoint, self.ca_pem.as_deref(), None).expect("connect to etcd")
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_dir_all(self.dir.with_extension("certs"));
    }
}

/// A blocking etcd client for the test thread (its own small tokio runtime).
pub struct Kv {
    rt: tokio::runtime::Runtime,
    client: Client,
}

impl Kv {
    /// Connects to `endpoint`.
    pub fn connect(endpoint: &str) -> Result<Kv, etcd_client::Error> {
        Kv::connect_with(endpoint, None, None)
    }

    /// Connects to `endpoint`, over TLS trusting `ca_pem` (name `localhost`) when given, as
    /// `user` when given.
    pub fn connect_with(
        endpoint: &str,
        ca_pem: Option<&str>,
        user: Option<(&str, &str)>,
    ) -> Result<Kv, etcd_client::Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let opts = etcd_client::ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(2))
            .with_timeout(Duration::from_secs(5));
        let opts = match ca_pem {
            Some(ca) => opts.with_tls(
                etcd_client::TlsOptions::new()
                    .ca_certificate(etcd_client::Certificate::from_pem(ca))
                    .domain_name("localhost"),
            ),
            None => opts,
        };
        let opts = match user {
            Some((u, p)) => opts.with_user(u, p),
            None => opts,
        };
        let client = rt.block_on(Client::connect([endpoint], Some(opts)))?;
        Ok(Kv { rt, client })
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, etcd_client::Error> {
        let mut c = self.client.clone();
        let r = self.rt.block_on(c.get(key, None))?;
        Ok(r.kvs().first().map(|kv| kv.value().to_vec()))
    }

    /// Keys (and values) under `prefix`.
    pub fn prefix(&self, prefix: &str) -> Vec<(String, Vec<u8>)> {
        let mut c = self.client.clone();
        let r = self
            .rt
            .block_on(c.get(prefix, Some(GetOptions::new().with_prefix())))
            .expect("etcd get");
        r.kvs()
            .iter()
            .map(|kv| {
                (
                    String::from_utf8_lossy(kv.key()).into_owned(),
                    kv.value().to_vec(),
                )
            })
            .collect()
    }

    /// Puts `key` = `value`.
    pub fn put(&self, key: &str, value: &str) {
        let mut c = self.client.clone();
        self.rt.block_on(c.put(key, value, None)).expect("etcd put");
    }

    /// Turns authentication on with user `root` (role `root`) and `password`.
    pub fn enable_auth(&self, password: &str) {
        let mut c = self.client.clone();
        self.rt.block_on(async {
            c.user_add("root", password, None)
                .await
                .expect("user added");
            c.user_grant_role("root", "root")
                .await
                .expect("role granted");
            c.auth_enable().await.expect("auth enabled");
        });
    }

    /// Deletes `key`.
    pub fn delete(&self, key: &str) {
        let mut c = self.client.clone();
        self.rt.block_on(c.delete(key, None)).expect("etcd delete");
    }

    /// Waits until `key` exists (`true`) or is gone (`false`), at most `within`; returns
    /// whether it did.
    pub fn wait_key(&self, key: &str, present: bool, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if matches!(self.get(key), Ok(v) if v.is_some() == present) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A TCP proxy on loopback in front of `target`, able to cut the line.
pub struct Proxy {
    /// Where it listens.
    pub addr: SocketAddr,
    blocked: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

impl Proxy {
    /// Starts forwarding to `target`.
    pub fn start(target: &str) -> Proxy {
        let target: SocketAddr = target.parse().expect("proxy target address");
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy binds");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("proxy address");
        let blocked = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::new(Mutex::new(Vec::new()));
        let (b, s, cs) = (blocked.clone(), stop.clone(), conns.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        if b.load(Ordering::Relaxed) {
                            // Refused: closed at once.
                            let _ = client.shutdown(Shutdown::Both);
                            continue;
                        }
                        let _ = client.set_nonblocking(false);
                        let Ok(upstream) = TcpStream::connect(target) else {
                            continue;
                        };
                        let (Ok(c2), Ok(u2)) = (client.try_clone(), upstream.try_clone()) else {
                            continue;
                        };
                        if let (Ok(c3), Ok(u3)) = (client.try_clone(), upstream.try_clone()) {
                            let mut l = cs.lock().unwrap();
                            l.push(c3);
                            l.push(u3);
                        }
                        std::thread::spawn(move || pipe(client, upstream));
                        std::thread::spawn(move || pipe(u2, c2));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Proxy {
            addr,
            blocked,
            stop,
            conns,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:port` of the proxy.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Refuses new connections (accepts and closes them) from now on.
    pub fn block(&self) {
        self.blocked.store(true, Ordering::Relaxed);
    }

    /// Forwards new connections again.
    pub fn unblock(&self) {
        self.blocked.store(false, Ordering::Relaxed);
    }

    /// Cuts every connection that is open.
    pub fn drop_all(&self) {
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.drop_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
