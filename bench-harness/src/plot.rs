//! `--plot DIR`: SVG charts (plotters' SVG backend: no system fonts or libraries needed).
//!
//! - `throughput.svg`: messages (or calls) per second per scenario, ours beside Go's when a Go
//!   log gave a figure;
//! - `serial.svg`: EDF ns/op per case, ours beside Go's;
//! - `latency.svg`: latency percentile curves (median to max) of every latency run.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use plotters::prelude::*;

use crate::golog::GoFigure;
use crate::latency::curve;
use crate::outcome::Outcome;

const OURS: RGBColor = RGBColor(0xd9, 0x5f, 0x02);
const GO: RGBColor = RGBColor(0x1b, 0x9e, 0x77);
const PALETTE: [RGBColor; 6] = [
    RGBColor(0xd9, 0x5f, 0x02),
    RGBColor(0x1b, 0x9e, 0x77),
    RGBColor(0x75, 0x70, 0xb3),
    RGBColor(0xe7, 0x29, 0x8a),
    RGBColor(0x66, 0xa6, 0x1e),
    RGBColor(0xa6, 0x76, 0x1d),
];

fn err<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

/// One bar pair: label, ours, Go's.
type Bars = (String, Option<f64>, Option<f64>);

/// A bar chart on a log scale: ours and Go's side by side per label.
fn bar_chart(path: &Path, title: &str, y_desc: &str, bars: &[Bars]) -> Result<(), String> {
    let values = bars
        .iter()
        .flat_map(|(_, o, g)| [*o, *g])
        .flatten()
        .filter(|v| *v > 0.0);
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return Err(format!("{}: nothing to plot", path.display()));
    }
    let (lo, hi) = (lo / 3.0, hi * 3.0);
    let width = (160 * bars.len() as u32).clamp(640, 1600);
    let root = SVGBackend::new(path, (width, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(err(path))?;
    let n = bars.len();
    let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(70)
        .y_label_area_size(90)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (lo..hi).log_scale())
        .map_err(err(path))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n + 1)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 0.01 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        })
        .y_desc(y_desc)
        .y_label_formatter(&|y| si(*y))
        .draw()
        .map_err(err(path))?;
    let w = 0.38;
    chart
        .draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
            let x = i as f64;
            b.1.filter(|v| *v > 0.0)
                .map(|v| Rectangle::new([(x - w, lo), (x, v)], OURS.filled()))
        }))
        .map_err(err(path))?
        .label("Rust (ergo-rs)")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], OURS.filled()));
    chart
        .draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
            let x = i as f64;
            b.2.filter(|v| *v > 0.0)
                .map(|v| Rectangle::new([(x, lo), (x + w, v)], GO.filled()))
        }))
        .map_err(err(path))?
        .label("Go Ergo")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], GO.filled()));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(err(path))?;
    root.present().map_err(err(path))?;
    Ok(())
}

/// 12.3k, 4.5M, 30G.
fn si(v: f64) -> String {
    let (d, s) = if v >= 1e9 {
        (1e9, "G")
    } else if v >= 1e6 {
        (1e6, "M")
    } else if v >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let x = v / d;
    if x >= 10.0 || x.fract() == 0.0 {
        format!("{x:.0}{s}")
    } else {
        format!("{x:.1}{s}")
    }
}

