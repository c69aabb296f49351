//! `fernhand bench codec`: the screen codec on recorded sequences.
//!
//! Per sequence, after its first frame (a keyframe, reported apart): bytes
//! per frame, encode time p50/p99 and decode time p50 of ours (encoder,
//! wire format, reference decoder), and the PSNR of what the viewer shows
//! when any of it was lossy. Baselines in the same run, on the same frames:
//! zlib (level 6) over the changed rectangles, VNC style (per 16-row band,
//! the span of changed columns, as raw RGB); PNG of the same rectangles;
//! our encoder without copy detection (for scrolls); and H.264 (openh264)
//! over whole frames at the quantiser our video mode uses, with its PSNR.
//!
//! Goals (one core): text, terminal and editor sequences lossless at ≤ 0.5×
//! the zlib baseline's bytes and ≤ 5 ms encode p50; scrolling ≤ 0.25× the
//! bytes without copy detection; office sequences at 60 frames/s (encode
//! p99 ≤ 16.7 ms); video sequences within 1.5× the bytes of H.264 alone.
//! Sequences are classed by name prefix: `terminal`,
//! `editor`, `text`, `scroll`, `browser-scroll`, `office`, `photo`,
//! `video`.

use super::corpus::{self, Sequence};
use super::{Report, Row};
use fernhand_screen::decode::Decoder;
use fernhand_screen::encode::{Encoder, EncoderConfig};
use fernhand_screen::video::{VideoDecoder, VideoEncoder, qp_for_quality};
use fernhand_screen::wire::{self, Message, Op};
use fernhand_screen::{Frame, Rect};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

const BAND: u16 = 16;
const TEXT_BYTES_GOAL: f64 = 0.5;
const TEXT_ENCODE_GOAL_MS: f64 = 5.0;
const SCROLL_GOAL: f64 = 0.25;
const OFFICE_P99_GOAL_MS: f64 = 1000.0 / 60.0;
const VIDEO_GOAL: f64 = 1.5;

