//! `fernhand bench agents`: one `fernhand server` (the embedded default, in
//! its own process) holding the control connections of many unattended
//! agents, against a bare WebSocket push server (`bench-node
//! agents-baseline`: the same WebSocket stack with no authentication,
//! database or sessions). Loopback only, bounded in count and time.
//!
//! Scenarios:
//! - N idle control connections (default 10,000; `FERNHAND_BENCH_AGENTS`
//!   changes it): resident memory of the server process, and how many were held;
//! - "connect" notice: an expert's `POST /api/v1/devices/{id}/connect` (a
//!   session is created, audited and the grant pushed) until the agent has
//!   the notice; the baseline pushes a message on `POST /push/{i}`. 200
//!   samples each, one at a time, spread over the agents.
//!
//! Goals: ≤ 1 GiB resident with 10,000 agents; notice p99 ≤ 100 ms.

use super::{Report, Row, rss_of};
use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const SAMPLES: usize = 200;
const CONCURRENCY: usize = 16;

fn agents() -> usize {
    std::env::var("FERNHAND_BENCH_AGENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| (1..=50_000).contains(n))
        .unwrap_or(10_000)
}

/// A child process under test, killed when dropped.
struct Process {
    child: Child,
    _data: Option<TempDir>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Start `fernhand server` on loopback with a fresh data folder; returns the
/// process, its URL and the first administrator's one-time password.
fn start_server() -> anyhow::Result<(Process, String, String)> {
    let data = std::env::temp_dir().join(format!("fernhand-bench-agents-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "server",
            "--listen",
            "127.0.0.1:0",
            "--relay-listen",
            "127.0.0.1:0",
        ])
        .args([
            "--relay-link-listen",
            "127.0.0.1:0",
            "--enrol-per-minute",
            "10000000",
        ])
        .args(["--login-per-minute", "1000", "--data"])
        .arg(&data)
        .env("FERNHAND_LOG", "error")
        .env_remove("FERNHAND_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting fernhand server")?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let guard = Process {
        child,
        _data: Some(TempDir(data)),
    };
    let mut lines = BufReader::new(stdout).lines();
    let (mut url, mut password) = (None, None);
    for line in lines.by_ref() {
        let line = line?;
        if let Some(u) = line.strip_prefix("Fernhand is running at ") {
            url = Some(u.trim().to_owned());
        }
        if let Some(p) = line.trim().strip_prefix("password:") {
            password = Some(p.trim().to_owned());
            break;
        }
    }
    // Keep draining so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    match (url, password) {
        (Some(u), Some(p)) => Ok((guard, u, p)),
        _ => bail!("the server did not print its URL and first sign-in"),
    }
}

fn start_baseline() -> anyhow::Result<(Process, String)> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["bench-node", "agents-baseline"])
        .env("FERNHAND_LOG", "error")
        // As many workers as the server's default runtime has.
        .env(
            "FERNHAND_BENCH_NODE_THREADS",
            std::thread::available_parallelism()
                .map_or(1, usize::from)
                .to_string(),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the baseline")?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr: std::net::SocketAddr = line
        .trim()
        .parse()
        .context("reading the baseline's address")?;
    Ok((Process { child, _data: None }, format!("http://{addr}")))
}

