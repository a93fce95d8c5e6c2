//! Replays every transcript of real Go nodes (`tests/vectors/net_*.json`, `registrar.json`)
//! through the sans-IO code: the same runner as `examples/replay`.

#[path = "../examples/replay/runner.rs"]
mod runner;
#[path = "../examples/replay/twins.rs"]
mod twins;

use std::path::PathBuf;

fn vectors() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_go_transcript_replays_without_failure() {
    let files = vectors();
    assert_eq!(
        files.len(),
        11,
        "10 net_*.json transcripts and registrar.json"
    );
    let mut summary = runner::Summary::default();
    for f in &files {
        runner::run_file(f, &mut summary).unwrap();
    }
    assert!(
        summary.failed.is_empty(),
        "failures:\n{}",
        summary.failed.join("\n")
    );
    assert!(
        summary.skipped.is_empty(),
        "skips:\n{}",
        summary.skipped.join("\n")
    );
    assert_eq!(summary.line(), "317 passed, 0 failed, 0 skipped");
}

#[test]
fn a_wrong_cookie_fails_every_digest() {
    let dir = std::env::temp_dir().join(format!("ergo-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/net_handshake.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src).unwrap()).unwrap();
    json["cookie"] = "not the cookie".into();
    let path = dir.join("net_handshake.json");
    std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
    let mut summary = runner::Summary::default();
    runner::run_file(&path, &mut summary).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let digest_failures = summary
        .failed
        .iter()
        .filter(|f| f.contains("digest mismatch"))
        .count();
    // Hello x2, Introduce (dialer's), and Join + join Accept on both pool links.
    assert_eq!(digest_failures, 7, "{:#?}", summary.failed);
}
