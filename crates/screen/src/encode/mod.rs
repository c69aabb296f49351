//! The screen encoder: turns successive captures into [`Update`]s.
//!
//! The picture is cut into tiles (64 × 64 by default). A tile that did not
//! change is skipped; a vertical scroll of the changed region becomes one
//! copy; each remaining tile is solid (one colour), a palette (up to 256
//! colours: text and UI, lossless) or photographic (JPEG at the current
//! quality, or lossless when lossy coding is off). Neighbouring solid tiles
//! of one colour merge, and so do neighbouring photographic tiles, so a
//! video or photo region becomes a few JPEGs, not hundreds. A tile sent
//! lossy is sent again losslessly once it has stopped changing, a few tiles
//! per update, so a picture at rest ends up exact.
//!
//! Where tiles keep changing photographically update after update (a video
//! playing, an animation), their bounding rectangle becomes an H.264 stream
//! ([`crate::video`]): one access unit per update instead of JPEG tiles. The
//! stream ends when the region has been still for a while, or starts anew
//! over a new rectangle when the video moves or grows; its tiles are then
//! made exact like any lossy tile.

mod compare;
pub mod motion;
mod scroll;
pub mod tile;

pub use scroll::{detect as detect_scroll, detect_moves, diff_bounds};

use crate::cache::{self, EncoderCache};
use crate::frame::{Frame, Rect};
use crate::video::{VideoEncoder, qp_for_quality};
use crate::wire::{Op, Update};
use compare::{changed_tiles, tile_cover};
use motion::Motion;
use tile::Content;

/// Changed tiles below which no scroll is looked for.
const MIN_SCROLL_TILES: usize = 6;
/// Calls of [`Encoder::encode_damaged`] between two that compare the whole
/// picture regardless of the damage reported.
pub const FULL_COMPARE_EVERY: u32 = 30;
/// Still updates after which a video stream ends (a paused video; a
/// video at 24 frames/s captured at 30 never has that many in a row).
const VIDEO_IDLE_END: u8 = 3;
/// Updates between two looks at what a video stream's tiles show.
const VIDEO_RECHECK_EVERY: u32 = 8;
/// Updates a stream lives before it may shrink or change quality (each
/// start costs an IDR picture).
const VIDEO_MIN_AGE: u32 = 30;

/// Encoder settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncoderConfig {
    /// Tile side in pixels (32–1024, rounded down to a multiple of 8 so JPEG
    /// blocks stay aligned; at least 32 keeps an update within the wire
    /// format's 65,535 operations).
    pub tile: u16,
    /// Whether photographic tiles may be sent as JPEG.
    pub lossy: bool,
    /// Starting JPEG quality (1–100).
    pub jpeg_quality: u8,
    /// Whether to look for scrolls.
    pub detect_scroll: bool,
    /// Lossy tiles re-sent losslessly per update once they are still.
    pub upgrades_per_update: usize,
    /// Whether regions that change like video may become an H.264 stream
    /// (only when `lossy`).
    pub video: bool,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        EncoderConfig {
            tile: 64,
            lossy: true,
            jpeg_quality: 75,
            detect_scroll: true,
            upgrades_per_update: 32,
            video: true,
        }
    }
}

/// Turns captures into updates; keeps what the viewer has been sent.
#[derive(Debug)]
pub struct Encoder {
    config: EncoderConfig,
    quality: u8,
    reference: Option<Frame>,
    /// Per tile: 0 = exact at the viewer; n > 0 = lossy, unchanged for n − 1 updates.
    lossy_age: Vec<u8>,
    seq: u32,
    refresh: bool,
    motion: Motion,
    video: Option<Stream>,
    cache: EncoderCache,
    damaged_calls: u32,
}

/// The H.264 stream in progress.
#[derive(Debug)]
struct Stream {
    encoder: VideoEncoder,
    /// Updates since the region last changed.
    idle: u8,
    /// Updates since it started.
    age: u32,
    /// Whether its first access unit is still to be sent.
    fresh: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Solid(u32),
    Photo,
    Done,
}

impl Encoder {
    /// An encoder with `config`.
    pub fn new(config: EncoderConfig) -> Encoder {
        let quality = config.jpeg_quality.clamp(1, 100);
        Encoder {
            config,
            quality,
            reference: None,
            lossy_age: Vec::new(),
            seq: 0,
            refresh: false,
            motion: Motion::default(),
            video: None,
            cache: EncoderCache::default(),
            damaged_calls: 0,
        }
    }

