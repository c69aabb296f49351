//! One member connection: TLS (when configured), WebSocket, admission within
//! the handshake time limit, then a reader loop here and a writer task.

use super::Shared;
use crate::core::{ConnId, Outbound, Refusal};
use crate::security::SecurityEvent;
use bytes::Bytes;
use fernhand_protocol::frame::{self, CloseCode};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::{Message, WebSocketConfig};

/// Frames written per batch before flushing.
const BATCH: usize = 64;

/// Aborts the writer task when the connection task ends for any reason
/// (including being aborted itself), so no half of a socket outlives it.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn ws_config(max_frame: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        // The write buffer grows only when used: batching up to 64 KiB per
        // write costs idle members nothing.
        .write_buffer_size(64 * 1024)
        .max_message_size(Some(max_frame))
        .max_frame_size(Some(max_frame))
}

/// Log and count a refusal.
pub(super) fn record(shared: &Shared, peer: SocketAddr, refusal: &Refusal) {
    shared.metrics.refuse(refusal.code.name());
    shared.security.record(SecurityEvent {
        reason: refusal.code.name(),
        peer: Some(peer.ip()),
        detail: refusal.detail.clone(),
    });
}

pub(super) fn refuse_too_many(shared: &Shared, peer: SocketAddr) {
    record(
        shared,
        peer,
        &Refusal {
            code: CloseCode::TooManyConnections,
            detail: format!(
                "more than {} connections from this address",
                shared.limits.max_connections_per_ip
            ),
        },
    );
}

pub(super) async fn serve(tcp: TcpStream, peer: SocketAddr, conn: ConnId, shared: Arc<Shared>) {
    match shared.tls.clone() {
        Some(acceptor) => {
            let limit = shared.limits.handshake_timeout;
            match tokio::time::timeout(limit, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => serve_ws(tls, peer, conn, shared).await,
                Ok(Err(e)) => record(
                    &shared,
                    peer,
                    &Refusal {
                        code: CloseCode::ProtocolError,
                        detail: format!("TLS handshake failed: {e}"),
                    },
                ),
                Err(_) => record(
                    &shared,
                    peer,
                    &Refusal {
                        code: CloseCode::HandshakeTimeout,
                        detail: "no TLS handshake in time".to_owned(),
                    },
                ),
            }
        }
        None => serve_ws(tcp, peer, conn, shared).await,
    }
}

async fn close_with<S>(ws: &mut WebSocketStream<S>, refusal: &Refusal)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _ = ws
        .send(Message::Binary(Bytes::from(frame::close(
            refusal.code,
            &refusal.detail,
        ))))
        .await;
    let _ = ws
        .close(Some(CloseFrame {
            code: refusal.code.as_u16().into(),
            reason: refusal.code.name().into(),
        }))
        .await;
}

async fn serve_ws<S>(io: S, peer: SocketAddr, conn: ConnId, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = &shared.limits;
    let notify = Arc::new(Notify::new());
    // WebSocket upgrade and Admit, together within the handshake time limit.
    let admitted = tokio::time::timeout(limits.handshake_timeout, async {
        let mut ws = tokio_tungstenite::accept_async_with_config(
            io,
            Some(ws_config(limits.max_frame_bytes)),
        )
        .await
        .map_err(|e| {
            (
                None,
                Refusal {
                    code: CloseCode::ProtocolError,
                    detail: format!("WebSocket upgrade failed: {e}"),
                },
            )
        })?;
        let first = loop {
            match ws.next().await {
                Some(Ok(Message::Binary(b))) => break b,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(_)) | None => {
                    return Err((
                        Some(ws),
                        Refusal {
                            code: CloseCode::ProtocolError,
                            detail: "expected a binary Admit frame".to_owned(),
                        },
                    ));
                }
                Some(Err(e)) => {
                    return Err((
                        None,
                        Refusal {
                            code: CloseCode::ProtocolError,
                            detail: format!("read failed before Admit: {e}"),
                        },
                    ));
                }
            }
        };
        let result = shared
            .core()
            .admit(conn, notify.clone(), &first, now_unix());
        match result {
            Ok(admission) => Ok((ws, admission)),
            Err(refusal) => Err((Some(ws), refusal)),
        }
    })
    .await;
    let (mut ws, admission) = match admitted {
        Ok(Ok(done)) => done,
        Ok(Err((ws, refusal))) => {
            record(&shared, peer, &refusal);
            if let Some(mut ws) = ws {
                close_with(&mut ws, &refusal).await;
            }
            return;
        }
        Err(_) => {
            record(
                &shared,
                peer,
                &Refusal {
                    code: CloseCode::HandshakeTimeout,
                    detail: "no Admit in time".to_owned(),
                },
            );
            return;
        }
    };
    if let Some(old) = admission.replaced {
        old.notify_one();
    }
    tracing::debug!(session = %admission.session, member = admission.member.0, resumed = admission.resumed, "member admitted");
    if ws.send(Message::Binary(admission.admitted)).await.is_err() {
        shared.core().on_disconnect(conn, std::time::Instant::now());
        return;
    }
    notify.notify_one(); // a resumed member may have frames waiting

    let (mut sink, mut stream) = ws.split();
    let writer_shared = shared.clone();
    let writer_notify = notify.clone();
    let mut writer = AbortOnDrop(tokio::spawn(async move {
        loop {
            writer_notify.notified().await;
            loop {
                let next = writer_shared.core().outbound(conn, BATCH);
                match next {
                    Outbound::Frames(frames) if frames.is_empty() => break,
                    Outbound::Frames(frames) => {
                        for f in frames {
                            if sink.feed(Message::Binary(f)).await.is_err() {
                                return None;
                            }
                        }
                        if sink.flush().await.is_err() {
                            return None;
                        }
                    }
                    Outbound::Close(refusal) => {
                        let _ = sink
                            .send(Message::Binary(Bytes::from(frame::close(
                                refusal.code,
                                &refusal.detail,
                            ))))
                            .await;
                        let _ = sink
                            .send(Message::Close(Some(CloseFrame {
                                code: refusal.code.as_u16().into(),
                                reason: refusal.code.name().into(),
                            })))
                            .await;
                        return Some(refusal);
                    }
                }
            }
        }
    }));

    loop {
        tokio::select! {
            message = stream.next() => {
                let refusal = match message {
                    Some(Ok(Message::Binary(bytes))) => {
                        let result = shared.core().on_frame(conn, bytes);
                        match result {
                            Ok(wake) => {
                                for w in wake {
                                    w.notify_one();
                                }
                                continue;
                            }
                            Err(refusal) => refusal,
                        }
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Text(_))) => Refusal {
                        code: CloseCode::ProtocolError,
                        detail: "text messages are not part of the protocol".to_owned(),
                    },
                    Some(Err(WsError::Capacity(e))) => Refusal {
                        code: CloseCode::FrameTooLarge,
                        detail: format!("frame over the limit: {e}"),
                    },
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                };
                record(&shared, peer, &refusal);
                if let Some(w) = shared.core().close(conn, refusal) {
                    w.notify_one();
                }
                // Give the writer a moment to send the close notice.
                let _ = tokio::time::timeout(std::time::Duration::from_secs(2), &mut writer.0).await;
                break;
            }
            done = &mut writer.0 => {
                if let Ok(Some(refusal)) = done
                    && refusal.code != CloseCode::Replaced
                    && refusal.code != CloseCode::Shutdown
                {
                    record(&shared, peer, &refusal);
                }
                break;
            }
        }
    }
    drop(writer);
    shared.core().on_disconnect(conn, std::time::Instant::now());
}
