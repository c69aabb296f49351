//! H.264 for regions of the screen that change like video, through
//! `openh264` (Cisco's codec, built from its bundled source).
//!
//! A video stream covers one rectangle of even width and height. Its first
//! access unit is an IDR picture; each later one is predicted from the one
//! before, so the viewer keeps one decoder per stream and starts a new one
//! when the host says the stream is new. Pixels go through BT.601
//! limited-range YCbCr 4:2:0, which the bitstream states in its VUI so a
//! browser's WebCodecs decoder converts back the same way.

use crate::frame::{Frame, Rect, pixels_from_rgb};
use openh264::OpenH264API;
use openh264::decoder::{Decoder as H264Decoder, DecoderConfig};
use openh264::encoder::{
    BitRate, Complexity, Encoder as H264Encoder, EncoderConfig as H264Config, FrameRate, QpRange,
    RateControlMode, UsageType, VuiConfig,
};
use openh264::formats::{RgbSliceU8, YUVBuffer, YUVSource};
use thiserror::Error;

/// The largest video rectangle side openh264 takes.
pub const MAX_SIDE: u16 = 3840;

/// Why a video picture cannot be made or shown.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VideoError {
    /// Width or height odd, zero or too large.
    #[error("video rectangle {0:?} must have even sides of at most 3840 × 2160")]
    BadRect(Rect),
    /// The codec refused.
    #[error("H.264: {0}")]
    Codec(String),
    /// The data held no picture.
    #[error("H.264 data held no picture")]
    NoPicture,
    /// The decoded picture's size is not the rectangle's.
    #[error("H.264 picture is {got:?}, its rectangle {want:?}")]
    Size {
        /// Decoded (width, height).
        got: (usize, usize),
        /// The rectangle.
        want: Rect,
    },
}

fn check(rect: Rect) -> Result<(), VideoError> {
    let (long, short) = (rect.w.max(rect.h), rect.w.min(rect.h));
    if rect.is_empty()
        || !rect.w.is_multiple_of(2)
        || !rect.h.is_multiple_of(2)
        || long > MAX_SIDE
        || short > 2160
    {
        return Err(VideoError::BadRect(rect));
    }
    Ok(())
}

/// The H.264 quantiser for a JPEG-style quality (1–100): 75 gives 25,
/// 100 gives 18, 1 gives 45.
pub fn qp_for_quality(quality: u8) -> u8 {
    let q = u32::from(quality.clamp(1, 100));
    u8::try_from(45 - (q - 1) * 27 / 99).unwrap_or(45)
}

/// Encodes one rectangle of successive frames as one H.264 stream.
pub struct VideoEncoder {
    rect: Rect,
    qp: u8,
    inner: H264Encoder,
    rgb: Vec<u8>,
    frames: u64,
}

impl std::fmt::Debug for VideoEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoEncoder")
            .field("rect", &self.rect)
            .field("qp", &self.qp)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl VideoEncoder {
    /// A stream over `rect` at quantiser `qp` (0–51; lower is better).
    pub fn new(rect: Rect, qp: u8) -> Result<VideoEncoder, VideoError> {
        check(rect)?;
        let qp = qp.min(51);
        let config = H264Config::new()
            .usage_type(UsageType::CameraVideoRealTime)
            .rate_control_mode(RateControlMode::Off)
            .qp(QpRange::new(qp, qp))
            .bitrate(BitRate::from_bps(50_000_000))
            .max_frame_rate(FrameRate::from_hz(60.0))
            .skip_frames(false)
            .complexity(Complexity::Low)
            .num_threads(1)
            .vui(VuiConfig::bt601());
        let inner = H264Encoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|e| VideoError::Codec(e.to_string()))?;
        Ok(VideoEncoder {
            rect,
            qp,
            inner,
            rgb: Vec::with_capacity(rect.area() * 3),
            frames: 0,
        })
    }

    /// The rectangle it covers.
    pub fn rect(&self) -> Rect {
        self.rect
    }

    /// Its quantiser.
    pub fn qp(&self) -> u8 {
        self.qp
    }

    /// The next access unit (Annex B byte stream) for the rectangle of
    /// `frame`; the first is an IDR picture with its parameter sets.
    pub fn encode(&mut self, frame: &Frame) -> Result<Vec<u8>, VideoError> {
        let r = self.rect;
        if !r.fits(frame.width(), frame.height()) {
            return Err(VideoError::BadRect(r));
        }
        self.rgb.clear();
        frame.rgb_bytes_into(r, &mut self.rgb);
        let source = RgbSliceU8::new(&self.rgb, (usize::from(r.w), usize::from(r.h)));
        let yuv = YUVBuffer::from_rgb8_source(source);
        let out = self
            .inner
            .encode(&yuv)
            .map_err(|e| VideoError::Codec(e.to_string()))?
            .to_vec();
        self.frames += 1;
        Ok(out)
    }
}