/// Percentile curves, one per histogram (nanoseconds), on the usual "nines" x axis.
pub fn latency_chart(
    path: &Path,
    title: &str,
    hists: &[(String, &Histogram<u64>)],
) -> Result<(), String> {
    let max_nines = 5.0;
    let to_x = |p: f64| (-(1.0 - p / 100.0).max(10f64.powf(-max_nines)).log10()).min(max_nines);
    let curves: Vec<(String, Vec<(f64, f64)>)> = hists
        .iter()
        .map(|(name, h)| {
            let pts = curve(h)
                .into_iter()
                .map(|(p, us)| (to_x(p), us.max(0.01)))
                .collect();
            (name.clone(), pts)
        })
        .filter(|(_, pts): &(String, Vec<(f64, f64)>)| !pts.is_empty())
        .collect();
    let (lo, hi) = curves
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.1))
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return Err(format!("{}: nothing to plot", path.display()));
    }
    let root = SVGBackend::new(path, (960, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(err(path))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..max_nines, ((lo / 2.0)..(hi * 2.0)).log_scale())
        .map_err(err(path))?;
    chart
        .configure_mesh()
        .x_labels(6)
        .x_label_formatter(&|x| {
            let p = 100.0 * (1.0 - 10f64.powf(-x));
            match x.round() as i32 {
                0 => "0%".into(),
                1 => "90%".into(),
                _ => format!("{p:.*}%", (x.round() as usize).saturating_sub(2)),
            }
        })
        .x_desc("percentile")
        .y_desc("latency (µs)")
        .y_label_formatter(&|y| si(*y))
        .draw()
        .map_err(err(path))?;
    for (i, (name, pts)) in curves.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
            .map_err(err(path))?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(err(path))?;
    root.present().map_err(err(path))?;
    Ok(())
}

/// The throughput and serial charts from our figures (`(scenario, metric) -> value`) and Go's.
/// Returns the files written.
pub fn comparison_charts(
    dir: &Path,
    ours: &HashMap<(String, String), f64>,
    go: &[GoFigure],
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(err(dir))?;
    // Scenario -> (ours, go), in a stable order.
    let mut rates: BTreeMap<String, (Option<f64>, Option<f64>)> = BTreeMap::new();
    let mut serial: BTreeMap<String, (Option<f64>, Option<f64>)> = BTreeMap::new();
    for ((scenario, metric), v) in ours {
        match metric.as_str() {
            "msgs_per_sec" | "calls_per_sec" => {
                rates.entry(scenario.clone()).or_default().0 = Some(*v);
            }
            "ns_per_op" => serial.entry(scenario.clone()).or_default().0 = Some(*v),
            _ => {}
        }
    }
    for g in go {
        match g.metric {
            "msgs_per_sec" => rates.entry(g.scenario.clone()).or_default().1 = Some(g.value),
            "ns_per_op" => serial.entry(g.scenario.clone()).or_default().1 = Some(g.value),
            _ => {}
        }
    }
    let mut written = Vec::new();
    let order = |name: &String| {
        let prefix = [
            "local",
            "memusage",
            "network",
            "pubsub",
            "call-latency",
            "serial",
        ];
        prefix
            .iter()
            .position(|p| name.starts_with(p))
            .unwrap_or(prefix.len())
    };
    let mut rate_bars: Vec<Bars> = rates.into_iter().map(|(k, (o, g))| (k, o, g)).collect();
    rate_bars.sort_by_key(|b| order(&b.0));
    if !rate_bars.is_empty() {
        let p = dir.join("throughput.svg");
        bar_chart(
            &p,
            "Throughput: ergo-rs and Go Ergo",
            "per second (messages or calls)",
            &rate_bars,
        )?;
        written.push(p);
    }
    let serial_bars: Vec<Bars> = serial.into_iter().map(|(k, (o, g))| (k, o, g)).collect();
    if !serial_bars.is_empty() {
        let p = dir.join("serial.svg");
        bar_chart(
            &p,
            "EDF: ns per operation (lower is better)",
            "ns/op",
            &serial_bars,
        )?;
        written.push(p);
    }
    Ok(written)
}

/// The charts of a `run`: throughput and serial (with Go's figures if given) and latency.
pub fn run_charts(
    dir: &Path,
    outcomes: &[Outcome],
    go: &[GoFigure],
) -> Result<Vec<PathBuf>, String> {
    let lines: Vec<String> = outcomes.iter().map(|o| o.json_line(1)).collect();
    let ours = crate::compare::parse_ours(&lines.join("\n"));
    let mut written = comparison_charts(dir, &ours, go)?;
    let hists: Vec<(String, &Histogram<u64>)> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Latency(l) if !l.hist.is_empty() => Some((l.scenario.clone(), &l.hist)),
            _ => None,
        })
        .collect();
    if !hists.is_empty() {
        let p = dir.join("latency.svg");
        latency_chart(&p, "Call latency by percentile", &hists)?;
        written.push(p);
    }
    Ok(written)
}
