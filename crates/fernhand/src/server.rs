//! `fernhand server`: the control plane. With no flags it is the embedded
//! default — API, broker, in-process relay and SQLite in `./fernhand-data`,
//! on `127.0.0.1:8080` — and on the very first start it prints a one-time
//! sign-in for the first administrator.

use crate::cli::ServerArgs;
use anyhow::Context;
use fernhand_server::app::limits::LimitConfig;
use fernhand_server::serve::{ServeOptions, TurnChoice, start};
use std::process::ExitCode;

pub fn run(args: &ServerArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(serve(args))
}

fn options(args: &ServerArgs) -> anyhow::Result<ServeOptions> {
    let mut opts = ServeOptions::embedded(args.data.clone(), args.listen);
    opts.database = args.database.clone();
    opts.database_owner = args.database_owner.clone();
    if args.no_relay {
        opts.relay_listen = None;
    } else if let Some(addr) = args.relay_listen {
        opts.relay_listen = Some(addr);
    }
    if let Some(addr) = args.relay_link_listen {
        opts.relay_link_listen = addr;
    }
    opts.region = args.region.clone();
    opts.metrics_public = args.metrics_public;
    opts.desk_webhooks_to_loopback = args.desk_webhooks_to_loopback;
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let chain =
            std::fs::read_to_string(cert).with_context(|| format!("reading {}", cert.display()))?;
        let key = zeroize::Zeroizing::new(
            std::fs::read_to_string(key).with_context(|| format!("reading {}", key.display()))?,
        );
        opts.tls = Some((chain, key));
    }
    if let (Some(url), Some(file)) = (&args.webhook_url, &args.webhook_secret_file) {
        let secret = zeroize::Zeroizing::new(
            std::fs::read(file)
                .with_context(|| format!("reading the webhook secret from {}", file.display()))?,
        );
        let trimmed = zeroize::Zeroizing::new(secret.trim_ascii().to_vec());
        opts.webhook = Some((url.clone(), trimmed));
    }
    opts.turn = turn_choice(args, &opts.turn)?;
    opts.limits = LimitConfig {
        login: args.login_per_minute,
        join: args.join_per_minute,
        enrol: args.enrol_per_minute,
    };
    Ok(opts)
}

/// The TURN the flags ask for, from the embedded default.
fn turn_choice(args: &ServerArgs, default: &TurnChoice) -> anyhow::Result<TurnChoice> {
    if args.no_turn {
        return Ok(TurnChoice::Off);
    }
    if let Some(file) = &args.turn_secret_file {
        let secret = zeroize::Zeroizing::new(
            std::fs::read(file)
                .with_context(|| format!("reading the TURN secret from {}", file.display()))?,
        );
        let secret = zeroize::Zeroizing::new(secret.trim_ascii().to_vec());
        anyhow::ensure!(secret.len() >= 16, "the TURN secret is at least 16 bytes");
        return Ok(TurnChoice::External {
            urls: args.turn_url.clone(),
            secret,
        });
    }
    let TurnChoice::Embedded { listen, .. } = default else {
        return Ok(TurnChoice::Off);
    };
    Ok(TurnChoice::Embedded {
        listen: args.turn_listen.unwrap_or(*listen),
        relay_ip: args.turn_public_ip,
    })
}

async fn serve(args: &ServerArgs) -> anyhow::Result<ExitCode> {
    let running = start(options(args)?).await.context("starting the server")?;
    // Shown on the terminal of whoever started the server, never logged.
    println!("Fernhand is running at {}", running.url);
    if let Some(relay) = &running.relay_url {
        println!("In-process relay: {relay}");
    }
    println!("Relays register at wss://{}/", running.relay_link);
    if let Some(first) = &running.first_login {
        println!();
        println!("First start: sign in once with");
        println!("  tenant:   {}", first.tenant);
        println!("  e-mail:   {}", first.email);
        println!("  password: {}", first.password.as_str());
        println!("This password is shown only now and must be changed at first sign-in.");
    }
    tokio::signal::ctrl_c().await?;
    tracing::info!("shutting down");
    running.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
