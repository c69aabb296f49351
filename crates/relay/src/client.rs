//! A member's connection to a relay: admission with a ticket, hop
//! acknowledgements both ways, and resume after a dropped connection without
//! losing a reliable frame.
//!
//! The client keeps every reliable data frame it sent until the relay
//! acknowledges it; on resume the relay says how many it has and the rest is
//! sent again. Moving to another relay (failover) starts afresh: the
//! end-to-end layer (`fernhand_protocol::Endpoint::resync`) recovers anything
//! lost with the old relay.

use bytes::Bytes;
use fernhand_protocol::MemberId;
use fernhand_protocol::frame::{self, CloseCode, Frame, RESUME_TOKEN_LEN, Resume, TrafficClass};
use futures_util::{SinkExt, StreamExt};
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use thiserror::Error;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::{Message, WebSocketConfig};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// Acknowledge received reliable frames this often.
const ACK_EVERY: u64 = 16;

/// Why a relay connection failed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The relay refused or closed the connection, and said why.
    #[error("relay closed the connection: {code:?} ({reason})")]
    Refused {
        /// The relay's reason.
        code: CloseCode,
        /// Its explanation.
        reason: String,
    },
    /// The connection ended without a reason (network, relay gone).
    #[error("connection to the relay lost: {0}")]
    Lost(String),
    /// The relay broke the protocol.
    #[error("relay protocol error: {0}")]
    Protocol(String),
    /// The URL is unusable or would send cleartext over a network.
    #[error("bad relay URL: {0}")]
    BadUrl(String),
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An admitted connection to a relay.
pub struct RelayClient {
    ws: Ws,
    url: String,
    tls: Option<Arc<rustls::ClientConfig>>,
    ticket: Vec<u8>,
    member: MemberId,
    token: [u8; RESUME_TOKEN_LEN],
    /// Reliable data frames sent on this hop (the relay's count of ours).
    sent: u64,
    /// Those not yet acknowledged, with their numbers.
    unacked: VecDeque<(u64, Bytes)>,
    /// Reliable data frames received on this hop.
    received: u64,
    acked_received: u64,
    ack_due: bool,
    max_frame: usize,
}

impl std::fmt::Debug for RelayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayClient")
            .field("url", &self.url)
            .field("member", &self.member)
            .finish_non_exhaustive()
    }
}

/// Whether `url` may be used: `wss://` anywhere, `ws://` only to loopback.
fn check_url(url: &str) -> Result<(), ClientError> {
    if url.starts_with("wss://") {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("ws://") else {
        return Err(ClientError::BadUrl(format!(
            "{url} is not a ws:// or wss:// URL"
        )));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // `ws://127.0.0.1:1@relay.example/` goes to relay.example: no user info.
    if authority.contains('@') {
        return Err(ClientError::BadUrl(format!(
            "{url}: user information in a WebSocket URL is not allowed"
        )));
    }
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(h, _)| h)
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(ClientError::BadUrl(format!(
            "{url}: plain WebSocket is allowed only to loopback"
        )))
    }
}

async fn open(
    url: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
    max_frame: usize,
) -> Result<Ws, ClientError> {
    check_url(url)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(16 * 1024)
        .write_buffer_size(16 * 1024)
        .max_message_size(Some(max_frame))
        .max_frame_size(Some(max_frame));
    let connector = tls.map(Connector::Rustls);
    let (ws, _) =
        tokio_tungstenite::connect_async_tls_with_config(url, Some(config), true, connector)
            .await
            .map_err(|e| ClientError::Lost(e.to_string()))?;
    Ok(ws)
}

/// Read the relay's answer to `Admit`.
async fn admitted(
    ws: &mut Ws,
) -> Result<(MemberId, [u8; RESUME_TOKEN_LEN], u64, bool), ClientError> {
    loop {
        let message = ws
            .next()
            .await
            .ok_or_else(|| ClientError::Lost("closed during admission".to_owned()))?
            .map_err(|e| ClientError::Lost(e.to_string()))?;
        let Message::Binary(bytes) = message else {
            if let Message::Close(close) = message {
                return Err(refused_by_close(close.as_ref()));
            }
            continue;
        };
        return match Frame::parse(&bytes) {
            Ok(Frame::Admitted {
                member,
                token,
                received,
                resumed,
            }) => Ok((member, token, received, resumed)),
            Ok(Frame::Close { code, reason }) => Err(refused(code, reason)),
            Ok(_) => Err(ClientError::Protocol("expected Admitted".to_owned())),
            Err(e) => Err(ClientError::Protocol(e.to_string())),
        };
    }
}

