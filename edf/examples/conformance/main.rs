//! `conformance`: runs EDF golden-vector files through the codec.
//!
//! ```sh
//! cargo run --release -p ergo-edf --example conformance -- edf/tests/vectors/edf.json edf/tests/vectors/edf_errors.json
//! ```
//!
//! Prints one line per failure or skip and ends with `N passed, M failed, K skipped`.
//! Exits with status 1 if anything failed, 2 if a file could not be read.
//!
//! The cache tables (type, error and atom cache IDs of the Go process that wrote the values) are
//! the ones a vector file names (`{"caches": "file.json", "vectors": [...]}`), else
//! `edf_caches.json` beside it; `--caches FILE` overrides both for the files after it.

mod parity_twins;
mod runner;
mod twins;

use std::path::PathBuf;

fn main() {
    let mut files: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    let mut caches: Option<PathBuf> = None;
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        if a == "--caches" {
            let Some(f) = args.next() else {
                eprintln!("--caches needs a file");
                std::process::exit(2);
            };
            caches = Some(PathBuf::from(f));
        } else {
            files.push((PathBuf::from(a), caches.clone()));
        }
    }
    if files.is_empty() {
        eprintln!(
            "usage: conformance [--caches CACHES.json] FILE...   (files in the golden vectors' JSON schema)"
        );
        std::process::exit(2);
    }
    let mut summary = runner::Summary::default();
    let mut unreadable = false;
    for (f, caches) in &files {
        if let Err(e) = runner::run_file_with(f, caches.as_deref(), &mut summary) {
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