/// A signed-in administrator.
struct Admin {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl Admin {
    async fn sign_in(base: &str, password: &str) -> anyhow::Result<Admin> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(CONCURRENCY)
            .build()?;
        let login = |password: String| {
            let http = http.clone();
            let base = base.to_owned();
            async move {
                let res = http
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({"tenant": "default", "email": "admin@localhost", "password": password}))
                    .send()
                    .await?;
                let cookie = res
                    .headers()
                    .get("set-cookie")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(';').next())
                    .map(str::to_owned)
                    .ok_or_else(|| anyhow!("no session cookie"))?;
                let body: Value = res.json().await?;
                let csrf = body["csrf_token"]
                    .as_str()
                    .ok_or_else(|| anyhow!("no CSRF token"))?
                    .to_owned();
                anyhow::Ok((cookie, csrf))
            }
        };
        let (cookie, csrf) = login(password.to_owned()).await?;
        let admin = Admin {
            http: http.clone(),
            base: base.to_owned(),
            cookie,
            csrf,
        };
        let new_password = "bench passphrase that is long enough";
        admin
            .post(
                "/api/v1/me/password",
                json!({"current": password, "new": new_password}),
            )
            .await?;
        Ok(admin)
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await?;
        let status = res.status();
        let text = res.text().await?;
        if !status.is_success() {
            bail!("{path}: {status} {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// Enrol `n` devices; returns (device id, credential) pairs.
async fn enrol(admin: &Admin, n: usize) -> anyhow::Result<Vec<(String, String)>> {
    let admin = &admin;
    let enrolled: Vec<anyhow::Result<(String, String)>> = futures_util::stream::iter(0..n)
        .map(|i| async move {
            let token = admin.post("/api/v1/enrolment-tokens", json!({"ttl_seconds": 3600})).await?;
            let token = token["token"].as_str().ok_or_else(|| anyhow!("no token"))?;
            let res = admin
                .post(
                    "/api/v1/enrol",
                    json!({"token": token, "name": format!("bench-{i}"), "os": "bench", "policy": "unattended"}),
                )
                .await?;
            let id = res["device"]["id"].as_str().ok_or_else(|| anyhow!("no device id"))?;
            let credential = res["credential"].as_str().ok_or_else(|| anyhow!("no credential"))?;
            Ok((id.to_owned(), credential.to_owned()))
        })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    enrolled.into_iter().collect()
}

/// Hold one control connection: answer nothing, ping every 30 s, report
/// when a notice of `kind` arrives.
async fn hold(
    url: String,
    bearer: Option<String>,
    index: usize,
    notices: mpsc::UnboundedSender<(usize, Instant)>,
    up: mpsc::Sender<()>,
) -> anyhow::Result<()> {
    let mut req = url.into_client_request()?;
    if let Some(b) = bearer {
        req.headers_mut()
            .insert("authorization", format!("Bearer {b}").parse()?);
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
    let _ = up.send(()).await;
    drop(up);
    let mut ping = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_millis(20_000 + (index as u64 * 7) % 10_000),
        Duration::from_secs(30),
    );
    loop {
        tokio::select! {
            m = ws.next() => match m {
                Some(Ok(Message::Text(t))) => {
                    if t.contains("\"connect\"") || t.as_str() == "push" {
                        let _ = notices.send((index, Instant::now()));
                    }
                }
                Some(Ok(_)) => {}
                _ => return Ok(()),
            },
            _ = ping.tick() => {
                ws.send(Message::Text(r#"{"type":"ping"}"#.into())).await?;
            }
        }
    }
}

struct World {
    rss: u64,
    held: usize,
    p50: f64,
    p99: f64,
}

/// Connect `targets` control connections, read the process's memory, then
/// take latency samples with `trigger(i)`.
async fn measure<F, Fut>(
    pid: u32,
    ws_url: impl Fn(usize) -> (String, Option<String>),
    n: usize,
    trigger: F,
) -> anyhow::Result<World>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let (notice_tx, mut notices) = mpsc::unbounded_channel();
    let (up_tx, mut up) = mpsc::channel(n.max(1));
    let mut tasks = Vec::with_capacity(n);
    let gate = Arc::new(tokio::sync::Semaphore::new(64));
    for i in 0..n {
        let (url, bearer) = ws_url(i);
        let notices = notice_tx.clone();
        let up = up_tx.clone();
        let permit = gate.clone().acquire_owned().await?;
        tasks.push(tokio::spawn(async move {
            let held = hold(url, bearer, i, notices, up);
            // The permit is released once connected (or failed).
            drop(permit);
            held.await
        }));
    }
    drop(up_tx);
    let mut held = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while held < n && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), up.recv()).await {
            Ok(Some(())) => held += 1,
            Ok(None) => break,
            Err(_) => {}
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = rss_of(pid)?;
    let mut samples = Vec::with_capacity(SAMPLES);
    for k in 0..SAMPLES {
        let i = (k * 7919) % n;
        let t0 = Instant::now();
        trigger(i).await?;
        let arrived = loop {
            let (who, at) = tokio::time::timeout(Duration::from_secs(10), notices.recv())
                .await
                .context("a notice never arrived")?
                .ok_or_else(|| anyhow!("notices closed"))?;
            if who == i {
                break at;
            }
        };
        samples.push(arrived.duration_since(t0).as_secs_f64() * 1000.0);
    }
    for t in tasks {
        t.abort();
    }
    samples.sort_by(f64::total_cmp);
    // Nearest-rank quantile over at most a few hundred samples.
    let q = |per_mille: usize| samples[(samples.len() - 1) * per_mille / 1000];
    Ok(World {
        rss,
        held,
        p50: q(500),
        p99: q(990),
    })
}

pub fn run() -> anyhow::Result<Report> {
    fernhand_pki::install_default_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let n = agents();
        // Ours.
        let (server, base, password) = start_server()?;
        let admin = Admin::sign_in(&base, &password).await?;
        let started = Instant::now();
        let devices = enrol(&admin, n).await?;
        let enrol_rate = n as f64 / started.elapsed().as_secs_f64();
        let ws_base = base.replacen("http", "ws", 1);
        let ours = measure(
            server.child.id(),
            |i| {
                (
                    format!("{ws_base}/api/v1/agent/control"),
                    Some(devices[i].1.clone()),
                )
            },
            n,
            |i| {
                let admin = &admin;
                let id = devices[i].0.clone();
                async move {
                    admin
                        .post(&format!("/api/v1/devices/{id}/connect"), json!({}))
                        .await
                        .map(drop)
                }
            },
        )
        .await?;
        drop(server);

        // Baseline.
        let (node, base) = start_baseline()?;
        let http = reqwest::Client::new();
        let ws_base = base.replacen("http", "ws", 1);
        let baseline = measure(
            node.child.id(),
            |i| (format!("{ws_base}/ws/{i}"), None),
            n,
            |i| {
                let http = http.clone();
                let url = format!("{base}/push/{i}");
                async move {
                    let res = http.post(url).send().await?;
                    anyhow::ensure!(res.status().is_success(), "push: {}", res.status());
                    Ok(())
                }
            },
        )
        .await?;
        drop(node);

        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        let rows = vec![
            Row {
                scenario: format!("{n} agents: resident memory"),
                unit: "MiB",
                ours: mib(ours.rss),
                baseline: mib(baseline.rss),
                baseline_name: "bare WebSocket push server",
                higher_is_better: false,
                extra: vec![
                    ("agents", json!(n)),
                    ("held_ours", json!(ours.held)),
                    ("held_baseline", json!(baseline.held)),
                    ("goal_mib", json!(1024)),
                    ("enrolments_per_second", json!(enrol_rate.round())),
                ],
            },
            Row {
                scenario: "connect notice p50".into(),
                unit: "ms",
                ours: ours.p50,
                baseline: baseline.p50,
                baseline_name: "bare WebSocket push server",
                higher_is_better: false,
                extra: vec![("samples", json!(SAMPLES))],
            },
            Row {
                scenario: "connect notice p99".into(),
                unit: "ms",
                ours: ours.p99,
                baseline: baseline.p99,
                baseline_name: "bare WebSocket push server",
                higher_is_better: false,
                extra: vec![("samples", json!(SAMPLES)), ("goal_ms", json!(100))],
            },
        ];
        let memory_ok = n < 10_000 || ours.rss <= 1024 * 1024 * 1024;
        let conclusion = format!(
            "{} of {n} agents held, {:.0} MiB resident ({}), notice p99 {:.1} ms ({})",
            ours.held,
            mib(ours.rss),
            if n < 10_000 {
                "goal is for 10,000"
            } else if memory_ok {
                "goal ≤ 1024 met"
            } else {
                "goal ≤ 1024 NOT met"
            },
            ours.p99,
            if ours.p99 <= 100.0 {
                "goal ≤ 100 met"
            } else {
                "goal ≤ 100 NOT met"
            },
        );
        Ok(Report {
            area: "agents",
            rows,
            headline: 2,
            conclusion,
        })
    })
}
