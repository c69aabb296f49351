//! X11 capture through `x11rb` (pure Rust, no Xlib).
//!
//! XDamage reports which parts of the root window changed; only those are
//! read back (`GetImage` per changed rectangle), so a blinking cursor costs
//! a few hundred bytes, not a screenful. The screen's size is checked on
//! every capture, so a RandR resize is picked up at once. XFixes gives the
//! cursor image; RandR 1.5 the monitors.

use super::{Capture, CaptureError, Cursor, Monitor};
use crate::frame::{Frame, Rect};
use x11rb::connection::Connection;
use x11rb::protocol::damage::{self, ConnectionExt as _};
use x11rb::protocol::randr::ConnectionExt as _;
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{self, ConnectionExt as _, ImageFormat, ImageOrder};
use x11rb::rust_connection::RustConnection;

fn conn_err(e: impl std::fmt::Display) -> CaptureError {
    CaptureError::Connection(e.to_string())
}

/// Capture of one X11 screen.
pub struct X11Capture {
    conn: RustConnection,
    root: xproto::Window,
    damage: damage::Damage,
    region: xfixes::Region,
    little_endian: bool,
    size: Option<(u16, u16)>,
}

impl X11Capture {
    /// Connect to `display` (`None`: `$DISPLAY`) and start tracking damage.
    pub fn connect(display: Option<&str>) -> Result<X11Capture, CaptureError> {
        let (conn, root_screen) = crate::x11::open(display).map_err(CaptureError::NoDisplay)?;
        let setup = conn.setup();
        let root = root_screen.root;
        let depth = root_screen.root_depth;
        let format = setup
            .pixmap_formats
            .iter()
            .find(|f| f.depth == depth)
            .ok_or(CaptureError::Missing("a pixmap format for the root depth"))?;
        if !(depth == 24 || depth == 32) || format.bits_per_pixel != 32 {
            return Err(CaptureError::Format(format!(
                "depth {depth}, {} bits per pixel (24/32 at 32 bpp is read)",
                format.bits_per_pixel
            )));
        }
        let little_endian = setup.image_byte_order == ImageOrder::LSB_FIRST;
        conn.damage_query_version(1, 1)
            .map_err(conn_err)?
            .reply()
            .map_err(|_| CaptureError::Missing("DAMAGE"))?;
        conn.xfixes_query_version(5, 0)
            .map_err(conn_err)?
            .reply()
            .map_err(|_| CaptureError::Missing("XFIXES"))?;
        let damage = conn.generate_id().map_err(conn_err)?;
        conn.damage_create(damage, root, damage::ReportLevel::NON_EMPTY)
            .map_err(conn_err)?;
        let region = conn.generate_id().map_err(conn_err)?;
        conn.xfixes_create_region(region, &[]).map_err(conn_err)?;
        conn.flush().map_err(conn_err)?;
        Ok(X11Capture {
            conn,
            root,
            damage,
            region,
            little_endian,
            size: None,
        })
    }

    fn screen_size(&self) -> Result<(u16, u16), CaptureError> {
        let g = self
            .conn
            .get_geometry(self.root)
            .map_err(conn_err)?
            .reply()
            .map_err(conn_err)?;
        Ok((g.width, g.height))
    }

    /// Rectangles damaged since the last call (and the damage reset).
    fn take_damage(&self) -> Result<Vec<Rect>, CaptureError> {
        self.conn
            .damage_subtract(self.damage, x11rb::NONE, self.region)
            .map_err(conn_err)?;
        let reply = self
            .conn
            .xfixes_fetch_region(self.region)
            .map_err(conn_err)?
            .reply()
            .map_err(conn_err)?;
        // Drain damage events: the region is what counts.
        while self.conn.poll_for_event().map_err(conn_err)?.is_some() {}
        Ok(reply
            .rectangles
            .iter()
            .filter_map(|r| {
                let x = u16::try_from(r.x.max(0)).ok()?;
                let y = u16::try_from(r.y.max(0)).ok()?;
                Some(Rect::new(x, y, r.width, r.height))
            })
            .collect())
    }

