//! A private Xvfb per test (`-noreset`, its own display number chosen by
//! the server with `-displayfd`), and readers for what the stock X tools
//! print. Without Xvfb the tests are skipped, unless `FERNHAND_REQUIRE_X`
//! is set (as `scripts/test` does), when they fail.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt as _, MapState};

pub struct Xvfb {
    server: fernhand_screen::xvfb::Xvfb,
    pub display: String,
}

impl Xvfb {
    /// A server with one screen of `width` × `height` at 24 bits.
    pub fn start(width: u16, height: u16) -> Option<Xvfb> {
        match fernhand_screen::xvfb::Xvfb::start(width, height) {
            Ok(server) => Some(Xvfb {
                display: server.display().to_owned(),
                server,
            }),
            Err(e) => {
                assert!(
                    std::env::var_os("FERNHAND_REQUIRE_X").is_none(),
                    "FERNHAND_REQUIRE_X is set but Xvfb cannot start: {e}"
                );
                eprintln!("skipped: no Xvfb ({e})");
                None
            }
        }
    }

    /// Run an X client on this display (ended with the server).
    pub fn client(&mut self, program: &str, args: &[&str]) {
        self.server
            .client(program, args)
            .unwrap_or_else(|e| panic!("{program}: {e}"));
    }

    /// Run an X client whose standard output the test reads.
    pub fn client_output(&mut self, program: &str, args: &[&str]) -> Child {
        Command::new(program)
            .args(args)
            .env("DISPLAY", &self.display)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"))
    }

    /// Wait until `count` top-level windows are mapped (10 s at most).
    pub fn wait_for_windows(&self, count: usize) {
        let (conn, screen) = x11rb::connect(Some(&self.display)).unwrap();
        let root = conn.setup().roots[screen].root;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let tree = conn.query_tree(root).unwrap().reply().unwrap();
            let mapped = tree
                .children
                .iter()
                .filter(|&&w| {
                    conn.get_window_attributes(w)
                        .ok()
                        .and_then(|c| c.reply().ok())
                        .is_some_and(|a| a.map_state == MapState::VIEWABLE)
                })
                .count();
            if mapped >= count {
                return;
            }
            assert!(Instant::now() < deadline, "only {mapped} windows mapped");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Run a command on this display and wait for it.
    pub fn run(&self, program: &str, args: &[&str]) -> Vec<u8> {
        let out = Command::new(program)
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}

/// The picture in an XWD file (as `xwd -root` writes it), as `0x00RRGGBB`.
pub fn parse_xwd(bytes: &[u8]) -> (u16, u16, Vec<u32>) {
    let field = |i: usize| u32::from_be_bytes(bytes[i * 4..i * 4 + 4].try_into().unwrap());
    let header_size = field(0) as usize;
    assert_eq!(field(1), 7, "XWD version");
    assert_eq!(field(2), 2, "ZPixmap");
    assert_eq!(field(11), 32, "32 bits per pixel");
    let (width, height) = (field(4) as usize, field(5) as usize);
    let lsb_first = field(7) == 0;
    let bytes_per_line = field(12) as usize;
    let ncolors = field(19) as usize;
    let start = header_size + ncolors * 12;
    let mut pixels = Vec::with_capacity(width * height);
    for y in 0..height {
        let row = &bytes[start + y * bytes_per_line..start + y * bytes_per_line + width * 4];
        for p in row.chunks_exact(4) {
            let v = [p[0], p[1], p[2], p[3]];
            let v = if lsb_first {
                u32::from_le_bytes(v)
            } else {
                u32::from_be_bytes(v)
            };
            pixels.push(v & 0x00FF_FFFF);
        }
    }
    (
        u16::try_from(width).unwrap(),
        u16::try_from(height).unwrap(),
        pixels,
    )
}