/// Decodes one stream back into pixels.
pub struct VideoDecoder {
    rect: Rect,
    inner: H264Decoder,
}

impl std::fmt::Debug for VideoDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoDecoder")
            .field("rect", &self.rect)
            .finish_non_exhaustive()
    }
}

impl VideoDecoder {
    /// A decoder for a new stream over `rect`.
    pub fn new(rect: Rect) -> Result<VideoDecoder, VideoError> {
        check(rect)?;
        let inner = H264Decoder::with_api_config(OpenH264API::from_source(), DecoderConfig::new())
            .map_err(|e| VideoError::Codec(e.to_string()))?;
        Ok(VideoDecoder { rect, inner })
    }

    /// The rectangle its stream covers.
    pub fn rect(&self) -> Rect {
        self.rect
    }

    /// The picture of one access unit, `0x00RRGGBB` row by row, exactly the
    /// rectangle's size.
    pub fn decode(&mut self, data: &[u8]) -> Result<Vec<u32>, VideoError> {
        let want = self.rect;
        let picture = self
            .inner
            .decode(data)
            .map_err(|e| VideoError::Codec(e.to_string()))?
            .ok_or(VideoError::NoPicture)?;
        let got = picture.dimensions();
        if got != (usize::from(want.w), usize::from(want.h)) {
            return Err(VideoError::Size { got, want });
        }
        let mut rgb = vec![0u8; want.area() * 3];
        picture.write_rgb8(&mut rgb);
        Ok(pixels_from_rgb(&rgb))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u16, h: u16, shift: u32) -> Frame {
        let mut f = Frame::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let (xx, yy) = (u32::from(x), u32::from(y));
                let rgb = (((xx + shift) & 0xFF) << 16) | ((yy & 0xFF) << 8) | ((xx + yy) & 0xFF);
                f.fill(Rect::new(x, y, 1, 1), rgb);
            }
        }
        f
    }

    #[test]
    fn odd_or_oversized_rectangles_are_refused() {
        assert!(matches!(
            VideoEncoder::new(Rect::new(0, 0, 63, 64), 25),
            Err(VideoError::BadRect(_))
        ));
        assert!(matches!(
            VideoDecoder::new(Rect::new(0, 0, 4000, 64)),
            Err(VideoError::BadRect(_))
        ));
    }

    #[test]
    fn a_stream_decodes_close_to_its_source() {
        let rect = Rect::new(16, 8, 128, 96);
        let mut enc = VideoEncoder::new(rect, 20).expect("encoder");
        let mut dec = VideoDecoder::new(rect).expect("decoder");
        for shift in 0..4 {
            let frame = gradient(160, 120, shift * 3);
            let au = enc.encode(&frame).expect("encode");
            let pixels = dec.decode(&au).expect("decode");
            let mut shown = frame.clone();
            assert!(shown.paste(rect, &pixels));
            let psnr = frame.psnr(&shown);
            assert!(psnr > 35.0, "frame {shift}: {psnr:.1} dB");
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_crash() {
        let mut dec = VideoDecoder::new(Rect::new(0, 0, 64, 64)).expect("decoder");
        for data in [
            &[][..],
            &[0, 0, 0, 1, 0x65, 0xFF, 0x00][..],
            &[0xFF; 64][..],
        ] {
            assert!(dec.decode(data).is_err());
        }
    }
}
