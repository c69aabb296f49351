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

use common::{
    Deployment, ExpertShell, Program, Xvfb, enrol, enrol_ok, enrolment_token, fernhand, make_file,
    part_size, sha256,
};
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

/// The expert's API token, as `expert login` kept it.
fn token(config: &Path) -> String {
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(config).unwrap()).unwrap();
    saved["token"].as_str().unwrap().to_owned()
}

/// An attended session on `deployment`: the command-line expert `name`
/// (receiving into `folders.0`) opens it, the agent on `x` joins with its
/// code (folder `folders.1`), its user answers the consent prompt with
/// `grant`, and the expert sees the host. Returns the expert's session,
/// the agent and the code.
fn attended(
    runtime: &tokio::runtime::Runtime,
    deployment: &Deployment,
    x: &Xvfb,
    config: &Path,
    (name, grant): (&str, &str),
    (downloads, share): (&Path, &Path),
) -> (fernhand_client::expert::Opened, Program, String) {
    let api = fernhand_client::api::Api::new(&deployment.url, None)
        .unwrap()
        .with_bearer(&token(config));
    let mut opened = runtime
        .block_on(fernhand_client::expert::open_session(
            &api, name, downloads, None,
        ))
        .unwrap();
    let code = opened.code.replace(' ', "");
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
        .arg(share)
        .env("DISPLAY", &x.display);
    let mut agent = Program::spawn("agent", command);
    let deadline = Instant::now() + LONG;
    // The expert's side runs while the customer reads the prompt.
    let asks = format!("{name} asks");
    while agent
        .try_line(Duration::from_millis(10), |l| l.contains(&asks))
        .is_none()
    {
        assert!(Instant::now() < deadline, "no consent prompt");
        runtime.block_on(opened.expert.step(Duration::from_millis(50)));
    }
    agent.send(grant);
    runtime.block_on(opened.expert.wait_for_host(LONG)).unwrap();
    (opened, agent, code)
}

