//! The screen stream's wire format (byte-exact description and examples in
//! `docs/protocol.md`, "Screen stream"). Sans-IO: messages to bytes and back,
//! every length and rectangle checked before anything is allocated or
//! written.
//!
//! All integers are big-endian. Lossless pixel data of one update (palette
//! tiles and raw tiles) travels in a single zlib stream after the
//! operations, so the tiles of one update share one compression context.
//! Updates build on each other through the tile cache and video streams:
//! a viewer that refuses one takes only a keyframe after it.

use crate::frame::Rect;
use flate2::Compression;
use flate2::write::ZlibEncoder;
use std::io::Write;
use thiserror::Error;

/// Message kinds (first byte).
pub mod kind {
    /// Host → viewer: picture update.
    pub const UPDATE: u8 = 0x01;
    /// Host → viewer: a cursor image.
    pub const CURSOR_SHAPE: u8 = 0x02;
    /// Host → viewer: where the cursor is, and which image it shows.
    pub const CURSOR_POSITION: u8 = 0x03;
    /// Host → viewer: where the monitors are on the picture.
    pub const MONITORS: u8 = 0x04;
    /// Viewer → host: update `seq` has been shown.
    pub const ACK: u8 = 0x10;
    /// Viewer → host: send the whole picture again.
    pub const REFRESH: u8 = 0x11;
}

/// Operation codes within an update.
pub mod op {
    /// Copy a rectangle of the current picture elsewhere (scrolls, moves).
    pub const COPY: u8 = 0x01;
    /// Fill a rectangle with one colour.
    pub const SOLID: u8 = 0x02;
    /// Up to 256 colours and an index per pixel (lossless).
    pub const PALETTE: u8 = 0x03;
    /// RGB per pixel (lossless).
    pub const RAW: u8 = 0x04;
    /// A baseline JPEG of exactly the rectangle's size (lossy).
    pub const JPEG: u8 = 0x05;
    /// One H.264 access unit of the video stream over the rectangle (lossy).
    pub const VIDEO: u8 = 0x06;
    /// What a tile-cache slot holds (see [`crate::cache`]).
    pub const CACHED: u8 = 0x07;
}

/// Flag bit of a video operation: it starts a new stream (an IDR picture;
/// the viewer drops the decoder of the stream before).
pub const VIDEO_NEW_STREAM: u8 = 0x01;

/// Flag bit of an update: it repaints the whole picture.
pub const FLAG_KEYFRAME: u8 = 0x01;

/// The largest picture (pixels): 8192 × 4096, enough for two 4K monitors.
pub const MAX_PIXELS: usize = 1 << 25;
/// The most bytes a message's zlib section may unpack to (a lossless
/// keyframe of the largest picture, plus palettes).
pub const MAX_UNPACKED: usize = 3 * MAX_PIXELS + (4 << 20);
/// Largest cursor image side.
pub const MAX_CURSOR: u16 = 256;

/// One drawing operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Copy `src` to (`dst_x`, `dst_y`), as through a temporary buffer.
    Copy {
        /// From.
        src: Rect,
        /// To (left).
        dst_x: u16,
        /// To (top).
        dst_y: u16,
    },
    /// Fill `rect` with `rgb` (`0x00RRGGBB`).
    Solid {
        /// Where.
        rect: Rect,
        /// Colour.
        rgb: u32,
    },
    /// `rect`'s pixels as indices into `colours` (1–256 of them).
    Palette {
        /// Where.
        rect: Rect,
        /// The colours (`0x00RRGGBB`).
        colours: Vec<u32>,
        /// One index per pixel, row by row.
        indices: Vec<u8>,
    },
    /// `rect`'s pixels as they are.
    Raw {
        /// Where.
        rect: Rect,
        /// `0x00RRGGBB`, row by row.
        pixels: Vec<u32>,
    },
    /// `rect` as a JPEG of the same size.
    Jpeg {
        /// Where.
        rect: Rect,
        /// The JPEG file.
        data: Vec<u8>,
    },
    /// `rect` as the next picture of an H.264 stream (even sides).
    Video {
        /// Where.
        rect: Rect,
        /// Whether it starts a new stream.
        new_stream: bool,
        /// One access unit, Annex B byte stream.
        data: Vec<u8>,
    },
    /// Paint what cache slot `slot` holds (of exactly `rect`'s size).
    Cached {
        /// Where.
        rect: Rect,
        /// The slot (below [`crate::cache::SLOTS`]).
        slot: u16,
    },
}

