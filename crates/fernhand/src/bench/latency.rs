//! `fernhand bench latency`: glass to glass. A test client paints a square
//! on the agent's 1920×1080 X screen at a recorded time; the scripted
//! expert's side notices it in its decoded picture. Ours: the agent's
//! capture → screen codec → end-to-end encryption → relay process →
//! decryption → reference decoder. Baseline, in the same run on the same
//! display with the same capture tick: the changed pixels sent raw over a
//! loopback TCP socket (no codec, no encryption, no relay), as the floor
//! any remote desktop pays for capturing.

use super::relay::{Node, ticket};
use super::relay_node::BENCH_RELAY;
use super::{Report, Row};
use anyhow::{Context, anyhow};
use fernhand_agent::console::{Action, Notice};
use fernhand_agent::host::{self, HostOptions};
use fernhand_agent::screen_host::TICK;
use fernhand_client::expert::Expert;
use fernhand_client::runtime::Session;
use fernhand_e2e::{JoinCode, Policy, Suite, Verifier, VerifierStore};
use fernhand_protocol::{Endpoint, EndpointConfig, MemberId, RelayId, SessionId};
use fernhand_relay::{RelayTicket, TicketSource};
use fernhand_screen::Frame;
use fernhand_screen::capture::Capture;
use fernhand_screen::capture::x11::X11Capture;
use fernhand_screen::xvfb::Xvfb;
use serde_json::json;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ChangeGCAux, ConnectionExt as _, CreateGCAux, Rectangle};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

const WIDTH: u16 = 1920;
const HEIGHT: u16 = 1080;
const SQUARE: u16 = 64;
const SAMPLES: usize = 200;
/// A sample not seen within this long counts as lost.
const GIVE_UP: Duration = Duration::from_secs(3);

/// The test client: fills squares on the root window.
struct Painter {
    conn: RustConnection,
    root: u32,
    gc: u32,
}

impl Painter {
    fn connect(display: &str) -> anyhow::Result<Painter> {
        let (conn, screen) = x11rb::connect(Some(display))?;
        let root = conn.setup().roots[screen].root;
        let gc = conn.generate_id()?;
        conn.create_gc(gc, root, &CreateGCAux::new().foreground(0))?;
        conn.sync()?;
        Ok(Painter { conn, root, gc })
    }

    /// Paint sample `i`; returns its colour, where to look, and when the
    /// X server had drawn it.
    fn paint(&self, i: usize) -> anyhow::Result<(u32, (u16, u16), Instant)> {
        let colour = 0x0010_2030 + (u32::try_from(i).unwrap_or(0) * 0x0001_0307) % 0x00EF_EFEF;
        let x = u16::try_from((i * 197) % usize::from(WIDTH - SQUARE)).unwrap_or(0);
        let y = u16::try_from((i * 113) % usize::from(HEIGHT - SQUARE)).unwrap_or(0);
        self.conn
            .change_gc(self.gc, &ChangeGCAux::new().foreground(colour))?;
        self.conn.poly_fill_rectangle(
            self.root,
            self.gc,
            &[Rectangle {
                x: i16::try_from(x).unwrap_or(0),
                y: i16::try_from(y).unwrap_or(0),
                width: SQUARE,
                height: SQUARE,
            }],
        )?;
        self.conn.sync()?;
        Ok((colour, (x + SQUARE / 2, y + SQUARE / 2), Instant::now()))
    }
}

/// 20–52 ms, spread evenly over the samples: two capture ticks of phase,
/// so a change lands anywhere in the tick.
fn pause_after(i: usize) -> Duration {
    Duration::from_micros(20_000 + ((i as u64 * 7919) % 33) * 1000)
}

fn pixel(frame: &Frame, (x, y): (u16, u16)) -> Option<u32> {
    frame
        .pixels()
        .get(usize::from(y) * usize::from(frame.width()) + usize::from(x))
        .copied()
}

struct StaticTicket(RelayTicket);