#[test]
fn a_malicious_expert_or_member_is_refused_and_nothing_lands_outside_the_folder() {
    use fernhand_client::api::Api;
    use fernhand_client::expert::ExpertError;
    use fernhand_client::runtime::SessionEvent;
    use fernhand_protocol::Event;
    use fernhand_protocol::control::Control;
    use fernhand_protocol::input::InputEvent;
    use fernhand_protocol::message::{FileOffer, Message};

    let Some(x) = Xvfb::start(800, 600) else {
        return;
    };
    let deployment = Deployment::start("agent-malicious");
    let config = deployment.expert_login();
    let share = deployment.dir.join("share");
    std::fs::create_dir_all(share.join("logs")).unwrap();
    std::fs::write(share.join("logs/app.log"), "fine").unwrap();
    std::os::unix::fs::symlink("/etc", share.join("etc")).unwrap();
    let small = deployment.dir.join("payload.txt");
    std::fs::write(&small, "payload").unwrap();
    let outside_before: Vec<_> = std::fs::read_dir(&deployment.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The customer allows viewing and files, not control.
    let (mut opened, mut agent, code) = attended(
        &runtime,
        &deployment,
        &x,
        &config,
        ("Mallory", "view,files"),
        (&deployment.dir, &share),
    );
    let expert = &mut opened.expert;
    assert_eq!(expert.granted(), ["files", "view"]);

    runtime.block_on(async {
        // Names that would leave the folder or name a device.
        for name in ["../escape.txt", "/etc/cron.d/x", "..", "CON", "nul.txt", "a\\b.txt", ".bashrc", ""] {
            match expert.send_file(&small, name, LONG).await {
                Err(ExpertError::Denied { reason, .. }) => {
                    assert!(reason.contains("refused file name"), "{name:?}: {reason}")
                }
                other => panic!("{name:?} was not refused: {other:?}"),
            }
        }
        // Paths that would read outside the shared folder.
        for path in ["../../../etc/passwd", "/etc/passwd", "etc/hostname", "logs/../../x"] {
            assert!(
                matches!(expert.fetch(path, LONG).await, Err(ExpertError::Denied { .. })),
                "{path:?} was not refused"
            );
        }
        assert!(expert.fetch("logs/app.log", LONG).await.is_ok(), "a good path still works");

        // Out-of-permission: input without control, diagnostics not granted.
        let pointer = x.pointer();
        expert.click(700, 500).await.unwrap();
        assert!(matches!(
            expert.diagnostics(LONG).await,
            Err(ExpertError::Denied { .. })
        ));
        assert_eq!(x.pointer(), pointer, "the pointer did not move");

        // Malformed control, and a chunk out of place.
        let sender = expert.sender();
        let host = expert.host().unwrap();
        // Oversized: a chunk beyond the protocol's limit is dropped whole.
        sender
            .send(
                host,
                Message::FileChunk {
                    id: 901,
                    offset: 0,
                    data: vec![7; 2 * fernhand_protocol::message::MAX_FILE_CHUNK],
                },
            )
            .await
            .unwrap();
        sender
            .send(host, Message::Control(serde_json::json!({"type": "format_disk", "now": true})))
            .await
            .unwrap();
        sender
            .send(
                host,
                Message::FileOffer(FileOffer {
                    id: 900,
                    name: "half.bin".into(),
                    size: 10,
                }),
            )
            .await
            .unwrap();
        sender
            .send(host, Message::FileChunk { id: 900, offset: 4, data: vec![1; 6] })
            .await
            .unwrap();
        expert
            .until("the refusals", LONG, |e| {
                e.denied().iter().any(|(what, _)| what == "a control message")
                    && e.file_error(900).is_some()
            })
            .await
            .unwrap();

        // Another member, joined with the code: the leader lets it watch only.
        let secret = fernhand_agent::attended::Secret::parse(&code).unwrap();
        let public = Api::new(&deployment.url, None).unwrap();
        let (mut rogue, _) = fernhand_agent::attended::join(&public, &secret, None)
            .await
            .unwrap();
        let rogue_id = rogue.id();
        let mut listed = false;
        let mut refused = false;
        let deadline = Instant::now() + LONG;
        while !refused {
            assert!(Instant::now() < deadline, "the rogue member was never refused");
            tokio::select! {
                _ = expert.step(Duration::from_millis(20)) => {}
                event = rogue.next_event() => match event {
                    Some(SessionEvent::Protocol(Event::Roster(r)))
                        if !listed && r.members.iter().any(|m| m.id == rogue_id.0 && m.role == "viewer") =>
                    {
                        listed = true;
                        rogue.send(host, Message::Input(InputEvent::Move { x: 5, y: 5 })).await.unwrap();
                        rogue.send(host, Message::Clipboard("pwned".into())).await.unwrap();
                    }
                    Some(SessionEvent::Protocol(Event::Received { message: Message::Control(v), .. })) => {
                        if let Ok(Control::Denied { what, reason }) = Control::from_value(&v) {
                            assert!(reason.contains("permission"), "{what}: {reason}");
                            refused |= what == "input";
                        }
                    }
                    _ => {}
                }
            }
        }
        assert_eq!(x.pointer(), pointer, "the rogue member did not move the pointer");
    });
    // Nothing landed outside the folder, and no partial file inside it.
    let outside_after: Vec<_> = std::fs::read_dir(&deployment.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        outside_before.len() + 1,
        outside_after.len(),
        "only the fetched log was added"
    );
    assert!(!share.join("half.bin").exists());
    assert!(
        opened
            .expert
            .file_error(900)
            .unwrap()
            .contains("does not fit"),
        "the chunk out of place was reported"
    );
    no_part_files(&share);
    assert!(!Path::new("/escape.txt").exists());
    agent.wait_line(LONG, "the refused input shown to the customer", |l| {
        l.starts_with("refused:") && l.contains("input")
    });
}

/// `expert connect` to `device` with the password in `password_file`.
fn connect(
    deployment: &Deployment,
    config: &Path,
    device: &str,
    password_file: &Path,
) -> ExpertShell {
    let mut command = fernhand();
    command
        .args(["expert", "--json", "--config"])
        .arg(config)
        .args(["connect", "--device", device, "--password-file"])
        .arg(password_file)
        .arg("--downloads")
        .arg(&deployment.dir);
    let mut shell = ExpertShell(Program::spawn("expert", command));
    shell
        .0
        .wait_line(LONG, "the connection", |l| l.contains("\"device\""));
    shell
}

/// Wait until `expert devices` shows `device` online.
fn wait_online(config: &Path, device: &str) {
    wait_presence(config, device, true);
}

/// Wait until `expert devices` shows `device` online (or offline).
fn wait_presence(config: &Path, device: &str, online: bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let out = fernhand()
            .args(["expert", "--json", "--config"])
            .arg(config)
            .arg("devices")
            .output()
            .unwrap();
        let listed = String::from_utf8_lossy(&out.stdout).lines().any(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .is_ok_and(|d| d["id"] == device && d["online"] == online)
        });
        if listed {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "device {device} never became online={online}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn an_unattended_device_is_reached_again_after_the_agent_and_the_server_restart() {
    use std::os::unix::fs::PermissionsExt;
    let Some(mut x) = Xvfb::start(800, 600) else {
        return;
    };
    x.client("xterm", &["-geometry", "60x20+0+0"]);
    let mut deployment = Deployment::start("agent-unattended");
    let config = deployment.expert_login();
    let token = enrolment_token(&deployment);

    // Enrol: the password comes from a file, only its verifier is kept.
    let password = deployment.dir.join("device-password");
    std::fs::write(&password, "correct horse battery staple").unwrap();
    let agent_dir = deployment.dir.join("agent");
    enrol_ok(&deployment, &token, "front-desk-pc", &password, &agent_dir);
    let stored = agent_dir.join("agent.json");
    let text = std::fs::read_to_string(&stored).unwrap();
    assert!(
        !text.contains("correct horse"),
        "the password itself is not stored"
    );
    assert_eq!(
        std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let device = serde_json::from_str::<serde_json::Value>(&text).unwrap()["device"]
        .as_str()
        .unwrap()
        .to_owned();
    // The token was single use.
    let again = enrol(
        &deployment,
        &token,
        "front-desk-pc",
        &password,
        &deployment.dir.join("agent2"),
    );
    assert!(!again.status.success());

    // "Restarting the machine" ends the agent; the test then boots it again.
    let reboot = deployment.dir.join("reboot.sh");
    std::fs::write(&reboot, "#!/bin/sh\nkill -9 $PPID\n").unwrap();
    std::fs::set_permissions(&reboot, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run_agent = || {
        let mut command = fernhand();
        command
            .args(["agent", "run", "--dir"])
            .arg(&agent_dir)
            .arg("--reboot-command")
            .arg(&reboot)
            .env("DISPLAY", &x.display);
        Program::spawn("agent", command)
    };
    let mut agent = run_agent();
    wait_online(&config, &device);

    // An expert who knows the password connects; nobody at the machine.
    let mut expert = connect(&deployment, &config, &device, &password);
    let granted = expert.ok("wait", LONG);
    assert_eq!(granted["granted"].as_array().unwrap().len(), 5);
    let shot = deployment.dir.join("unattended.png");
    expert.ok(&format!("screenshot {}", shot.display()), LONG);
    assert!(std::fs::metadata(&shot).unwrap().len() > 100);
    expert.ok("end", LONG);
    expert.0.wait_exit(LONG);

    // The wrong password gets nothing.
    let wrong = deployment.dir.join("wrong-password");
    std::fs::write(&wrong, "incorrect horse battery staple").unwrap();
    let mut intruder = connect(&deployment, &config, &device, &wrong);
    let refused = intruder.run("wait", LONG);
    assert_eq!(refused["ok"], false, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("WrongSecret"),
        "{refused}"
    );
    drop(intruder);

    // Crash both the agent and the server; start them again (as systemd
    // would): the device comes back online and answers without anyone.
    drop(agent);
    deployment.restart_server();
    agent = run_agent();
    wait_online(&config, &device);
    let mut expert = connect(&deployment, &config, &device, &password);
    let granted = expert.ok("wait", LONG);
    assert_eq!(granted["granted"].as_array().unwrap().len(), 5);
    expert.ok("diagnostics", LONG);
    expert.ok("end", LONG);
    expert.0.wait_exit(LONG);

    // The server restarts under a running agent: it reconnects by itself.
    deployment.restart_server();
    wait_online(&config, &device);
    let mut expert = connect(&deployment, &config, &device, &password);
    expert.ok("wait", LONG);

    // The expert restarts the machine, then connects again once it is back.
    let rebooting = expert.ok("reboot", LONG);
    assert!(
        rebooting["host_said"]
            .as_str()
            .unwrap()
            .contains("restarts"),
        "{rebooting}"
    );
    agent.wait_exit(LONG);
    expert.ok("end", LONG);
    wait_presence(&config, &device, false);
    agent = run_agent();
    wait_online(&config, &device);
    let mut expert = connect(&deployment, &config, &device, &password);
    expert.ok("wait", LONG);
    expert.ok("end", LONG);
    drop(agent);
}

/// A loopback HTTP receiver for the alert webhook: every POST's
/// `X-Fernhand-Timestamp`, `X-Fernhand-Signature` and body, answered 200.
fn webhook_receiver() -> (String, std::sync::mpsc::Receiver<(String, String, String)>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/alerts", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut out = stream;
                loop {
                    let (mut ts, mut sig, mut len) = (String::new(), String::new(), 0usize);
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 {
                            return;
                        }
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            match k.to_ascii_lowercase().as_str() {
                                "x-fernhand-timestamp" => ts = v.trim().to_owned(),
                                "x-fernhand-signature" => sig = v.trim().to_owned(),
                                "content-length" => len = v.trim().parse().unwrap_or(0),
                                _ => {}
                            }
                        }
                    }
                    let mut body = vec![0; len];
                    reader.read_exact(&mut body).unwrap();
                    let _ = tx.send((ts, sig, String::from_utf8_lossy(&body).into_owned()));
                    let _ = out.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
                }
            });
        }
    });
    (url, rx)
}

