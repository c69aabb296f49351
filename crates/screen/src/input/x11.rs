//! X11 input through XTEST, and the CLIPBOARD selection.
//!
//! Text is typed by key symbol: a character the keyboard map has is typed
//! with its key (and Shift when it sits on the shifted level); one it lacks
//! (é on a US map, €, any script) is bound for a moment to a spare key code
//! with `ChangeKeyboardMapping`, typed, and the spare code is cleared again
//! at the end, so Unicode text arrives whatever the layout.
//!
//! The clipboard is served from a thread with its own connection and an
//! invisible window that owns the CLIPBOARD selection while this lives.

use super::{Button, Input, InputError, Modifier, Special};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    self, AtomEnum, ConnectionExt as _, CreateWindowAux, EventMask, PropMode, WindowClass,
};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

fn conn_err(e: impl std::fmt::Display) -> InputError {
    InputError::Connection(e.to_string())
}

/// Key symbols used here.
mod keysym {
    pub const RETURN: u32 = 0xff0d;
    pub const TAB: u32 = 0xff09;
    pub const BACKSPACE: u32 = 0xff08;
    pub const DELETE: u32 = 0xffff;
    pub const SHIFT_L: u32 = 0xffe1;
    pub const CONTROL_L: u32 = 0xffe3;
    pub const ALT_L: u32 = 0xffe9;
    pub const SUPER_L: u32 = 0xffeb;
}

/// The key symbol that types `c`.
pub fn keysym_of(c: char) -> u32 {
    let cp = u32::from(c);
    match c {
        '\n' | '\r' => keysym::RETURN,
        '\t' => keysym::TAB,
        '\u{8}' => keysym::BACKSPACE,
        _ if (0x20..=0x7e).contains(&cp) || (0xa0..=0xff).contains(&cp) => cp,
        _ => 0x0100_0000 | cp,
    }
}

struct Keymap {
    min: u8,
    per_code: u8,
    syms: Vec<u32>,
}

impl Keymap {
    fn load(conn: &RustConnection) -> Result<Keymap, InputError> {
        let setup = conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let reply = conn
            .get_keyboard_mapping(min, max - min + 1)
            .map_err(conn_err)?
            .reply()
            .map_err(conn_err)?;
        Ok(Keymap {
            min,
            per_code: reply.keysyms_per_keycode,
            syms: reply.keysyms,
        })
    }

    /// (key code, shifted) that types `sym`.
    fn find(&self, sym: u32) -> Option<(u8, bool)> {
        let per = usize::from(self.per_code.max(1));
        for (i, codes) in self.syms.chunks(per).enumerate() {
            for (level, &s) in codes.iter().take(2).enumerate() {
                if s == sym {
                    let code = u8::try_from(usize::from(self.min) + i).ok()?;
                    return Some((code, level == 1));
                }
            }
        }
        None
    }

    /// A key code with no symbols, to borrow.
    fn spare(&self) -> Option<u8> {
        let per = usize::from(self.per_code.max(1));
        self.syms
            .chunks(per)
            .enumerate()
            .rev()
            .find(|(_, codes)| codes.iter().all(|&s| s == 0))
            .and_then(|(i, _)| u8::try_from(usize::from(self.min) + i).ok())
    }
}

/// XTEST input on one X display.
pub struct X11Input {
    conn: RustConnection,
    root: xproto::Window,
    size: (u16, u16),
    keymap: Keymap,
    clipboard: Option<ClipboardOwner>,
    display: Option<String>,
}

impl X11Input {
    /// Connect to `display` (`None`: `$DISPLAY`).
    pub fn connect(display: Option<&str>) -> Result<X11Input, InputError> {
        let (conn, root_screen) = crate::x11::open(display).map_err(InputError::NoDisplay)?;
        let root = root_screen.root;
        let size = (root_screen.width_in_pixels, root_screen.height_in_pixels);
        conn.xtest_get_version(2, 2)
            .map_err(conn_err)?
            .reply()
            .map_err(|_| InputError::Missing("XTEST"))?;
        let keymap = Keymap::load(&conn)?;
        Ok(X11Input {
            conn,
            root,
            size,
            keymap,
            clipboard: None,
            display: display.map(str::to_owned),
        })
    }

    fn fake(&self, kind: u8, detail: u8, x: i16, y: i16) -> Result<(), InputError> {
        self.conn
            .xtest_fake_input(kind, detail, 0, self.root, x, y, 0)
            .map_err(conn_err)?;
        Ok(())
    }

