//! `fernhand expert`: a command-line expert. `login` keeps a scoped API
//! token; `session new` and `connect` open a connection and then read one
//! command per line from standard input, answering each with one line
//! (text, or a JSON object with `--json`).

use crate::cli::{ExpertArgs, ExpertCommand, SessionCommand};
use crate::secret_input;
use anyhow::{Context, bail};
use fernhand_client::api::Api;
use fernhand_client::expert::{Expert, connect_device, key_combo, open_session};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use zeroize::Zeroizing;

/// What `login` keeps.
#[derive(Serialize, Deserialize)]
struct Saved {
    server: String,
    token: String,
    name: String,
}

fn config_path(args: &ExpertArgs) -> PathBuf {
    args.config.clone().unwrap_or_else(|| {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .unwrap_or_else(|| PathBuf::from("."));
        base.join("fernhand").join("expert.json")
    })
}

fn load(args: &ExpertArgs) -> anyhow::Result<Saved> {
    let path = config_path(args);
    let text = Zeroizing::new(std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: sign in first with `fernhand expert login`",
            path.display()
        )
    })?);
    Ok(serde_json::from_str(&text)?)
}

fn save(path: &Path, saved: &Saved) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = Zeroizing::new(serde_json::to_string_pretty(saved)?);
    let temp = path.with_extension("new");
    let _ = std::fs::remove_file(&temp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temp, path)?;
    Ok(())
}

pub fn run(args: &ExpertArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(dispatch(args))
}