#[test]
fn an_eicar_file_is_quarantined_where_it_lands_and_the_alert_webhook_hears_of_it() {
    use fernhand_client::expert::ExpertError;
    use fernhand_client::files::QUARANTINE;

    let Some(x) = Xvfb::start(640, 480) else {
        return;
    };
    let (hook, alerts) = webhook_receiver();
    let dir = std::env::temp_dir().join(format!("fernhand-eicar-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = "an alert secret of more than sixteen bytes";
    std::fs::write(dir.join("hook.secret"), secret).unwrap();
    let deployment = Deployment::start_with(
        "agent-eicar",
        &[
            "--webhook-url".into(),
            hook,
            "--webhook-secret-file".into(),
            dir.join("hook.secret").to_string_lossy().into_owned(),
        ],
    );
    let config = deployment.expert_login();
    let share = deployment.dir.join("share");
    std::fs::create_dir_all(share.join("logs")).unwrap();
    let eicar = fernhand_privacy::malware::eicar_test_file();
    std::fs::write(share.join("logs/update.com"), &eicar).unwrap();
    let outgoing = deployment.dir.join("invoice.pdf");
    std::fs::write(&outgoing, &eicar).unwrap();
    let downloads = deployment.dir.join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (mut opened, mut agent, _) = attended(
        &runtime,
        &deployment,
        &x,
        &config,
        ("Erin", "view,files"),
        (&downloads, &share),
    );
    let expert = &mut opened.expert;

    runtime.block_on(async {
        // Expert → customer: the agent quarantines it and says so.
        match expert.send_file(&outgoing, "invoice.pdf", LONG).await {
            Err(ExpertError::Denied { reason, .. }) => {
                assert!(reason.contains("quarantined"), "{reason}")
            }
            other => panic!("the EICAR file was not refused: {other:?}"),
        }
        // Customer → expert: the expert's side quarantines it.
        match expert.fetch("logs/update.com", LONG).await {
            Err(ExpertError::Denied { reason, .. }) => {
                assert!(reason.contains("quarantined"), "{reason}")
            }
            other => panic!("the fetched EICAR file was kept: {other:?}"),
        }
    });
    let threats: Vec<&str> = expert
        .quarantined()
        .iter()
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(threats, ["Eicar-Test-Signature", "Eicar-Test-Signature"]);
    agent.wait_line(LONG, "the customer told of the quarantine", |l| {
        l.contains("malware found") && l.contains("quarantined")
    });
    // Neither file got its name; each is in its side's quarantine.
    assert!(!share.join("invoice.pdf").exists());
    assert!(!downloads.join("update.com").exists());
    for folder in [&share, &downloads] {
        let held: Vec<_> = std::fs::read_dir(folder.join(QUARANTINE))
            .unwrap()
            .collect();
        assert_eq!(held.len(), 1, "{}", folder.display());
    }
    no_part_files(&share);

    // Two signed alerts, one from each receiving endpoint.
    let mut seen = Vec::new();
    let deadline = Instant::now() + LONG;
    while seen.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the alert webhook heard {} events",
            seen.len()
        );
        let Ok((ts, sig, body)) = alerts.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        let event: serde_json::Value = serde_json::from_str(&body).unwrap();
        if event["kind"] != "malware_quarantined" {
            continue;
        }
        let expected =
            fernhand_server::app::webhook::signature(secret.as_bytes(), ts.parse().unwrap(), &body);
        assert_eq!(sig, expected, "the alert is signed");
        assert_eq!(event["detail"]["threat"], "Eicar-Test-Signature");
        assert_eq!(event["detail"]["sha256"], sha256_bytes(&eicar));
        seen.push(event["detail"]["member"].as_u64().unwrap());
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 2, "both endpoints reported");
    let _ = std::fs::remove_dir_all(&dir);
}

fn sha256_bytes(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