    /// Wait until the server has handled everything sent so far.
    fn sync(&self) -> Result<(), InputError> {
        self.conn.sync().map_err(conn_err)
    }

    fn key(&self, code: u8, down: bool) -> Result<(), InputError> {
        let kind = if down {
            xproto::KEY_PRESS_EVENT
        } else {
            xproto::KEY_RELEASE_EVENT
        };
        self.fake(kind, code, 0, 0)
    }

    fn tap_sym(&mut self, sym: u32, c: char) -> Result<(), InputError> {
        if let Some((code, shifted)) = self.keymap.find(sym) {
            let shift = self.keymap.find(keysym::SHIFT_L).map(|(s, _)| s);
            if shifted && let Some(s) = shift {
                self.key(s, true)?;
            }
            self.key(code, true)?;
            self.key(code, false)?;
            if shifted && let Some(s) = shift {
                self.key(s, false)?;
            }
            return Ok(());
        }
        // Borrow a spare key code for this symbol.
        let spare = self.keymap.spare().ok_or(InputError::Untypable(c))?;
        self.remap(spare, sym)?;
        self.key(spare, true)?;
        self.key(spare, false)?;
        self.sync()?;
        // Clients look the symbol up when they read the event: give them
        // time before the code changes meaning again.
        std::thread::sleep(Duration::from_millis(30));
        self.remap(spare, 0)?;
        Ok(())
    }

    fn remap(&mut self, code: u8, sym: u32) -> Result<(), InputError> {
        let per = self.keymap.per_code.max(1);
        let mut syms = vec![0u32; usize::from(per)];
        if sym != 0 {
            syms[0] = sym;
            if per > 1 {
                syms[1] = sym;
            }
        }
        self.conn
            .change_keyboard_mapping(1, code, per, &syms)
            .map_err(conn_err)?;
        let at = usize::from(code - self.keymap.min) * usize::from(per);
        if let Some(slot) = self.keymap.syms.get_mut(at..at + usize::from(per)) {
            slot.copy_from_slice(&syms);
        }
        self.sync()?;
        if sym != 0 {
            std::thread::sleep(Duration::from_millis(30));
        }
        Ok(())
    }

    /// Reload the keyboard map if it changed (another layout chosen, or
    /// our own borrowed codes): drains the events this connection got.
    fn refresh_keymap(&mut self) -> Result<(), InputError> {
        let mut changed = false;
        while let Some(event) = self.conn.poll_for_event().map_err(conn_err)? {
            changed |= matches!(event, Event::MappingNotify(_));
        }
        if changed {
            self.keymap = Keymap::load(&self.conn)?;
        }
        Ok(())
    }

    fn modifier_code(&self, m: Modifier) -> Result<u8, InputError> {
        let sym = match m {
            Modifier::Shift => keysym::SHIFT_L,
            Modifier::Control => keysym::CONTROL_L,
            Modifier::Alt => keysym::ALT_L,
            Modifier::Super => keysym::SUPER_L,
        };
        self.keymap
            .find(sym)
            .map(|(c, _)| c)
            .ok_or(InputError::Missing("a modifier key in the keyboard map"))
    }
}

impl Input for X11Input {
    fn pointer_move(&mut self, x: i32, y: i32) -> Result<(), InputError> {
        let inside =
            (0..i32::from(self.size.0)).contains(&x) && (0..i32::from(self.size.1)).contains(&y);
        let (Ok(px), Ok(py)) = (i16::try_from(x), i16::try_from(y)) else {
            return Err(InputError::OffScreen(x, y));
        };
        if !inside {
            // The screen may have grown since we connected: ask again.
            let g = self
                .conn
                .get_geometry(self.root)
                .map_err(conn_err)?
                .reply()
                .map_err(conn_err)?;
            self.size = (g.width, g.height);
            if !((0..i32::from(g.width)).contains(&x) && (0..i32::from(g.height)).contains(&y)) {
                return Err(InputError::OffScreen(x, y));
            }
        }
        self.fake(xproto::MOTION_NOTIFY_EVENT, 0, px, py)?;
        self.sync()
    }

    fn button(&mut self, button: Button, down: bool) -> Result<(), InputError> {
        let detail = match button {
            Button::Left => 1,
            Button::Middle => 2,
            Button::Right => 3,
            Button::Back => 8,
            Button::Forward => 9,
        };
        let kind = if down {
            xproto::BUTTON_PRESS_EVENT
        } else {
            xproto::BUTTON_RELEASE_EVENT
        };
        self.fake(kind, detail, 0, 0)?;
        self.sync()
    }

