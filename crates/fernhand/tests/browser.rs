//! Browser tests: the machine's Chromium, driven by Playwright from
//! `web/test/`, against a real `fernhand server` and relay on loopback.
//! Skipped (with a message) where Node, the test tools in `web/node_modules`
//! or Chromium are missing, unless `FERNHAND_REQUIRE_BROWSER` is set, as
//! `scripts/test` does after installing them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Deployment, Program, Xvfb, enrol_ok, enrolment_token, fernhand};
use std::path::PathBuf;
use std::process::Command;

fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web")
}

fn chromium() -> PathBuf {
    std::env::var_os("FERNHAND_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Whether the browser tests can run here; panics if they must and cannot.
fn browser_available() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let tools = web_dir().join("node_modules/playwright-core").is_dir();
    let browser = chromium().exists();
    if node && tools && browser {
        return true;
    }
    let why = format!("node: {node}, web/node_modules: {tools}, chromium: {browser}");
    assert!(
        std::env::var_os("FERNHAND_REQUIRE_BROWSER").is_none(),
        "browser tests required but cannot run ({why})"
    );
    eprintln!("skipping browser tests ({why}); scripts/test installs what they need");
    false
}

/// Run the named tests of `web/test/` against `base`; panics on failure.
fn run_browser_tests(base: &str, names: &[&str], env: &[(&str, &std::ffi::OsStr)]) {
    run_browser_tests_with(base, names, env, |request| {
        panic!("the test asked for {request:?}, which this run does not do")
    });
}

/// The same, answering the test's requests: a line `@@ <request>` on its
/// output is handed to `on_request`, then `@@ done` written to its input.
fn run_browser_tests_with(
    base: &str,
    names: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
    mut on_request: impl FnMut(&str),
) {
    use std::io::{BufRead, Write};
    let mut command = Command::new("node");
    command
        .current_dir(web_dir())
        .arg("test/run.mjs")
        .arg("--base")
        .arg(base)
        .args(names)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("node runs");
    let mut input = child.stdin.take().expect("stdin");
    let output = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    for line in output.lines().map_while(Result::ok) {
        println!("{line}");
        if let Some(request) = line.strip_prefix("@@ ") {
            on_request(request.trim());
            writeln!(input, "@@ done").expect("the test reads its input");
        }
    }
    let status = child.wait().expect("node ends");
    assert!(status.success(), "browser tests {names:?} failed");
}

#[test]
fn the_javascript_e2e_layer_reproduces_the_golden_transcripts_and_vectors() {
    if !browser_available() {
        return;
    }
    let deployment = Deployment::start("browser-e2e");
    run_browser_tests(&deployment.url, &["e2e-layer"], &[]);
}

#[test]
fn the_browser_restricted_data_rules_agree_with_the_rust_rules() {
    if !browser_available() {
        return;
    }
    let deployment = Deployment::start("browser-restricted");
    run_browser_tests(&deployment.url, &["restricted"], &[]);
}

/// A private X display with one xterm (`xterm_args`) up, and a deployment:
/// what a session test needs. `None` when the test is skipped.
fn display_and_deployment(
    name: &str,
    (width, height): (u16, u16),
    xterm_args: &[&str],
) -> Option<(Xvfb, Deployment, String)> {
    if !browser_available() {
        return None;
    }
    let mut x = Xvfb::start(width, height)?;
    x.client("xterm", xterm_args);
    x.wait_for("xterm");
    let deployment = Deployment::start(name);
    let password = deployment.first_password.clone().expect("first password");
    Some((x, deployment, password))
}

/// Where the test run puts the screenshots the README shows.
fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
}

#[test]
fn an_expert_helps_a_customer_from_the_browser_console() {
    let Some((x, deployment, password)) = display_and_deployment(
        "browser-attended",
        (1280, 800),
        &["-geometry", "100x30+0+0", "-e", "bash", "--norc", "-i"],
    ) else {
        return;
    };
    let share = deployment.dir.join("share");
    std::fs::create_dir_all(&share).unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_fernhand"));
    let shots = screenshots();
    run_browser_tests(
        &deployment.url,
        &["attended"],
        &[
            ("FERNHAND_ADMIN_PASSWORD", password.as_ref()),
            ("FERNHAND_BIN", bin.as_os_str()),
            ("FERNHAND_DISPLAY", x.display.as_ref()),
            ("FERNHAND_SHARE", share.as_os_str()),
            ("FERNHAND_SCREENSHOTS", shots.as_os_str()),
        ],
    );
}