/// A picture update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// Sequence number (acknowledged by the viewer).
    pub seq: u32,
    /// Whether it repaints everything (after a resize or a refresh request).
    pub keyframe: bool,
    /// Picture width; a change resizes the viewer's picture (to black).
    pub width: u16,
    /// Picture height.
    pub height: u16,
    /// Operations, applied in order.
    pub ops: Vec<Op>,
}

/// A cursor image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CursorShape {
    /// Its id (positions name it).
    pub id: u32,
    /// Width (1–256).
    pub width: u16,
    /// Height (1–256).
    pub height: u16,
    /// Hot spot, left.
    pub hot_x: u16,
    /// Hot spot, top.
    pub hot_y: u16,
    /// RGBA bytes (straight alpha), row by row.
    pub rgba: Vec<u8>,
}

/// Most monitors a layout lists.
pub const MAX_MONITORS: usize = 16;
/// Longest monitor name, in bytes.
pub const MAX_MONITOR_NAME: usize = 64;

/// One monitor: where it is on the picture, its name, whether it is the
/// primary one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorLayout {
    /// Its name as the host's system knows it (UTF-8, ≤ 64 bytes).
    pub name: String,
    /// Where it is on the picture.
    pub rect: Rect,
    /// Whether it is the primary monitor.
    pub primary: bool,
}

/// A message of the screen stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Picture update.
    Update(Update),
    /// Cursor image.
    CursorShape(CursorShape),
    /// Cursor position and image.
    CursorPosition {
        /// Image id.
        id: u32,
        /// Hot spot position, left.
        x: u16,
        /// Hot spot position, top.
        y: u16,
        /// Whether it is shown.
        visible: bool,
    },
    /// Update `seq` has been shown.
    Ack {
        /// Its sequence number.
        seq: u32,
    },
    /// Send the whole picture.
    Refresh,
    /// The monitors of the host's screen (sent with every keyframe), so a
    /// viewer can show one of them.
    Monitors(Vec<MonitorLayout>),
}

/// Why bytes are not a screen message.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum WireError {
    /// It ends early.
    #[error("message truncated")]
    Truncated,
    /// Bytes are left over.
    #[error("{0} bytes after the end of the message")]
    Trailing(usize),
    /// Unknown message kind.
    #[error("unknown message kind {0:#04x}")]
    UnknownKind(u8),
    /// Unknown operation.
    #[error("unknown operation {0:#04x}")]
    UnknownOp(u8),
    /// A rectangle is empty or outside the picture.
    #[error("rectangle {0:?} outside a {1}×{2} picture")]
    BadRect(Rect, u16, u16),
    /// The zlib section does not unpack to what the operations need.
    #[error("pixel data: {0}")]
    BadData(&'static str),
    /// A reserved field is set.
    #[error("reserved bits set")]
    Reserved,
    /// A cursor is larger than allowed or its hot spot lies outside it.
    #[error("bad cursor image")]
    BadCursor,
    /// A palette index names no colour.
    #[error("palette index out of range")]
    BadIndex,
    /// The picture, or what the operations paint, is larger than allowed.
    #[error("update too large")]
    TooLarge,
}

/// Bits per palette index for `colours` colours.
pub fn index_bits(colours: usize) -> u8 {
    match colours {
        0..=2 => 1,
        3..=4 => 2,
        5..=16 => 4,
        _ => 8,
    }
}