    fn wheel(&mut self, dx: i32, dy: i32) -> Result<(), InputError> {
        // X11 wheels are buttons: 4 up, 5 down, 6 left, 7 right.
        for (n, button) in [
            (dy, if dy < 0 { 4 } else { 5 }),
            (dx, if dx < 0 { 6 } else { 7 }),
        ] {
            for _ in 0..n.unsigned_abs().min(100) {
                self.fake(xproto::BUTTON_PRESS_EVENT, button, 0, 0)?;
                self.fake(xproto::BUTTON_RELEASE_EVENT, button, 0, 0)?;
            }
        }
        self.sync()
    }

    fn key_code(&mut self, code: u32, down: bool) -> Result<(), InputError> {
        let code = u8::try_from(code).map_err(|_| InputError::Missing("that key code"))?;
        self.key(code, down)?;
        self.sync()
    }

    fn modifier(&mut self, modifier: Modifier, down: bool) -> Result<(), InputError> {
        let code = self.modifier_code(modifier)?;
        self.key(code, down)?;
        self.sync()
    }

    fn text(&mut self, text: &str) -> Result<(), InputError> {
        self.refresh_keymap()?;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            // "\r\n" is one line break, not two.
            if c == '\r' && chars.peek() == Some(&'\n') {
                continue;
            }
            self.tap_sym(keysym_of(c), c)?;
        }
        self.sync()
    }

    fn special(&mut self, sequence: Special) -> Result<(), InputError> {
        match sequence {
            Special::CtrlAltDel => {
                let (ctrl, alt) = (
                    self.modifier_code(Modifier::Control)?,
                    self.modifier_code(Modifier::Alt)?,
                );
                let del = self
                    .keymap
                    .find(keysym::DELETE)
                    .map(|(c, _)| c)
                    .ok_or(InputError::Missing("a Delete key in the keyboard map"))?;
                for (code, down) in [
                    (ctrl, true),
                    (alt, true),
                    (del, true),
                    (del, false),
                    (alt, false),
                    (ctrl, false),
                ] {
                    self.key(code, down)?;
                }
                self.sync()
            }
        }
    }

    fn clipboard_text(&mut self) -> Result<Option<String>, InputError> {
        if let Some(owner) = &self.clipboard
            && owner.active.load(Ordering::Acquire)
        {
            // Still ours unless another client took it a moment ago.
            let now = self
                .conn
                .get_selection_owner(atom(&self.conn, "CLIPBOARD")?)
                .map_err(conn_err)?
                .reply()
                .map_err(conn_err)?
                .owner;
            if now == owner.window {
                return Ok(Some(owner.text.clone()));
            }
        }
        read_clipboard(&self.conn, self.root)
    }

    fn set_clipboard_text(&mut self, text: &str) -> Result<(), InputError> {
        self.clipboard = Some(ClipboardOwner::start(self.display.as_deref(), text)?);
        Ok(())
    }
}

fn atom(conn: &RustConnection, name: &str) -> Result<xproto::Atom, InputError> {
    Ok(conn
        .intern_atom(false, name.as_bytes())
        .map_err(conn_err)?
        .reply()
        .map_err(conn_err)?
        .atom)
}

