//! A member's link to its session, whichever relay carries it: gets tickets
//! from a [`TicketSource`] (the broker), connects, and when the connection
//! drops, resumes on the same relay or — if that relay is gone — asks for the
//! session's new relay and moves there. The caller learns of every move so it
//! can resync end to end when frames may have been lost.

use crate::client::{ClientError, RelayClient};
use bytes::Bytes;
use fernhand_protocol::RelayId;
use fernhand_protocol::frame::CloseCode;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use thiserror::Error;

/// A relay and a ticket for it.
#[derive(Clone, Debug)]
pub struct RelayTicket {
    /// The relay.
    pub relay: RelayId,
    /// Its URL.
    pub url: String,
    /// The signed ticket.
    pub ticket: Vec<u8>,
}

/// Where tickets come from (the broker, for real members).
pub trait TicketSource: Send + Sync {
    /// A ticket for the session's relay; `failed` names a relay that could
    /// not be reached.
    fn fetch(
        &self,
        failed: Option<RelayId>,
    ) -> impl Future<Output = Result<RelayTicket, String>> + Send;
}

/// What [`MemberLink::recv`] yields.
#[derive(Debug)]
pub enum Delivery {
    /// A data frame.
    Frame(Bytes),
    /// The link was re-established. If `resumed` is false, frames may have
    /// been lost: resync end to end (`Endpoint::resync`).
    Reconnected {
        /// Whether the relay kept this member's state.
        resumed: bool,
        /// The relay now in use.
        relay: RelayId,
    },
}

/// Why the link gave up.
#[derive(Debug, Error)]
pub enum LinkError {
    /// No relay could be reached before the deadline.
    #[error("could not reach the session: {0}")]
    Unreachable(String),
    /// The relay refused this member for good (bad ticket and the like).
    #[error("refused: {0}")]
    Refused(ClientError),
}

/// A member's relay connection that survives relay failures.
pub struct MemberLink<S> {
    source: S,
    tls: Option<Arc<rustls::ClientConfig>>,
    client: RelayClient,
    relay: RelayId,
    /// How long to keep trying to reach the session.
    pub patience: Duration,
}

impl<S> std::fmt::Debug for MemberLink<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberLink")
            .field("relay", &self.relay)
            .finish_non_exhaustive()
    }
}

/// Refusals that end the member's participation (retrying cannot help).
fn fatal(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Refused {
            code: CloseCode::BadTicket
                | CloseCode::WrongIdentity
                | CloseCode::SessionFull
                | CloseCode::ProtocolError,
            ..
        } | ClientError::BadUrl(_)
    )
}

impl<S: TicketSource> MemberLink<S> {
    /// Get a ticket and connect.
    pub async fn connect(
        source: S,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Result<MemberLink<S>, LinkError> {
        let patience = Duration::from_secs(30);
        let (client, relay) = reach(&source, tls.clone(), None, patience).await?;
        Ok(MemberLink {
            source,
            tls,
            client,
            relay,
            patience,
        })
    }

    /// The relay in use.
    pub fn relay(&self) -> RelayId {
        self.relay
    }

    /// The member id the relay admitted.
    pub fn member(&self) -> fernhand_protocol::MemberId {
        self.client.member()
    }

    /// Send a frame; if the connection is lost, recover first and report it.
    pub async fn send(&mut self, frame: Vec<u8>) -> Result<Option<Delivery>, LinkError> {
        match self.client.send(frame).await {
            Ok(()) => Ok(None),
            Err(e) if fatal(&e) => Err(LinkError::Refused(e)),
            Err(_) => Ok(Some(self.recover().await?)),
        }
    }

    /// Acknowledge received frames to the relay now.
    pub async fn flush_acks(&mut self) -> Result<Option<Delivery>, LinkError> {
        match self.client.ack().await {
            Ok(()) => Ok(None),
            Err(_) => Ok(Some(self.recover().await?)),
        }
    }

    /// The next frame, or news that the link was re-established.
    pub async fn recv(&mut self) -> Result<Delivery, LinkError> {
        match self.client.recv().await {
            Ok(frame) => Ok(Delivery::Frame(frame)),
            Err(e) if fatal(&e) => Err(LinkError::Refused(e)),
            Err(_) => self.recover().await,
        }
    }

    async fn recover(&mut self) -> Result<Delivery, LinkError> {
        // The same relay first: a dropped connection resumes without loss.
        if let Ok(Ok(resumed)) =
            tokio::time::timeout(Duration::from_secs(2), self.client.resume()).await
        {
            return Ok(Delivery::Reconnected {
                resumed,
                relay: self.relay,
            });
        }
        let (client, relay) = reach(
            &self.source,
            self.tls.clone(),
            Some(self.relay),
            self.patience,
        )
        .await?;
        self.client = client;
        self.relay = relay;
        Ok(Delivery::Reconnected {
            resumed: false,
            relay,
        })
    }
}

/// Ask for a ticket and connect, retrying with backoff until `patience` runs out.
async fn reach<S: TicketSource>(
    source: &S,
    tls: Option<Arc<rustls::ClientConfig>>,
    mut failed: Option<RelayId>,
    patience: Duration,
) -> Result<(RelayClient, RelayId), LinkError> {
    let deadline = Instant::now() + patience;
    let mut backoff = Duration::from_millis(100);
    loop {
        let last = match source.fetch(failed).await {
            Ok(t) => match RelayClient::connect(&t.url, tls.clone(), t.ticket).await {
                Ok(client) => return Ok((client, t.relay)),
                Err(e) if fatal(&e) => return Err(LinkError::Refused(e)),
                Err(e) => {
                    failed = Some(t.relay);
                    e.to_string()
                }
            },
            Err(e) => e,
        };
        if Instant::now() + backoff > deadline {
            return Err(LinkError::Unreachable(last));
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}