    /// The rectangle sent as H.264 at the moment, if any.
    pub fn video_rect(&self) -> Option<Rect> {
        self.video.as_ref().map(|v| v.encoder.rect())
    }

    /// Start, keep, move or end the video stream for this update; the tiles
    /// it covers are marked in `in_video`.
    fn steer_video(&mut self, frame: &Frame, cols: u16, in_video: &mut [bool]) {
        if !(self.config.lossy && self.config.video) {
            self.video = None;
            return;
        }
        let side = self.side();
        let rect_of = |i: usize| {
            let (tx, ty) = (i % usize::from(cols), i / usize::from(cols));
            tile_rect(
                side,
                frame,
                u16::try_from(tx).unwrap_or(0),
                u16::try_from(ty).unwrap_or(0),
            )
        };
        let qp = qp_for_quality(self.quality);
        let wanted = self.motion.region(rect_of).map(even);
        let restart = match (&self.video, wanted) {
            (None, Some(w)) => Some(w),
            (Some(v), Some(w)) => {
                let r = v.encoder.rect();
                let grown = r.union(&w) != r;
                let settled = v.age >= VIDEO_MIN_AGE;
                let shrunk = w.area() * 2 < r.area();
                let requantised = v.encoder.qp().abs_diff(qp) >= 3;
                (w != r && (grown || (settled && shrunk)) || (settled && requantised)).then_some(w)
            }
            (_, None) => None,
        };
        if wanted.is_none() {
            // Too few tiles still change like video (it stopped, or what
            // changes there now is text): its tiles go as tiles again.
            self.video = None;
        }
        if let Some(rect) = restart.filter(|r| !r.is_empty()) {
            self.video = VideoEncoder::new(rect, qp).ok().map(|encoder| Stream {
                encoder,
                idle: 0,
                age: 0,
                fresh: true,
            });
        }
        if let Some(v) = &self.video {
            let r = v.encoder.rect();
            for (i, slot) in in_video.iter_mut().enumerate() {
                *slot = r.union(&rect_of(i)) == r;
            }
        }
    }

    /// The video operation for this update, if any of its tiles changed;
    /// ends a stream that has been still long enough or fails.
    fn video_op(
        &mut self,
        frame: &Frame,
        cols: u16,
        changed: &[bool],
        in_video: &mut [bool],
    ) -> Option<Op> {
        let side = self.side();
        let v = self.video.as_mut()?;
        v.age = v.age.saturating_add(1);
        let moving = changed.iter().zip(in_video.iter()).any(|(&c, &v)| c && v);
        if !moving {
            v.idle = v.idle.saturating_add(1);
            if v.idle >= VIDEO_IDLE_END {
                // Still for a while: its tiles are due for exact pixels now.
                for (age, _) in self
                    .lossy_age
                    .iter_mut()
                    .zip(in_video.iter())
                    .filter(|(_, v)| **v)
                {
                    *age = (*age).max(2);
                }
                self.video = None;
                in_video.fill(false);
            }
            return None;
        }
        v.idle = 0;
        match v.encoder.encode(frame) {
            Ok(data) if !data.is_empty() => {
                let new_stream = std::mem::replace(&mut v.fresh, false);
                let rect = v.encoder.rect();
                for (i, age) in self.lossy_age.iter_mut().enumerate() {
                    let (tx, ty) = (i % usize::from(cols), i / usize::from(cols));
                    let tile = tile_rect(
                        side,
                        frame,
                        u16::try_from(tx).unwrap_or(0),
                        u16::try_from(ty).unwrap_or(0),
                    );
                    if in_video[i] {
                        *age = 1;
                    } else if !changed[i] && !tile.intersect(&rect).is_empty() {
                        // A tile the stream covers in part (its rectangle
                        // has even sides, the picture may not): lossy too,
                        // unless it is sent as a tile after the picture.
                        *age = (*age).max(1);
                    }
                }
                Some(Op::Video {
                    rect: v.encoder.rect(),
                    new_stream,
                    data,
                })
            }
            // The codec declined or failed: its tiles go as tiles.
            _ => {
                self.video = None;
                in_video.fill(false);
                None
            }
        }
    }

    /// Its settings.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// The JPEG quality in use.
    pub fn quality(&self) -> u8 {
        self.quality
    }

    /// Change the JPEG quality (rate control).
    pub fn set_quality(&mut self, quality: u8) {
        self.quality = quality.clamp(1, 100);
    }

    /// The next update repaints everything (the viewer asked, or joined).
    pub fn request_refresh(&mut self) {
        self.refresh = true;
    }