fn refused(code: u16, reason: &str) -> ClientError {
    match CloseCode::from_u16(code) {
        Some(code) => ClientError::Refused {
            code,
            reason: reason.to_owned(),
        },
        None => ClientError::Protocol(format!("unknown close code {code}")),
    }
}

fn refused_by_close(
    close: Option<&tokio_tungstenite::tungstenite::protocol::CloseFrame>,
) -> ClientError {
    match close {
        Some(c) => refused(u16::from(c.code), &c.reason),
        None => ClientError::Lost("closed without a reason".to_owned()),
    }
}

impl RelayClient {
    /// Connect to `url` and be admitted with `ticket`.
    pub async fn connect(
        url: &str,
        tls: Option<Arc<rustls::ClientConfig>>,
        ticket: Vec<u8>,
    ) -> Result<RelayClient, ClientError> {
        let max_frame = crate::Limits::default().max_frame_bytes;
        let mut ws = open(url, tls.clone(), max_frame).await?;
        ws.send(Message::Binary(Bytes::from(frame::admit(&ticket, None))))
            .await
            .map_err(|e| ClientError::Lost(e.to_string()))?;
        let (member, token, _, _) = admitted(&mut ws).await?;
        Ok(RelayClient {
            ws,
            url: url.to_owned(),
            tls,
            ticket,
            member,
            token,
            sent: 0,
            unacked: VecDeque::new(),
            received: 0,
            acked_received: 0,
            ack_due: false,
            max_frame,
        })
    }

    /// This member's id (from the ticket).
    pub fn member(&self) -> MemberId {
        self.member
    }

    /// The relay's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Reliable frames sent and not yet acknowledged by the relay.
    pub fn unacked(&self) -> usize {
        self.unacked.len()
    }

    /// Reconnect to the same relay and resume. Returns whether the relay
    /// still had this member's state; if not, the caller must resync end to
    /// end (frames may have been lost).
    pub async fn resume(&mut self) -> Result<bool, ClientError> {
        let mut ws = open(&self.url, self.tls.clone(), self.max_frame).await?;
        let resume = Resume {
            token: self.token,
            received: self.received,
        };
        ws.send(Message::Binary(Bytes::from(frame::admit(
            &self.ticket,
            Some(&resume),
        ))))
        .await
        .map_err(|e| ClientError::Lost(e.to_string()))?;
        let (member, token, relay_has, resumed) = admitted(&mut ws).await?;
        self.ws = ws;
        self.member = member;
        self.token = token;
        if resumed {
            // Send again what the relay did not get.
            self.unacked.retain(|(n, _)| *n >= relay_has);
            let again: Vec<Bytes> = self.unacked.iter().map(|(_, b)| b.clone()).collect();
            for b in again {
                self.ws
                    .feed(Message::Binary(b))
                    .await
                    .map_err(|e| ClientError::Lost(e.to_string()))?;
            }
            self.ws
                .flush()
                .await
                .map_err(|e| ClientError::Lost(e.to_string()))?;
        } else {
            self.reset_counts();
        }
        Ok(resumed)
    }

    /// Move to another relay with a new ticket (failover). Hop state starts
    /// afresh; the caller resyncs end to end.
    pub async fn reconnect_to(&mut self, url: &str, ticket: Vec<u8>) -> Result<(), ClientError> {
        let fresh = RelayClient::connect(url, self.tls.clone(), ticket).await?;
        *self = fresh;
        Ok(())
    }

    fn reset_counts(&mut self) {
        self.sent = 0;
        self.unacked.clear();
        self.received = 0;
        self.acked_received = 0;
        self.ack_due = false;
    }

