//! `fernhand relay`: run a relay that registers with the broker over mutual
//! TLS and serves members (WebSocket over TLS, or plain where allowed).

use crate::cli::RelayArgs;
use anyhow::Context;
use ed25519_dalek::VerifyingKey;
use fernhand_protocol::RelayId;
use fernhand_relay::{RegisteredRelay, Registration, RelayConfig};
use std::process::ExitCode;
use std::sync::Arc;
use tokio::net::TcpListener;

pub fn run(args: &RelayArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(serve(args))
}

async fn serve(args: &RelayArgs) -> anyhow::Result<ExitCode> {
    let id: RelayId = args.id.parse().context("--id takes 32 hex digits")?;
    let chain = std::fs::read_to_string(&args.cert)
        .with_context(|| format!("reading {}", args.cert.display()))?;
    let key = std::fs::read_to_string(&args.key)
        .with_context(|| format!("reading {}", args.key.display()))?;
    let ca = std::fs::read_to_string(&args.ca)
        .with_context(|| format!("reading {}", args.ca.display()))?;
    let link_tls = Arc::new(fernhand_pki::client_config(&ca, Some((&chain, &key)))?);

    let mut config = RelayConfig::new(id, VerifyingKey::default());
    config.behind_tls_proxy = args.behind_tls_proxy;
    if !args.plain {
        config.tls = Some(Arc::new(fernhand_pki::server_config(&chain, &key, None)?));
    }
    config.check_transport(args.listen)?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let relay = RegisteredRelay::start(
        listener,
        config,
        args.broker.clone(),
        link_tls,
        Registration {
            relay: id,
            region: args.region.clone(),
            url: args.public_url.clone(),
            capacity: args.capacity,
        },
    )
    .await
    .context("registering with the broker")?;
    let metrics = TcpListener::bind(args.metrics_listen)
        .await
        .with_context(|| format!("metrics on {}", args.metrics_listen))?;
    tokio::spawn(fernhand_relay::server::serve_metrics(
        metrics,
        relay.relay.metrics.clone(),
    ));
    tracing::info!(relay = %id, listen = %args.listen, metrics = %args.metrics_listen, "relay running");
    tokio::signal::ctrl_c().await?;
    tracing::info!("shutting down");
    relay.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
