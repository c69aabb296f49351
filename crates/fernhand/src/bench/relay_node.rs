//! The process under test in `fernhand bench relay`: either our relay or the
//! baseline forwarder, each alone in its own process so its memory can be
//! read from `/proc`. Started by the bench as a hidden subcommand; prints its
//! address on the first line of stdout, then serves until killed.
//!
//! The baseline pairs two TCP connections that name the same 16-byte session
//! (first 17 bytes: session, then 0 or 1) and joins them with
//! `tokio::io::copy_bidirectional` — a forwarder with no protocol at all.

use ed25519_dalek::SigningKey;
use fernhand_protocol::RelayId;
use fernhand_relay::{Limits, RelayConfig};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

/// The relay id and ticket key the bench uses (the bench signs with the
/// private half; this is a measurement, not a deployment).
pub const BENCH_RELAY: RelayId = RelayId([0xbe; 16]);

pub fn bench_key() -> SigningKey {
    SigningKey::from_bytes(&[0x42; 32])
}

pub fn run(mode: &str) -> anyhow::Result<std::process::ExitCode> {
    let runtime = match std::env::var("FERNHAND_BENCH_NODE_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        Some(0) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n.unwrap_or(1))
            .enable_all()
            .build()?,
    };
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        match mode {
            "relay" => {
                let mut config = RelayConfig::new(BENCH_RELAY, bench_key().verifying_key());
                config.limits = Limits {
                    max_connections_per_ip: 100_000,
                    max_members_per_session: 16,
                    ..Limits::default()
                };
                let _relay = fernhand_relay::start(listener, config)?;
                announce(addr)?;
                std::future::pending::<()>().await;
            }
            "baseline" => {
                announce(addr)?;
                baseline(listener).await;
            }
            "agents-baseline" => {
                announce(addr)?;
                super::agents_node::serve(listener).await;
            }
            other => anyhow::bail!("unknown bench node mode {other}"),
        }
        Ok(std::process::ExitCode::SUCCESS)
    })
}

fn announce(addr: std::net::SocketAddr) -> anyhow::Result<()> {
    let mut out = std::io::stdout();
    writeln!(out, "{addr}")?;
    out.flush()?;
    Ok(())
}

async fn baseline(listener: TcpListener) {
    let waiting: Arc<Mutex<HashMap<[u8; 16], TcpStream>>> = Arc::default();
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        // Like the relay's sockets: no Nagle delay on small frames.
        let _ = stream.set_nodelay(true);
        let waiting = waiting.clone();
        tokio::spawn(async move {
            let mut hello = [0u8; 17];
            if stream.read_exact(&mut hello).await.is_err() {
                return;
            }
            let mut session = [0u8; 16];
            session.copy_from_slice(&hello[..16]);
            let peer = waiting
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&session);
            match peer {
                Some(mut other) => {
                    let _ = tokio::io::copy_bidirectional(&mut stream, &mut other).await;
                }
                None => {
                    waiting
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(session, stream);
                }
            }
        });
    }
}
