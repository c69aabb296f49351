//! Screen capture behind one trait, with a backend chosen at run time.
//!
//! Backends: X11 ([`x11::X11Capture`]: changed regions from XDamage, the
//! cursor from XFixes, monitors and resizes from RandR). Wayland (the
//! desktop portal's ScreenCast with PipeWire) is the next backend behind
//! the same trait, then Windows (Desktop Duplication) and macOS
//! (ScreenCaptureKit); [`open`] reports what a session offers and which
//! backends this build has.

pub mod x11;

use crate::frame::{Frame, Rect};
use thiserror::Error;

/// One monitor: a part of the captured screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Monitor {
    /// Its name (as the system knows it).
    pub name: String,
    /// Where it is on the screen.
    pub rect: Rect,
    /// Whether it is the primary monitor.
    pub primary: bool,
}

/// The cursor's image and position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// Changes whenever the image does.
    pub serial: u32,
    /// Position of the hot spot on the screen.
    pub x: i16,
    /// Position of the hot spot on the screen.
    pub y: i16,
    /// Image width.
    pub width: u16,
    /// Image height.
    pub height: u16,
    /// Hot spot within the image.
    pub hot_x: u16,
    /// Hot spot within the image.
    pub hot_y: u16,
    /// RGBA, straight alpha, row by row.
    pub rgba: Vec<u8>,
}

/// Why capture failed.
#[derive(Debug, Error)]
pub enum CaptureError {
    /// No display server this build can capture is reachable.
    #[error("no display to capture: {0}")]
    NoDisplay(String),
    /// The display server lacks something capture needs.
    #[error("the display server lacks {0}")]
    Missing(&'static str),
    /// The connection failed.
    #[error("display connection: {0}")]
    Connection(String),
    /// The screen's pixel format is not one this backend reads.
    #[error("unsupported pixel format: {0}")]
    Format(String),
}

/// A source of screen pictures.
pub trait Capture: Send {
    /// The backend's name (`x11`, …).
    fn backend(&self) -> &'static str;
    /// The monitors, left to right as the system orders them.
    fn monitors(&mut self) -> Result<Vec<Monitor>, CaptureError>;
    /// Bring `frame` up to date with the screen and return what changed
    /// since the last call. After a resolution change (and on the first
    /// call) `frame` takes the new size and the whole picture is returned as
    /// changed.
    fn capture(&mut self, frame: &mut Frame) -> Result<Vec<Rect>, CaptureError>;
    /// The cursor, if the system shows one.
    fn cursor(&mut self) -> Result<Option<Cursor>, CaptureError>;
}

/// Open the capture backend for this session: X11 when `DISPLAY` is set.
/// A Wayland session without `DISPLAY` (no XWayland) is reported as such.
pub fn open() -> Result<Box<dyn Capture>, CaptureError> {
    if std::env::var_os("DISPLAY").is_some() {
        return Ok(Box::new(x11::X11Capture::connect(None)?));
    }
    if std::env::var_os("WAYLAND_DISPLAY").is_some() {
        return Err(CaptureError::NoDisplay(
            "a Wayland session without XWayland; the Wayland backend is not in this build".into(),
        ));
    }
    Err(CaptureError::NoDisplay(
        "neither DISPLAY nor WAYLAND_DISPLAY is set".into(),
    ))
}
