//! `fernhand bench browser`: the browser's screen decoder on the codec's
//! recorded sequences.
//!
//! Each sequence is encoded once with the real encoder; the Rust reference
//! decoder applies the stream (its time per update is the baseline) and
//! records, after every update, the SHA-256 of its picture. Chromium then
//! decodes the same stream with `web/lib/screen` (timing parse, apply and
//! painting into a canvas) and compares: exactly while the stream has been
//! lossless, within JPEG/H.264 rounding after a lossy tile (the two JPEG
//! decoders round differently). A mismatch fails the run. Goal: office
//! sequences at 60 frames/s in the browser.

use super::corpus::{self, Sequence};
use super::{Report, Row};
use anyhow::{Context, bail};
use fernhand_screen::decode::Decoder;
use fernhand_screen::encode::{Encoder, EncoderConfig};
use fernhand_screen::wire::{self, Message, Op};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// One encoded sequence, as written for the browser.
struct Exported {
    name: String,
    updates: usize,
    rust_ms: Vec<f64>,
}

fn picture_rgb(decoder: &Decoder) -> Vec<u8> {
    decoder
        .picture()
        .pixels()
        .iter()
        .flat_map(|p| {
            let [_, r, g, b] = p.to_be_bytes();
            [r, g, b]
        })
        .collect()
}

/// Encode `seq`, decode it with the reference, write the stream, the
/// per-update hashes and the last picture under `dir`.
fn export(seq: &Sequence, dir: &Path) -> anyhow::Result<(Exported, Value)> {
    let mut encoder = Encoder::new(EncoderConfig::default());
    let mut decoder = Decoder::new();
    let mut stream = Vec::new();
    let mut checks = Vec::new();
    let mut rust_ms = Vec::new();
    let mut lossless = true;
    for frame in &seq.frames {
        let Some(update) = encoder.encode(frame) else {
            continue;
        };
        if update
            .ops
            .iter()
            .any(|o| matches!(o, Op::Jpeg { .. } | Op::Video { .. }))
        {
            lossless = false;
        }
        let bytes = wire::encode(&Message::Update(update), 6);
        let t = Instant::now();
        match wire::decode(&bytes)? {
            Message::Update(u) => decoder.apply(&u)?,
            _ => bail!("the encoder wrote something else than an update"),
        }
        rust_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        stream.extend_from_slice(&u32::try_from(bytes.len())?.to_be_bytes());
        stream.extend_from_slice(&bytes);
        checks.push(json!({
            "sha256": hex::encode(Sha256::digest(picture_rgb(&decoder))),
            "exact": lossless,
        }));
    }
    let name = seq.name.clone();
    std::fs::write(dir.join(format!("{name}.stream")), &stream)?;
    std::fs::write(dir.join(format!("{name}.final")), picture_rgb(&decoder))?;
    let picture = decoder.picture();
    let entry = json!({
        "name": name,
        "width": picture.width(),
        "height": picture.height(),
        "checks": checks,
    });
    Ok((
        Exported {
            name,
            updates: checks.len(),
            rust_ms,
        },
        entry,
    ))
}

/// The repository's `web/` folder (beside the working directory's `crates/`).
fn web_dir() -> anyhow::Result<PathBuf> {
    let here = std::env::current_dir()?;
    let web = here.join("web");
    if web.join("test/decode-bench.mjs").is_file() {
        return Ok(web);
    }
    bail!(
        "run from the repository root (no web/test/decode-bench.mjs in {})",
        here.display()
    )
}

pub fn run(corpus_dir: &Path) -> anyhow::Result<Report> {
    let sequences = corpus::load(corpus_dir)?;
    let web = web_dir()?;
    let scratch =
        std::env::temp_dir().join(format!("fernhand-browser-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let result = (|| {
        let mut exported = Vec::new();
        let mut manifest = Vec::new();
        for seq in &sequences {
            let (e, m) = export(seq, &scratch)?;
            exported.push(e);
            manifest.push(m);
        }
        std::fs::write(
            scratch.join("manifest.json"),
            serde_json::to_vec(&json!({ "sequences": manifest }))?,
        )?;
        let out = Command::new("node")
            .current_dir(&web)
            .arg("test/decode-bench.mjs")
            .arg(&scratch)
            .output()
            .context("node (and web/node_modules: run `npm ci` in web/)")?;
        if !out.status.success() {
            bail!(
                "the browser decoder failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let results: Value = serde_json::from_slice(&out.stdout)
            .with_context(|| String::from_utf8_lossy(&out.stdout).into_owned())?;
        rows(&exported, &results)
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn rows(exported: &[Exported], results: &Value) -> anyhow::Result<Report> {
    let mut rows = Vec::new();
    let mut headline = None;
    for e in exported {
        let r = results
            .get(&e.name)
            .with_context(|| format!("no browser result for {}", e.name))?;
        let mismatches = r["mismatches"].as_u64().unwrap_or(u64::MAX);
        if mismatches != 0 {
            bail!(
                "{}: the browser's picture differs from the reference: {r}",
                e.name
            );
        }
        let browser_ms = r["ms_per_update"].as_f64().unwrap_or(f64::NAN);
        let rust_ms = e.rust_ms.iter().sum::<f64>() / e.rust_ms.len().max(1) as f64;
        let fps = |ms: f64| if ms > 0.0 { 1000.0 / ms } else { f64::INFINITY };
        if e.name.contains("office") && headline.is_none() {
            headline = Some(rows.len());
        }
        rows.push(Row {
            scenario: format!("{} ({} updates)", e.name, e.updates),
            unit: "updates/s",
            ours: fps(browser_ms),
            baseline: fps(rust_ms),
            baseline_name: "Rust reference decoder",
            higher_is_better: true,
            extra: vec![
                ("browser_p99_ms", r["p99_ms"].clone()),
                ("exact_checks", r["exact_checks"].clone()),
                ("final_max_diff", r["final_max_diff"].clone()),
                ("goal_updates_per_s", json!(60)),
            ],
        });
    }
    let headline = headline.unwrap_or(0);
    let conclusion = rows.get(headline).map_or_else(
        || "no sequences".to_owned(),
        |r| {
            format!(
                "{}: {:.0} updates/s in Chromium (goal 60)",
                r.scenario, r.ours
            )
        },
    );
    Ok(Report {
        area: "browser",
        rows,
        headline,
        conclusion,
    })
}
