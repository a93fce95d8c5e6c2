//! `ergo-bench compare`: Go Ergo benchmark logs beside our figures.

use std::collections::HashMap;

use crate::golog::{self, GoFigure};

/// Our figures by (scenario, metric), read from `--json` output lines.
pub fn parse_ours(json_lines: &str) -> HashMap<(String, String), f64> {
    let mut out = HashMap::new();
    for line in json_lines.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let Some(scenario) = v["scenario"].as_str() else {
            continue;
        };
        if let Some(obj) = v.as_object() {
            for (k, x) in obj {
                if let Some(f) = x.as_f64() {
                    out.insert((scenario.to_string(), k.clone()), f);
                }
            }
        }
    }
    out
}

/// Whether a bigger value is better for this metric.
fn higher_is_better(metric: &str) -> bool {
    metric == "msgs_per_sec"
}

/// The comparison table: one row per Go figure; the ratio says how many times better ours is.
pub fn table(go: &[GoFigure], ours: &HashMap<(String, String), f64>) -> Vec<String> {
    let mut rows = vec![format!(
        "{:<14} {:<18} {:>14} {:>14} {:>8}",
        "scenario", "metric", "Go", "ours", "ratio"
    )];
    for g in go {
        let o = ours.get(&(g.scenario.clone(), g.metric.to_string()));
        let (ours_s, ratio) = match o {
            Some(o) if *o > 0.0 && g.value > 0.0 => {
                let r = if higher_is_better(g.metric) {
                    o / g.value
                } else {
                    g.value / o
                };
                (format!("{o:.4e}"), format!("{r:.2}x"))
            }
            _ => ("n/a".to_string(), "-".to_string()),
        };
        rows.push(format!(
            "{:<14} {:<18} {:>14.4e} {:>14} {:>8}",
            g.scenario, g.metric, g.value, ours_s, ratio
        ));
    }
    rows
}

/// This machine's CPU model (from /proc/cpuinfo), to warn when a Go log came from elsewhere.
pub fn this_cpu() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines().find_map(|l| {
        l.strip_prefix("model name")
            .map(|r| r.trim_start_matches([' ', '\t', ':']).trim().to_string())
    })
}

/// Reads the Go logs and prints the table; `ours` are `--json` lines (saved or just measured).
pub fn run(go_logs: &[String], ours_json: &str) -> Result<(), String> {
    let mut figures = Vec::new();
    let mut cpus = Vec::new();
    for path in go_logs {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        let log = golog::parse(&text);
        if let Some(c) = log.cpu {
            cpus.push(c);
        }
        figures.extend(log.figures);
    }
    if figures.is_empty() {
        return Err("no Go benchmark figures found in the logs".into());
    }
    let here = this_cpu();
    if let Some(h) = &here {
        println!("This machine: {h}");
    }
    for c in &cpus {
        println!("Go log CPU: {c}");
        if let Some(h) = &here {
            if !c.contains(h.as_str()) && !h.contains(c.split(" (").next().unwrap_or(c)) {
                println!("warning: the Go figures were not taken on this machine ({h}): ratios across machines are not comparisons");
            }
        }
    }
    for row in table(&figures, &parse_ours(ours_json)) {
        println!("{row}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_and_ours_side_by_side() {
        let go = golog::parse(
            "[info] X: ---- LOCAL 1-1 (start) ----\n[info] X: received 3000000 messages. 5000000 msg/sec\n\
             [info] X: 1M processes is started. Elapsed: 10s\n",
        )
        .figures;
        let ours = parse_ours(
            "{\"scenario\":\"local-1-1\",\"msgs_per_sec\":25000000.0}\n{\"scenario\":\"memusage\",\"spawn_seconds\":0.5}\n",
        );
        let t = table(&go, &ours);
        assert_eq!(t.len(), 3);
        assert!(
            t[1].starts_with("local-1-1") && t[1].ends_with("5.00x"),
            "{}",
            t[1]
        );
        assert!(
            t[2].starts_with("memusage") && t[2].ends_with("20.00x"),
            "{}",
            t[2]
        );
        let missing = table(&go, &HashMap::new());
        assert!(missing[1].contains("n/a"));
    }
}
