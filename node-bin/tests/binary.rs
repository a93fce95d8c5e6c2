//! The `ergo-node` binary, run as a child process: it starts from a config, serves metrics
//! and health, stops gracefully with exit 0 on SIGTERM, refuses a bad config naming the key,
//! and documents every key in `--help`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ergo-node");
const WAIT: Duration = Duration::from_secs(20);

fn write_config(name: &str, body: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ergo-node-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("node.toml");
    std::fs::write(&p, body).unwrap();
    p
}

/// A child that is killed if the test ends before it exits.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// Starts the binary; returns it and a channel of its stdout lines.
fn spawn(args: &[&str], env: &[(&str, &str)]) -> (Running, Receiver<String>) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("ergo-node starts");
    let out = child.stdout.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (Running(child), rx)
}

/// Waits for a log line containing `needle`; returns it. Lines seen are appended to `seen`.
fn wait_line(rx: &Receiver<String>, needle: &str, seen: &mut Vec<String>) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => {
                seen.push(l.clone());
                if l.contains(needle) {
                    return l;
                }
            }
            Err(_) => panic!("no line with {needle:?}; saw:\n{}", seen.join("\n")),
        }
    }
}

fn metrics_addr(line: &str) -> String {
    let at = line.find("metrics=").expect("metrics= field") + "metrics=".len();
    line[at..].split_whitespace().next().unwrap().to_string()
}

fn get(addr: &str, path: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .get(&format!("http://{addr}{path}"))
        .call()
        .expect("HTTP")
        .status()
        .as_u16()
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ergo-node did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const CONFIG: &str = r#"
[node]
name = "bin-term@localhost"
cookie = "secret"
stop_timeout = 2
[shards]
count = 2
pin = false
[network]
acceptors = ["127.0.0.1:0"]
[metrics]
listen = "127.0.0.1:0"
[log]
format = "text"
"#;

#[test]
fn sigterm_stops_the_node_gracefully_with_exit_0() {
    let cfg = write_config("term", CONFIG);
    let (mut child, rx) = spawn(&["--config", cfg.to_str().unwrap()], &[]);
    let mut seen = Vec::new();
    let addr = metrics_addr(&wait_line(&rx, "serving metrics and health", &mut seen));
    wait_line(&rx, "ergo-node: running", &mut seen);
    assert_eq!(get(&addr, "/health/ready"), 200);
    assert_eq!(get(&addr, "/metrics"), 200);
    // SAFETY: plain kill(2) on our own child's pid.
    let r = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(r, 0);
    let status = wait_exit(&mut child);
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    let rest: Vec<String> = rx.try_iter().collect();
    seen.extend(rest);
    let all = seen.join("\n");
    assert!(all.contains("ergo-node: stopped"), "{all}");
    assert!(!all.contains("by force"), "{all}");
}

#[test]
fn the_example_config_starts_with_env_overrides_and_stops_on_sigint() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/ergo-node.toml");
    let (mut child, rx) = spawn(
        &["--config", example],
        &[
            // Free ports and no registrar, so that the test runs beside anything.
            ("ERGO_NETWORK_ACCEPTORS", "127.0.0.1:0"),
            ("ERGO_METRICS_LISTEN", "127.0.0.1:0"),
            ("ERGO_REGISTRAR_ENABLE", "false"),
            ("ERGO_SHARDS_PIN", "false"),
            ("ERGO_LOG_FORMAT", "json"),
        ],
    );
    let mut seen = Vec::new();
    let line = wait_line(&rx, "serving metrics and health", &mut seen);
    // JSON log lines.
    assert!(
        line.starts_with('{') && line.contains("\"metrics\":"),
        "{line}"
    );
    let at = line.find("\"metrics\":\"").unwrap() + "\"metrics\":\"".len();
    let addr = line[at..].split('"').next().unwrap().to_string();
    assert_eq!(get(&addr, "/health/live"), 200);
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(wait_exit(&mut child).code(), Some(0));
}

#[test]
fn a_bad_config_fails_at_start_naming_the_key() {
    let cfg = write_config(
        "bad",
        "[node]\nname = \"x@localhost\"\ncookie = \"c\"\n[metrics]\nlisten = \"nowhere\"\n",
    );
    let out = Command::new(BIN)
        .args(["--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("metrics.listen") && err.contains("nowhere"),
        "{err}"
    );
    let out = Command::new(BIN)
        .args(["--config", cfg.to_str().unwrap()])
        .env("ERGO_METRICS_LISTEN", "127.0.0.1:0")
        .env("ERGO_SHARDS_COUNT", "many")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("shards.count") && err.contains("ERGO_SHARDS_COUNT"),
        "{err}"
    );
}

#[test]
fn help_explains_every_key() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for k in ergo_engine::ops::config::KEYS {
        assert!(help.contains(&k.env_var()), "--help lacks {}", k.env_var());
        assert!(
            help.contains(k.help),
            "--help lacks the text of {}.{}",
            k.section,
            k.key
        );
    }
    assert!(help.contains("SIGTERM"));
}

/// Runs the binary with a seccomp filter that makes `io_uring_setup` fail with `errno`, as a
/// restrictive container profile does.
#[cfg(target_arch = "x86_64")]
fn run_without_io_uring(errno: u32) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let cfg = write_config(
        &format!("seccomp-{errno}"),
        "[node]\nname = \"nouring@localhost\"\n[shards]\ncount = 1\npin = false\n[network]\nmode = \"disabled\"\n",
    );
    let mut cmd = Command::new(BIN);
    cmd.args(["--config", cfg.to_str().unwrap()]);
    // SAFETY: the closure only calls prctl(2) with a filter that lives on its stack for the
    // duration of the calls; it allocates nothing (it runs between fork and exec).
    unsafe {
        cmd.pre_exec(move || {
            const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
            const NR_IO_URING_SETUP: u32 = 425;
            let stmt = |code: u16, k: u32| libc::sock_filter {
                code,
                jt: 0,
                jf: 0,
                k,
            };
            let jeq = |k: u32, jt: u8, jf: u8| libc::sock_filter {
                code: 0x05 | 0x10,
                jt,
                jf,
                k,
            };
            let filter = [
                stmt(0x20, 4),                   // load arch
                jeq(AUDIT_ARCH_X86_64, 0, 3),    // other arch: allow
                stmt(0x20, 0),                   // load syscall number
                jeq(NR_IO_URING_SETUP, 0, 1),    // io_uring_setup?
                stmt(0x06, 0x0005_0000 | errno), // return -errno
                stmt(0x06, 0x7fff_0000),         // allow
            ];
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut libc::sock_filter,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &prog as *const _,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().expect("ergo-node runs under the filter")
}

#[cfg(target_arch = "x86_64")]
#[test]
fn io_uring_not_permitted_fails_at_start_naming_the_cause() {
    let out = run_without_io_uring(libc::EPERM as u32);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("io_uring") && err.contains("not permitted"),
        "{err}"
    );
    let out = run_without_io_uring(libc::ENOSYS as u32);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no io_uring") && err.contains("5.11"), "{err}");
}