impl TicketSource for StaticTicket {
    async fn fetch(&self, _: Option<RelayId>) -> Result<RelayTicket, String> {
        Ok(self.0.clone())
    }
}

/// Ours: agent host and expert through the relay process.
async fn ours(display: &str, relay: std::net::SocketAddr) -> anyhow::Result<Vec<f64>> {
    let session = SessionId::random()?;
    let code = JoinCode::for_locator("424242")?;
    let suite = Suite::Srp3072Aes256HmacSha256;
    let policy = Policy::only(&[suite]);
    let mut store = VerifierStore::new(policy.clone());
    store.insert(Verifier::new(&policy, &code.identity(), code.secret())?);
    let leader = Endpoint::leader(
        session,
        MemberId(1),
        suite,
        store,
        EndpointConfig::default(),
    )?;
    let joiner = Endpoint::joiner(
        session,
        MemberId(2),
        MemberId(1),
        policy,
        &code.identity(),
        code.secret(),
        EndpointConfig::default(),
    )?;
    let source = |member| {
        StaticTicket(RelayTicket {
            relay: BENCH_RELAY,
            url: format!("ws://{relay}/"),
            ticket: ticket(session, member),
        })
    };
    let expert_session = Session::start(leader, source(1), None).await?;
    let agent_session = Session::start(joiner, source(2), None).await?;
    let folder = std::env::temp_dir();
    let display_owned = display.to_owned();
    let options = HostOptions {
        folder: folder.clone(),
        grant_without_asking: true,
        capture: Box::new(move || {
            X11Capture::connect(Some(&display_owned)).map(|c| Box::new(c) as Box<dyn Capture>)
        }),
        input: None,
        consent_timeout: Duration::from_secs(30),
        reboot: None,
        on_join: None,
        scanner: Arc::new(fernhand_privacy::malware::Scanners::builtin()),
    };
    let (_actions, actions_rx) = tokio::sync::mpsc::channel::<Action>(1);
    let (notices, mut notices_rx) = tokio::sync::mpsc::unbounded_channel::<Notice>();
    tokio::spawn(async move { while notices_rx.recv().await.is_some() {} });
    let agent = tokio::spawn(host::run(
        agent_session,
        MemberId(1),
        options,
        actions_rx,
        notices,
    ));
    let mut expert = Expert::new(expert_session, true, "bench", &folder);
    expert.wait_for_host(Duration::from_secs(30)).await?;
    expert
        .settled(Duration::from_millis(300), Duration::from_secs(30))
        .await?;
    let painter = Painter::connect(display)?;
    let mut samples = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let (colour, at, t0) = painter.paint(i)?;
        let seen = loop {
            if pixel(expert.picture(), at) == Some(colour) {
                break Some(t0.elapsed());
            }
            if t0.elapsed() > GIVE_UP {
                break None;
            }
            expert.step(Duration::from_millis(1)).await;
        };
        if let Some(d) = seen {
            samples.push(d.as_secs_f64() * 1000.0);
        }
        // Let acknowledgements flow before the next change, for a time
        // that does not lock the painting to the capture's tick.
        let pause = Instant::now() + pause_after(i);
        while Instant::now() < pause {
            expert.step(Duration::from_millis(5)).await;
        }
    }
    expert.end("bench done").await;
    let _ = tokio::time::timeout(Duration::from_secs(5), agent).await;
    Ok(samples)
}

