//! Input injection behind one trait: what the expert's pointer and keyboard
//! do, played on the customer's machine.
//!
//! Backends: X11 through XTEST ([`x11::X11Input`]). Wayland (the desktop
//! portal's RemoteDesktop), Windows (`SendInput`) and macOS (`CGEvent`) are
//! the next ones behind the same trait.

pub mod x11;

use thiserror::Error;

/// A pointer button.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Button {
    /// Left.
    Left,
    /// Middle.
    Middle,
    /// Right.
    Right,
    /// Back (side button).
    Back,
    /// Forward (side button).
    Forward,
}

/// A modifier key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Modifier {
    /// Shift.
    Shift,
    /// Control.
    Control,
    /// Alt.
    Alt,
    /// Super (Windows, Command).
    Super,
}

/// A sequence the system treats specially.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// Ctrl+Alt+Del (Windows: the secure attention sequence, sent through
    /// the system's own service; X11: the plain key combination).
    CtrlAltDel,
}

/// Why injection failed.
#[derive(Debug, Error)]
pub enum InputError {
    /// No display to inject into.
    #[error("no display: {0}")]
    NoDisplay(String),
    /// The display lacks what injection needs.
    #[error("the display server lacks {0}")]
    Missing(&'static str),
    /// The connection failed.
    #[error("display connection: {0}")]
    Connection(String),
    /// A key cannot be typed (no free key code to map it to).
    #[error("cannot type {0:?}")]
    Untypable(char),
    /// The clipboard holds something this cannot read.
    #[error("clipboard: {0}")]
    Clipboard(&'static str),
    /// A coordinate lies off the screen.
    #[error("({0}, {1}) is off the screen")]
    OffScreen(i32, i32),
}

/// Something that plays input on the local machine.
pub trait Input: Send {
    /// Move the pointer to (`x`, `y`) on the whole screen.
    fn pointer_move(&mut self, x: i32, y: i32) -> Result<(), InputError>;
    /// Press or release a button at the pointer.
    fn button(&mut self, button: Button, down: bool) -> Result<(), InputError>;
    /// Scroll: `dy` notches down (negative: up), `dx` right (negative: left).
    fn wheel(&mut self, dx: i32, dy: i32) -> Result<(), InputError>;
    /// Press or release a key by the platform's key code.
    fn key_code(&mut self, code: u32, down: bool) -> Result<(), InputError>;
    /// Press or release a modifier.
    fn modifier(&mut self, modifier: Modifier, down: bool) -> Result<(), InputError>;
    /// Type `text`, any Unicode, whatever the keyboard layout.
    fn text(&mut self, text: &str) -> Result<(), InputError>;
    /// Play a special sequence.
    fn special(&mut self, sequence: Special) -> Result<(), InputError>;
    /// The clipboard's text, if it holds text.
    fn clipboard_text(&mut self) -> Result<Option<String>, InputError>;
    /// Put `text` on the clipboard (served while this lives).
    fn set_clipboard_text(&mut self, text: &str) -> Result<(), InputError>;
}
