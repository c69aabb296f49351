//! The route table: every route with its access rule and handler.

mod auth;
mod health;
mod logs;
mod sessions;
mod tokens;
mod users;

use super::principal::Permission;
use super::{Access, AppState, RouteSpec};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;
use axum::routing::{MethodRouter, delete, get, post, put};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// The caller's address, when the server records it.
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

fn spec(method: Method, path: &'static str, access: Access) -> RouteSpec {
    RouteSpec {
        method,
        path,
        access,
    }
}

pub(super) fn all() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::{Needs, Pending, Public};
    use Permission::*;
    vec![
        (spec(Method::GET, "/healthz", Public), get(health::healthz)),
        (
            spec(Method::POST, "/api/v1/auth/login", Public),
            post(auth::login),
        ),
        (
            spec(Method::POST, "/api/v1/auth/logout", Pending),
            post(auth::logout),
        ),
        (
            spec(Method::POST, "/api/v1/auth/mfa/setup", Pending),
            post(auth::mfa_setup),
        ),
        (
            spec(Method::POST, "/api/v1/auth/mfa/confirm", Pending),
            post(auth::mfa_confirm),
        ),
        (
            spec(Method::POST, "/api/v1/auth/mfa/verify", Pending),
            post(auth::mfa_verify),
        ),
        (spec(Method::GET, "/api/v1/me", Pending), get(auth::me)),
        (
            spec(Method::POST, "/api/v1/me/password", Pending),
            post(auth::change_password),
        ),
        (
            spec(Method::PUT, "/api/v1/tenant/mfa", Needs(ManageTenant)),
            put(auth::require_mfa),
        ),
        (
            spec(Method::GET, "/api/v1/users", Needs(ManageUsers)),
            get(users::list),
        ),
        (
            spec(Method::POST, "/api/v1/users", Needs(ManageUsers)),
            post(users::create),
        ),
        (
            spec(Method::GET, "/api/v1/users/{id}", Needs(ManageUsers)),
            get(users::get),
        ),
        (
            spec(Method::GET, "/api/v1/tokens", Needs(OwnTokens)),
            get(tokens::list),
        ),
        (
            spec(Method::POST, "/api/v1/tokens", Needs(OwnTokens)),
            post(tokens::create),
        ),
        (
            spec(Method::DELETE, "/api/v1/tokens/{id}", Needs(OwnTokens)),
            delete(tokens::revoke),
        ),
        (
            spec(Method::GET, "/api/v1/sessions", Needs(ReadSessions)),
            get(sessions::list),
        ),
        (
            spec(Method::POST, "/api/v1/sessions", Needs(RunSessions)),
            post(sessions::create),
        ),
        (
            spec(Method::GET, "/api/v1/sessions/{id}", Needs(ReadSessions)),
            get(sessions::get),
        ),
        (
            spec(
                Method::POST,
                "/api/v1/sessions/{id}/end",
                Needs(RunSessions),
            ),
            post(sessions::end),
        ),
        (
            spec(Method::POST, "/api/v1/join", Public),
            post(sessions::join),
        ),
        (
            spec(Method::GET, "/api/v1/audit", Needs(ReadAudit)),
            get(logs::audit),
        ),
        (
            spec(Method::GET, "/api/v1/security-events", Needs(ManageTenant)),
            get(logs::security),
        ),
    ]
}
