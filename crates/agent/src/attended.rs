//! Joining an attended session: the customer types the join code (or
//! opens the link); the control plane finds the session by the code's
//! public half, and the agent proves the secret half to the expert by SRP.
//! The secret half never leaves this machine.

use fernhand_client::api::{Api, ApiError};
use fernhand_client::broker::BrokerClient;
use fernhand_client::runtime::Session;
use fernhand_e2e::{JoinCode, JoinLink, Policy};
use fernhand_protocol::{Endpoint, EndpointConfig, MemberId, SessionId};
use std::sync::Arc;
use thiserror::Error;

/// Why joining failed.
#[derive(Debug, Error)]
pub enum JoinError {
    /// Neither a 12-digit code nor a join link.
    #[error("{0}: give the 12-digit code or the whole link the expert sent")]
    NotACode(String),
    /// The control plane refused or could not be reached.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The session could not be reached.
    #[error("could not reach the session: {0}")]
    Link(String),
}

/// A code or link, read.
pub enum Secret {
    /// Read over the phone.
    Code(JoinCode),
    /// Sent in chat or e-mail.
    Link(JoinLink),
}

impl Secret {
    /// Read what the customer typed or pasted.
    pub fn parse(input: &str) -> Result<Secret, JoinError> {
        if input.contains('#') {
            return JoinLink::parse(input)
                .map(Secret::Link)
                .map_err(|e| JoinError::NotACode(e.to_string()));
        }
        JoinCode::parse(input)
            .map(Secret::Code)
            .map_err(|e| JoinError::NotACode(e.to_string()))
    }

    fn locator(&self) -> &str {
        match self {
            Secret::Code(c) => c.locator(),
            Secret::Link(l) => l.locator(),
        }
    }

    fn identity(&self) -> Vec<u8> {
        match self {
            Secret::Code(c) => c.identity(),
            Secret::Link(l) => l.identity(),
        }
    }

    fn secret(&self) -> &[u8] {
        match self {
            Secret::Code(c) => c.secret(),
            Secret::Link(l) => l.secret(),
        }
    }
}

/// The control plane a link points at (what comes before `/join/`).
pub fn server_of_link(input: &str) -> Option<String> {
    let (base, _) = input.split_once("/join/")?;
    Some(base.to_owned())
}

/// Find the session and join it; returns the session and its leader.
pub async fn join(
    api: &Api,
    secret: &Secret,
    tls: Option<rustls::ClientConfig>,
) -> Result<(Session, MemberId), JoinError> {
    let grant = api.join(secret.locator()).await?;
    let session: SessionId = grant
        .session
        .parse()
        .map_err(|_| JoinError::Link("the control plane named no valid session".into()))?;
    let leader = MemberId(grant.leader);
    let endpoint = Endpoint::joiner(
        session,
        MemberId(grant.member),
        leader,
        Policy::default(),
        &secret.identity(),
        secret.secret(),
        EndpointConfig::default(),
    )
    .map_err(|e| JoinError::Link(e.to_string()))?;
    let policy = grant.restricted_policy.clone();
    let broker = BrokerClient::new(api.base(), grant.grant, tls.clone())
        .map_err(|e| JoinError::Link(e.to_string()))?;
    let reporter = fernhand_client::broker::SecurityReporter::new(broker.clone());
    let mut session = Session::start(endpoint, broker, tls.map(Arc::new))
        .await
        .map_err(|e| JoinError::Link(e.to_string()))?;
    session.set_reporter(reporter);
    session.set_chat_policy(policy.as_deref());
    Ok((session, leader))
}
