//! The baseline of `fernhand bench agents`: a bare WebSocket push server on
//! the same stack as the control plane (axum's WebSocket, same buffer sizes)
//! with nothing else — no authentication, database, sessions or audit.
//! `GET /ws/{i}` holds connection `i`; `POST /push/{i}` sends it `push`.

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

type Outboxes = Arc<Mutex<HashMap<usize, mpsc::Sender<String>>>>;

async fn ws(
    State(outboxes): State<Outboxes>,
    Path(i): Path<usize>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_message_size(4096)
        .on_upgrade(move |socket| hold(outboxes, i, socket))
}

async fn hold(outboxes: Outboxes, i: usize, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::channel(16);
    outboxes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(i, tx);
    loop {
        tokio::select! {
            out = rx.recv() => {
                let Some(out) = out else { break };
                if socket.send(Message::Text(out.into())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(_)) => {}
                _ => break,
            }
        }
    }
    outboxes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&i);
}

async fn push(State(outboxes): State<Outboxes>, Path(i): Path<usize>) -> StatusCode {
    let outbox = outboxes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&i)
        .cloned();
    match outbox {
        Some(tx) if tx.try_send("push".into()).is_ok() => StatusCode::NO_CONTENT,
        _ => StatusCode::CONFLICT,
    }
}

/// Serve until killed.
pub async fn serve(listener: TcpListener) {
    let app = Router::new()
        .route("/ws/{i}", get(ws))
        .route("/push/{i}", post(push))
        .with_state(Outboxes::default());
    let _ = axum::serve(listener, app).await;
}