#[test]
fn a_customer_shares_the_screen_from_the_join_page() {
    // A red terminal window top left of a black desktop: what the expert
    // must see.
    let Some((x, deployment, password)) = display_and_deployment(
        "browser-share",
        (1280, 800),
        &["-geometry", "40x10+20+40", "-bg", "red", "-fg", "white"],
    ) else {
        return;
    };
    run_browser_tests(
        &deployment.url,
        &["share"],
        &[
            ("FERNHAND_ADMIN_PASSWORD", password.as_ref()),
            ("FERNHAND_DISPLAY", x.display.as_ref()),
        ],
    );
}

/// Write `frame` (0xRRGGBB pixels) as an RGB PNG.
fn write_png(path: &std::path::Path, width: u32, height: u32, pixels: &[u32]) {
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    let rgb: Vec<u8> = pixels
        .iter()
        .flat_map(|p| {
            let [_, r, g, b] = p.to_be_bytes();
            [r, g, b]
        })
        .collect();
    writer.write_image_data(&rgb).unwrap();
}

/// A small corpus the codec treats as it treats real screens: a terminal
/// that types and scrolls (palette tiles, cached glyphs, copies) and a
/// window with a moving photograph (JPEG tiles) over text.
fn synthetic_corpus(dir: &std::path::Path) {
    const W: u32 = 640;
    const H: u32 = 360;
    let glyph = |seed: u32, x: u32, y: u32| -> bool {
        let v = seed.wrapping_mul(2_654_435_761) ^ (x * 7 + y * 13);
        (v >> 3).is_multiple_of(3)
    };
    // Terminal: lines of 6×12 "characters", typed a few per frame, then scrolled.
    let term = dir.join("terminal-typing");
    std::fs::create_dir_all(&term).unwrap();
    let mut lines: Vec<Vec<u32>> = Vec::new();
    for f in 0..40u32 {
        if f % 8 == 0 {
            lines.push(Vec::new());
        }
        if let Some(line) = lines.last_mut() {
            for k in 0..6 {
                line.push((f * 31 + k * 17) % 40);
            }
        }
        let rows = (H / 12) as usize;
        let first = lines.len().saturating_sub(rows);
        let mut px = vec![0x00_10_14_18u32; (W * H) as usize];
        for (row, line) in (0u32..).zip(&lines[first..]) {
            for (col, ch) in (0u32..).zip(line) {
                for y in 0..12u32 {
                    for x in 0..6u32 {
                        let (px_x, px_y) = (col * 6 + x, row * 12 + y);
                        if px_x < W && px_y < H && y > 1 && y < 10 && x < 5 && glyph(*ch, x, y) {
                            px[(px_y * W + px_x) as usize] = 0x00_d0_d8_e0;
                        }
                    }
                }
            }
        }
        write_png(&term.join(format!("{f:05}.png")), W, H, &px);
    }
    // A photograph sliding over a page of text.
    let photo = dir.join("photo-window");
    std::fs::create_dir_all(&photo).unwrap();
    for f in 0..20u32 {
        let mut px = vec![0x00_ff_ff_ffu32; (W * H) as usize];
        for y in 0..H {
            for x in 0..W {
                if y % 14 < 9 && glyph(x / 6 + y / 14 * 100, x % 6, y % 14) {
                    px[(y * W + x) as usize] = 0;
                }
            }
        }
        let (ox, oy) = (40 + f * 8, 60);
        for y in 0..180u32 {
            for x in 0..240u32 {
                let noise = (x * 73 + y * 151 + f * 7).wrapping_mul(2_246_822_519) >> 27;
                let r = (x + noise) & 0xff;
                let g = (y + 2 * noise) & 0xff;
                let b = ((x + y) / 2) & 0xff;
                px[((oy + y) * W + ox + x) as usize] = (r << 16) | (g << 8) | b;
            }
        }
        write_png(&photo.join(format!("{f:05}.png")), W, H, &px);
    }
}