/// Bytes of one packed index row.
fn packed_row(w: u16, bits: u8) -> usize {
    (usize::from(w) * usize::from(bits)).div_ceil(8)
}

struct Writer {
    head: Vec<u8>,
    section: Vec<u8>,
}

fn put_rect(out: &mut Vec<u8>, r: &Rect) {
    for v in [r.x, r.y, r.w, r.h] {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

fn put_rgb(out: &mut Vec<u8>, rgb: u32) {
    out.extend_from_slice(&rgb.to_be_bytes()[1..]);
}

fn zlib(data: &[u8], level: u32) -> Vec<u8> {
    let mut z = ZlibEncoder::new(
        Vec::with_capacity(data.len() / 4 + 64),
        Compression::new(level),
    );
    // Writing to a Vec cannot fail.
    let _ = z.write_all(data);
    z.finish().unwrap_or_default()
}

impl Writer {
    fn op(&mut self, o: &Op) {
        match o {
            Op::Copy { src, dst_x, dst_y } => {
                self.head.push(op::COPY);
                put_rect(&mut self.head, src);
                self.head.extend_from_slice(&dst_x.to_be_bytes());
                self.head.extend_from_slice(&dst_y.to_be_bytes());
            }
            Op::Solid { rect, rgb } => {
                self.head.push(op::SOLID);
                put_rect(&mut self.head, rect);
                put_rgb(&mut self.head, *rgb);
            }
            Op::Palette {
                rect,
                colours,
                indices,
            } => {
                self.head.push(op::PALETTE);
                put_rect(&mut self.head, rect);
                let n = u8::try_from(colours.len().clamp(1, 256) - 1).unwrap_or(255);
                self.head.push(n);
                for c in colours {
                    put_rgb(&mut self.section, *c);
                }
                let bits = index_bits(colours.len());
                let w = usize::from(rect.w);
                if bits == 8 {
                    self.section.extend_from_slice(indices);
                } else if w > 0 {
                    let per_byte = 8 / usize::from(bits);
                    for row in indices.chunks(w) {
                        for group in row.chunks(per_byte) {
                            let mut b = 0u8;
                            for (i, &ix) in group.iter().enumerate() {
                                let shift = 8 - usize::from(bits) * (i + 1);
                                b |= ix << shift;
                            }
                            self.section.push(b);
                        }
                    }
                }
            }
            Op::Raw { rect, pixels } => {
                self.head.push(op::RAW);
                put_rect(&mut self.head, rect);
                for p in pixels {
                    put_rgb(&mut self.section, *p);
                }
            }
            Op::Jpeg { rect, data } => {
                self.head.push(op::JPEG);
                put_rect(&mut self.head, rect);
                let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
                self.head.extend_from_slice(&len.to_be_bytes());
                self.head.extend_from_slice(data);
            }
            Op::Video {
                rect,
                new_stream,
                data,
            } => {
                self.head.push(op::VIDEO);
                put_rect(&mut self.head, rect);
                self.head
                    .push(if *new_stream { VIDEO_NEW_STREAM } else { 0 });
                let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
                self.head.extend_from_slice(&len.to_be_bytes());
                self.head.extend_from_slice(data);
            }
            Op::Cached { rect, slot } => {
                self.head.push(op::CACHED);
                put_rect(&mut self.head, rect);
                self.head.extend_from_slice(&slot.to_be_bytes());
            }
        }
    }
}

/// The bytes of `m`; `level` (0–9) is the zlib effort for pixel data.
pub fn encode(m: &Message, level: u32) -> Vec<u8> {
    let mut out = Vec::new();
    match m {
        Message::Update(u) => {
            let mut w = Writer {
                head: Vec::new(),
                section: Vec::new(),
            };
            for o in &u.ops {
                w.op(o);
            }
            let packed = if w.section.is_empty() {
                Vec::new()
            } else {
                zlib(&w.section, level)
            };
            out.push(kind::UPDATE);
            out.push(if u.keyframe { FLAG_KEYFRAME } else { 0 });
            out.extend_from_slice(&u.seq.to_be_bytes());
            out.extend_from_slice(&u.width.to_be_bytes());
            out.extend_from_slice(&u.height.to_be_bytes());
            let count = u16::try_from(u.ops.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&count.to_be_bytes());
            let (plen, ulen) = (
                u32::try_from(packed.len()).unwrap_or(u32::MAX),
                u32::try_from(w.section.len()).unwrap_or(u32::MAX),
            );
            out.extend_from_slice(&plen.to_be_bytes());
            out.extend_from_slice(&ulen.to_be_bytes());
            out.extend_from_slice(&w.head);
            out.extend_from_slice(&packed);
        }
        Message::CursorShape(c) => {
            out.push(kind::CURSOR_SHAPE);
            out.extend_from_slice(&c.id.to_be_bytes());
            for v in [c.width, c.height, c.hot_x, c.hot_y] {
                out.extend_from_slice(&v.to_be_bytes());
            }
            let packed = zlib(&c.rgba, level);
            let len = u32::try_from(packed.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&packed);
        }
        Message::CursorPosition { id, x, y, visible } => {
            out.push(kind::CURSOR_POSITION);
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&x.to_be_bytes());
            out.extend_from_slice(&y.to_be_bytes());
            out.push(u8::from(*visible));
        }
        Message::Ack { seq } => {
            out.push(kind::ACK);
            out.extend_from_slice(&seq.to_be_bytes());
        }
        Message::Refresh => out.push(kind::REFRESH),
        Message::Monitors(list) => {
            let list = list.get(..list.len().min(MAX_MONITORS)).unwrap_or_default();
            out.push(kind::MONITORS);
            out.push(u8::try_from(list.len()).unwrap_or(0));
            for m in list {
                for v in [m.rect.x, m.rect.y, m.rect.w, m.rect.h] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
                out.push(u8::from(m.primary));
                let mut end = m.name.len().min(MAX_MONITOR_NAME);
                while !m.name.is_char_boundary(end) {
                    end -= 1;
                }
                let name = m.name.get(..end).unwrap_or_default().as_bytes();
                out.push(u8::try_from(name.len()).unwrap_or(0));
                out.extend_from_slice(name);
            }
        }
    }
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.bytes.len() < n {
            return Err(WireError::Truncated);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn rect(&mut self) -> Result<Rect, WireError> {
        Ok(Rect::new(
            self.u16()?,
            self.u16()?,
            self.u16()?,
            self.u16()?,
        ))
    }
    fn finish(&self) -> Result<(), WireError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(WireError::Trailing(self.bytes.len()))
        }
    }
}