    fn side(&self) -> u16 {
        self.config.tile.clamp(32, 1024) / 8 * 8
    }

    fn tiles(&self, frame: &Frame) -> (u16, u16) {
        let t = self.side();
        (frame.width().div_ceil(t), frame.height().div_ceil(t))
    }

    fn tile_rect(&self, frame: &Frame, tx: u16, ty: u16) -> Rect {
        tile_rect(self.side(), frame, tx, ty)
    }

    /// The update that brings the viewer from what it has to `frame`, or
    /// `None` if nothing changed. Compares the whole picture.
    pub fn encode(&mut self, frame: &Frame) -> Option<Update> {
        self.encode_hinted(frame, None)
    }

    /// Like [`Encoder::encode`], comparing only the tiles that `damage`
    /// (what the capture reported as changed since the last call) touches:
    /// on a mostly still screen this spares reading the whole picture.
    /// Every [`FULL_COMPARE_EVERY`]th call compares everything anyway, so a
    /// change a capture failed to report is sent late, never lost.
    pub fn encode_damaged(&mut self, frame: &Frame, damage: &[Rect]) -> Option<Update> {
        self.damaged_calls = self.damaged_calls.wrapping_add(1);
        if self.damaged_calls.is_multiple_of(FULL_COMPARE_EVERY) {
            return self.encode_hinted(frame, None);
        }
        self.encode_hinted(frame, Some(damage))
    }

