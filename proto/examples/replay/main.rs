//! `replay`: replays transcripts of real Go Ergo nodes through the sans-IO protocol code.
//!
//! ```sh
//! cargo run --release -p ergo-proto --example replay -- proto/tests/vectors/net_*.json proto/tests/vectors/registrar.json
//! ```
//!
//! Ends with `N passed, M failed, K skipped`; exits 1 if anything failed.

mod runner;
mod twins;

use std::path::PathBuf;

fn main() {
    let files: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if files.is_empty() {
        eprintln!("usage: replay FILE...   (transcripts in the vectors' net_*.json / registrar.json schema)");
        std::process::exit(2);
    }
    let mut summary = runner::Summary::default();
    let mut unreadable = false;
    for f in &files {
        if let Err(e) = runner::run_file(f, &mut summary) {
            eprintln!("error: {e}");
            unreadable = true;
        }
    }
    for s in &summary.skipped {
        println!("SKIP {s}");
    }
    for f in &summary.failed {
        println!("FAIL {f}");
    }
    println!("{}", summary.line());
    if !summary.failed.is_empty() {
        std::process::exit(1);
    }
    if unreadable {
        std::process::exit(2);
    }
}