    /// Read `r` from the screen into `frame`.
    fn read(&self, frame: &mut Frame, r: Rect) -> Result<(), CaptureError> {
        let r = r.intersect(&frame.bounds());
        if r.is_empty() {
            return Ok(());
        }
        let x = i16::try_from(r.x).map_err(|_| CaptureError::Format("x beyond 32767".into()))?;
        let y = i16::try_from(r.y).map_err(|_| CaptureError::Format("y beyond 32767".into()))?;
        let image = self
            .conn
            .get_image(ImageFormat::Z_PIXMAP, self.root, x, y, r.w, r.h, u32::MAX)
            .map_err(conn_err)?
            .reply()
            .map_err(conn_err)?;
        let expected = r.area() * 4;
        if image.data.len() < expected {
            return Err(CaptureError::Format(format!(
                "GetImage gave {} bytes for {expected}",
                image.data.len()
            )));
        }
        let pixels: Vec<u32> = image.data[..expected]
            .chunks_exact(4)
            .map(|b| {
                let v = [b[0], b[1], b[2], b[3]];
                let p = if self.little_endian {
                    u32::from_le_bytes(v)
                } else {
                    u32::from_be_bytes(v)
                };
                p & 0x00FF_FFFF
            })
            .collect();
        frame.paste(r, &pixels);
        Ok(())
    }
}

impl Capture for X11Capture {
    fn backend(&self) -> &'static str {
        "x11"
    }

    fn monitors(&mut self) -> Result<Vec<Monitor>, CaptureError> {
        let reply = self
            .conn
            .randr_get_monitors(self.root, true)
            .map_err(conn_err)?
            .reply()
            .map_err(|_| CaptureError::Missing("RandR 1.5"))?;
        let mut out = Vec::with_capacity(reply.monitors.len());
        for m in reply.monitors {
            let name = self
                .conn
                .get_atom_name(m.name)
                .map_err(conn_err)?
                .reply()
                .map(|n| String::from_utf8_lossy(&n.name).into_owned())
                .unwrap_or_default();
            let x = u16::try_from(m.x.max(0)).unwrap_or(0);
            let y = u16::try_from(m.y.max(0)).unwrap_or(0);
            out.push(Monitor {
                name,
                rect: Rect::new(x, y, m.width, m.height),
                primary: m.primary,
            });
        }
        Ok(out)
    }

    fn capture(&mut self, frame: &mut Frame) -> Result<Vec<Rect>, CaptureError> {
        let size = self.screen_size()?;
        let damage = self.take_damage()?;
        if self.size != Some(size) || frame.bounds() != Rect::new(0, 0, size.0, size.1) {
            self.size = Some(size);
            *frame = Frame::new(size.0, size.1);
            let all = frame.bounds();
            self.read(frame, all)?;
            return Ok(vec![all]);
        }
        let mut changed = Vec::with_capacity(damage.len());
        for r in damage {
            let r = r.intersect(&frame.bounds());
            if !r.is_empty() {
                self.read(frame, r)?;
                changed.push(r);
            }
        }
        Ok(changed)
    }

    fn cursor(&mut self) -> Result<Option<Cursor>, CaptureError> {
        let c = self
            .conn
            .xfixes_get_cursor_image()
            .map_err(conn_err)?
            .reply()
            .map_err(conn_err)?;
        if c.width == 0 || c.height == 0 {
            return Ok(None);
        }
        // XFixes gives premultiplied ARGB; the wire carries straight RGBA.
        let mut rgba = Vec::with_capacity(c.cursor_image.len() * 4);
        for &argb in &c.cursor_image {
            let [a, r, g, b] = argb.to_be_bytes();
            let un = |v: u8| {
                if a == 0 {
                    0
                } else {
                    u8::try_from((u32::from(v) * 255 + u32::from(a) / 2) / u32::from(a))
                        .unwrap_or(255)
                }
            };
            rgba.extend_from_slice(&[un(r), un(g), un(b), a]);
        }
        Ok(Some(Cursor {
            serial: c.cursor_serial,
            x: c.x,
            y: c.y,
            width: c.width,
            height: c.height,
            hot_x: c.xhot.min(c.width.saturating_sub(1)),
            hot_y: c.yhot.min(c.height.saturating_sub(1)),
            rgba,
        }))
    }
}