    /// Send a data frame. Reliable ones are kept until the relay has them.
    pub async fn send(&mut self, frame: Vec<u8>) -> Result<(), ClientError> {
        self.send_bytes(Bytes::from(frame)).await
    }

    /// As [`Self::send`], for a frame already in a shared buffer.
    pub async fn send_bytes(&mut self, bytes: Bytes) -> Result<(), ClientError> {
        if bytes.get(1) == Some(&0) {
            // Traffic class byte 0: reliable (see `fernhand_protocol::frame`).
            self.unacked.push_back((self.sent, bytes.clone()));
            self.sent = self.sent.saturating_add(1);
        }
        self.ws
            .send(Message::Binary(bytes))
            .await
            .map_err(|e| ClientError::Lost(e.to_string()))
    }

    /// Receive the next data frame, handling the relay's acks and close
    /// notices on the way. Cancel-safe: a frame is never consumed and then
    /// lost to a cancelled await (acks owed are sent on the next call).
    pub async fn recv(&mut self) -> Result<Bytes, ClientError> {
        if self.ack_due {
            self.ack().await?;
        }
        loop {
            let message = match self.ws.next().await {
                Some(Ok(m)) => m,
                Some(Err(e)) => return Err(ClientError::Lost(e.to_string())),
                None => return Err(ClientError::Lost("connection closed".to_owned())),
            };
            let bytes = match message {
                Message::Binary(b) => b,
                Message::Close(close) => return Err(refused_by_close(close.as_ref())),
                _ => continue,
            };
            match Frame::parse(&bytes) {
                Ok(Frame::Data { envelope, .. }) => {
                    if envelope.class == TrafficClass::Reliable {
                        self.received = self.received.saturating_add(1);
                        if self.received.saturating_sub(self.acked_received) >= ACK_EVERY {
                            self.ack_due = true;
                        }
                    }
                    return Ok(bytes);
                }
                Ok(Frame::Ack(count)) => {
                    while self.unacked.front().is_some_and(|(n, _)| *n < count) {
                        self.unacked.pop_front();
                    }
                }
                Ok(Frame::Close { code, reason }) => return Err(refused(code, reason)),
                Ok(_) => {
                    return Err(ClientError::Protocol(
                        "unexpected frame from relay".to_owned(),
                    ));
                }
                Err(e) => return Err(ClientError::Protocol(e.to_string())),
            }
        }
    }

    /// Tell the relay how many reliable frames arrived (also done every few
    /// frames by [`Self::recv`]).
    pub async fn ack(&mut self) -> Result<(), ClientError> {
        if self.received == self.acked_received {
            self.ack_due = false;
            return Ok(());
        }
        let count = self.received;
        self.ws
            .send(Message::Binary(Bytes::from(frame::ack(count))))
            .await
            .map_err(|e| ClientError::Lost(e.to_string()))?;
        self.acked_received = count;
        self.ack_due = false;
        Ok(())
    }

    /// The underlying TCP stream of a plain connection, for load generators
    /// that write pre-encoded WebSocket frames (benchmarks only).
    #[doc(hidden)]
    pub fn into_tcp(self) -> Option<TcpStream> {
        match self.ws.into_inner() {
            MaybeTlsStream::Plain(s) => Some(s),
            _ => None,
        }
    }

    /// Drop the TCP connection abruptly (tests of resume).
    #[doc(hidden)]
    pub async fn sever(&mut self) {
        let _ = self.ws.get_mut();
        let stream = match self.ws.get_mut() {
            MaybeTlsStream::Plain(s) => s,
            MaybeTlsStream::Rustls(s) => s.get_mut().0,
            _ => return,
        };
        let _ = tokio::io::AsyncWriteExt::shutdown(stream).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleartext_only_to_loopback() {
        assert!(check_url("wss://relay.example/ws").is_ok());
        assert!(check_url("ws://127.0.0.1:9000/").is_ok());
        assert!(check_url("ws://[::1]:9000").is_ok());
        assert!(check_url("ws://localhost:1").is_ok());
        assert!(check_url("ws://relay.example/ws").is_err());
        assert!(check_url("ws://10.0.0.1:80").is_err());
        assert!(check_url("http://127.0.0.1").is_err());
    }
}
