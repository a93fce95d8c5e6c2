//! `conformance`: runs EDF golden-vector files through the codec.
//!
//! ```sh
//! cargo run --release -p ergo-edf --example conformance -- edf/tests/vectors/edf.json edf/tests/vectors/edf_errors.json
//! ```
//!
//! Prints one line per failure or skip and ends with `N passed, M failed, K skipped`.
//! Exits with status 1 if anything failed, 2 if a file could not be read.

mod runner;
mod twins;

use std::path::PathBuf;

fn main() {
    let files: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if files.is_empty() {
        eprintln!("usage: conformance FILE...   (files in the golden vectors' JSON schema)");
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
