//! The reference decoder: applies updates to the viewer's picture. What the
//! scripted expert client and the tests use, and what the browser's decoder
//! is checked against.
//!
//! An update is prepared completely (every JPEG and video picture decoded
//! and its size checked) before any pixel changes, so a bad update leaves
//! the picture as it was. (A video stream's decoder has then seen the
//! access unit; the viewer asks for a refresh after any error, and the
//! host answers with a keyframe and a new stream.)

use crate::cache::{self, Entry, Slots};
use crate::frame::{Frame, Rect, pixels_from_rgb};
use crate::video::{VideoDecoder, VideoError};
use crate::wire::{Op, Update};
use thiserror::Error;
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

/// Why an update cannot be applied.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// A JPEG tile does not decode.
    #[error("JPEG tile: {0}")]
    Jpeg(String),
    /// A JPEG tile decodes to another size than its rectangle.
    #[error("JPEG tile is {got:?}, its rectangle {want:?}")]
    JpegSize {
        /// Decoded (width, height).
        got: (usize, usize),
        /// The rectangle.
        want: Rect,
    },
    /// A tile's pixel count differs from its rectangle.
    #[error("tile data does not match its rectangle")]
    TileSize,
    /// A rectangle lies outside the picture.
    #[error("rectangle outside the picture")]
    Outside,
    /// A video picture does not decode.
    #[error("video: {0}")]
    Video(#[from] VideoError),
    /// A video picture continues no stream the viewer has (or one over
    /// another rectangle).
    #[error("video picture without its stream")]
    NoStream,
    /// A cache slot is empty or holds another size.
    #[error("cache slot {0} does not hold that rectangle")]
    CacheMiss(u16),
    /// An earlier update was refused: what follows may build on it (the
    /// tile cache, a video stream), so only a keyframe is taken now.
    #[error("waiting for a keyframe after a refused update")]
    NeedsKeyframe,
}

/// Decode a baseline JPEG of exactly `rect`'s size into pixels.
pub fn jpeg_pixels(data: &[u8], rect: Rect) -> Result<Vec<u32>, ApplyError> {
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_max_width(usize::from(rect.w))
        .set_max_height(usize::from(rect.h));
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(data), options);
    let rgb = decoder
        .decode()
        .map_err(|e| ApplyError::Jpeg(format!("{e:?}")))?;
    let got = decoder.dimensions().unwrap_or((0, 0));
    if got != (usize::from(rect.w), usize::from(rect.h)) || rgb.len() != rect.area() * 3 {
        return Err(ApplyError::JpegSize { got, want: rect });
    }
    Ok(pixels_from_rgb(&rgb))
}

/// The viewer's picture.
#[derive(Debug)]
pub struct Decoder {
    picture: Frame,
    last_seq: Option<u32>,
    video: Option<VideoDecoder>,
    cache: Slots,
    /// An update was refused; until a keyframe, nothing else is applied.
    out_of_step: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            picture: Frame::new(0, 0),
            last_seq: None,
            video: None,
            cache: Slots::default(),
            out_of_step: false,
        }
    }
}

enum Ready<'a> {
    Copy(Rect, u16, u16),
    Fill(Rect, u32),
    Pixels(Rect, std::borrow::Cow<'a, [u32]>),
}

impl Decoder {
    /// A decoder with an empty picture.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// The picture as it stands.
    pub fn picture(&self) -> &Frame {
        &self.picture
    }

    /// The last update applied.
    pub fn last_seq(&self) -> Option<u32> {
        self.last_seq
    }

    /// Apply `u`. On error nothing changes, and later updates are refused
    /// until a keyframe (the viewer asks for one).
    pub fn apply(&mut self, u: &Update) -> Result<(), ApplyError> {
        if self.out_of_step && !u.keyframe {
            return Err(ApplyError::NeedsKeyframe);
        }
        let result = self.try_apply(u);
        self.out_of_step = result.is_err();
        result
    }