#[test]
fn the_browser_screen_decoder_agrees_with_the_rust_reference() {
    if !browser_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("fernhand-browser-decode-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    synthetic_corpus(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_fernhand"))
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .args(["bench", "browser", "--json", "--corpus"])
        .arg(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the browser decoder disagrees or failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r.get("summary").is_none())
        .collect();
    assert_eq!(rows.len(), 2, "one row per sequence: {stdout}");
    let term = rows
        .iter()
        .find(|r| {
            r["scenario"]
                .as_str()
                .unwrap()
                .starts_with("terminal-typing")
        })
        .unwrap();
    // Lossless all along: every picture was compared bit for bit.
    assert!(term["exact_checks"].as_u64().unwrap() >= 30, "{term}");
    let photo = rows
        .iter()
        .find(|r| r["scenario"].as_str().unwrap().starts_with("photo-window"))
        .unwrap();
    assert!(photo["final_max_diff"].as_u64().is_some(), "{photo}");
}

#[test]
fn an_incident_starts_a_remote_session_and_keeps_its_record() {
    let Some((x, deployment, password)) =
        display_and_deployment("browser-desk", (1024, 768), &["-geometry", "80x24+0+0"])
    else {
        return;
    };
    let share = deployment.dir.join("share");
    std::fs::create_dir_all(&share).unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_fernhand"));
    run_browser_tests(
        &deployment.url,
        &["desk"],
        &[
            ("FERNHAND_ADMIN_PASSWORD", password.as_ref()),
            ("FERNHAND_BIN", bin.as_os_str()),
            ("FERNHAND_DISPLAY", x.display.as_ref()),
            ("FERNHAND_SHARE", share.as_os_str()),
            ("FERNHAND_SCREENSHOTS", screenshots().as_os_str()),
        ],
    );
}

#[test]
fn a_tenant_admin_exports_and_deletes_from_the_data_protection_page() {
    if !browser_available() {
        return;
    }
    let deployment = Deployment::start("browser-privacy");
    let password = deployment.first_password.clone().expect("first password");
    run_browser_tests(
        &deployment.url,
        &["privacy"],
        &[
            ("FERNHAND_ADMIN_PASSWORD", password.as_ref()),
            ("FERNHAND_SCREENSHOTS", screenshots().as_os_str()),
        ],
    );
}

#[test]
fn an_expert_reaches_an_unattended_device_from_the_console() {
    let Some((x, deployment, first)) = display_and_deployment(
        "browser-unattended",
        (800, 600),
        &["-geometry", "60x20+0+0"],
    ) else {
        return;
    };
    let token = enrolment_token(&deployment);
    let password = deployment.dir.join("device-password");
    std::fs::write(&password, "correct horse battery staple").unwrap();
    let agent_dir = deployment.dir.join("agent");
    enrol_ok(&deployment, &token, "front-desk-pc", &password, &agent_dir);
    let mut command = fernhand();
    command
        .args(["agent", "run", "--dir"])
        .arg(&agent_dir)
        .env("DISPLAY", &x.display);
    let _agent = Program::spawn("agent", command);
    run_browser_tests(
        &deployment.url,
        &["unattended"],
        &[
            ("FERNHAND_ADMIN_PASSWORD", first.as_ref()),
            ("FERNHAND_DEVICE_NAME", "front-desk-pc".as_ref()),
            (
                "FERNHAND_DEVICE_PASSWORD",
                "correct horse battery staple".as_ref(),
            ),
        ],
    );
}

#[test]
fn both_pages_say_the_relay_was_lost_and_carry_on_after_it_returns() {
    if !browser_available() {
        return;
    }
    let mut deployment = Deployment::start("browser-relay");
    let password = deployment.first_password.clone().expect("first password");
    let url = deployment.url.clone();
    run_browser_tests_with(
        &url,
        &["relay-lost"],
        &[("FERNHAND_ADMIN_PASSWORD", password.as_ref())],
        |request| match request {
            "kill-relay" => deployment.kill_relay(),
            "start-relay" => deployment.start_relay(),
            other => panic!("unknown request {other:?}"),
        },
    );
}

