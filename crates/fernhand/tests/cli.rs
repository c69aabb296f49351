//! The `fernhand` command line, run as a user runs it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation
)]

use std::process::Command;

fn fernhand() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fernhand"))
}

/// A `fernhand server` child process, killed when dropped.
struct Server {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Server {
    fn start(data: &std::path::Path) -> Server {
        let mut child = fernhand()
            .args([
                "server",
                "--listen",
                "127.0.0.1:0",
                "--relay-listen",
                "127.0.0.1:0",
            ])
            .args(["--relay-link-listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .env_remove("FERNHAND_DATABASE_URL")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server { child, lines }
    }

    /// Lines printed until the relay-link line (the last of the banner).
    fn banner(&self) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(std::time::Duration::from_secs(60))
                .expect("server banner");
            let last = line.starts_with("Relays register at");
            out.push(line);
            if last {
                // The first-start block follows at once when there is one.
                while let Ok(more) = self
                    .lines
                    .recv_timeout(std::time::Duration::from_millis(500))
                {
                    out.push(more);
                }
                return out;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on a fresh connection; returns status and body.
fn http(base: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let host = base.strip_prefix("http://").unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn field<'a>(lines: &'a [String], prefix: &str) -> Option<&'a str> {
    lines
        .iter()
        .find_map(|l| l.trim().strip_prefix(prefix))
        .map(str::trim)
}

#[test]
fn server_starts_embedded_prints_a_one_time_login_once_and_keeps_its_data() {
    let data = std::env::temp_dir().join(format!("fernhand-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);

    let server = Server::start(&data);
    let banner = server.banner();
    let url = field(&banner, "Fernhand is running at")
        .expect("URL")
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{banner:?}");
    assert!(field(&banner, "In-process relay:").is_some_and(|r| r.starts_with("ws://127.0.0.1:")));
    let password = field(&banner, "password:")
        .expect("one-time password")
        .to_owned();
    assert!(password.len() >= 20);
    let login =
        format!(r#"{{"tenant":"default","email":"admin@localhost","password":"{password}"}}"#);
    let (status, body) = http(&url, "POST", "/api/v1/auth/login", &login);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(r#""password_change_required":true"#),
        "{body}"
    );
    let (status, _) = http(&url, "GET", "/healthz", "");
    assert_eq!(status, 200);
    drop(server);

    // Second start on the same data: no new password, the old one still works.
    let server = Server::start(&data);
    let banner = server.banner();
    assert!(field(&banner, "password:").is_none(), "{banner:?}");
    let url = field(&banner, "Fernhand is running at").unwrap().to_owned();
    let (status, body) = http(&url, "POST", "/api/v1/auth/login", &login);
    assert_eq!(status, 200, "{body}");
    drop(server);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("keys/seal.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::remove_dir_all(&data).unwrap();
}

#[test]
fn server_reports_a_busy_port_clearly() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let data = std::env::temp_dir().join(format!("fernhand-cli-busy-{}", std::process::id()));
    let out = fernhand()
        .args(["server", "--listen", &addr, "--relay-listen", "127.0.0.1:0"])
        .args(["--relay-link-listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .env_remove("FERNHAND_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("cannot listen on"), "{stderr}");
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn bench_rejects_a_nonsense_duration() {
    let out = fernhand()
        .args(["bench", "e2e", "--seconds", "-1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// Run a `bench … --json` command; its lines, each one JSON object.
fn bench_json(command: &mut Command) -> Vec<serde_json::Value> {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect()
}

#[test]
fn bench_e2e_json_has_every_scenario_and_a_summary() {
    // A functional check of the report's shape with a tiny budget; the
    // figures themselves are not judged here.
    let lines = bench_json(fernhand().args(["bench", "e2e", "--json", "--seconds", "0.01"]));
    let (summary, scenarios) = lines.split_last().unwrap();
    assert_eq!(summary["summary"], true);
    assert_eq!(summary["headline"], "seal 1 KiB");
    for name in [
        "seal 64 B",
        "open 64 B",
        "seal 1 KiB",
        "open 1 KiB",
        "seal 16 KiB",
        "open 16 KiB",
        "seal 64 KiB",
        "open 64 KiB",
    ] {
        let row = scenarios
            .iter()
            .find(|r| r["scenario"] == name)
            .unwrap_or_else(|| panic!("scenario {name} missing"));
        assert_eq!(row["unit"], "MB/s");
        assert!(row["ours"].as_f64().unwrap() > 0.0);
        assert!(row["baseline"].as_f64().unwrap() > 0.0);
    }
    let joins = scenarios.iter().filter(|r| r["unit"] == "ms/join").count();
    assert_eq!(joins, 3, "one join row per suite");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run_ok(args: &[&str]) -> String {
    let out = fernhand().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_relay_made_with_the_admin_ca_registers_over_mutual_tls() {
    let dir = std::env::temp_dir().join(format!("fernhand-cli-ca-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    run_ok(&["admin", "ca", "init", "--dir", d]);
    // A second init must not overwrite the CA.
    assert!(
        !fernhand()
            .args(["admin", "ca", "init", "--dir", d])
            .output()
            .unwrap()
            .status
            .success()
    );
    run_ok(&[
        "admin",
        "ca",
        "issue",
        "--dir",
        d,
        "--name",
        "control",
        "--host",
        "127.0.0.1",
        "--usage",
        "server",
    ]);
    let issued = run_ok(&[
        "admin",
        "ca",
        "issue",
        "--dir",
        d,
        "--name",
        "relay1",
        "--host",
        "127.0.0.1",
        "--relay",
        "new",
    ]);
    let id = issued
        .lines()
        .find_map(|l| l.strip_prefix("relay id: "))
        .unwrap()
        .trim()
        .to_owned();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let store = runtime.block_on(fernhand_store::Store::embedded(&dir.join("broker.db")));
    let store = store.unwrap();
    let security = fernhand_server::security_log::SecurityLog::new(
        store.clone(),
        None,
        std::sync::Arc::new(fernhand_server::app::metrics::ServerMetrics::new(false)),
    );
    let broker = fernhand_server::broker::Broker::new(
        ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]),
        fernhand_server::broker::BrokerConfig::default(),
        store,
        security,
    )
    .unwrap();
    let relays = || runtime.block_on(broker.relays()).unwrap();
    let mtls = fernhand_pki::server_config(
        &read("control.pem"),
        &read("control.key"),
        Some(&read("ca.pem")),
    )
    .unwrap();
    let link_port = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(fernhand_server::broker::relay_link::serve_relay_links(
            listener,
            std::sync::Arc::new(mtls),
            broker.clone(),
        ));
        port
    });
    let (port, metrics) = (free_port(), free_port());
    let relay_args = |relay_id: &str| {
        vec![
            "relay".to_owned(),
            "--id".into(),
            relay_id.to_owned(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            "--public-url".into(),
            format!("ws://127.0.0.1:{port}/"),
            "--plain".into(),
            "--cert".into(),
            format!("{d}/relay1.pem"),
            "--key".into(),
            format!("{d}/relay1.key"),
            "--ca".into(),
            format!("{d}/ca.pem"),
            "--broker".into(),
            format!("wss://127.0.0.1:{link_port}/"),
            "--metrics-listen".into(),
            format!("127.0.0.1:{metrics}"),
        ]
    };

    // A certificate for one relay cannot register another.
    let impostor = fernhand()
        .args(relay_args(&"ab".repeat(16)))
        .output()
        .unwrap();
    assert!(!impostor.status.success());
    assert!(
        String::from_utf8_lossy(&impostor.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&impostor.stderr)
    );

    let mut child = fernhand().args(relay_args(&id)).spawn().unwrap();
    let registered = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        relays().iter().any(|r| r.id.to_string() == id && r.healthy)
    });
    assert!(registered, "the relay registered");
    assert_eq!(relays().len(), 1, "the impostor never registered");
    let text = runtime.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", metrics))
            .await
            .unwrap();
        tcp.write_all(b"GET /metrics HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let mut body = String::new();
        tcp.read_to_string(&mut body).await.unwrap();
        body
    });
    assert!(text.contains("fernhand_relay_sessions 0"), "{text}");
    child.kill().unwrap();
    child.wait().unwrap();
    let gone = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        relays().iter().all(|r| !r.healthy)
    });
    assert!(gone, "a dead relay leaves placement");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bench_agents_json_reports_memory_and_notice_latency_for_a_few_agents() {
    // The report's shape with 20 agents; the figures are judged in
    // docs/benchmarks.md, not here.
    let lines = bench_json(
        fernhand()
            .args(["bench", "agents", "--json"])
            .env("FERNHAND_BENCH_AGENTS", "20"),
    );
    assert_eq!(lines.len(), 4, "three scenarios and a summary");
    assert_eq!(lines[0]["held_ours"], 20);
    assert_eq!(lines[0]["held_baseline"], 20);
    assert!(
        lines[0]["ours"].as_f64().unwrap() > 1.0,
        "resident MiB read from /proc"
    );
    assert_eq!(lines[3]["summary"], true);
    assert_eq!(lines[3]["headline"], "connect notice p99");
}

fn admin(args: &[&str], data: &std::path::Path) -> (bool, String) {
    let out = fernhand()
        .arg("admin")
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("FERNHAND_DATABASE_URL")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn printed_password(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("a password line")
        .trim()
        .to_owned()
}

fn login(url: &str, tenant: &str, email: &str, password: &str) -> u16 {
    let body = format!(r#"{{"tenant":"{tenant}","email":"{email}","password":"{password}"}}"#);
    http(url, "POST", "/api/v1/auth/login", &body).0
}

#[test]
fn admin_commands_work_beside_a_running_server_and_a_backup_restores() {
    let data = std::env::temp_dir().join(format!("fernhand-cli-admin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let (ok, text) = admin(
        &[
            "tenant",
            "create",
            "--slug",
            "x",
            "--name",
            "X",
            "--admin-email",
            "a@x",
        ],
        &data,
    );
    assert!(!ok && text.contains("no database"), "{text}");

    let server = Server::start(&data);
    let url = field(&server.banner(), "Fernhand is running at")
        .unwrap()
        .to_owned();
    let (ok, text) = admin(
        &[
            "tenant",
            "create",
            "--slug",
            "acme",
            "--name",
            "Acme",
            "--admin-email",
            "boss@acme.example",
        ],
        &data,
    );
    assert!(ok, "{text}");
    let boss = printed_password(&text);
    assert_eq!(login(&url, "acme", "boss@acme.example", &boss), 200);
    let (ok, text) = admin(
        &[
            "tenant",
            "create",
            "--slug",
            "acme",
            "--name",
            "Again",
            "--admin-email",
            "b@acme.example",
        ],
        &data,
    );
    assert!(!ok && text.contains("already exists"), "{text}");
    let (ok, text) = admin(
        &[
            "user",
            "reset-mfa",
            "--tenant",
            "acme",
            "--email",
            "boss@acme.example",
        ],
        &data,
    );
    assert!(ok, "{text}");
    let (ok, text) = admin(&["enrolment-token", "--tenant", "acme"], &data);
    assert!(ok && text.trim().starts_with("fhe_"), "{text}");
    let enrol = format!(r#"{{"token":"{}","name":"pc","os":"linux"}}"#, text.trim());
    assert_eq!(http(&url, "POST", "/api/v1/enrol", &enrol).0, 201);

    // Incoming mail from a Maildir: a new message raises an incident, and
    // the read message is not read again.
    let maildir = data.join("mail");
    std::fs::create_dir_all(maildir.join("new")).unwrap();
    std::fs::write(
        maildir.join("new/1.host"),
        "From: Maria <maria@example.com>\r\nSubject: VPN drops\r\nMessage-ID: <m1@example.com>\r\n\r\nEvery hour.\r\n",
    )
    .unwrap();
    let mail_args = ["mail-intake", "--tenant", "acme", "--maildir"];
    let (ok, text) = admin(
        &[&mail_args[..], &[maildir.to_str().unwrap()]].concat(),
        &data,
    );
    assert!(ok && text.contains("1.host: raised INC-1"), "{text}");
    assert!(maildir.join("cur/1.host:2,S").exists());
    let (ok, text) = admin(
        &[&mail_args[..], &[maildir.to_str().unwrap()]].concat(),
        &data,
    );
    assert!(ok && text.contains("0 message(s) read"), "{text}");

    // Tickets from a GLPI export keep their numbers.
    let export = data.join("glpi.csv");
    std::fs::write(
        &export,
        "ID;Title;Status;Priority\n77;Old printer ticket;Closed;Low\n78;;New;Low\n",
    )
    .unwrap();
    let (ok, text) = admin(
        &[
            "desk-import",
            "--tenant",
            "acme",
            "--from",
            "glpi",
            export.to_str().unwrap(),
        ],
        &data,
    );
    assert!(
        ok && text.contains("1 ticket(s) imported, 0 already in the desk, 1 line(s) skipped"),
        "{text}"
    );
    assert!(text.contains("line 3: skipped: no title"), "{text}");

    // The tenant's data key: rotating a tenant that has none makes version
    // 1, the next rotation 2; an unknown tenant is refused.
    let (ok, text) = admin(&["rotate-tenant-key", "--tenant", "acme"], &data);
    assert!(ok && text.contains("data key version 1 seals"), "{text}");
    let (ok, text) = admin(&["rotate-tenant-key", "--tenant", "acme"], &data);
    assert!(ok && text.contains("data key version 2 seals"), "{text}");
    let (ok, text) = admin(&["rotate-tenant-key", "--tenant", "nobody"], &data);
    assert!(!ok && text.contains("no tenant"), "{text}");

    // Operator tokens: printed once, listed without the secret, revocable.
    let (ok, token) = admin(
        &["operator-token", "create", "--name", "night shift"],
        &data,
    );
    assert!(ok && token.trim().starts_with("fho_"), "{token}");
    let (ok, listed) = admin(&["operator-token", "list"], &data);
    assert!(ok && listed.contains("night shift\tlive"), "{listed}");
    assert!(!listed.contains(token.trim().trim_start_matches("fho_")));
    let id = listed.split('\t').next().unwrap().trim().to_owned();
    let (ok, text) = admin(&["operator-token", "revoke", "--id", &id], &data);
    assert!(ok, "{text}");
    let (ok, listed) = admin(&["operator-token", "list"], &data);
    assert!(ok && listed.contains("night shift\trevoked"), "{listed}");
    let (ok, _) = admin(&["operator-token", "revoke", "--id", &id], &data);
    assert!(!ok, "a revoked token cannot be revoked again");

    // An online backup, then a user made after it.
    let backup = data.with_extension("backup.db");
    let _ = std::fs::remove_file(&backup);
    let (ok, text) = admin(&["backup", "--to", backup.to_str().unwrap()], &data);
    assert!(ok, "{text}");
    let (ok, _) = admin(&["backup", "--to", backup.to_str().unwrap()], &data);
    assert!(!ok, "a backup is never overwritten");
    let (ok, text) = admin(
        &[
            "user",
            "create",
            "--tenant",
            "acme",
            "--email",
            "late@acme.example",
            "--name",
            "Late",
            "--role",
            "expert",
        ],
        &data,
    );
    assert!(ok, "{text}");
    let late = printed_password(&text);
    assert_eq!(login(&url, "acme", "late@acme.example", &late), 200);
    drop(server);

    // A damaged file is refused and changes nothing; the backup restores.
    let junk = data.with_extension("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    let (ok, _) = admin(&["restore", "--from", junk.to_str().unwrap()], &data);
    assert!(!ok);
    let (ok, text) = admin(&["restore", "--from", backup.to_str().unwrap()], &data);
    assert!(ok, "{text}");
    let server = Server::start(&data);
    let url = field(&server.banner(), "Fernhand is running at")
        .unwrap()
        .to_owned();
    assert_eq!(
        login(&url, "acme", "boss@acme.example", &boss),
        200,
        "restored"
    );
    assert_eq!(
        login(&url, "acme", "late@acme.example", &late),
        401,
        "made after the backup"
    );
    drop(server);
    for f in [&backup, &junk] {
        std::fs::remove_file(f).unwrap();
    }
    std::fs::remove_dir_all(&data).unwrap();
}

/// A tiny corpus in the documented format: sub-folders of numbered PNGs.
fn write_corpus(dir: &std::path::Path) {
    for (name, frames) in [("terminal-tiny", 3u8), ("photo-tiny", 2)] {
        let seq = dir.join(name);
        std::fs::create_dir_all(&seq).unwrap();
        for i in 0..frames {
            let file = std::fs::File::create(seq.join(format!("{i:05}.png"))).unwrap();
            let mut e = png::Encoder::new(file, 96, 64);
            e.set_color(png::ColorType::Rgb);
            e.set_depth(png::BitDepth::Eight);
            let mut w = e.write_header().unwrap();
            let data: Vec<u8> = (0..96 * 64 * 3)
                .map(|p: u32| {
                    if name.starts_with("photo") {
                        ((p / 3 % 96 + p / 288 + u32::from(i) * 5) % 256) as u8
                    } else if (p / 288 + u32::from(i)).is_multiple_of(7) {
                        0
                    } else {
                        255
                    }
                })
                .collect();
            w.write_image_data(&data).unwrap();
        }
    }
}

#[test]
fn bench_codec_json_reports_every_sequence_against_its_baselines() {
    let dir = std::env::temp_dir().join(format!("fernhand-corpus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    write_corpus(&dir);
    let lines = bench_json(
        fernhand()
            .args(["bench", "codec", "--json", "--corpus"])
            .arg(&dir),
    );
    let (summary, scenarios) = lines.split_last().unwrap();
    assert_eq!(summary["summary"], true);
    assert_eq!(summary["headline"], "text sequences bytes/frame");
    for name in [
        "terminal-tiny bytes/frame",
        "terminal-tiny encode p50",
        "photo-tiny bytes/frame",
    ] {
        let row = scenarios
            .iter()
            .find(|s| s["scenario"] == name)
            .unwrap_or_else(|| panic!("{name}"));
        assert!(row["ours"].as_f64().unwrap() > 0.0, "{row}");
        assert!(row["baseline"].as_f64().unwrap() > 0.0, "{row}");
    }
    let terminal = scenarios
        .iter()
        .find(|s| s["scenario"] == "terminal-tiny bytes/frame")
        .unwrap();
    assert_eq!(terminal["lossy_frames"], 0, "text stays lossless");
    assert_eq!(terminal["frames"], 3);
    // A folder without sequences is a clear error.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = fernhand()
        .args(["bench", "codec", "--corpus"])
        .arg(&empty)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no sequences"));
    std::fs::remove_dir_all(&dir).unwrap();
}
