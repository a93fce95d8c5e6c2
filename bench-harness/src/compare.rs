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
pub fn higher_is_better(metric: &str) -> bool {
    matches!(metric, "msgs_per_sec" | "calls_per_sec")
}

/// The comparison table: one row per Go figure; the ratio says how many times better ours is.
pub fn table(go: &[GoFigure], ours: &HashMap<(String, String), f64>) -> Vec<String> {
    let mut rows = vec![format!(
        "{:<28} {:<18} {:>14} {:>14} {:>8}",
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
            // A zero (no allocations, say) has no ratio.
            Some(o) => (format!("{o:.4e}"), "-".to_string()),
            None => ("n/a".to_string(), "-".to_string()),
        };
        rows.push(format!(
            "{:<28} {:<18} {:>14.4e} {:>14} {:>8}",
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

/// The figures and CPU lines of Go benchmark logs.
pub fn read_go_logs(go_logs: &[String]) -> Result<(Vec<GoFigure>, Vec<String>), String> {
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
    Ok((figures, cpus))
}

/// Reads the Go logs and prints the table; `ours` are `--json` lines (saved or just measured).
/// With `plot`, also draws the charts there (see [`crate::plot`]).
pub fn run(
    go_logs: &[String],
    ours_json: &str,
    plot: Option<&std::path::Path>,
) -> Result<(), String> {
    let (figures, cpus) = read_go_logs(go_logs)?;
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
    let ours = parse_ours(ours_json);
    for row in table(&figures, &ours) {
        println!("{row}");
    }
    if let Some(dir) = plot {
        for path in crate::plot::comparison_charts(dir, &ours, &figures)? {
            println!("wrote {}", path.display());
        }
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

    #[test]
    fn pubsub_and_serial_rows() {
        let go = golog::parse(
            "Time to deliver all:     342.414375ms\nDelivery rate:           2920438 msg/sec\n\
             BenchmarkDecodeMapCached-2   1628298   736.2 ns/op   312 B/op   5 allocs/op\n",
        )
        .figures;
        let ours = parse_ours(
            "{\"scenario\":\"pubsub\",\"delivery_seconds\":0.0342414375,\"msgs_per_sec\":29204380.0}\n\
             {\"scenario\":\"serial-map-decode-cached\",\"case\":\"map\",\"ns_per_op\":147.24,\"allocs_per_op\":0.0}\n",
        );
        let t = table(&go, &ours);
        assert_eq!(t.len(), 5, "{t:#?}");
        assert!(
            t[1].starts_with("pubsub")
                && t[1].contains("delivery_seconds")
                && t[1].ends_with("10.00x"),
            "{}",
            t[1]
        );
        assert!(
            t[2].starts_with("pubsub") && t[2].contains("msgs_per_sec") && t[2].ends_with("10.00x"),
            "{}",
            t[2]
        );
        assert!(
            t[3].starts_with("serial-map-decode-cached") && t[3].ends_with("5.00x"),
            "{}",
            t[3]
        );
        // No allocations: shown, but no ratio.
        assert!(
            t[4].contains("allocs_per_op") && t[4].ends_with(" -") && !t[4].contains("n/a"),
            "{}",
            t[4]
        );
    }
}