async fn dispatch(args: &ExpertArgs) -> anyhow::Result<ExitCode> {
    let tls = secret_input::trust(args.trust.ca.as_deref())?;
    match &args.command {
        ExpertCommand::Login {
            server,
            tenant,
            email,
            password_file,
            new_password_file,
        } => {
            let password = secret_input::read(password_file.as_deref(), "Password: ")?;
            let mut api = Api::new(server, tls)?;
            let answer = api.sign_in(tenant, email, &password).await?;
            if answer["password_change_required"] == true {
                let new =
                    secret_input::read(new_password_file.as_deref(), "Choose a new password: ")?;
                api.call(
                    "POST",
                    "/api/v1/me/password",
                    Some(json!({"current": password.as_str(), "new": new.as_str()})),
                )
                .await?;
            }
            if answer["mfa_setup_required"] == true {
                bail!("this tenant requires MFA: set it up in the browser console first");
            }
            if answer["mfa_required"] == true {
                let code = secret_input::read(None, "Authenticator code: ")?;
                api.call(
                    "POST",
                    "/api/v1/auth/mfa/verify",
                    Some(json!({"code": code.as_str()})),
                )
                .await?;
            }
            let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
            let created = api
                .call(
                    "POST",
                    "/api/v1/tokens",
                    Some(json!({
                        "name": format!("fernhand expert on {}", host.trim()),
                        "scopes": ["sessions", "sessions:read", "devices:read"],
                    })),
                )
                .await?;
            let token = created["token"]
                .as_str()
                .context("no token in the answer")?;
            let name = answer["user"]["name"].as_str().unwrap_or(email).to_owned();
            let path = config_path(args);
            save(
                &path,
                &Saved {
                    server: server.clone(),
                    token: token.to_owned(),
                    name: name.clone(),
                },
            )?;
            let _ = api
                .call("POST", "/api/v1/auth/logout", Some(json!({})))
                .await;
            say(
                args.json,
                &json!({"signed_in": name, "config": path}),
                &format!("Signed in as {name}; token kept in {}", path.display()),
            );
            Ok(ExitCode::SUCCESS)
        }
        ExpertCommand::Devices => {
            let saved = load(args)?;
            let api = Api::new(&saved.server, tls)?.with_bearer(&saved.token);
            let devices = api.devices().await?;
            if args.json {
                for d in devices.as_array().into_iter().flatten() {
                    println!("{d}");
                }
            } else {
                for d in devices.as_array().into_iter().flatten() {
                    println!(
                        "{}  {:<24} {:<8} {}",
                        d["id"].as_str().unwrap_or_default(),
                        d["name"].as_str().unwrap_or_default(),
                        if d["online"] == true {
                            "online"
                        } else {
                            "offline"
                        },
                        d["policy"].as_str().unwrap_or_default()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ExpertCommand::Session {
            command: SessionCommand::New { downloads },
        } => {
            let saved = load(args)?;
            let api = Api::new(&saved.server, tls.clone())?.with_bearer(&saved.token);
            let opened = open_session(&api, &saved.name, downloads, tls).await?;
            say(
                args.json,
                &json!({"session": opened.session, "code": opened.code.as_str(), "link": opened.link.as_str()}),
                &format!(
                    "Session {}\nCode for the customer: {}\nLink: {}",
                    opened.session,
                    opened.code.as_str(),
                    opened.link.as_str()
                ),
            );
            let session = opened.session.clone();
            let code = shell(opened.expert, args.json).await;
            let _ = api.end_session(&session, "ended by the expert").await;
            Ok(code)
        }
        ExpertCommand::Connect {
            device,
            password_file,
            downloads,
        } => {
            let saved = load(args)?;
            let password =
                secret_input::read(password_file.as_deref(), "Device access password: ")?;
            let api = Api::new(&saved.server, tls.clone())?.with_bearer(&saved.token);
            let (expert, session) = connect_device(
                &api,
                device,
                password.as_bytes(),
                &saved.name,
                downloads,
                tls,
            )
            .await?;
            say(
                args.json,
                &json!({"session": session, "device": device}),
                &format!("Connecting to device {device} (session {session})"),
            );
            let code = shell(expert, args.json).await;
            let _ = api.end_session(&session, "ended by the expert").await;
            Ok(code)
        }
    }
}

fn say(json: bool, value: &Value, text: &str) {
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(out, "{value}");
    } else {
        let _ = writeln!(out, "{text}");
    }
    let _ = out.flush();
}

const WAIT: Duration = Duration::from_secs(120);
const TRANSFER: Duration = Duration::from_secs(1800);

/// Read commands until `end` or end of input.
async fn shell(mut expert: Expert, json: bool) -> ExitCode {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut failed = false;
    loop {
        // Keep the session moving while waiting for the next command; both
        // waits are cancel-safe, and an event is handled to the end.
        let line = tokio::select! {
            line = lines.next_line() => line,
            event = expert.recv(), if expert.ended().is_none() => {
                if let Some(event) = event {
                    expert.handle(event).await;
                }
                continue;
            }
        };
        let Ok(Some(line)) = line else { break };
        let line = line.trim().to_owned();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (command, rest) = line.split_once(' ').unwrap_or((&line, ""));
        if command == "end" {
            say(json, &json!({"command": "end", "ok": true}), "ended");
            expert.end("the expert ended the session").await;
            return if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
        let result = one(&mut expert, command, rest, json).await;
        match result {
            Ok((value, text)) => {
                let mut value = value;
                value["command"] = json!(command);
                value["ok"] = json!(true);
                say(json, &value, &text);
            }
            Err(e) => {
                failed = true;
                say(
                    json,
                    &json!({"command": command, "ok": false, "error": format!("{e:#}")}),
                    &format!("error: {e:#}"),
                );
            }
        }
    }
    expert.end("the expert left").await;
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn one(
    expert: &mut Expert,
    command: &str,
    rest: &str,
    json_output: bool,
) -> anyhow::Result<(Value, String)> {
    Ok(match command {
        "wait" => {
            let host = expert.wait_for_host(WAIT).await?;
            let granted = expert.granted().to_vec();
            (
                json!({"host": host.0, "granted": granted}),
                format!("host {} allows: {}", host.0, granted.join(", ")),
            )
        }
        "screenshot" => {
            let path = PathBuf::from(rest.trim());
            expert.settled(Duration::from_millis(400), WAIT).await?;
            expert.screenshot(&path)?;
            let f = expert.picture();
            (
                json!({"path": path, "width": f.width(), "height": f.height()}),
                format!("wrote {} ({}×{})", path.display(), f.width(), f.height()),
            )
        }
        "type" => {
            let text = unescape(rest);
            expert.type_text(&text).await?;
            (json!({"chars": text.chars().count()}), "typed".into())
        }
        "key" => {
            let events = key_combo(rest)?;
            expert.input(events).await?;
            (json!({"key": rest}), format!("pressed {rest}"))
        }
        "click" => {
            let mut it = rest.split_whitespace().map(str::parse::<i32>);
            let (Some(Ok(x)), Some(Ok(y))) = (it.next(), it.next()) else {
                bail!("click X Y");
            };
            expert.click(x, y).await?;
            (json!({"x": x, "y": y}), format!("clicked at {x},{y}"))
        }
        "chat" => {
            let found = expert.chat(rest).await?;
            let kinds: Vec<&str> = found.iter().map(|k| k.as_str()).collect();
            let human = if found.is_empty() {
                "sent".to_owned()
            } else {
                let words: Vec<&str> = found.iter().map(|k| k.describe()).collect();
                format!(
                    "sent; it holds {} (avoid sharing such data in chat)",
                    words.join(", ")
                )
            };
            (json!({"text": rest, "restricted_data": kinds}), human)
        }
        "chats" => {
            let chats: Vec<Value> = expert
                .take_chats()
                .into_iter()
                .map(|(from, text)| json!({"from": from.0, "text": text}))
                .collect();
            let text = chats
                .iter()
                .map(|c| format!("{}: {}", c["from"], c["text"].as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("\n");
            (json!({"chats": chats}), text)
        }
        "denied" => {
            let denied: Vec<Value> = expert
                .take_denied()
                .into_iter()
                .map(|(what, reason)| json!({"what": what, "reason": reason}))
                .collect();
            (
                json!({"denied": denied}),
                format!("{} refusals", denied.len()),
            )
        }
        "send" | "fetch" if !json_output => {
            let bar = indicatif::ProgressBar::new(0).with_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_message(command.to_owned());
            let shown = bar.clone();
            expert.set_progress(Some(std::sync::Arc::new(move |done, size| {
                shown.set_length(size);
                shown.set_position(done);
            })));
            let result = Box::pin(one(expert, command, rest, true)).await;
            expert.set_progress(None);
            bar.finish_and_clear();
            return result;
        }
        "send" => {
            let (file, name) = match rest.trim().split_once(' ') {
                Some((f, n)) => (PathBuf::from(f), n.trim().to_owned()),
                None => {
                    let f = PathBuf::from(rest.trim());
                    let n = f
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .context("send FILE [NAME]")?;
                    (f, n)
                }
            };
            let bytes = expert.send_file(&file, &name, TRANSFER).await?;
            (
                json!({"name": name, "bytes": bytes}),
                format!("sent {name} ({bytes} bytes)"),
            )
        }
        "fetch" => {
            let path = expert.fetch(rest.trim(), TRANSFER).await?;
            let sha = fernhand_client::files::sha256_file(&path)?;
            (
                json!({"path": path, "sha256": sha}),
                format!("fetched into {} (SHA-256 {sha})", path.display()),
            )
        }
        "diagnostics" => {
            let report = expert.diagnostics(WAIT).await?;
            (
                json!({"report": report}),
                serde_json::to_string_pretty(&report)?,
            )
        }
        "reboot" => {
            let said = expert.reboot(WAIT).await?;
            (
                json!({"host_said": said}),
                format!("the host restarts: {said}"),
            )
        }
        "sleep" => {
            let ms: u64 = rest.trim().parse().context("sleep MILLISECONDS")?;
            let deadline = std::time::Instant::now() + Duration::from_millis(ms);
            while std::time::Instant::now() < deadline {
                expert.step(Duration::from_millis(20)).await;
            }
            (json!({}), String::new())
        }
        other => bail!("unknown command {other:?}"),
    })
}

/// `\n`, `\t` and `\\` in typed text.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}
