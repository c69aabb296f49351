//! The agent and the command-line expert, end to end, as users run them:
//! a real `fernhand server`, a `fernhand relay` process, the agent on an
//! Xvfb display with a real `xterm`, the expert reading commands on its
//! standard input. Everything on loopback.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

mod common;

use common::{Deployment, ExpertShell, Program, Xvfb, fernhand, make_file, part_size, sha256};
use std::path::Path;
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;
const LONG: Duration = Duration::from_secs(60);
const TRANSFER: Duration = Duration::from_secs(600);

/// Pixels of xterm's red (#cd0000) in a PNG screenshot.
fn red_pixels(path: &Path) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf[..info.buffer_size()]
        .chunks_exact(3)
        .filter(|p| p == &[205, 0, 0])
        .count()
}

/// Kill the relay once the part file in `folder` holds `at` bytes, and
/// start it again; returns how long it was gone.
fn restart_relay_midway(deployment: &mut Deployment, folder: &Path, at: u64) -> Duration {
    let deadline = Instant::now() + TRANSFER;
    while part_size(folder).unwrap_or(0) < at {
        assert!(
            Instant::now() < deadline,
            "the transfer never reached {at} bytes"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let held = part_size(folder).unwrap_or(0);
    let down = Instant::now();
    deployment.kill_relay();
    std::thread::sleep(Duration::from_millis(500));
    deployment.start_relay();
    eprintln!("relay restarted with {held} bytes held");
    down.elapsed()
}

fn no_part_files(folder: &Path) {
    let parts: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".fernhand-part"))
        .collect();
    assert!(parts.is_empty(), "part files left behind: {parts:?}");
}

