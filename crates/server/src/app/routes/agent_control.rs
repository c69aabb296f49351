//! The control connection of an enrolled agent: a WebSocket (over the API's
//! TLS off loopback) authenticated by the device credential
//! (`Authorization: Bearer fhd_<tenant>_<secret>`). While it is open the
//! device is online; the server pushes notices (JSON text) such as
//! `{"type":"connect",…}`; the agent may send `{"type":"ping"}` and gets
//! `{"type":"pong"}`, and `{"type":"inventory","report":{…}}` (at most
//! 256 KiB, at most one a minute is taken) which refreshes its
//! configuration item. Anything else from the agent closes the connection.

use super::Peer;
use super::devices::{DEVICE_PREFIX, split_credential};
use crate::app::AppState;
use crate::app::crypto;
use crate::app::problem::Problem;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use fernhand_store::devices;
use serde_json::json;
use std::time::Duration;

/// Largest message accepted from an agent.
const MAX_MESSAGE: usize = 4096;
/// An agent silent this long is dropped (it pings every 30 s).
const IDLE: Duration = Duration::from_secs(90);

pub async fn control(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, Problem> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some((tenant, secret)) = bearer.and_then(|b| split_credential(b, DEVICE_PREFIX)) else {
        return Err(Problem::unauthorized());
    };
    let mut tx = state.store.tenant(tenant).await?;
    let Some(device) = devices::by_credential(&mut tx, &crypto::token_hash(secret)).await? else {
        drop(tx);
        state
            .security_event(
                Some(tenant),
                "device_refused",
                peer,
                json!({"reason": "unknown credential"}),
            )
            .await;
        return Err(Problem::unauthorized());
    };
    devices::set_online(&mut tx, &device.id, &state.replica, true).await?;
    tx.commit().await?;
    let tenant = tenant.to_owned();
    Ok(upgrade
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| serve(state, tenant, device.id, socket)))
}

async fn serve(state: AppState, tenant: String, device: String, mut socket: WebSocket) {
    let hello = json!({"type": "hello", "device": device, "ping_seconds": 30}).to_string();
    if socket.send(Message::Text(hello.into())).await.is_err() {
        return;
    }
    let (presence, mut outbox) = state.agents.connect(&tenant, &device);
    let mut last_inventory = None;
    loop {
        tokio::select! {
            notice = outbox.recv() => {
                let Some(notice) = notice else { break };
                if socket.send(Message::Text(notice.into())).await.is_err() {
                    break;
                }
            }
            incoming = tokio::time::timeout(IDLE, socket.recv()) => {
                match incoming {
                    Ok(Some(Ok(Message::Text(t)))) if is_ping(&t) => {
                        if socket.send(Message::Text(json!({"type": "pong"}).to_string().into())).await.is_err() {
                            break;
                        }
                    }
                    Ok(Some(Ok(Message::Text(t)))) if t.len() <= INVENTORY_MAX => {
                        match serde_json::from_str::<serde_json::Value>(&t) {
                            Ok(v) if v["type"] == "inventory" => {
                                // At most one a minute is taken; more are ignored.
                                if last_inventory.is_none_or(|at: std::time::Instant| at.elapsed() >= INVENTORY_GAP) {
                                    last_inventory = Some(std::time::Instant::now());
                                    inventory(&state, &tenant, &device, &v["report"]).await;
                                }
                            }
                            _ => break,
                        }
                    }
                    Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
                    _ => break,
                }
            }
        }
    }
    drop(presence);
    // Unless a newer connection (here or elsewhere) took over, it is offline.
    if !state.agents.is_online(&tenant, &device)
        && let Ok(mut tx) = state.store.tenant(&tenant).await
        && devices::set_online(&mut tx, &device, &state.replica, false)
            .await
            .is_ok()
    {
        let _ = tx.commit().await;
    }
}

/// The largest inventory message taken.
const INVENTORY_MAX: usize = 256 * 1024;
/// The least time between two inventories taken from one connection.
const INVENTORY_GAP: Duration = Duration::from_secs(60);

/// A device's inventory refreshes its configuration item; a failure is
/// logged and the connection goes on.
async fn inventory(state: &AppState, tenant: &str, device: &str, report: &serde_json::Value) {
    let Some(report) = report.as_object() else {
        return;
    };
    let done = async {
        let mut tx = state.store.tenant(tenant).await?;
        crate::app::desk::inventory::device_inventory(
            &mut tx,
            device,
            report,
            fernhand_store::now(),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, Problem>(())
    };
    if let Err(e) = done.await {
        tracing::warn!(device = %device, "inventory not stored: {}", e.detail);
    }
}

fn is_ping(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v["type"] == "ping")
}
