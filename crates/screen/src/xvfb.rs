//! A private X server for tests, benchmarks and corpus recording: Xvfb
//! with `-noreset` (it must outlive its clients coming and going), no TCP
//! listener, and a display number the server picks itself (`-displayfd`),
//! so several can run at once. Stopped, with the clients started on it,
//! when dropped.

use std::io::{self, BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running Xvfb.
#[derive(Debug)]
pub struct Xvfb {
    child: Child,
    display: String,
    clients: Vec<Child>,
}

impl Xvfb {
    /// Start one with a `width` × `height` screen at 24 bits.
    pub fn start(width: u16, height: u16) -> io::Result<Xvfb> {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-noreset",
                "-nolisten",
                "tcp",
                "-screen",
                "0",
            ])
            .arg(format!("{width}x{height}x24"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out).read_line(&mut line)?;
        }
        let number = line.trim();
        if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other("Xvfb printed no display number"));
        }
        Ok(Xvfb {
            display: format!(":{number}"),
            child,
            clients: Vec::new(),
        })
    }

    /// Its display name (`:N`).
    pub fn display(&self) -> &str {
        &self.display
    }

    /// A command that runs on this display (UTF-8 locale).
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("DISPLAY", &self.display)
            .env("LANG", "C.UTF-8")
            .env("LC_ALL", "C.UTF-8");
        command
    }

    /// Start an X client that lives until the server is dropped.
    pub fn client(&mut self, program: &str, args: &[&str]) -> io::Result<()> {
        let child = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.clients.push(child);
        Ok(())
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        for c in &mut self.clients {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