#[test]
fn an_expert_works_on_an_attended_customer_machine_through_a_restarting_relay() {
    let Some(mut x) = Xvfb::start(1280, 800) else {
        return;
    };
    x.client(
        "xterm",
        &["-geometry", "100x30+0+0", "-e", "bash", "--norc", "-i"],
    );
    x.wait_for("xterm");
    let mut deployment = Deployment::start("agent-e2e");
    let config = deployment.expert_login();
    let share = deployment.dir.join("share");
    let downloads = deployment.dir.join("downloads");
    std::fs::create_dir_all(&share).unwrap();
    std::fs::create_dir_all(&downloads).unwrap();

    // The expert opens a session; the customer joins with the code.
    let mut command = fernhand();
    command
        .args(["expert", "--json", "--config"])
        .arg(&config)
        .args(["session", "new", "--downloads"])
        .arg(&downloads);
    let mut expert = ExpertShell(Program::spawn("expert", command));
    let opened = expert
        .0
        .wait_line(LONG, "the session's code", |l| l.contains("\"code\""));
    let opened: serde_json::Value = serde_json::from_str(&opened).unwrap();
    let code = opened["code"].as_str().unwrap().replace(' ', "");
    assert!(opened["link"].as_str().unwrap().contains("/join/"));
    let mut command = fernhand();
    command
        .args([
            "agent",
            "join",
            &code,
            "--server",
            &deployment.url,
            "--folder",
        ])
        .arg(&share)
        .env("DISPLAY", &x.display);
    let mut agent = Program::spawn("agent", command);
    let asked = agent.wait_line(LONG, "the consent prompt", |l| {
        l.contains("asks to connect")
    });
    assert!(
        asked.contains("Administrator"),
        "the prompt names the expert: {asked}"
    );
    for p in ["view", "control", "files", "diagnostics", "clipboard"] {
        assert!(asked.contains(p), "the prompt names {p}: {asked}");
    }
    agent.send("y");
    agent.wait_line(LONG, "the session indicator", |l| {
        l.starts_with("SESSION ACTIVE")
    });
    let granted = expert.ok("wait", LONG);
    assert_eq!(granted["granted"].as_array().unwrap().len(), 5);

    // The expert types a command into the xterm; the screenshot shows its output.
    let before = deployment.dir.join("before.png");
    expert.ok(&format!("screenshot {}", before.display()), LONG);
    assert_eq!(red_pixels(&before), 0, "no red before the command runs");
    expert.ok("click 300 200", LONG);
    expert.ok(r#"type printf "\\033[41m%60s\\033[0m\\n" X\n"#, LONG);
    std::thread::sleep(Duration::from_millis(500));
    let after = deployment.dir.join("after.png");
    let shot = expert.ok(&format!("screenshot {}", after.display()), LONG);
    assert_eq!(
        (shot["width"].as_u64(), shot["height"].as_u64()),
        (Some(1280), Some(800))
    );
    let red = red_pixels(&after);
    // 60 cells of a red bar in xterm's default 6×13 font, at least.
    assert!(
        red >= 60 * 6 * 10,
        "the command's red bar is in the screenshot ({red} px)"
    );

    // Chat both ways.
    expert.ok("chat Grüezi, I am looking at your screen", LONG);
    agent.wait_line(LONG, "the expert's chat", |l| {
        l.ends_with("Grüezi, I am looking at your screen")
    });
    agent.send("Thank you — the printer is the problem");
    let deadline = Instant::now() + LONG;
    loop {
        let chats = expert.ok("chats", LONG);
        if chats["chats"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["text"] == "Thank you — the printer is the problem")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the customer's chat never arrived"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Diagnostics: this machine's real values.
    let report = expert.ok("diagnostics", LONG)["report"].clone();
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(report["os"]["hostname"], hostname.trim());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert_eq!(report["hardware"]["memory_total_bytes"], total_kib * 1024);
    assert!(
        report["process_count"].as_u64().unwrap() > 3,
        "processes are listed"
    );
    assert!(
        report["network_interfaces"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["name"] == "lo" && n["addresses"].to_string().contains("127.0.0.1"))
    );

    // 100 MiB to the customer, the relay killed and restarted midway.
    let big = deployment.dir.join("disk-image.bin");
    make_file(&big, 100 * MIB, 1);
    let digest = sha256(&big);
    expert.0.send(&format!("send {}", big.display()));
    restart_relay_midway(&mut deployment, &share, 30 * MIB as u64);
    let sent = expert.0.wait_line(TRANSFER, "the send to finish", |l| {
        l.contains("\"command\":\"send\"")
    });
    assert!(sent.contains("\"ok\":true"), "{sent}");
    assert_eq!(sha256(&share.join("disk-image.bin")), digest);
    no_part_files(&share);

    // …and 100 MiB back from the customer, again through a relay restart.
    let back = share.join("crash-dump.bin");
    make_file(&back, 100 * MIB, 2);
    let back_digest = sha256(&back);
    expert.0.send("fetch crash-dump.bin");
    restart_relay_midway(&mut deployment, &downloads, 30 * MIB as u64);
    let fetched = expert.0.wait_line(TRANSFER, "the fetch to finish", |l| {
        l.contains("\"command\":\"fetch\"")
    });
    let fetched: serde_json::Value = serde_json::from_str(&fetched).unwrap();
    assert_eq!(fetched["ok"], true, "{fetched}");
    assert_eq!(fetched["sha256"], back_digest.as_str());
    assert_eq!(sha256(&downloads.join("crash-dump.bin")), back_digest);
    no_part_files(&downloads);

    // A name that would leave the folder is refused, and nothing is written.
    let small = deployment.dir.join("small.txt");
    std::fs::write(&small, "hello").unwrap();
    let refused = expert.run(&format!("send {} ../escaped.txt", small.display()), LONG);
    assert_eq!(refused["ok"], false);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("path separator"),
        "{refused}"
    );
    assert!(!deployment.dir.join("escaped.txt").exists());

    // The customer withdraws control: the expert's clicks no longer move the pointer.
    let pointer = x.pointer();
    agent.send("/withdraw control");
    agent.wait_line(LONG, "the new indicator", |l| {
        l.starts_with("SESSION ACTIVE") && !l.contains("control")
    });
    expert.ok("click 900 700", LONG);
    let deadline = Instant::now() + LONG;
    loop {
        let denied = expert.ok("denied", LONG);
        if denied["denied"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["what"] == "input" && d["reason"].as_str().unwrap().contains("control"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "no refusal came back");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(x.pointer(), pointer, "the pointer did not move");
    agent.wait_line(LONG, "the refusal shown to the customer", |l| {
        l.starts_with("refused:") && l.contains("input")
    });

    // The customer ends the session at any moment; both sides see it.
    agent.send("/end");
    agent.wait_line(LONG, "the end", |l| l.starts_with("SESSION ENDED"));
    assert!(agent.wait_exit(LONG).success());
    expert.ok("end", LONG);
    expert.0.wait_exit(LONG);
}
