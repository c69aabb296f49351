//! The host's screen loop, on its own thread (capture and encoding are
//! blocking and CPU-bound): capture what changed, encode it, hand the
//! bytes to the session; send the cursor's image and position apart from
//! the picture. Paced by the viewers' acknowledgements through
//! [`RateControl`], so a slow link never fills with stale pictures:
//! changes made meanwhile are folded into the next update.

use fernhand_screen::capture::{Capture, CaptureError};
use fernhand_screen::encode::{Encoder, EncoderConfig};
use fernhand_screen::rate::{RateConfig, RateControl};
use fernhand_screen::wire::{self, CursorShape, Message, MonitorLayout};
use fernhand_screen::{Frame, Rect};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// Time between two looks at the screen.
pub const TICK: Duration = Duration::from_millis(16);
/// zlib level of the screen stream's lossless section.
const ZLIB_LEVEL: u32 = 6;

/// What the session tells the screen loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScreenCommand {
    /// A viewer has shown update `seq`.
    Ack(u32),
    /// A viewer wants the whole picture.
    Refresh,
    /// Stop capturing (view withdrawn or session over).
    Stop,
}

/// Run the loop until told to stop or the output closes. `out` takes each
/// encoded screen message.
pub fn run(
    mut capture: Box<dyn Capture>,
    commands: Receiver<ScreenCommand>,
    out: tokio::sync::mpsc::Sender<Vec<u8>>,
) -> Result<(), CaptureError> {
    let mut encoder = Encoder::new(EncoderConfig::default());
    let mut rate = RateControl::new(RateConfig::default(), encoder.quality());
    let mut frame = Frame::new(1, 1);
    let mut damage: Vec<Rect> = Vec::new();
    let mut cursor_serial = None;
    let mut cursor_at = None;
    let mut next = Instant::now();
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        match commands.recv_timeout(wait) {
            Ok(ScreenCommand::Ack(seq)) => {
                rate.acked(seq, Instant::now());
                encoder.set_quality(rate.quality());
                continue;
            }
            Ok(ScreenCommand::Refresh) => {
                encoder.request_refresh();
                continue;
            }
            Ok(ScreenCommand::Stop) | Err(RecvTimeoutError::Disconnected) => return Ok(()),
            Err(RecvTimeoutError::Timeout) => {}
        }
        next = Instant::now() + TICK;
        // Changes are gathered even while the viewers are behind, so the
        // next update carries all of them.
        damage.extend(capture.capture(&mut frame)?);
        if let Some(c) = capture.cursor()? {
            if cursor_serial != Some(c.serial)
                && c.width <= wire::MAX_CURSOR
                && c.height <= wire::MAX_CURSOR
            {
                cursor_serial = Some(c.serial);
                let shape = Message::CursorShape(CursorShape {
                    id: c.serial,
                    width: c.width,
                    height: c.height,
                    hot_x: c.hot_x,
                    hot_y: c.hot_y,
                    rgba: c.rgba.clone(),
                });
                if out.blocking_send(wire::encode(&shape, ZLIB_LEVEL)).is_err() {
                    return Ok(());
                }
            }
            let at = (c.x.max(0), c.y.max(0));
            if cursor_at != Some(at) {
                cursor_at = Some(at);
                let position = Message::CursorPosition {
                    id: c.serial,
                    x: u16::try_from(at.0).unwrap_or(0),
                    y: u16::try_from(at.1).unwrap_or(0),
                    visible: true,
                };
                if out
                    .blocking_send(wire::encode(&position, ZLIB_LEVEL))
                    .is_err()
                {
                    return Ok(());
                }
            }
        }
        if !rate.may_send() {
            continue;
        }
        let Some(update) = encoder.encode_damaged(&frame, &damage) else {
            damage.clear();
            continue;
        };
        damage.clear();
        // With every keyframe, where the monitors are: a viewer may show
        // one of them.
        if update.keyframe
            && let Some(bytes) = monitors_message(capture.as_mut(), &frame)
            && out.blocking_send(bytes).is_err()
        {
            return Ok(());
        }
        let seq = update.seq;
        let bytes = wire::encode(&Message::Update(update), ZLIB_LEVEL);
        rate.sent(seq, bytes.len(), Instant::now());
        if out.blocking_send(bytes).is_err() {
            return Ok(());
        }
    }
}

/// The Monitors message for the screen now, or `None` when the system
/// cannot say (no RandR 1.5) or has none inside the picture.
fn monitors_message(capture: &mut dyn Capture, frame: &Frame) -> Option<Vec<u8>> {
    let layout: Vec<MonitorLayout> = capture
        .monitors()
        .ok()?
        .into_iter()
        .filter(|m| !m.rect.is_empty() && m.rect.fits(frame.width(), frame.height()))
        .map(|m| MonitorLayout {
            name: m.name,
            rect: m.rect,
            primary: m.primary,
        })
        .collect();
    (!layout.is_empty()).then(|| wire::encode(&Message::Monitors(layout), ZLIB_LEVEL))
}

/// Start the loop on a thread of its own; the sender stops it.
pub fn spawn(
    capture: Box<dyn Capture>,
    out: tokio::sync::mpsc::Sender<Vec<u8>>,
) -> Sender<ScreenCommand> {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("fernhand-screen".into())
        .spawn(move || {
            if let Err(e) = run(capture, rx, out) {
                tracing::warn!(error = %e, "screen capture stopped");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "screen capture thread not started");
    }
    tx
}