fn rgb(b: &[u8]) -> u32 {
    (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2])
}

/// Unpack zlib `packed` to exactly `expected` bytes.
fn unzlib(packed: &[u8], expected: usize) -> Result<Vec<u8>, WireError> {
    if expected > MAX_UNPACKED {
        return Err(WireError::BadData("section too large"));
    }
    if expected == 0 {
        return if packed.is_empty() {
            Ok(Vec::new())
        } else {
            Err(WireError::BadData("packed bytes for an empty section"))
        };
    }
    // Exactly one complete zlib stream, exactly `expected` bytes, nothing
    // after it.
    let mut out = Vec::with_capacity(expected);
    let mut z = flate2::Decompress::new(true);
    let status = z
        .decompress_vec(packed, &mut out, flate2::FlushDecompress::Finish)
        .map_err(|_| WireError::BadData("corrupt zlib stream"))?;
    let consumed = usize::try_from(z.total_in()).unwrap_or(usize::MAX);
    if status != flate2::Status::StreamEnd || consumed != packed.len() || out.len() != expected {
        return Err(WireError::BadData("section size differs from its header"));
    }
    Ok(out)
}

fn checked(r: Rect, width: u16, height: u16) -> Result<Rect, WireError> {
    if r.is_empty() || !r.fits(width, height) {
        return Err(WireError::BadRect(r, width, height));
    }
    Ok(r)
}