/// Ask the CLIPBOARD's owner for UTF-8 text (1 s at most).
fn read_clipboard(
    conn: &RustConnection,
    root: xproto::Window,
) -> Result<Option<String>, InputError> {
    let (clipboard, utf8, property) = (
        atom(conn, "CLIPBOARD")?,
        atom(conn, "UTF8_STRING")?,
        atom(conn, "FERNHAND_CLIPBOARD")?,
    );
    let window = conn.generate_id().map_err(conn_err)?;
    conn.create_window(
        0,
        window,
        root,
        0,
        0,
        1,
        1,
        0,
        WindowClass::INPUT_ONLY,
        0,
        &CreateWindowAux::new().event_mask(EventMask::PROPERTY_CHANGE),
    )
    .map_err(conn_err)?;
    conn.convert_selection(window, clipboard, utf8, property, x11rb::CURRENT_TIME)
        .map_err(conn_err)?;
    conn.flush().map_err(conn_err)?;
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut result = Ok(None);
    while Instant::now() < deadline {
        match conn.poll_for_event().map_err(conn_err)? {
            Some(Event::SelectionNotify(n)) if n.requestor == window => {
                if n.property != x11rb::NONE {
                    let reply = conn
                        .get_property(true, window, property, AtomEnum::ANY, 0, 16 << 20)
                        .map_err(conn_err)?
                        .reply()
                        .map_err(conn_err)?;
                    // Text larger than one property comes in pieces (INCR),
                    // which this does not collect: refuse rather than return
                    // the size header as text.
                    result = if reply.type_ == utf8 || reply.type_ == u32::from(AtomEnum::STRING) {
                        Ok(Some(String::from_utf8_lossy(&reply.value).into_owned()))
                    } else {
                        Err(InputError::Clipboard("text too large or not text"))
                    };
                }
                break;
            }
            Some(_) => {}
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    let _ = conn.destroy_window(window);
    let _ = conn.flush();
    result
}

/// Owns the CLIPBOARD with some text, answering requests from a thread.
struct ClipboardOwner {
    text: String,
    window: xproto::Window,
    active: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl ClipboardOwner {
    fn start(display: Option<&str>, text: &str) -> Result<ClipboardOwner, InputError> {
        let (conn, screen) = crate::x11::open(display).map_err(InputError::NoDisplay)?;
        let root = screen.root;
        let atoms = [
            atom(&conn, "CLIPBOARD")?,
            atom(&conn, "UTF8_STRING")?,
            atom(&conn, "TARGETS")?,
            atom(&conn, "TEXT")?,
        ];
        let window = conn.generate_id().map_err(conn_err)?;
        conn.create_window(
            0,
            window,
            root,
            0,
            0,
            1,
            1,
            0,
            WindowClass::INPUT_ONLY,
            0,
            &CreateWindowAux::new(),
        )
        .map_err(conn_err)?;
        conn.set_selection_owner(window, atoms[0], x11rb::CURRENT_TIME)
            .map_err(conn_err)?;
        let owner = conn
            .get_selection_owner(atoms[0])
            .map_err(conn_err)?
            .reply()
            .map_err(conn_err)?
            .owner;
        if owner != window {
            return Err(InputError::Connection(
                "could not take the clipboard".into(),
            ));
        }
        let active = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s, bytes) = (active.clone(), stop.clone(), text.as_bytes().to_vec());
        std::thread::spawn(move || serve_clipboard(&conn, window, atoms, &bytes, &a, &s));
        Ok(ClipboardOwner {
            text: text.to_owned(),
            window,
            active,
            stop,
        })
    }
}

impl Drop for ClipboardOwner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

fn serve_clipboard(
    conn: &RustConnection,
    window: xproto::Window,
    [clipboard, utf8, targets, text_atom]: [xproto::Atom; 4],
    text: &[u8],
    active: &AtomicBool,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Acquire) {
        let event = match conn.poll_for_event() {
            Ok(Some(e)) => e,
            Ok(None) => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            Err(_) => break,
        };
        match event {
            Event::SelectionClear(c) if c.selection == clipboard => break,
            Event::SelectionRequest(r) => {
                let property = if r.property == x11rb::NONE {
                    r.target
                } else {
                    r.property
                };
                let answered = if r.target == targets {
                    let list = [targets, utf8, u32::from(AtomEnum::STRING), text_atom];
                    conn.change_property32(
                        PropMode::REPLACE,
                        r.requestor,
                        property,
                        AtomEnum::ATOM,
                        &list,
                    )
                    .is_ok()
                } else if r.target == utf8
                    || r.target == text_atom
                    || r.target == u32::from(AtomEnum::STRING)
                {
                    conn.change_property8(PropMode::REPLACE, r.requestor, property, r.target, text)
                        .is_ok()
                } else {
                    false
                };
                let notify = xproto::SelectionNotifyEvent {
                    response_type: xproto::SELECTION_NOTIFY_EVENT,
                    sequence: 0,
                    time: r.time,
                    requestor: r.requestor,
                    selection: r.selection,
                    target: r.target,
                    property: if answered { property } else { x11rb::NONE },
                };
                let _ = conn.send_event(false, r.requestor, EventMask::NO_EVENT, notify);
                let _ = conn.flush();
            }
            _ => {}
        }
    }
    active.store(false, Ordering::Release);
    let _ = conn.destroy_window(window);
    let _ = conn.flush();
}
