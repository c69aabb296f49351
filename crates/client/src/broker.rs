//! Asking the broker for tickets over HTTP (`POST /broker/v1/tickets` with
//! the member's grant), and that as the relay link's ticket source.

use fernhand_protocol::RelayId;
use fernhand_protocol::broker_link::TicketGrant;
use fernhand_relay::{RelayTicket, TicketSource};
use serde_json::json;
use thiserror::Error;

/// Why a ticket request failed.
#[derive(Debug, Error)]
pub enum BrokerClientError {
    /// The request did not complete.
    #[error("broker unreachable: {0}")]
    Unreachable(String),
    /// The broker said no.
    #[error("broker refused ({status}): {detail}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Its explanation.
        detail: String,
    },
}

/// A member's handle on the broker: its base URL and grant.
#[derive(Clone)]
pub struct BrokerClient {
    http: reqwest::Client,
    base: String,
    grant: String,
}

impl std::fmt::Debug for BrokerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl BrokerClient {
    /// A client for the broker at `base` (e.g. `https://support.example`)
    /// using `grant`. `tls` is the TLS configuration for https.
    pub fn new(
        base: &str,
        grant: String,
        tls: Option<rustls::ClientConfig>,
    ) -> Result<BrokerClient, BrokerClientError> {
        fernhand_pki::install_default_provider();
        let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10));
        if let Some(tls) = tls {
            builder = builder.tls_backend_preconfigured(tls);
        }
        Ok(BrokerClient {
            http: builder
                .build()
                .map_err(|e| BrokerClientError::Unreachable(e.to_string()))?,
            base: base.trim_end_matches('/').to_owned(),
            grant,
        })
    }

    /// Where the session runs and a ticket for it; name the relay that just
    /// failed, if one did.
    pub async fn ticket(
        &self,
        failed_relay: Option<RelayId>,
    ) -> Result<TicketGrant, BrokerClientError> {
        let body = match failed_relay {
            Some(r) => json!({ "failed_relay": r }),
            None => json!({}),
        };
        let response = self
            .http
            .post(format!("{}/broker/v1/tickets", self.base))
            .bearer_auth(&self.grant)
            .json(&body)
            .send()
            .await
            .map_err(|e| BrokerClientError::Unreachable(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let detail = response.text().await.unwrap_or_default();
            return Err(BrokerClientError::Refused {
                status: status.as_u16(),
                detail,
            });
        }
        response
            .json::<TicketGrant>()
            .await
            .map_err(|e| BrokerClientError::Unreachable(e.to_string()))
    }
}

impl BrokerClient {
    /// Raise a security event about this member's session with the
    /// control plane (`POST /api/v1/session-events`, the grant as
    /// credential), e.g. a file quarantined by the malware check.
    pub async fn report(&self, event: &serde_json::Value) -> Result<(), BrokerClientError> {
        let response = self
            .http
            .post(format!("{}/api/v1/session-events", self.base))
            .bearer_auth(&self.grant)
            .json(event)
            .send()
            .await
            .map_err(|e| BrokerClientError::Unreachable(e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        Err(BrokerClientError::Refused {
            status: status.as_u16(),
            detail: response.text().await.unwrap_or_default(),
        })
    }
}

/// Hands a session's security events to the control plane in the
/// background (the session goes on whether or not it is reachable; a
/// failure is logged).
#[derive(Clone, Debug)]
pub struct SecurityReporter(BrokerClient);

impl SecurityReporter {
    /// Report through `client`'s grant.
    pub fn new(client: BrokerClient) -> SecurityReporter {
        SecurityReporter(client)
    }

    /// Send `event`; the task's result says whether the control plane took it.
    pub fn report(&self, event: serde_json::Value) -> tokio::task::JoinHandle<bool> {
        let client = self.0.clone();
        tokio::spawn(async move {
            match client.report(&event).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!("a security event did not reach the control plane: {e}");
                    false
                }
            }
        })
    }
}

impl TicketSource for BrokerClient {
    async fn fetch(&self, failed: Option<RelayId>) -> Result<RelayTicket, String> {
        let t = self.ticket(failed).await.map_err(|e| e.to_string())?;
        Ok(RelayTicket {
            relay: t.relay,
            url: t.url.clone(),
            ticket: t
                .ticket_bytes()
                .ok_or("the broker sent a ticket that is not base64url")?,
        })
    }
}