    fn encode_hinted(&mut self, frame: &Frame, damage: Option<&[Rect]>) -> Option<Update> {
        let (cols, rows) = self.tiles(frame);
        let count = usize::from(cols) * usize::from(rows);
        let resized = self
            .reference
            .as_ref()
            .is_none_or(|r| r.bounds() != frame.bounds());
        let keyframe = self.refresh || resized;
        let mut ops = Vec::new();
        let mut changed = vec![false; count];
        if keyframe {
            changed.fill(true);
            self.lossy_age = vec![0; count];
            self.reference = Some(frame.clone());
            // The viewer starts over: a stream continues from nothing.
            self.video = None;
            if resized {
                self.motion.reset(count);
            }
        } else if let Some(reference) = self.reference.as_mut() {
            let t = self.config.tile.clamp(32, 1024) / 8 * 8;
            let tile_rect = |tx: u16, ty: u16| tile_rect(t, frame, tx, ty);
            let region = match damage {
                None => changed_tiles(reference, frame, t, frame.bounds(), &mut changed),
                Some(rects) => rects
                    .iter()
                    .map(|r| r.intersect(&frame.bounds()))
                    .filter(|r| !r.is_empty())
                    .fold(Rect::default(), |region, r| {
                        let cover = tile_cover(r, t, frame);
                        region.union(&changed_tiles(reference, frame, t, cover, &mut changed))
                    }),
            };
            // A scroll moves many tiles; a few changed tiles (typing, a
            // blinking cursor) are not worth the row hashing.
            let changed_count = changed.iter().filter(|&&c| c).count();
            if self.config.detect_scroll && changed_count >= MIN_SCROLL_TILES {
                let moves = diff_bounds(reference, frame, region)
                    .map(|exact| detect_moves(reference, frame, exact, t))
                    .unwrap_or_default();
                let before = self.lossy_age.clone();
                let any_lossy = before.iter().any(|&a| a > 0);
                let lossy_at = |r: Rect| {
                    (0..rows).any(|sy| {
                        (0..cols).any(|sx| {
                            before[usize::from(sy) * usize::from(cols) + usize::from(sx)] > 0
                                && !tile_rect(sx, sy).intersect(&r).is_empty()
                        })
                    })
                };
                // Copies in different columns never overlap, so each reads
                // the picture as it was.
                for &(src, dst_y) in &moves {
                    reference.copy_within(src, src.x, dst_y);
                    ops.push(Op::Copy {
                        src,
                        dst_x: src.x,
                        dst_y,
                    });
                    // Moved lossy pixels stay lossy: a destination tile is
                    // marked when the source area that lands on it held a
                    // lossy tile.
                    let dst = Rect::new(src.x, dst_y, src.w, src.h);
                    for ty in 0..rows {
                        for tx in 0..cols {
                            let i = usize::from(ty) * usize::from(cols) + usize::from(tx);
                            let landed = tile_rect(tx, ty).intersect(&dst);
                            if !any_lossy || landed.is_empty() {
                                continue;
                            }
                            // Where those pixels came from.
                            let from_y = i32::from(landed.y) - i32::from(dst_y) + i32::from(src.y);
                            let from = Rect::new(
                                landed.x,
                                u16::try_from(from_y).unwrap_or(0),
                                landed.w,
                                landed.h,
                            );
                            if lossy_at(from) {
                                self.lossy_age[i] = self.lossy_age[i].max(1);
                            }
                        }
                    }
                }
                // Only tiles a copy wrote to can have changed state.
                for &(src, dst_y) in &moves {
                    let dst = Rect::new(src.x, dst_y, src.w, src.h);
                    changed_tiles(reference, frame, t, tile_cover(dst, t, frame), &mut changed);
                }
            }
        }
        let mut in_video = vec![false; count];
        if !keyframe {
            for (i, _) in changed.iter().enumerate().filter(|(_, c)| !**c) {
                self.motion.still(i);
            }
            self.steer_video(frame, cols, &mut in_video);
        }
        if let Some(video) = self.video_op(frame, cols, &changed, &mut in_video) {
            ops.push(video);
        }
        // Still lossy tiles get their exact pixels, a few per update.
        let mut upgrades = 0;
        let mut exact = vec![false; count];
        for i in 0..count {
            if changed[i] || in_video[i] {
                continue;
            }
            if self.lossy_age[i] >= 2 && upgrades < self.config.upgrades_per_update {
                exact[i] = true;
                upgrades += 1;
            } else if self.lossy_age[i] > 0 {
                self.lossy_age[i] = self.lossy_age[i].saturating_add(1);
            }
        }
        if ops.is_empty() && !changed.contains(&true) && !exact.contains(&true) {
            return None;
        }
        let mut kinds = vec![Kind::Done; count];
        let side = self.side();
        for ty in 0..rows {
            for tx in 0..cols {
                let i = usize::from(ty) * usize::from(cols) + usize::from(tx);
                if in_video[i] {
                    if changed[i] {
                        // Now and then, look again at what the stream's
                        // tiles show, so text that replaced the video ends it.
                        let recheck = self
                            .video
                            .as_ref()
                            .is_some_and(|v| v.age % VIDEO_RECHECK_EVERY == 0);
                        let photographic = !recheck
                            || tile::classify(&frame.crop(tile_rect(side, frame, tx, ty)))
                                == Content::Many;
                        self.motion.changed(i, photographic);
                    }
                    continue;
                }
                if !changed[i] && !exact[i] {
                    continue;
                }
                let whole = tile_rect(side, frame, tx, ty);
                // Only the part that changed (typing changes a few glyphs of
                // a tile); whole tiles keep their chance to merge.
                // (A tile still partly lossy is sent whole, so all of it
                // becomes exact.)
                let r = match self.reference.as_ref() {
                    Some(reference) if !keyframe && changed[i] && self.lossy_age[i] == 0 => {
                        diff_bounds(reference, frame, whole).unwrap_or(whole)
                    }
                    _ => whole,
                };
                let pixels = frame.crop(r);
                let content = tile::classify(&pixels);
                if !keyframe && changed[i] {
                    self.motion.changed(i, content == Content::Many);
                }
                match content {
                    Content::Solid(rgb) if r == whole => kinds[i] = Kind::Solid(rgb),
                    Content::Solid(rgb) => ops.push(Op::Solid { rect: r, rgb }),
                    Content::Palette(colours, indices) => ops.push(Op::Palette {
                        rect: r,
                        colours,
                        indices,
                    }),
                    Content::Many
                        if self.config.lossy
                            && !exact[i]
                            && r == whole
                            && tile::photographic(&pixels, r.w) =>
                    {
                        kinds[i] = Kind::Photo
                    }
                    Content::Many => ops.push(Op::Raw { rect: r, pixels }),
                }
                self.lossy_age[i] = 0;
            }
        }
        self.merged(frame, &kinds, cols, rows, &mut ops);
        let t = self.side();
        if let Some(reference) = self.reference.as_mut().filter(|_| !keyframe) {
            for ty in 0..rows {
                for tx in 0..cols {
                    if changed[usize::from(ty) * usize::from(cols) + usize::from(tx)] {
                        let r = tile_rect(t, frame, tx, ty);
                        reference.paste(r, &frame.crop(r));
                    }
                }
            }
        }
        self.use_cache(&mut ops, keyframe);
        self.refresh = false;
        self.seq = self.seq.wrapping_add(1);
        Some(Update {
            seq: self.seq,
            keyframe,
            width: frame.width(),
            height: frame.height(),
            ops,
        })
    }

