//! A deployment of real processes on loopback for end-to-end tests: a
//! `fernhand server` (no in-process relay), a `fernhand relay` process that
//! can be killed and restarted, a private Xvfb with real X clients, and
//! helpers to drive command-line programs line by line.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub fn fernhand() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fernhand"))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process whose output lines the test reads and whose input it
/// writes; killed when dropped.
pub struct Program {
    pub name: String,
    pub child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    pub seen: Vec<String>,
}

impl Program {
    pub fn spawn(name: &str, mut command: Command) -> Program {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let stdin = child.stdin.take();
        let (tx, lines) = std::sync::mpsc::channel();
        let label = name.to_owned();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                eprintln!("[{label}] {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Program {
            name: name.to_owned(),
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    /// Write one line to its standard input.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Close its standard input.
    pub fn close_input(&mut self) {
        self.stdin = None;
    }

    /// The next line that satisfies `want` (earlier ones are kept in `seen`).
    pub fn wait_line(
        &mut self,
        limit: Duration,
        what: &str,
        want: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("{}: timed out waiting for {what}", self.name)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "{}: ended while waiting for {what}; saw {:?}",
                        self.name, self.seen
                    )
                }
            }
        }
    }

    /// A line satisfying `want` if one arrives within `limit`.
    pub fn try_line(&mut self, limit: Duration, want: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + limit;
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line.clone());
            if want(&line) {
                return Some(line);
            }
        }
        None
    }

    /// Wait for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "{} did not exit", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command-line expert connection: one command in, one JSON line out.
pub struct ExpertShell(pub Program);

impl ExpertShell {
    pub fn run(&mut self, command: &str, limit: Duration) -> serde_json::Value {
        self.0.send(command);
        let verb = command.split_whitespace().next().unwrap().to_owned();
        let line = self
            .0
            .wait_line(limit, &format!("the answer to {command:?}"), |l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .is_ok_and(|v| v["command"] == verb.as_str())
            });
        serde_json::from_str(&line).unwrap()
    }

    pub fn ok(&mut self, command: &str, limit: Duration) -> serde_json::Value {
        let v = self.run(command, limit);
        assert_eq!(v["ok"], true, "{command}: {v}");
        v
    }
}

