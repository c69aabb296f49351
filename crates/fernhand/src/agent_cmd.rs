//! `fernhand agent`: join an attended session from the terminal, or enrol
//! and run unattended, or write the systemd unit for that.

use crate::cli::{AgentArgs, AgentCommand};
use crate::secret_input;
use anyhow::{Context, bail};
use fernhand_agent::attended::{self, Secret};
use fernhand_agent::console::terminal;
use fernhand_agent::host::{self, CaptureFactory, Ended, HostOptions};
use fernhand_agent::unattended::{self, AgentConfig};
use fernhand_client::api::Api;
use fernhand_screen::input::Input;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub fn run(args: &AgentArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(dispatch(args))
}

fn capture() -> CaptureFactory {
    Box::new(fernhand_screen::capture::open)
}

fn input() -> Option<Box<dyn Input>> {
    match fernhand_screen::input::x11::X11Input::connect(None) {
        Ok(i) => Some(Box::new(i)),
        Err(e) => {
            tracing::warn!(error = %e, "no input injection on this machine");
            None
        }
    }
}

fn options(
    folder: &Path,
    reboot: Option<Vec<String>>,
    scanner: Arc<dyn fernhand_privacy::malware::Scanner>,
) -> HostOptions {
    HostOptions {
        folder: folder.to_path_buf(),
        grant_without_asking: false,
        capture: capture(),
        input: input(),
        consent_timeout: Duration::from_secs(120),
        reboot,
        on_join: None,
        scanner,
    }
}

async fn dispatch(args: &AgentArgs) -> anyhow::Result<ExitCode> {
    let tls = secret_input::trust(args.trust.ca.as_deref())?;
    let scanner: Arc<dyn fernhand_privacy::malware::Scanner> = Arc::new(
        fernhand_privacy::malware::Scanners::with_clamd(args.clamd.as_deref()),
    );
    match &args.command {
        AgentCommand::Join {
            code,
            server,
            folder,
        } => {
            let secret = Secret::parse(code)?;
            let server = server
                .clone()
                .or_else(|| attended::server_of_link(code))
                .context("give --server with a code (a link names its server)")?;
            std::fs::create_dir_all(folder)?;
            let api = Api::new(&server, tls.clone())?;
            let (session, leader) = attended::join(&api, &secret, tls).await?;
            println!("Connected. Waiting for the expert's request…");
            let (actions, notices) = terminal::start();
            let ended = host::run(
                session,
                leader,
                options(folder, None, scanner),
                actions,
                notices,
            )
            .await;
            Ok(match ended {
                Ended::Lost(_) => ExitCode::FAILURE,
                _ => ExitCode::SUCCESS,
            })
        }
        AgentCommand::Enroll {
            server,
            token,
            password_file,
            name,
            policy,
            dir,
        } => {
            if !matches!(policy.as_str(), "unattended" | "ask") {
                bail!("--policy is unattended or ask");
            }
            let password = secret_input::read(
                password_file.as_deref(),
                "Access password for this device (experts must give it to connect): ",
            )?;
            let name = match name {
                Some(n) => n.clone(),
                None => std::fs::read_to_string("/etc/hostname")
                    .map(|h| h.trim().to_owned())
                    .unwrap_or_else(|_| "device".into()),
            };
            let api = Api::new(server, tls)?;
            let config = unattended::enroll(&api, token, &password, &name, policy, dir).await?;
            println!(
                "Enrolled as device {} ({}); settings in {}",
                config.device,
                config.name,
                dir.join(unattended::CONFIG_FILE).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        AgentCommand::Run {
            dir,
            folder,
            reboot_command,
        } => {
            let config = AgentConfig::load(dir)?;
            let folder = folder.clone().unwrap_or_else(|| dir.join("files"));
            std::fs::create_dir_all(&folder)?;
            let reboot: Vec<String> = reboot_command
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            let reboot = (!reboot.is_empty()).then_some(reboot);
            let factory: unattended::OptionsFactory =
                Arc::new(move || options(&folder, reboot.clone(), scanner.clone()));
            unattended::run(config, dir, tls, factory).await?;
            Ok(ExitCode::SUCCESS)
        }
        AgentCommand::InstallService { dir, unit, display } => {
            let binary = std::env::current_exe()?;
            let text = unattended::systemd_unit(&binary, dir, Some(display));
            std::fs::write(unit, text).with_context(|| format!("writing {}", unit.display()))?;
            println!(
                "Wrote {}. Enable it with: systemctl daemon-reload && systemctl enable --now {}",
                unit.display(),
                unit.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