fn unpack_indices(data: &[u8], rect: Rect, bits: u8, colours: usize) -> Result<Vec<u8>, WireError> {
    let w = usize::from(rect.w);
    let row_bytes = packed_row(rect.w, bits);
    let mask = u8::try_from((1u16 << bits) - 1).unwrap_or(u8::MAX);
    let per_byte = usize::from(8 / bits);
    let mut out = Vec::with_capacity(rect.area());
    for row in data.chunks_exact(row_bytes.max(1)) {
        for x in 0..w {
            let slot = u8::try_from(x % per_byte).unwrap_or(0);
            let shift = 8 - bits * (slot + 1);
            out.push((row[x / per_byte] >> shift) & mask);
        }
    }
    if out.len() != rect.area() || out.iter().any(|&i| usize::from(i) >= colours) {
        return Err(WireError::BadIndex);
    }
    Ok(out)
}

/// The next `n` bytes of `section` from `*at`.
fn next<'a>(section: &'a [u8], at: &mut usize, n: usize) -> Result<&'a [u8], WireError> {
    let s = section
        .get(*at..at.saturating_add(n))
        .ok_or(WireError::BadData("section shorter than its operations"))?;
    *at += n;
    Ok(s)
}

fn update(r: &mut Reader<'_>) -> Result<Update, WireError> {
    let flags = r.u8()?;
    if flags & !FLAG_KEYFRAME != 0 {
        return Err(WireError::Reserved);
    }
    let seq = r.u32()?;
    let (width, height) = (r.u16()?, r.u16()?);
    let pixels = usize::from(width) * usize::from(height);
    if pixels > MAX_PIXELS {
        return Err(WireError::TooLarge);
    }
    // What the operations paint from data (palette, raw, JPEG) may cover the
    // picture once: the encoder never sends more, and the viewer's memory
    // stays bounded by the picture's size.
    let mut painted = 0usize;
    let count = r.u16()?;
    let packed_len = usize::try_from(r.u32()?).map_err(|_| WireError::Truncated)?;
    let unpacked_len = usize::try_from(r.u32()?).map_err(|_| WireError::Truncated)?;
    if unpacked_len > MAX_UNPACKED {
        return Err(WireError::BadData("section too large"));
    }
    enum Pending {
        Ready(Op),
        Palette(Rect, usize),
        Raw(Rect),
    }
    let mut pending = Vec::with_capacity(usize::from(count).min(4096));
    let mut need = 0usize;
    for _ in 0..count {
        let code = r.u8()?;
        let item = match code {
            op::COPY => {
                let src = checked(r.rect()?, width, height)?;
                let (dst_x, dst_y) = (r.u16()?, r.u16()?);
                checked(Rect::new(dst_x, dst_y, src.w, src.h), width, height)?;
                Pending::Ready(Op::Copy { src, dst_x, dst_y })
            }
            op::SOLID => {
                let rect = checked(r.rect()?, width, height)?;
                let c = r.take(3)?;
                Pending::Ready(Op::Solid { rect, rgb: rgb(c) })
            }
            op::PALETTE => {
                let rect = checked(r.rect()?, width, height)?;
                let n = usize::from(r.u8()?) + 1;
                painted = painted.saturating_add(rect.area());
                need = need
                    .saturating_add(n * 3)
                    .saturating_add(packed_row(rect.w, index_bits(n)) * usize::from(rect.h));
                Pending::Palette(rect, n)
            }
            op::RAW => {
                let rect = checked(r.rect()?, width, height)?;
                painted = painted.saturating_add(rect.area());
                need = need.saturating_add(rect.area() * 3);
                Pending::Raw(rect)
            }
            op::JPEG => {
                let rect = checked(r.rect()?, width, height)?;
                painted = painted.saturating_add(rect.area());
                let len = usize::try_from(r.u32()?).map_err(|_| WireError::Truncated)?;
                let data = r.take(len)?.to_vec();
                Pending::Ready(Op::Jpeg { rect, data })
            }
            op::VIDEO => {
                let rect = checked(r.rect()?, width, height)?;
                if !rect.w.is_multiple_of(2) || !rect.h.is_multiple_of(2) {
                    return Err(WireError::BadRect(rect, width, height));
                }
                painted = painted.saturating_add(rect.area());
                let flags = r.u8()?;
                if flags & !VIDEO_NEW_STREAM != 0 {
                    return Err(WireError::Reserved);
                }
                let len = usize::try_from(r.u32()?).map_err(|_| WireError::Truncated)?;
                let data = r.take(len)?.to_vec();
                Pending::Ready(Op::Video {
                    rect,
                    new_stream: flags & VIDEO_NEW_STREAM != 0,
                    data,
                })
            }
            op::CACHED => {
                let rect = checked(r.rect()?, width, height)?;
                painted = painted.saturating_add(rect.area());
                let slot = r.u16()?;
                if slot >= crate::cache::SLOTS || rect.area() > crate::cache::MAX_AREA {
                    return Err(WireError::BadData("no such cache slot"));
                }
                Pending::Ready(Op::Cached { rect, slot })
            }
            other => return Err(WireError::UnknownOp(other)),
        };
        if painted > pixels {
            return Err(WireError::TooLarge);
        }
        pending.push(item);
    }
    if need != unpacked_len {
        return Err(WireError::BadData(
            "section size differs from what the operations need",
        ));
    }
    let packed = r.take(packed_len)?;
    r.finish()?;
    let section = unzlib(packed, unpacked_len)?;
    let mut at = 0usize;
    let mut ops = Vec::with_capacity(pending.len());
    for p in pending {
        ops.push(match p {
            Pending::Ready(o) => o,
            Pending::Palette(rect, n) => {
                let colours = next(&section, &mut at, n * 3)?
                    .chunks_exact(3)
                    .map(rgb)
                    .collect();
                let bits = index_bits(n);
                let data = next(
                    &section,
                    &mut at,
                    packed_row(rect.w, bits) * usize::from(rect.h),
                )?;
                let indices = unpack_indices(data, rect, bits, n)?;
                Op::Palette {
                    rect,
                    colours,
                    indices,
                }
            }
            Pending::Raw(rect) => Op::Raw {
                rect,
                pixels: next(&section, &mut at, rect.area() * 3)?
                    .chunks_exact(3)
                    .map(rgb)
                    .collect(),
            },
        });
    }
    Ok(Update {
        seq,
        keyframe: flags & FLAG_KEYFRAME != 0,
        width,
        height,
        ops,
    })
}