struct Measured {
    bytes: Vec<f64>,
    encode_ms: Vec<f64>,
    decode_ms: Vec<f64>,
    keyframe_bytes: usize,
    psnr_min: f64,
    lossy_frames: usize,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

fn ours(seq: &Sequence, config: EncoderConfig) -> anyhow::Result<Measured> {
    let mut encoder = Encoder::new(config);
    let mut decoder = Decoder::new();
    let mut m = Measured {
        bytes: Vec::new(),
        encode_ms: Vec::new(),
        decode_ms: Vec::new(),
        keyframe_bytes: 0,
        psnr_min: f64::INFINITY,
        lossy_frames: 0,
    };
    for (i, frame) in seq.frames.iter().enumerate() {
        let t = Instant::now();
        let update = encoder.encode(frame);
        let lossy = update.as_ref().is_some_and(|u| {
            u.ops
                .iter()
                .any(|o| matches!(o, Op::Jpeg { .. } | Op::Video { .. }))
        });
        let bytes = update
            .map(|u| wire::encode(&Message::Update(u), 6))
            .unwrap_or_default();
        let encode = ms(t);
        let t = Instant::now();
        if !bytes.is_empty() {
            match wire::decode(&bytes)? {
                Message::Update(u) => decoder.apply(&u)?,
                _ => anyhow::bail!("the encoder wrote something else than an update"),
            }
        }
        let decode = ms(t);
        if i == 0 {
            m.keyframe_bytes = bytes.len();
            continue;
        }
        m.bytes.push(bytes.len() as f64);
        m.encode_ms.push(encode);
        m.decode_ms.push(decode);
        if lossy {
            m.lossy_frames += 1;
            m.psnr_min = m.psnr_min.min(frame.psnr(decoder.picture()));
        }
    }
    if decoder.picture() != seq.frames.last().unwrap_or(decoder.picture()) && m.lossy_frames == 0 {
        anyhow::bail!("{}: lossless decode differs from the source", seq.name);
    }
    Ok(m)
}

/// The changed rectangles VNC style: per band of rows, the span of changed
/// columns.
fn changed_rects(old: &Frame, new: &Frame) -> Vec<Rect> {
    if old.bounds() != new.bounds() {
        return vec![new.bounds()];
    }
    let mut out = Vec::new();
    let mut y = 0;
    while y < new.height() {
        let h = BAND.min(new.height() - y);
        if let Some(r) =
            fernhand_screen::encode::diff_bounds(old, new, Rect::new(0, y, new.width(), h))
        {
            out.push(Rect::new(r.x, y, r.w, h));
        }
        y += h;
    }
    out
}

fn rgb(frame: &Frame, r: Rect) -> Vec<u8> {
    let mut out = Vec::new();
    frame.rgb_bytes_into(r, &mut out);
    out
}

/// (bytes, ms) per frame after the first, zlib over the changed rectangles.
fn zlib_baseline(seq: &Sequence) -> (Vec<f64>, Vec<f64>) {
    let (mut bytes, mut times) = (Vec::new(), Vec::new());
    for pair in seq.frames.windows(2) {
        let t = Instant::now();
        let mut z = ZlibEncoder::new(Vec::new(), Compression::new(6));
        let mut header = 0usize;
        for r in changed_rects(&pair[0], &pair[1]) {
            header += 8;
            let _ = z.write_all(&rgb(&pair[1], r));
        }
        let n = z.finish().map(|v| v.len()).unwrap_or(0) + header;
        times.push(ms(t));
        bytes.push(n as f64);
    }
    (bytes, times)
}

fn png_baseline(seq: &Sequence) -> anyhow::Result<Vec<f64>> {
    let mut bytes = Vec::new();
    for pair in seq.frames.windows(2) {
        let mut n = 0usize;
        for r in changed_rects(&pair[0], &pair[1]) {
            let mut out = Vec::new();
            let mut e = png::Encoder::new(&mut out, u32::from(r.w), u32::from(r.h));
            e.set_color(png::ColorType::Rgb);
            e.set_depth(png::BitDepth::Eight);
            let mut w = e.write_header()?;
            w.write_image_data(&rgb(&pair[1], r))?;
            w.finish()?;
            n += out.len() + 8;
        }
        bytes.push(n as f64);
    }
    Ok(bytes)
}

struct H264 {
    bytes: Vec<f64>,
    encode_ms: Vec<f64>,
    psnr_min: f64,
}

/// openh264 over whole frames, at the quantiser of our video mode at the
/// default quality; the first frame (an IDR picture) reported apart like
/// our keyframe.
fn h264_baseline(seq: &Sequence) -> anyhow::Result<Option<H264>> {
    let Some(first) = seq.frames.first() else {
        return Ok(None);
    };
    let rect = first.bounds();
    if !rect.w.is_multiple_of(2)
        || !rect.h.is_multiple_of(2)
        || seq.frames.iter().any(|f| f.bounds() != rect)
    {
        return Ok(None);
    }
    let qp = qp_for_quality(EncoderConfig::default().jpeg_quality);
    let mut encoder = VideoEncoder::new(rect, qp)?;
    let mut decoder = VideoDecoder::new(rect)?;
    let mut out = H264 {
        bytes: Vec::new(),
        encode_ms: Vec::new(),
        psnr_min: f64::INFINITY,
    };
    for (i, frame) in seq.frames.iter().enumerate() {
        let t = Instant::now();
        let data = encoder.encode(frame)?;
        let took = ms(t);
        let shown = Frame::from_pixels(rect.w, rect.h, decoder.decode(&data)?)
            .ok_or_else(|| anyhow::anyhow!("H.264 picture of the wrong size"))?;
        if i > 0 {
            out.bytes.push(data.len() as f64);
            out.encode_ms.push(took);
            out.psnr_min = out.psnr_min.min(frame.psnr(&shown));
        }
    }
    Ok(Some(out))
}

fn db(v: f64) -> serde_json::Value {
    if v.is_finite() {
        json!((v * 10.0).round() / 10.0)
    } else {
        json!(null)
    }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// The `per_mille`‰ value of `v` (nearest rank).
fn percentile(v: &[f64], per_mille: usize) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let i = (s.len().saturating_sub(1) * per_mille).div_ceil(1000);
    s.get(i).copied().unwrap_or(f64::NAN)
}

fn class(name: &str) -> &'static str {
    for c in [
        "terminal",
        "editor",
        "text",
        "browser-scroll",
        "scroll",
        "office",
        "photo",
        "video",
    ] {
        if name.starts_with(c) {
            return c;
        }
    }
    "other"
}

