//! The one way this crate reaches an X display: a connection and the
//! display's default screen, shared by capture and input.

use x11rb::connection::Connection;
use x11rb::protocol::xproto::Screen;
use x11rb::rust_connection::RustConnection;

/// Connect to `display` (`None`: `$DISPLAY`); the error says why not.
pub(crate) fn open(display: Option<&str>) -> Result<(RustConnection, Screen), String> {
    let (conn, index) = x11rb::connect(display).map_err(|e| e.to_string())?;
    let screen = conn
        .setup()
        .roots
        .get(index)
        .cloned()
        .ok_or_else(|| "the display has no default screen".to_owned())?;
    Ok((conn, screen))
}
