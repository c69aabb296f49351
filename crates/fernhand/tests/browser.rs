//! Browser tests: the machine's Chromium, driven by Playwright from
//! `web/test/`, against a real `fernhand server` and relay on loopback.
//! Skipped (with a message) where Node, the test tools in `web/node_modules`
//! or Chromium are missing, unless `FERNHAND_REQUIRE_BROWSER` is set, as
//! `scripts/test` does after installing them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Deployment;
use std::path::{Path, PathBuf};
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
fn run_browser_tests(base: &str, names: &[&str], env: &[(&str, &Path)]) {
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