/// Baseline: the same capture, raw changed pixels over loopback TCP.
fn baseline(display: &str) -> anyhow::Result<Vec<f64>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let stop_sender = stop.clone();
    let display_owned = display.to_owned();
    let sender = std::thread::spawn(move || -> anyhow::Result<()> {
        let mut capture = X11Capture::connect(Some(&display_owned))?;
        let mut tcp = TcpStream::connect(addr)?;
        tcp.set_nodelay(true)?;
        let mut frame = Frame::new(1, 1);
        let mut next = Instant::now();
        while !stop_sender.load(Ordering::Relaxed) {
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            next = Instant::now() + TICK;
            for r in capture.capture(&mut frame)? {
                let mut out = Vec::with_capacity(8 + r.area() * 4);
                for v in [r.x, r.y, r.w, r.h] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
                for row in r.y..r.y + r.h {
                    let start = usize::from(row) * usize::from(frame.width()) + usize::from(r.x);
                    for p in &frame.pixels()[start..start + usize::from(r.w)] {
                        out.extend_from_slice(&p.to_le_bytes());
                    }
                }
                tcp.write_all(&out)?;
            }
        }
        Ok(())
    });
    let (mut tcp, _) = listener.accept()?;
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(Duration::from_millis(1)))?;
    let mut picture = Frame::new(WIDTH, HEIGHT);
    let mut buffer: Vec<u8> = Vec::new();
    let mut read = |picture: &mut Frame| -> anyhow::Result<()> {
        let mut chunk = [0u8; 1 << 16];
        match tcp.read(&mut chunk) {
            Ok(0) => return Err(anyhow!("baseline sender closed")),
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e.into()),
        }
        while buffer.len() >= 8 {
            let v = |i: usize| u16::from_be_bytes([buffer[i], buffer[i + 1]]);
            let r = fernhand_screen::Rect::new(v(0), v(2), v(4), v(6));
            let need = 8 + r.area() * 4;
            if buffer.len() < need {
                break;
            }
            let pixels: Vec<u32> = buffer[8..need]
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            picture.paste(r, &pixels);
            buffer.drain(..need);
        }
        Ok(())
    };
    // The first capture is the whole screen.
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(500) {
        read(&mut picture)?;
    }
    let painter = Painter::connect(display)?;
    let mut samples = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let (colour, at, t0) = painter.paint(SAMPLES + i)?;
        loop {
            if pixel(&picture, at) == Some(colour) {
                samples.push(t0.elapsed().as_secs_f64() * 1000.0);
                break;
            }
            if t0.elapsed() > GIVE_UP {
                break;
            }
            read(&mut picture)?;
        }
        let pause = Instant::now() + pause_after(i);
        while Instant::now() < pause {
            read(&mut picture)?;
        }
    }
    stop.store(true, Ordering::Relaxed);
    drop(tcp);
    let _ = sender.join();
    Ok(samples)
}

/// The `per_mille`th quantile of sorted samples.
fn quantile(sorted: &[f64], per_mille: usize) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return f64::NAN;
    };
    sorted[((last * per_mille + 500) / 1000).min(last)]
}

pub fn run() -> anyhow::Result<Report> {
    let xvfb =
        Xvfb::start(WIDTH, HEIGHT).context("bench latency needs Xvfb (Debian package xvfb)")?;
    let node = Node::start("relay")?;
    let runtime = tokio::runtime::Runtime::new()?;
    let mut ours = runtime.block_on(ours(xvfb.display(), node.addr))?;
    let mut base = baseline(xvfb.display())?;
    ours.sort_by(f64::total_cmp);
    base.sort_by(f64::total_cmp);
    let lost = SAMPLES - ours.len();
    let row = |name: &str, q: usize, goal: f64| Row {
        scenario: format!("glass to glass {name}"),
        unit: "ms",
        ours: quantile(&ours, q),
        baseline: quantile(&base, q),
        baseline_name: "raw changed pixels over loopback TCP, same capture",
        higher_is_better: false,
        extra: vec![
            ("goal_ms", json!(goal)),
            ("meets_goal", json!(quantile(&ours, q) <= goal)),
            ("samples", json!(ours.len())),
            ("lost", json!(lost)),
            ("resolution", json!(format!("{WIDTH}x{HEIGHT}"))),
        ],
    };
    let rows = vec![row("p50", 500, 20.0), row("p99", 990, 50.0)];
    let conclusion = format!(
        "p50 {:.1} ms (goal 20), p99 {:.1} ms (goal 50), {} of {SAMPLES} changes seen",
        rows[0].ours,
        rows[1].ours,
        ours.len()
    );
    Ok(Report {
        area: "latency",
        rows,
        headline: 0,
        conclusion,
    })
}