/// Server and relay processes.
pub struct Deployment {
    pub dir: PathBuf,
    pub url: String,
    server: Option<Child>,
    relay: Option<Child>,
    relay_args: Vec<String>,
    server_args: Vec<String>,
    pub first_password: Option<String>,
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Deployment {
    pub fn start(name: &str) -> Deployment {
        Deployment::start_with(name, &[])
    }

    /// A deployment whose server gets `extra` arguments.
    pub fn start_with(name: &str, extra: &[String]) -> Deployment {
        let dir = std::env::temp_dir().join(format!("fernhand-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (api, link) = (free_port(), free_port());
        let data = dir.join("data");
        let mut server_args: Vec<String> = vec![
            "server".into(),
            "--data".into(),
            data.to_string_lossy().into_owned(),
            "--listen".into(),
            format!("127.0.0.1:{api}"),
            "--no-relay".into(),
            "--relay-link-listen".into(),
            format!("127.0.0.1:{link}"),
        ];
        server_args.extend(extra.iter().cloned());
        let mut server = fernhand()
            .args(&server_args)
            .env_remove("FERNHAND_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = server.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut first_password = None;
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            match rx.recv_timeout(Duration::from_millis(1500)) {
                Ok(line) => {
                    if let Some(p) = line.trim().strip_prefix("password:") {
                        first_password = Some(p.trim().to_owned());
                        break;
                    }
                }
                Err(_) if first_password.is_none() => continue,
                Err(_) => break,
            }
        }
        wait_for_port(api);
        // A relay with a certificate from the server's own deployment CA.
        let pki = data.join("pki");
        let out = fernhand()
            .args(["admin", "ca", "issue", "--dir"])
            .arg(&pki)
            .args(["--name", "relay1", "--host", "127.0.0.1", "--relay", "new"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let id = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("relay id: ").map(|s| s.trim().to_owned()))
            .unwrap();
        let (port, metrics) = (free_port(), free_port());
        let p = |f: &str| pki.join(f).to_string_lossy().into_owned();
        let relay_args: Vec<String> = vec![
            "relay".into(),
            "--id".into(),
            id,
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            "--public-url".into(),
            format!("ws://127.0.0.1:{port}/"),
            "--plain".into(),
            "--cert".into(),
            p("relay1.pem"),
            "--key".into(),
            p("relay1.key"),
            "--ca".into(),
            p("ca.pem"),
            "--broker".into(),
            format!("wss://127.0.0.1:{link}/"),
            "--metrics-listen".into(),
            format!("127.0.0.1:{metrics}"),
        ];
        let mut d = Deployment {
            dir,
            url: format!("http://127.0.0.1:{api}"),
            server: Some(server),
            relay: None,
            relay_args,
            server_args,
            first_password,
        };
        d.start_relay();
        d
    }

    pub fn start_relay(&mut self) {
        let child = fernhand()
            .args(&self.relay_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.relay = Some(child);
        let port: u16 = self.relay_args[4]
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        wait_for_port(port);
    }

    /// Kill the relay as a crash would.
    pub fn kill_relay(&mut self) {
        if let Some(mut r) = self.relay.take() {
            r.kill().unwrap();
            r.wait().unwrap();
        }
    }

    /// Kill the server as a crash would, and start it again on its data.
    pub fn restart_server(&mut self) {
        if let Some(mut s) = self.server.take() {
            s.kill().unwrap();
            s.wait().unwrap();
        }
        let child = fernhand()
            .args(&self.server_args)
            .env_remove("FERNHAND_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.server = Some(child);
        let port: u16 = self.url.rsplit(':').next().unwrap().parse().unwrap();
        wait_for_port(port);
    }

    /// Sign the first administrator in with the expert client (changing
    /// the one-time password); returns the config file.
    pub fn expert_login(&self) -> PathBuf {
        let pw = self.dir.join("pw");
        let new_pw = self.dir.join("new-pw");
        std::fs::write(&pw, self.first_password.as_deref().expect("first password")).unwrap();
        std::fs::write(&new_pw, "a long and new test passphrase").unwrap();
        let config = self.dir.join("expert.json");
        let out = fernhand()
            .args(["expert", "--config"])
            .arg(&config)
            .args([
                "login",
                "--server",
                &self.url,
                "--email",
                "admin@localhost",
                "--password-file",
            ])
            .arg(&pw)
            .arg("--new-password-file")
            .arg(&new_pw)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "login: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        config
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        self.kill_relay();
        if let Some(mut s) = self.server.take() {
            let _ = s.kill();
            let _ = s.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A single-use device enrolment token for the `default` tenant.
pub fn enrolment_token(deployment: &Deployment) -> String {
    let out = fernhand()
        .args(["admin", "enrolment-token", "--tenant", "default", "--data"])
        .arg(deployment.dir.join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `fernhand agent enroll` an unattended device named `name` into `dir`,
/// its password read from `password_file`.
pub fn enrol(
    deployment: &Deployment,
    token: &str,
    name: &str,
    password_file: &Path,
    dir: &Path,
) -> std::process::Output {
    fernhand()
        .args([
            "agent",
            "enroll",
            "--server",
            &deployment.url,
            "--token",
            token,
        ])
        .args(["--policy", "unattended", "--name", name, "--password-file"])
        .arg(password_file)
        .arg("--dir")
        .arg(dir)
        .output()
        .unwrap()
}

/// [`enrol`], which must succeed.
pub fn enrol_ok(
    deployment: &Deployment,
    token: &str,
    name: &str,
    password_file: &Path,
    dir: &Path,
) {
    let out = enrol(deployment, token, name, password_file, dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A private Xvfb (`-noreset`) with its own display number.
pub struct Xvfb {
    server: fernhand_screen::xvfb::Xvfb,
    pub display: String,
}

impl Xvfb {
    /// Start one, or `None` (test skipped) when there is no Xvfb and
    /// `FERNHAND_REQUIRE_X` is not set.
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

    /// Start an X client on this display.
    pub fn client(&mut self, program: &str, args: &[&str]) {
        self.server
            .client(program, args)
            .unwrap_or_else(|e| panic!("{program}: {e}"));
    }

    /// Run a command on this display; its output.
    pub fn run(&self, program: &str, args: &[&str]) -> String {
        let out = Command::new(program)
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Where the pointer is.
    pub fn pointer(&self) -> (i32, i32) {
        let out = self.run("xdotool", &["getmouselocation", "--shell"]);
        let get = |k: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(k))
                .and_then(|v| v.parse().ok())
                .unwrap()
        };
        (get("X="), get("Y="))
    }

    /// Wait until a window of `class` is visible.
    pub fn wait_for(&self, class: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = Command::new("xdotool")
                .args(["search", "--onlyvisible", "--class", class])
                .env("DISPLAY", &self.display)
                .output()
                .unwrap();
            if out.status.success() && !out.stdout.is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "no {class} window");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// SHA-256 of a file, hex.
pub fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// A file of `size` incompressible, reproducible bytes.
pub fn make_file(path: &Path, size: usize, seed: u8) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15 ^ u64::from(seed);
    let mut written = 0;
    let mut block = vec![0u8; 1 << 16];
    while written < size {
        for chunk in block.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
        let n = block.len().min(size - written);
        file.write_all(&block[..n]).unwrap();
        written += n;
    }
    file.flush().unwrap();
}

/// The size of the part file of an incoming transfer in `folder`, if any.
pub fn part_size(folder: &Path) -> Option<u64> {
    std::fs::read_dir(folder)
        .ok()?
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with(".fernhand-part"))
        .and_then(|e| e.metadata().ok())
        .map(|m| m.len())
}
