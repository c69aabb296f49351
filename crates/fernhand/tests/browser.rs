//! Browser tests: the machine's Chromium, driven by Playwright from
//! `web/test/`, against a real `fernhand server` and relay on loopback.
//! Skipped (with a message) where Node, the test tools in `web/node_modules`
//! or Chromium are missing, unless `FERNHAND_REQUIRE_BROWSER` is set, as
//! `scripts/test` does after installing them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Deployment, Xvfb};
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
    let mut command = Command::new("node");
    command
        .current_dir(web_dir())
        .arg("test/run.mjs")
        .arg("--base")
        .arg(base)
        .args(names);
    for (key, value) in env {
        command.env(key, value);
    }
    let status = command.status().expect("node runs");
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

/// Where the test run puts the screenshots the README shows.
fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
}

#[test]
fn an_expert_helps_a_customer_from_the_browser_console() {
    if !browser_available() {
        return;
    }
    let Some(mut x) = Xvfb::start(1280, 800) else {
        return;
    };
    x.client(
        "xterm",
        &["-geometry", "100x30+0+0", "-e", "bash", "--norc", "-i"],
    );
    x.wait_for("xterm");
    let deployment = Deployment::start("browser-attended");
    let share = deployment.dir.join("share");
    std::fs::create_dir_all(&share).unwrap();
    let password = deployment.first_password.clone().expect("first password");
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
    if !browser_available() {
        return;
    }
    let Some(mut x) = Xvfb::start(1280, 800) else {
        return;
    };
    // A red terminal window top left of a black desktop: what the expert
    // must see.
    x.client(
        "xterm",
        &["-geometry", "40x10+20+40", "-bg", "red", "-fg", "white"],
    );
    x.wait_for("xterm");
    let deployment = Deployment::start("browser-share");
    let password = deployment.first_password.clone().expect("first password");
    run_browser_tests(
        &deployment.url,
        &["share"],
        &[
            ("FERNHAND_ADMIN_PASSWORD", password.as_ref()),
            ("FERNHAND_DISPLAY", x.display.as_ref()),
        ],
    );
}
