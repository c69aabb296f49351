//! `fernhand bench <area>`: measurements of our code next to a baseline
//! measured in the same run, printed as a table (or JSON lines) that ends with
//! one summary line.
//!
//! Ours and the baseline are measured in alternating rounds so that a change
//! in machine load affects both alike; each side's figure is the median of its
//! rounds.

mod agents;
mod agents_node;
mod browser;
mod codec;
pub mod corpus;
mod desk;
mod e2e;
mod latency;
mod relay;
pub mod relay_node;

use crate::cli::{BenchArea, BenchArgs};
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// One measured scenario.
pub struct Row {
    pub scenario: String,
    /// Unit of `ours` and `baseline` (e.g. "MB/s", "ms/join").
    pub unit: &'static str,
    pub ours: f64,
    pub baseline: f64,
    /// What the baseline is.
    pub baseline_name: &'static str,
    /// Whether a bigger figure is better (throughput) or worse (time).
    pub higher_is_better: bool,
    /// Extra fields for the JSON object (goal, overhead, …).
    pub extra: Vec<(&'static str, Value)>,
}

impl Row {
    /// ours ÷ baseline.
    pub fn ratio(&self) -> f64 {
        if self.baseline == 0.0 {
            f64::NAN
        } else {
            self.ours / self.baseline
        }
    }
}

/// A finished benchmark run.
pub struct Report {
    pub area: &'static str,
    pub rows: Vec<Row>,
    /// The headline row's index and a one-line conclusion.
    pub headline: usize,
    pub conclusion: String,
}

pub fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 600.0,
        "--seconds must be between 0 and 600"
    );
    let per_side = Duration::from_secs_f64(args.seconds);
    let report = match args.area {
        BenchArea::E2e => e2e::run(per_side)?,
        BenchArea::Relay => relay::run(per_side)?,
        BenchArea::Agents => agents::run()?,
        BenchArea::Codec => codec::run(&args.corpus)?,
        BenchArea::Browser => browser::run(&args.corpus)?,
        BenchArea::Latency => latency::run()?,
        BenchArea::Desk => desk::run(args)?,
    };
    print(&report, args.json);
    Ok(ExitCode::SUCCESS)
}

fn print(report: &Report, json: bool) {
    if json {
        for row in &report.rows {
            let mut object = json!({
                "area": report.area,
                "scenario": row.scenario,
                "unit": row.unit,
                "ours": round(row.ours),
                "baseline": round(row.baseline),
                "baseline_name": row.baseline_name,
                "ratio": round(row.ratio()),
                "better": if row.higher_is_better { "higher" } else { "lower" },
            });
            if let Some(map) = object.as_object_mut() {
                for (k, v) in &row.extra {
                    map.insert((*k).to_owned(), v.clone());
                }
            }
            println!("{object}");
        }
    } else {
        println!(
            "{:<34} {:>14} {:>14} {:>7}  baseline is",
            "scenario", "ours", "baseline", "ratio"
        );
        for row in &report.rows {
            println!(
                "{:<34} {:>14} {:>14} {:>7.3}  {}",
                row.scenario,
                format!("{:.2} {}", row.ours, row.unit),
                format!("{:.2} {}", row.baseline, row.unit),
                row.ratio(),
                row.baseline_name
            );
        }
    }
    if let Some(head) = report.rows.get(report.headline) {
        if json {
            println!(
                "{}",
                json!({
                    "area": report.area,
                    "summary": true,
                    "headline": head.scenario,
                    "unit": head.unit,
                    "ours": round(head.ours),
                    "baseline": round(head.baseline),
                    "ratio": round(head.ratio()),
                    "conclusion": report.conclusion,
                })
            );
        } else {
            println!(
                "summary: {} {}: ours {:.2} {} vs baseline {:.2} {} (ratio {:.3}); {}",
                report.area,
                head.scenario,
                head.ours,
                head.unit,
                head.baseline,
                head.unit,
                head.ratio(),
                report.conclusion
            );
        }
    }
}

/// Resident memory of process `pid`, in bytes (Linux `/proc`).
pub fn rss_of(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS"))?;
    Ok(kib * 1024)
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Measure two functions in alternating rounds for about `per_side` each.
/// Each call performs one unit of work and returns how long the measured part
/// took (so setup can be excluded). Returns the median seconds per call of
/// each side.
pub fn alternate(
    per_side: Duration,
    mut ours: impl FnMut() -> Duration,
    mut baseline: impl FnMut() -> Duration,
) -> (f64, f64) {
    const ROUNDS: u32 = 5;
    let round_budget = per_side / ROUNDS;
    // Warm caches, branch predictors and lazy initialisation on both sides.
    for _ in 0..3 {
        ours();
        baseline();
    }
    let mut ours_rounds = Vec::with_capacity(ROUNDS as usize);
    let mut base_rounds = Vec::with_capacity(ROUNDS as usize);
    for _ in 0..ROUNDS {
        ours_rounds.push(per_call(round_budget, &mut ours));
        base_rounds.push(per_call(round_budget, &mut baseline));
    }
    (median(&mut ours_rounds), median(&mut base_rounds))
}

fn per_call(budget: Duration, f: &mut impl FnMut() -> Duration) -> f64 {
    let start = Instant::now();
    let mut measured = Duration::ZERO;
    let mut calls = 0u64;
    while start.elapsed() < budget || calls == 0 {
        measured += f();
        calls += 1;
    }
    measured.as_secs_f64() / calls as f64
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}