    /// Replace Palette operations whose pixels the viewer holds in its tile
    /// cache by references to them; store the others as the viewer will.
    fn use_cache(&mut self, ops: &mut [Op], keyframe: bool) {
        if keyframe {
            self.cache.clear();
        }
        for o in ops.iter_mut() {
            let Op::Palette {
                rect,
                colours,
                indices,
            } = o
            else {
                continue;
            };
            if !cache::stored(*rect) {
                continue;
            }
            let pixels: Vec<u32> = indices
                .iter()
                .map(|&i| colours.get(usize::from(i)).copied().unwrap_or(0))
                .collect();
            match self.cache.find(rect.w, rect.h, &pixels) {
                Some(slot) => *o = Op::Cached { rect: *rect, slot },
                None => self.cache.store(rect.w, rect.h, pixels),
            }
        }
    }

    /// Merge neighbouring solid tiles of one colour, and neighbouring
    /// photographic tiles, into rectangles: runs along each tile row, then
    /// runs of equal spans down the rows.
    fn merged(&mut self, frame: &Frame, kinds: &[Kind], cols: u16, rows: u16, ops: &mut Vec<Op>) {
        let at = |tx: u16, ty: u16| kinds[usize::from(ty) * usize::from(cols) + usize::from(tx)];
        // (first column, last column, first row, kind) of open rectangles.
        let mut open: Vec<(u16, u16, u16, Kind)> = Vec::new();
        let mut done: Vec<(u16, u16, u16, u16, Kind)> = Vec::new();
        for ty in 0..rows {
            let mut spans = Vec::new();
            let mut tx = 0;
            while tx < cols {
                let k = at(tx, ty);
                if k == Kind::Done {
                    tx += 1;
                    continue;
                }
                let start = tx;
                while tx + 1 < cols && at(tx + 1, ty) == k {
                    tx += 1;
                }
                spans.push((start, tx, k));
                tx += 1;
            }
            let mut still_open = Vec::new();
            for (a, b, top, k) in open.drain(..) {
                if let Some(pos) = spans.iter().position(|s| *s == (a, b, k)) {
                    spans.remove(pos);
                    still_open.push((a, b, top, k));
                } else {
                    done.push((a, b, top, ty - 1, k));
                }
            }
            for (a, b, k) in spans {
                still_open.push((a, b, ty, k));
            }
            open = still_open;
        }
        for (a, b, top, k) in open {
            done.push((a, b, top, rows - 1, k));
        }
        for (a, b, top, bottom, k) in done {
            let first = self.tile_rect(frame, a, top);
            let last = self.tile_rect(frame, b, bottom);
            let rect = first.union(&last);
            match k {
                Kind::Solid(rgb) => ops.push(Op::Solid { rect, rgb }),
                Kind::Photo => {
                    let data = jpeg(frame, rect, self.quality);
                    for ty in top..=bottom {
                        for tx in a..=b {
                            self.lossy_age[usize::from(ty) * usize::from(cols) + usize::from(tx)] =
                                1;
                        }
                    }
                    ops.push(Op::Jpeg { rect, data });
                }
                Kind::Done => {}
            }
        }
    }
}

/// `r` with even sides (H.264 pictures are 4:2:0), shrunk by a pixel where
/// needed.
fn even(r: Rect) -> Rect {
    Rect::new(r.x, r.y, r.w & !1, r.h & !1)
}

/// Tile (`tx`, `ty`) of side `t`, clipped to the picture.
fn tile_rect(t: u16, frame: &Frame, tx: u16, ty: u16) -> Rect {
    let (x, y) = (tx * t, ty * t);
    Rect::new(x, y, t.min(frame.width() - x), t.min(frame.height() - y))
}

/// `rect` of `frame` as a baseline JPEG (4:4:4) at `quality`.
pub fn jpeg(frame: &Frame, rect: Rect, quality: u8) -> Vec<u8> {
    let mut rgb = Vec::new();
    frame.rgb_bytes_into(rect, &mut rgb);
    let mut out = Vec::with_capacity(rect.area() / 4 + 1024);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    // Screen pictures carry coloured edges (UI over photos) that 4:2:0
    // blurs; full-resolution chroma costs little at these sizes.
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
    // Encoding into memory fails only for sizes JPEG cannot hold, which
    // u16 rectangles never exceed.
    let _ = encoder.encode(&rgb, rect.w, rect.h, jpeg_encoder::ColorType::Rgb);
    out
}