pub fn run(corpus_dir: &Path) -> anyhow::Result<Report> {
    let sequences = corpus::load(corpus_dir)?;
    let mut rows = Vec::new();
    let (mut text_ours, mut text_zlib, mut all_ours, mut all_zlib) = (0f64, 0f64, 0f64, 0f64);
    let mut verdicts = Vec::new();
    for seq in &sequences {
        let c = class(&seq.name);
        let m = ours(seq, EncoderConfig::default())?;
        let no_copy = ours(
            seq,
            EncoderConfig {
                detect_scroll: false,
                ..EncoderConfig::default()
            },
        )?;
        let (zlib_bytes, zlib_ms) = zlib_baseline(seq);
        let png_bytes = png_baseline(seq)?;
        let h264 = h264_baseline(seq)?;
        let (ob, zb) = (mean(&m.bytes), mean(&zlib_bytes));
        all_ours += ob;
        all_zlib += zb;
        if matches!(c, "terminal" | "editor" | "text") {
            text_ours += ob;
            text_zlib += zb;
            let ok = ob <= TEXT_BYTES_GOAL * zb
                && percentile(&m.encode_ms, 500) <= TEXT_ENCODE_GOAL_MS
                && m.lossy_frames == 0;
            verdicts.push(format!(
                "{} {}",
                seq.name,
                if ok { "meets" } else { "misses" }
            ));
        }
        let frame = seq
            .frames
            .first()
            .map_or((0, 0), |f| (f.width(), f.height()));
        rows.push(Row {
            scenario: format!("{} bytes/frame", seq.name),
            unit: "B",
            ours: ob,
            baseline: zb,
            baseline_name: "zlib over changed rectangles",
            higher_is_better: false,
            extra: vec![
                ("sequence", json!(seq.name)),
                ("class", json!(c)),
                ("frames", json!(seq.frames.len())),
                ("size", json!(format!("{}x{}", frame.0, frame.1))),
                ("keyframe_bytes", json!(m.keyframe_bytes)),
                ("png_bytes", json!(mean(&png_bytes).round())),
                ("no_copy_bytes", json!(mean(&no_copy.bytes).round())),
                (
                    "h264_bytes",
                    json!(h264.as_ref().map(|h| mean(&h.bytes).round())),
                ),
                ("lossy_frames", json!(m.lossy_frames)),
                ("psnr_min_db", db(m.psnr_min)),
                (
                    "h264_psnr_min_db",
                    db(h264.as_ref().map_or(f64::NAN, |h| h.psnr_min)),
                ),
            ],
        });
        rows.push(Row {
            scenario: format!("{} encode p50", seq.name),
            unit: "ms",
            ours: percentile(&m.encode_ms, 500),
            baseline: percentile(&zlib_ms, 500),
            baseline_name: "zlib over changed rectangles",
            higher_is_better: false,
            extra: vec![
                ("sequence", json!(seq.name)),
                ("encode_p99_ms", json!(percentile(&m.encode_ms, 990))),
                ("decode_p50_ms", json!(percentile(&m.decode_ms, 500))),
            ],
        });
        if matches!(c, "scroll" | "browser-scroll" | "terminal" | "office") {
            let nb = mean(&no_copy.bytes);
            rows.push(Row {
                scenario: format!("{} vs no copies", seq.name),
                unit: "B",
                ours: ob,
                baseline: nb,
                baseline_name: "ours without copy detection",
                higher_is_better: false,
                extra: vec![
                    ("sequence", json!(seq.name)),
                    ("goal_ratio", json!(SCROLL_GOAL)),
                ],
            });
        }
        if let Some(h) = h264.as_ref().filter(|_| matches!(c, "video" | "photo")) {
            let hb = mean(&h.bytes);
            rows.push(Row {
                scenario: format!("{} vs H.264", seq.name),
                unit: "B",
                ours: ob,
                baseline: hb,
                baseline_name: "openh264 over whole frames",
                higher_is_better: false,
                extra: vec![
                    ("sequence", json!(seq.name)),
                    ("goal_ratio", json!(VIDEO_GOAL)),
                    ("psnr_min_db", db(m.psnr_min)),
                    ("h264_psnr_min_db", db(h.psnr_min)),
                    ("h264_encode_p50_ms", json!(percentile(&h.encode_ms, 500))),
                ],
            });
            if c == "video" {
                verdicts.push(format!(
                    "{} {} 1.5× H.264",
                    seq.name,
                    if ob <= VIDEO_GOAL * hb {
                        "within"
                    } else {
                        "beyond"
                    }
                ));
            }
        }
        if c == "office" {
            let p99 = percentile(&m.encode_ms, 990);
            verdicts.push(format!(
                "{} {} 60 frames/s",
                seq.name,
                if p99 <= OFFICE_P99_GOAL_MS {
                    "holds"
                } else {
                    "misses"
                }
            ));
        }
    }
    let (headline_ours, headline_zlib, label) = if text_zlib > 0.0 {
        (text_ours, text_zlib, "text sequences bytes/frame")
    } else {
        (all_ours, all_zlib, "all sequences bytes/frame")
    };
    rows.push(Row {
        scenario: label.to_owned(),
        unit: "B",
        ours: headline_ours,
        baseline: headline_zlib,
        baseline_name: "zlib over changed rectangles",
        higher_is_better: false,
        extra: vec![("goal_ratio", json!(TEXT_BYTES_GOAL))],
    });
    let headline = rows.len() - 1;
    let conclusion = if verdicts.is_empty() {
        "no text, terminal or editor sequence in this corpus".to_owned()
    } else {
        verdicts.join("; ")
    };
    Ok(Report {
        area: "codec",
        rows,
        headline,
        conclusion,
    })
}
