//! Fernhand's screen path (DESIGN §5): what the expert sees and does.
//!
//! - [`frame`]: pictures and rectangles;
//! - [`wire`]: the screen stream's messages, byte for byte (sans-IO);
//! - [`encode`]: the screen encoder — tiles, unchanged tiles skipped, solid
//!   and few-colour tiles lossless, photographic tiles JPEG, scrolls as
//!   copies, lossy tiles made lossless once they stop changing;
//! - [`decode`]: the reference decoder;
//! - [`cache`]: the tile cache both ends keep;
//! - [`video`]: H.264 for regions that change like video;
//! - [`rate`]: quality and pacing from a bandwidth target and the viewer's
//!   acknowledgements;
//! - [`capture`]: the capture trait and its X11 backend;
//! - [`input`]: the input-injection trait and its X11 (XTEST) backend;
//! - [`xvfb`]: a private X server for tests, benchmarks and recording.

pub mod cache;
pub mod capture;
pub mod decode;
pub mod encode;
pub mod frame;
pub mod input;
pub mod rate;
pub mod video;
pub mod wire;
mod x11;
pub mod xvfb;

pub use frame::{Frame, Rect};
