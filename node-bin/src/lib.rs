//! # ergo-node: run an Ergo node from a TOML config
//!
//! The `ergo-node` binary is [`main_with`] with no applications. A program that links its own
//! applications in uses the same function (and so the same config file, environment
//! overrides, logging and signal handling):
//!
//! ```no_run
//! use ergo_engine::{ApplicationSpec, Node};
//!
//! fn main() -> std::process::ExitCode {
//!     ergo_node::main_with(|node: &Node| {
//!         let spec = ApplicationSpec::new("billing"); // members: spec.group.push(..)
//!         node.application_load(spec)?;
//!         node.application_start("billing", None)?;
//!         Ok(())
//!     })
//! }
//! ```
//!
//! What it does, in order: parse the command line, load the config
//! ([`ergo_engine::ops::config::load`]: file, then `ERGO_<SECTION>_<KEY>` overrides), install
//! a `tracing` subscriber (text or JSON, at the config's level; `RUST_LOG` overrides the
//! filter), start the node (which starts the metrics/health listener when `[metrics] listen`
//! is set), run the caller's setup, then wait. On SIGTERM or SIGINT the node stops
//! gracefully ([`Node::stop`]); if that has not finished within the stop bound
//! (`node.stop_timeout` plus [`STOP_GRACE`]) or a second signal comes, it is stopped by force
//! ([`Node::stop_force`]). The exit status is 0 after a graceful stop, 1 after a forced one, 2
//! when the config is refused or the node cannot start.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use ergo_engine::ops::config::{self, ConfigError, LogConfig, LogFormat, NodeConfig};
use ergo_engine::{LogLevel, Node};
use signal_hook::consts::{SIGINT, SIGTERM};

/// How much longer than `node.stop_timeout` a graceful stop may take before it is forced.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// The command line.
#[derive(Parser, Debug)]
#[command(
    name = "ergo-node",
    version,
    about = "Runs an Ergo node from a TOML config: metrics, health probes, graceful stop on SIGTERM",
    after_long_help = long_help()
)]
pub struct Cli {
    /// The config file (TOML). Every key can be overridden by ERGO_<SECTION>_<KEY>.
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,
    /// Check the config and exit (status 0 when it is valid).
    #[arg(long)]
    pub check: bool,
}

fn long_help() -> String {
    format!(
        "CONFIG KEYS (file section and key, meaning, default, environment override):\n{}\n\
         SIGNALS: SIGTERM or SIGINT stop the node gracefully; a second signal, or a stop that \
         takes longer than node.stop_timeout + {}s, stops it by force.\n\
         EXIT STATUS: 0 graceful stop, 1 forced stop, 2 bad config or the node could not start.",
        config::keys_help(),
        STOP_GRACE.as_secs()
    )
}

/// Why [`run`] ended without a graceful stop.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The config was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The node did not start.
    #[error("the node did not start: {0}")]
    Start(#[from] ergo_engine::Error),
    /// The caller's setup failed.
    #[error("setup failed: {0}")]
    Setup(Box<dyn std::error::Error + Send + Sync>),
    /// The signal handler could not be installed.
    #[error("cannot install the signal handler: {0}")]
    Signals(std::io::Error),
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Stopped gracefully (by a signal, or by the node itself).
    Gracefully,
    /// Stopped by force.
    Forced,
}

/// The user's setup, run once the node has started.
pub type Setup<'a> = dyn FnOnce(&Node) -> Result<(), Box<dyn std::error::Error + Send + Sync>> + 'a;

/// The binary's `main`: command line, config, logging, node, `setup`, signals. See the crate
/// docs.
pub fn main_with(
    setup: impl FnOnce(&Node) -> Result<(), Box<dyn std::error::Error + Send + Sync>>,
) -> ExitCode {
    let cli = Cli::parse();
    let cfg = match config::load(&cli.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ergo-node: {e}");
            return ExitCode::from(2);
        }
    };
    if cli.check {
        println!("ergo-node: {} is valid", cli.config.display());
        return ExitCode::SUCCESS;
    }
    init_logging(&cfg.log);
    match run(&cfg, Box::new(setup)) {
        Ok(Stopped::Gracefully) => ExitCode::SUCCESS,
        Ok(Stopped::Forced) => ExitCode::from(1),
        Err(e) => {
            tracing::error!(error = %e, "ergo-node failed");
            eprintln!("ergo-node: {e}");
            ExitCode::from(2)
        }
    }
}

/// Installs a `tracing` subscriber writing to stdout as `log` says (`RUST_LOG`, when set,
/// replaces the level filter). Does nothing if a subscriber is already installed.
pub fn init_logging(log: &LogConfig) {
    use tracing_subscriber::EnvFilter;
    let level = match log.level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warning => "warn",
        LogLevel::Error | LogLevel::Panic => "error",
        LogLevel::Disabled => "off",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    let _ = match log.format {
        LogFormat::Text => b.try_init(),
        LogFormat::Json => b.json().try_init(),
    };
}

/// Starts the node of `cfg`, runs `setup`, and waits for the node to stop or for SIGTERM /
/// SIGINT (then stops it: gracefully, by force past the bound or on a second signal).
pub fn run(cfg: &NodeConfig, setup: Box<Setup<'_>>) -> Result<Stopped, RunError> {
    // Installed before the node starts, so that a signal during start is not lost.
    let mut signals =
        signal_hook::iterator::Signals::new([SIGTERM, SIGINT]).map_err(RunError::Signals)?;
    let node = cfg.start()?;
    if let Some(addr) = node.ops_address() {
        tracing::info!(node = %node.name(), metrics = %addr, "ergo-node: serving metrics and health");
    }
    if let Some(addr) = node.network_address() {
        tracing::info!(node = %node.name(), acceptor = %addr, "ergo-node: accepting connections");
    }
    if let Err(e) = setup(&node) {
        node.stop();
        return Err(RunError::Setup(e));
    }
    tracing::info!(node = %node.name(), "ergo-node: running");
    loop {
        if let Some(sig) = signals.pending().next() {
            tracing::info!(signal = sig, "ergo-node: stopping");
            break;
        }
        if node.wait_timeout(Duration::from_millis(100)) {
            tracing::info!("ergo-node: the node stopped by itself");
            return Ok(Stopped::Gracefully);
        }
    }
    let stopper = {
        let n = node.clone();
        std::thread::Builder::new()
            .name("ergo-node-stop".into())
            .spawn(move || n.stop())
            .map_err(RunError::Signals)?
    };
    let deadline = Instant::now() + cfg.options.stop_timeout + STOP_GRACE;
    loop {
        if node.wait_timeout(Duration::from_millis(50)) && stopper.is_finished() {
            let _ = stopper.join();
            tracing::info!("ergo-node: stopped");
            return Ok(Stopped::Gracefully);
        }
        if let Some(sig) = signals.pending().next() {
            tracing::warn!(signal = sig, "ergo-node: second signal, stopping by force");
            break;
        }
        if Instant::now() >= deadline {
            tracing::warn!("ergo-node: graceful stop took too long, stopping by force");
            break;
        }
    }
    node.stop_force();
    Ok(Stopped::Forced)
}