/// Parse one message.
pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    let mut r = Reader { bytes };
    let m = match r.u8()? {
        kind::UPDATE => return update(&mut r).map(Message::Update),
        kind::CURSOR_SHAPE => {
            let id = r.u32()?;
            let (width, height, hot_x, hot_y) = (r.u16()?, r.u16()?, r.u16()?, r.u16()?);
            if width == 0
                || height == 0
                || width > MAX_CURSOR
                || height > MAX_CURSOR
                || hot_x >= width
                || hot_y >= height
            {
                return Err(WireError::BadCursor);
            }
            let len = usize::try_from(r.u32()?).map_err(|_| WireError::Truncated)?;
            let packed = r.take(len)?;
            let rgba = unzlib(packed, usize::from(width) * usize::from(height) * 4)?;
            Message::CursorShape(CursorShape {
                id,
                width,
                height,
                hot_x,
                hot_y,
                rgba,
            })
        }
        kind::CURSOR_POSITION => {
            let id = r.u32()?;
            let (x, y) = (r.u16()?, r.u16()?);
            let visible = match r.u8()? {
                0 => false,
                1 => true,
                _ => return Err(WireError::Reserved),
            };
            Message::CursorPosition { id, x, y, visible }
        }
        kind::ACK => Message::Ack { seq: r.u32()? },
        kind::REFRESH => Message::Refresh,
        kind::MONITORS => {
            let count = usize::from(r.u8()?);
            if count == 0 || count > MAX_MONITORS {
                return Err(WireError::BadData("monitor count"));
            }
            let mut list = Vec::with_capacity(count);
            for _ in 0..count {
                let rect = r.rect()?;
                if rect.is_empty() {
                    return Err(WireError::BadData("empty monitor"));
                }
                let primary = match r.u8()? {
                    0 => false,
                    1 => true,
                    _ => return Err(WireError::Reserved),
                };
                let len = usize::from(r.u8()?);
                if len > MAX_MONITOR_NAME {
                    return Err(WireError::BadData("monitor name too long"));
                }
                let name = std::str::from_utf8(r.take(len)?)
                    .map_err(|_| WireError::BadData("monitor name not UTF-8"))?
                    .to_owned();
                list.push(MonitorLayout {
                    name,
                    rect,
                    primary,
                });
            }
            Message::Monitors(list)
        }
        other => return Err(WireError::UnknownKind(other)),
    };
    r.finish()?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(width: u16, height: u16, ops: u16, packed: u32, unpacked: u32) -> Vec<u8> {
        let mut b = vec![kind::UPDATE, 0];
        b.extend_from_slice(&1u32.to_be_bytes());
        b.extend_from_slice(&width.to_be_bytes());
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&ops.to_be_bytes());
        b.extend_from_slice(&packed.to_be_bytes());
        b.extend_from_slice(&unpacked.to_be_bytes());
        b
    }

    #[test]
    fn huge_pictures_and_overpainting_are_refused_before_allocation() {
        assert_eq!(
            decode(&header(65535, 65535, 0, 0, 0)),
            Err(WireError::TooLarge)
        );
        // Two 1-colour palettes over the whole 64×64 picture: twice its area.
        let mut b = header(64, 64, 2, 0, 0);
        for _ in 0..2 {
            b.push(op::PALETTE);
            for v in [0u16, 0, 64, 64] {
                b.extend_from_slice(&v.to_be_bytes());
            }
            b.push(0);
        }
        assert_eq!(decode(&b), Err(WireError::TooLarge));
    }

    #[test]
    fn a_truncated_or_padded_zlib_section_is_refused() {
        let update = Message::Update(Update {
            seq: 1,
            keyframe: true,
            width: 8,
            height: 8,
            ops: vec![Op::Raw {
                rect: Rect::new(0, 0, 8, 8),
                pixels: (0..64).collect(),
            }],
        });
        let good = encode(&update, 6);
        assert_eq!(decode(&good), Ok(update));
        // Cut the checksum off, keeping the declared packed length honest.
        let mut cut = good.clone();
        cut.truncate(cut.len() - 2);
        let plen = u32::from_be_bytes([cut[12], cut[13], cut[14], cut[15]]) - 2;
        cut[12..16].copy_from_slice(&plen.to_be_bytes());
        assert!(matches!(decode(&cut), Err(WireError::BadData(_))));
        // A byte after the stream, inside the declared length.
        let mut padded = good;
        padded.push(0);
        let plen = u32::from_be_bytes([padded[12], padded[13], padded[14], padded[15]]) + 1;
        padded[12..16].copy_from_slice(&plen.to_be_bytes());
        assert!(matches!(decode(&padded), Err(WireError::BadData(_))));
    }
}
