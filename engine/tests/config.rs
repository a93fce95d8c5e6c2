//! The TOML config loader: every key read from the file and from its `ERGO_<SECTION>_<KEY>`
//! override, defaults, and bad values refused with the key and the reason.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use ergo_engine::ops::config::{load_str, ConfigError, LogFormat, Origin, KEYS};
use ergo_engine::{AcceptorTls, LogLevel, NetworkMode};

const PATH: &str = "node.toml";

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn tls_files() -> (String, String) {
    let dir = std::env::temp_dir().join(format!("ergo-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    // A fresh PEM pair through rcgen, which the engine already uses for self-signed certs.
    let kp = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let x = params.self_signed(&kp).unwrap();
    std::fs::write(&c, x.pem()).unwrap();
    std::fs::write(&k, kp.serialize_pem()).unwrap();
    (c.display().to_string(), k.display().to_string())
}

fn full_file(cert: &str, key: &str) -> String {
    format!(
        r#"
[node]
name = "full@localhost"
cookie = "secret"
stop_timeout = 2.5
[shards]
count = 3
pin = false
first_core = 1
[network]
mode = "hidden"
acceptors = ["127.0.0.1:15001", "127.0.0.1:15002"]
pool_size = 4
max_message_size = 65536
handshake_timeout = 2
[tls]
enable = true
cert_file = "{cert}"
key_file = "{key}"
ca_file = "{cert}"
check_fingerprint = false
[registrar]
enable = true
port = 4500
tcp_host = "127.0.0.2"
udp_host = "127.0.0.3"
[metrics]
listen = "127.0.0.1:9101"
enable = false
scrape_timeout = 0.5
max_connections = 8
[health]
enable = false
required_applications = ["a", "b"]
[log]
level = "debug"
format = "json"
[env]
REGION = "eu"
"#
    )
}

#[test]
fn every_key_is_read_from_the_file() {
    let (cert, key) = tls_files();
    let c = load_str(&full_file(&cert, &key), Path::new(PATH), env(&[])).unwrap();
    assert_eq!(c.name, "full@localhost");
    let o = &c.options;
    assert_eq!(o.stop_timeout, Duration::from_millis(2500));
    assert_eq!((o.shards, o.pin, o.first_core), (3, false, 1));
    let n = o.network.as_ref().unwrap();
    assert_eq!(n.cookie, "secret");
    assert_eq!(n.mode, NetworkMode::Hidden);
    let addrs: Vec<SocketAddr> = n.acceptors.iter().map(|a| a.listen).collect();
    assert_eq!(
        addrs,
        vec![
            "127.0.0.1:15001".parse().unwrap(),
            "127.0.0.1:15002".parse().unwrap()
        ]
    );
    assert!(n
        .acceptors
        .iter()
        .all(|a| matches!(a.tls, AcceptorTls::Certificate(_))));
    assert_eq!((n.pool_size, n.max_message_size), (4, 65536));
    assert_eq!(n.handshake_timeout, Duration::from_secs(2));
    assert_eq!(n.tls.roots.as_ref().map(Vec::len), Some(1));
    assert!(!n.tls.check_fingerprint);
    let r = n.registrar.as_ref().unwrap();
    assert_eq!(r.port, 4500);
    assert_eq!(r.tcp_host.to_string(), "127.0.0.2");
    assert_eq!(r.udp_host.to_string(), "127.0.0.3");
    assert_eq!(o.ops.listen, Some("127.0.0.1:9101".parse().unwrap()));
    assert!(!o.ops.metrics && !o.ops.health);
    assert_eq!(o.ops.scrape_timeout, Duration::from_millis(500));
    assert_eq!(o.ops.max_connections, 8);
    let req: Vec<&str> = o
        .ops
        .required_applications
        .iter()
        .map(|a| a.as_str())
        .collect();
    assert_eq!(req, vec!["a", "b"]);
    assert_eq!(c.log.level, LogLevel::Debug);
    assert_eq!(o.log_level, LogLevel::Debug);
    assert_eq!(c.log.format, LogFormat::Json);
    assert_eq!(
        o.env.get::<String>("region").as_deref().map(String::as_str),
        Some("eu")
    );
}

#[test]
fn every_key_is_overridden_by_its_environment_variable() {
    let (cert, key) = tls_files();
    let minimal = "[node]\nname = \"min@localhost\"\ncookie = \"c\"\n";
    let overrides = [
        ("ERGO_NODE_NAME", "env@localhost"),
        ("ERGO_NODE_COOKIE", "from-env"),
        ("ERGO_NODE_STOP_TIMEOUT", "7"),
        ("ERGO_SHARDS_COUNT", "5"),
        ("ERGO_SHARDS_PIN", "false"),
        ("ERGO_SHARDS_FIRST_CORE", "2"),
        ("ERGO_NETWORK_MODE", "hidden"),
        ("ERGO_NETWORK_ACCEPTORS", "127.0.0.1:16001, 127.0.0.1:16002"),
        ("ERGO_NETWORK_POOL_SIZE", "2"),
        ("ERGO_NETWORK_MAX_MESSAGE_SIZE", "1024"),
        ("ERGO_NETWORK_HANDSHAKE_TIMEOUT", "3"),
        ("ERGO_TLS_ENABLE", "true"),
        ("ERGO_TLS_CERT_FILE", &cert),
        ("ERGO_TLS_KEY_FILE", &key),
        ("ERGO_TLS_CA_FILE", &cert),
        ("ERGO_TLS_CHECK_FINGERPRINT", "no"),
        ("ERGO_REGISTRAR_ENABLE", "1"),
        ("ERGO_REGISTRAR_PORT", "4600"),
        ("ERGO_REGISTRAR_TCP_HOST", "127.0.0.4"),
        ("ERGO_REGISTRAR_UDP_HOST", "127.0.0.5"),
        ("ERGO_METRICS_LISTEN", "127.0.0.1:9100"),
        ("ERGO_METRICS_ENABLE", "false"),
        ("ERGO_METRICS_SCRAPE_TIMEOUT", "0.25"),
        ("ERGO_METRICS_MAX_CONNECTIONS", "3"),
        ("ERGO_HEALTH_ENABLE", "off"),
        ("ERGO_HEALTH_REQUIRED_APPLICATIONS", "x,y"),
        ("ERGO_LOG_LEVEL", "warning"),
        ("ERGO_LOG_FORMAT", "json"),
        ("ERGO_ENV_DB_URL", "postgres://db"),
        ("OTHER_VAR", "ignored"),
    ];
    // The list covers every key there is.
    for k in KEYS {
        assert!(
            overrides.iter().any(|(v, _)| *v == k.env_var()),
            "no override tested for {}",
            k.env_var()
        );
    }
    let c = load_str(minimal, Path::new(PATH), env(&overrides)).unwrap();
    assert_eq!(c.name, "env@localhost");
    let o = &c.options;
    assert_eq!(o.stop_timeout, Duration::from_secs(7));
    assert_eq!((o.shards, o.pin, o.first_core), (5, false, 2));
    let n = o.network.as_ref().unwrap();
    assert_eq!(n.cookie, "from-env");
    assert_eq!(n.mode, NetworkMode::Hidden);
    assert_eq!(n.acceptors.len(), 2);
    assert_eq!(n.acceptors[1].listen, "127.0.0.1:16002".parse().unwrap());
    assert!(matches!(n.acceptors[0].tls, AcceptorTls::Certificate(_)));
    assert_eq!((n.pool_size, n.max_message_size), (2, 1024));
    assert_eq!(n.handshake_timeout, Duration::from_secs(3));
    assert!(n.tls.roots.is_some() && !n.tls.check_fingerprint);
    let r = n.registrar.as_ref().unwrap();
    assert_eq!(
        (r.port, r.tcp_host.to_string(), r.udp_host.to_string()),
        (4600, "127.0.0.4".into(), "127.0.0.5".into())
    );
    assert_eq!(o.ops.listen, Some("127.0.0.1:9100".parse().unwrap()));
    assert!(!o.ops.metrics && !o.ops.health);
    assert_eq!(o.ops.scrape_timeout, Duration::from_millis(250));
    assert_eq!(o.ops.max_connections, 3);
    assert_eq!(o.ops.required_applications.len(), 2);
    assert_eq!(c.log.level, LogLevel::Warning);
    assert_eq!(c.log.format, LogFormat::Json);
    assert_eq!(
        o.env.get::<String>("DB_URL").as_deref().map(String::as_str),
        Some("postgres://db")
    );
}

#[test]
fn defaults_apply_to_keys_left_out() {
    let c = load_str(
        "[node]\nname = \"d@localhost\"\ncookie = \"c\"\n",
        Path::new(PATH),
        env(&[]),
    )
    .unwrap();
    let o = &c.options;
    assert_eq!((o.shards, o.pin), (0, true));
    let n = o.network.as_ref().unwrap();
    assert_eq!(n.acceptors[0].listen, "127.0.0.1:15000".parse().unwrap());
    assert!(matches!(n.acceptors[0].tls, AcceptorTls::Off));
    assert!(n.registrar.is_none());
    assert_eq!(o.ops.listen, None);
    assert_eq!(c.log.format, LogFormat::Text);
    let c = load_str(
        "[node]\nname = \"d@localhost\"\n[network]\nmode = \"disabled\"\n",
        Path::new(PATH),
        env(&[]),
    )
    .unwrap();
    assert!(
        c.options.network.is_none(),
        "no cookie needed without a network"
    );
}

fn refused(text: &str, vars: &[(&str, &str)]) -> (String, Origin, String) {
    match load_str(text, Path::new(PATH), env(vars)) {
        Err(ConfigError::Key {
            key,
            origin,
            reason,
        }) => (key, origin, reason),
        Err(e) => panic!("expected a key error, got {e}"),
        Ok(_) => panic!("accepted {text:?} with {vars:?}"),
    }
}

const BASE: &str = "[node]\nname = \"b@localhost\"\ncookie = \"c\"\n";

#[test]
fn bad_values_are_refused_naming_the_key_and_the_reason() {
    let file = Origin::File(PATH.into());
    let cases: &[(&str, &str)] = &[
        ("[metrics]\nlisten = \"nowhere\"\n", "metrics.listen"),
        ("[network]\nacceptors = [\"1.2.3.4\"]\n", "network.acceptors[0]"),
        ("[network]\nmode = \"sideways\"\n", "network.mode"),
        ("[network]\npool_size = 0\n", "network.pool_size"),
        ("[shards]\ncount = -1\n", "shards.count"),
        ("[shards]\ncount = 5000\n", "shards.count"),
        ("[shards]\npin = \"yes\"\n", "shards.pin"),
        ("[log]\nlevel = \"loud\"\n", "log.level"),
        ("[log]\nformat = \"xml\"\n", "log.format"),
        ("[registrar]\nport = 70000\n", "registrar.port"),
        ("[registrar]\ntcp_host = \"localhost\"\n", "registrar.tcp_host"),
        ("[node]\nstop_timeout = -1\n", "node.stop_timeout"),
        ("[tls]\nenable = true\ncert_file = \"/nonexistent/cert.pem\"\nkey_file = \"/nonexistent/key.pem\"\n", "tls.cert_file"),
        ("[tls]\nenable = true\ncert_file = \"x.pem\"\n", "tls.key_file"),
        ("[tls]\nca_file = \"/nonexistent/ca.pem\"\n", "tls.ca_file"),
        ("[metrics]\nmax_connections = 0\n", "metrics.max_connections"),
    ];
    for (extra, want) in cases {
        // Later sections of the same name replace nothing in TOML: give each case its own
        // file, with [node] merged when the case has one.
        let text = if extra.starts_with("[node]") {
            format!(
                "[node]\nname = \"b@localhost\"\ncookie = \"c\"\n{}",
                &extra["[node]\n".len()..]
            )
        } else {
            format!("{BASE}{extra}")
        };
        let (key, origin, reason) = refused(&text, &[]);
        assert_eq!(key, *want, "for {extra:?}: {reason}");
        assert_eq!(origin, file, "for {extra:?}");
        assert!(!reason.is_empty());
    }
    let (key, _, reason) = refused(&format!("{BASE}[metrics]\nlisen = \"x\"\n"), &[]);
    assert!(
        key.starts_with("metrics") && reason.contains("lisen"),
        "{key}: {reason}"
    );
    let (key, origin, _) = refused(&format!("{BASE}[nope]\nx = 1\n"), &[]);
    assert_eq!((key.as_str(), origin), ("nope", file.clone()));
    let (key, origin, reason) = refused("[node]\nname = \"noat\"\ncookie = \"c\"\n", &[]);
    assert_eq!((key.as_str(), origin), ("node.name", file.clone()));
    assert!(reason.contains("name@host"));
    let (key, _, _) = refused("[node]\nname = \"n@h\"\n", &[]);
    assert_eq!(key, "node.cookie");
    let (key, _, _) = refused("[node]\ncookie = \"c\"\n", &[]);
    assert_eq!(key, "node.name");
}

#[test]
fn bad_environment_overrides_name_the_variable() {
    let (key, origin, reason) = refused(BASE, &[("ERGO_SHARDS_COUNT", "many")]);
    assert_eq!(key, "shards.count");
    assert_eq!(origin, Origin::Env("ERGO_SHARDS_COUNT".into()));
    assert!(
        reason.contains("whole number") && reason.contains("many"),
        "{reason}"
    );
    let (key, origin, _) = refused(BASE, &[("ERGO_METRICS_LISTEN", "bogus")]);
    assert_eq!(
        (key.as_str(), origin),
        ("metrics.listen", Origin::Env("ERGO_METRICS_LISTEN".into()))
    );
    let (key, origin, _) = refused(BASE, &[("ERGO_NETWORK_ACCEPTORS", "127.0.0.1:1,bad")]);
    assert_eq!(
        (key.as_str(), origin),
        (
            "network.acceptors[1]",
            Origin::Env("ERGO_NETWORK_ACCEPTORS".into())
        )
    );
    let (key, origin, _) = refused(BASE, &[("ERGO_LOG_FORMAT", "yaml")]);
    assert_eq!(
        (key.as_str(), origin),
        ("log.format", Origin::Env("ERGO_LOG_FORMAT".into()))
    );
    let (key, _, reason) = refused(BASE, &[("ERGO_METRICS_LISTN", "x")]);
    assert_eq!(key, "metrics.listn");
    assert!(reason.contains("unknown key"));
    let (key, _, _) = refused(BASE, &[("ERGO_SHARDS_PIN", "maybe")]);
    assert_eq!(key, "shards.pin");
    let msg = load_str(
        BASE,
        Path::new(PATH),
        env(&[("ERGO_NETWORK_POOL_SIZE", "99")]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains("network.pool_size") && msg.contains("$ERGO_NETWORK_POOL_SIZE"),
        "{msg}"
    );
}

#[test]
fn a_file_that_is_not_toml_is_refused_with_its_position() {
    match load_str("[node\nname = 1", Path::new(PATH), env(&[])) {
        Err(ConfigError::Syntax { path, message }) => {
            assert_eq!(path, Path::new(PATH));
            assert!(message.contains("line 1"), "{message}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn a_loaded_config_starts_its_node() {
    let text = "[node]\nname = \"cfg-start@localhost\"\ncookie = \"c\"\n[shards]\ncount = 1\npin = false\n[network]\nacceptors = [\"127.0.0.1:0\"]\n[metrics]\nlisten = \"127.0.0.1:0\"\n[env]\nGREETING = \"hi\"\n";
    let c = load_str(text, Path::new(PATH), env(&[])).unwrap();
    let node = c.start().unwrap();
    assert!(node.ops_address().is_some());
    assert!(node.network_address().is_some());
    assert_eq!(
        node.env::<String>("greeting")
            .as_deref()
            .map(String::as_str),
        Some("hi")
    );
    node.stop();
}
