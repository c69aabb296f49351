//! `fernhand admin`: administrative commands (the deployment CA for now).

use crate::cli::{AdminArgs, AdminCommand, CaCommand, CertUsage};
use anyhow::Context;
use fernhand_pki::{Ca, Usage};
use fernhand_protocol::RelayId;
use fernhand_protocol::broker_link::relay_identity_name;
use std::process::ExitCode;

pub fn run(args: &AdminArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        AdminCommand::Ca { command } => ca(command),
    }
}

fn ca(command: &CaCommand) -> anyhow::Result<ExitCode> {
    match command {
        CaCommand::Init { dir, name } => {
            let ca = Ca::create(name)?;
            ca.save(dir)
                .with_context(|| format!("saving the CA in {}", dir.display()))?;
            println!(
                "CA created in {} (keep ca.key secret and offline if you can)",
                dir.display()
            );
        }
        CaCommand::Issue {
            dir,
            name,
            hosts,
            usage,
            relay,
        } => {
            let ca =
                Ca::load(dir).with_context(|| format!("loading the CA from {}", dir.display()))?;
            let mut hosts = hosts.clone();
            let mut usage = match usage {
                CertUsage::Server => Usage::Server,
                CertUsage::Client => Usage::Client,
                CertUsage::Both => Usage::ServerAndClient,
            };
            if let Some(relay) = relay {
                let id = if relay == "new" {
                    RelayId::random().context("no entropy")?
                } else {
                    relay
                        .parse::<RelayId>()
                        .context("--relay takes 32 hex digits or `new`")?
                };
                hosts.push(relay_identity_name(id));
                usage = Usage::ServerAndClient;
                println!("relay id: {id}");
            }
            anyhow::ensure!(!hosts.is_empty(), "give at least one --host");
            let issued = ca.issue(name, &hosts, usage)?;
            issued.save(dir, name)?;
            println!(
                "issued {}/{name}.pem and {name}.key for {}",
                dir.display(),
                hosts.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