    fn try_apply(&mut self, u: &Update) -> Result<(), ApplyError> {
        let bounds = Rect::new(0, 0, u.width, u.height);
        let inside = |r: &Rect| !r.is_empty() && r.fits(u.width, u.height);
        let mut ready = Vec::with_capacity(u.ops.len());
        // A new stream replaces the old one only if the update applies.
        let mut new_video: Option<VideoDecoder> = None;
        let resized = self.picture.bounds() != bounds;
        // What this update stores in the cache (a keyframe empties it
        // first); lookups see what earlier operations of it stored.
        let mut staged: Vec<(u16, Entry)> = Vec::new();
        let mut next = if u.keyframe { 0 } else { self.cache.next() };
        for o in &u.ops {
            ready.push(match o {
                Op::Copy { src, dst_x, dst_y } => {
                    let dst = Rect::new(*dst_x, *dst_y, src.w, src.h);
                    if !inside(src) || !inside(&dst) {
                        return Err(ApplyError::Outside);
                    }
                    Ready::Copy(*src, *dst_x, *dst_y)
                }
                Op::Solid { rect, rgb } => {
                    if !inside(rect) {
                        return Err(ApplyError::Outside);
                    }
                    Ready::Fill(*rect, *rgb)
                }
                Op::Palette {
                    rect,
                    colours,
                    indices,
                } => {
                    if !inside(rect) {
                        return Err(ApplyError::Outside);
                    }
                    if indices.len() != rect.area() {
                        return Err(ApplyError::TileSize);
                    }
                    let pixels = indices
                        .iter()
                        .map(|&i| colours.get(usize::from(i)).copied())
                        .collect::<Option<Vec<u32>>>()
                        .ok_or(ApplyError::TileSize)?;
                    if cache::stored(*rect) {
                        let entry = Entry {
                            w: rect.w,
                            h: rect.h,
                            pixels: pixels.clone(),
                        };
                        staged.push((next, entry));
                        next = (next + 1) % cache::SLOTS;
                    }
                    Ready::Pixels(*rect, pixels.into())
                }
                Op::Cached { rect, slot } => {
                    if !inside(rect) {
                        return Err(ApplyError::Outside);
                    }
                    let entry = staged
                        .iter()
                        .rev()
                        .find(|(s, _)| s == slot)
                        .map(|(_, e)| e)
                        .or_else(|| (!u.keyframe).then(|| self.cache.get(*slot)).flatten())
                        .filter(|e| e.fits(*rect))
                        .ok_or(ApplyError::CacheMiss(*slot))?;
                    Ready::Pixels(*rect, entry.pixels.clone().into())
                }
                Op::Raw { rect, pixels } => {
                    if !inside(rect) {
                        return Err(ApplyError::Outside);
                    }
                    if pixels.len() != rect.area() {
                        return Err(ApplyError::TileSize);
                    }
                    Ready::Pixels(*rect, pixels.as_slice().into())
                }
                Op::Jpeg { rect, data } => {
                    if !inside(rect) {
                        return Err(ApplyError::Outside);
                    }
                    Ready::Pixels(*rect, jpeg_pixels(data, *rect)?.into())
                }
                Op::Video {
                    rect,
                    new_stream,
                    data,
                } => {
                    if !inside(rect) {
                        return Err(ApplyError::Outside);
                    }
                    if *new_stream {
                        new_video = Some(VideoDecoder::new(*rect)?);
                    }
                    let stream = match new_video.as_mut() {
                        Some(v) => v,
                        None if resized => return Err(ApplyError::NoStream),
                        None => self.video.as_mut().ok_or(ApplyError::NoStream)?,
                    };
                    if stream.rect() != *rect {
                        return Err(ApplyError::NoStream);
                    }
                    Ready::Pixels(*rect, stream.decode(data)?.into())
                }
            });
        }
        if resized {
            self.picture = Frame::new(u.width, u.height);
            self.video = None;
        }
        if new_video.is_some() {
            self.video = new_video;
        }
        if u.keyframe {
            self.cache.clear();
        }
        for (_, entry) in staged {
            self.cache.push(entry);
        }
        for r in ready {
            match r {
                Ready::Copy(src, x, y) => self.picture.copy_within(src, x, y),
                Ready::Fill(rect, rgb) => self.picture.fill(rect, rgb),
                Ready::Pixels(rect, pixels) => {
                    let painted = self.picture.paste(rect, &pixels);
                    debug_assert!(painted, "checked above");
                }
            }
        }
        self.last_seq = Some(u.seq);
        Ok(())
    }
}