/// The fake camera's picture for `web/test/camera.mjs`: four quadrants
/// (the RGB colours that test expects), as a Y4M file Chromium plays.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // clamped to 0..=255
fn quadrant_y4m(path: &std::path::Path) {
    const QUADRANTS: [[f64; 3]; 4] = [
        [235.0, 40.0, 40.0],
        [40.0, 200.0, 60.0],
        [40.0, 60.0, 235.0],
        [240.0, 240.0, 240.0],
    ];
    let (w, h) = (320usize, 240usize);
    // BT.601, limited range, as Chromium reads a Y4M file.
    let ycbcr = |[r, g, b]: [f64; 3]| {
        let y = 0.299 * r + 0.587 * g + 0.114 * b;
        let cb = -0.168_736 * r - 0.331_264 * g + 0.5 * b;
        let cr = 0.5 * r - 0.418_688 * g - 0.081_312 * b;
        [
            16.0 + y * 219.0 / 255.0,
            128.0 + cb * 224.0 / 255.0,
            128.0 + cr * 224.0 / 255.0,
        ]
        .map(|v| v.round().clamp(0.0, 255.0) as u8)
    };
    let quadrant =
        |x: usize, y: usize, w: usize, h: usize| (y >= h / 2) as usize * 2 + (x >= w / 2) as usize;
    let mut frame = b"FRAME\n".to_vec();
    for plane in 0..3 {
        let (pw, ph) = if plane == 0 { (w, h) } else { (w / 2, h / 2) };
        for y in 0..ph {
            for x in 0..pw {
                frame.push(ycbcr(QUADRANTS[quadrant(x, y, pw, ph)])[plane]);
            }
        }
    }
    let mut file = format!("YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
    for _ in 0..10 {
        file.extend_from_slice(&frame);
    }
    std::fs::write(path, file).unwrap();
}

/// Whether any of the database files of `data` holds a run of
/// `needle` (a sealed item's plaintext must never be there).
fn stored_anywhere(data: &std::path::Path, needle: &[u8]) -> bool {
    let windows: Vec<&[u8]> = needle
        .get(64..)
        .unwrap_or_default()
        .chunks(48)
        .filter(|w| w.len() == 48)
        .take(16)
        .collect();
    assert!(!windows.is_empty(), "a snapshot long enough to look for");
    std::fs::read_dir(data)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("store.db"))
        .any(|e| {
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            windows
                .iter()
                .any(|w| bytes.windows(w.len()).any(|b| b == *w))
        })
}

fn camera_share(relay_only: bool) {
    if !browser_available() {
        return;
    }
    let mut deployment = Deployment::start(if relay_only {
        "browser-camera-turn"
    } else {
        "browser-camera"
    });
    let password = deployment.first_password.clone().expect("first password");
    let y4m = deployment.dir.join("quadrants.y4m");
    quadrant_y4m(&y4m);
    let flags = format!(
        "--use-fake-ui-for-media-stream --use-fake-device-for-media-stream --use-file-for-fake-video-capture={}",
        y4m.display()
    );
    let data = deployment.dir.join("data");
    let url = deployment.url.clone();
    let mut checked = false;
    run_browser_tests_with(
        &url,
        &["camera"],
        &[
            ("FERNHAND_ADMIN_PASSWORD", password.as_ref()),
            ("FERNHAND_CHROMIUM_FLAGS", flags.as_ref()),
            (
                "FERNHAND_CAMERA_RELAY",
                if relay_only { "1" } else { "0" }.as_ref(),
            ),
            ("FERNHAND_SCREENSHOTS", screenshots().as_os_str()),
        ],
        |request| {
            match request {
                "kill-relay" => return deployment.kill_relay(),
                "start-relay" => return deployment.start_relay(),
                _ => {}
            }
            let plain = request
                .strip_prefix("sealed ")
                .and_then(|h| hex::decode(h).ok())
                .unwrap_or_else(|| panic!("unknown request {request:?}"));
            assert!(
                plain.starts_with(b"\x89PNG"),
                "the test sent the snapshot's bytes"
            );
            assert!(
                !stored_anywhere(&data, &plain),
                "the snapshot's bytes are in the database files in the clear"
            );
            checked = true;
        },
    );
    assert!(relay_only || checked, "the snapshot was looked for on disk");
}

/// A customer's phone camera to the expert's browser: the expert decodes
/// the fake camera's colours, draws an arrow the customer sees, stores a
/// snapshot the database holds only sealed; the call survives the relay
/// going away and coming back (ICE restart, same link); the used link
/// does not open again; altered signalling never connects.
#[test]
fn a_customer_shows_a_device_through_the_phone_camera() {
    camera_share(false);
}

/// The same share through the embedded TURN service only (no direct
/// candidates): the video still arrives, over a relayed path.
#[test]
fn a_camera_share_through_turn_only_still_carries_video() {
    camera_share(true);
}
