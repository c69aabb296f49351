//! Who is calling: a browser session (cookie, with CSRF protection on every
//! state-changing request) or a script (API token), its tenant, role and what
//! the role allows. Handlers take a [`Principal`] and get a tenant-scoped
//! transaction from it; they never see the pool.

use super::AppState;
use super::crypto;
use super::problem::Problem;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use fernhand_store::users::User;
use fernhand_store::{TenantTx, sessions, tokens, users};

/// Cookie carrying `<tenant id>.<session token>`.
pub const SESSION_COOKIE: &str = "fh_session";
/// Header carrying the CSRF token for cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Prefix of API tokens: `fh_<tenant id>_<token>`.
pub const TOKEN_PREFIX: &str = "fh_";
/// Prefix of enrolment tokens: `fhe_<tenant id>_<secret>`.
pub const ENROLMENT_PREFIX: &str = "fhe_";
/// Prefix of device credentials: `fhd_<tenant id>_<secret>`.
pub const DEVICE_PREFIX: &str = "fhd_";
/// Prefix of platform-operator tokens: `fho_<secret>`.
pub const OPERATOR_PREFIX: &str = "fho_";

/// A user's role in its tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Manages the tenant, its users and settings; can do everything.
    TenantAdmin,
    /// Runs support sessions.
    Expert,
    /// Reads records and the audit log; changes nothing.
    Auditor,
    /// An end user of the tenant: raises and follows their own desk
    /// tickets in the portal, and nothing else.
    Requester,
}

impl Role {
    /// From the stored name.
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "tenant_admin" => Some(Role::TenantAdmin),
            "expert" => Some(Role::Expert),
            "auditor" => Some(Role::Auditor),
            "requester" => Some(Role::Requester),
            _ => None,
        }
    }

    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            Role::TenantAdmin => "tenant_admin",
            Role::Expert => "expert",
            Role::Auditor => "auditor",
            Role::Requester => "requester",
        }
    }

    /// Least privilege: what each role may do.
    pub fn permits(self, p: Permission) -> bool {
        match self {
            Role::TenantAdmin => true,
            Role::Expert => matches!(
                p,
                Permission::RunSessions
                    | Permission::ReadSessions
                    | Permission::OwnTokens
                    | Permission::ReadDevices
                    | Permission::WorkDesk
                    | Permission::ReadDesk
            ),
            Role::Auditor => matches!(
                p,
                Permission::ReadSessions
                    | Permission::ReadAudit
                    | Permission::OwnTokens
                    | Permission::ReadDevices
                    | Permission::ReadDesk
            ),
            Role::Requester => matches!(p, Permission::UsePortal),
        }
    }
}

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Create and list users.
    ManageUsers,
    /// Tenant settings and the security log.
    ManageTenant,
    /// Start and end support sessions.
    RunSessions,
    /// See session records.
    ReadSessions,
    /// Read the audit log.
    ReadAudit,
    /// Manage one's own API tokens.
    OwnTokens,
    /// Enrol devices, manage device groups and who may reach them.
    ManageDevices,
    /// See devices (experts: those of their groups).
    ReadDevices,
    /// Raise, edit and move service desk records; manage configuration items.
    WorkDesk,
    /// Read service desk records and configuration items.
    ReadDesk,
    /// Set the desk's lifecycles, calendar, SLA targets and change board.
    ManageDesk,
    /// Raise and follow one's own tickets in the portal.
    UsePortal,
}

impl Permission {
    /// Every permission (and so every API-token scope).
    pub const ALL: [Permission; 12] = [
        Permission::ManageUsers,
        Permission::ManageTenant,
        Permission::RunSessions,
        Permission::ReadSessions,
        Permission::ReadAudit,
        Permission::OwnTokens,
        Permission::ManageDevices,
        Permission::ReadDevices,
        Permission::WorkDesk,
        Permission::ReadDesk,
        Permission::ManageDesk,
        Permission::UsePortal,
    ];

    /// The API-token scope that carries this permission.
    pub fn scope(self) -> &'static str {
        match self {
            Permission::ManageUsers => "users",
            Permission::ManageTenant => "tenant",
            Permission::RunSessions => "sessions",
            Permission::ReadSessions => "sessions:read",
            Permission::ReadAudit => "audit",
            Permission::OwnTokens => "tokens",
            Permission::ManageDevices => "devices",
            Permission::ReadDevices => "devices:read",
            Permission::WorkDesk => "desk",
            Permission::ReadDesk => "desk:read",
            Permission::ManageDesk => "desk:admin",
            Permission::UsePortal => "portal",
        }
    }
}

/// How the caller authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A browser session.
    Cookie {
        /// Stored id (hash of the cookie token).
        session_id: String,
        /// Whether the second factor was given.
        mfa_done: bool,
    },
    /// An API token.
    Token {
        /// Its scopes.
        scopes: Vec<String>,
    },
}

/// An authenticated caller, before the MFA and password-change gates (only
/// the routes that complete those accept it).
pub struct Pending {
    /// The tenant.
    pub tenant_id: String,
    /// The user.
    pub user: User,
    /// The role.
    pub role: Role,
    /// How.
    pub via: Via,
    /// Whether the tenant requires MFA.
    pub tenant_requires_mfa: bool,
    state: AppState,
}

/// An authenticated caller that passed every gate.
pub struct Principal(pub Pending);

impl Pending {
    /// A transaction for this caller's tenant.
    pub async fn tx(&self) -> Result<TenantTx, Problem> {
        Ok(self.state.store.tenant(&self.tenant_id).await?)
    }

    /// Whether MFA must be completed in this session before anything else.
    pub fn mfa_outstanding(&self) -> bool {
        match &self.via {
            Via::Cookie { mfa_done, .. } => {
                !mfa_done && (self.user.mfa_secret.is_some() || self.tenant_requires_mfa)
            }
            Via::Token { .. } => false,
        }
    }
}

impl Principal {
    /// Refuse unless the role (and, for tokens, the scope) allows `p`.
    pub fn require(&self, p: Permission) -> Result<(), Problem> {
        let scoped = match &self.0.via {
            Via::Token { scopes } => scopes.iter().any(|s| s == p.scope()),
            Via::Cookie { .. } => true,
        };
        if self.0.role.permits(p) && scoped {
            Ok(())
        } else {
            Err(Problem::forbidden(format!(
                "your role does not allow this ({})",
                p.scope()
            )))
        }
    }
}

impl std::ops::Deref for Principal {
    type Target = Pending;
    fn deref(&self) -> &Pending {
        &self.0
    }
}

fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn unsafe_method(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Pending, Problem> {
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    // One transaction at a time: the embedded SQLite store has one connection.
    let (tenant_id, user, via) = if let Some(bearer) = bearer {
        let rest = bearer
            .strip_prefix(TOKEN_PREFIX)
            .ok_or_else(Problem::unauthorized)?;
        let (tenant, token) = rest.split_once('_').ok_or_else(Problem::unauthorized)?;
        let mut tx = state.store.tenant(tenant).await?;
        let found = tokens::by_hash(&mut tx, &crypto::token_hash(token))
            .await?
            .ok_or_else(Problem::unauthorized)?;
        let user = users::get(&mut tx, &found.user_id)
            .await?
            .ok_or_else(Problem::unauthorized)?;
        let scopes = found.scopes.split_whitespace().map(str::to_owned).collect();
        (tenant.to_owned(), user, Via::Token { scopes })
    } else {
        let value = cookie(parts, SESSION_COOKIE).ok_or_else(Problem::unauthorized)?;
        let (tenant, token) = value.split_once('.').ok_or_else(Problem::unauthorized)?;
        let mut tx = state.store.tenant(tenant).await?;
        let session_id = crypto::token_hash(token);
        let session = sessions::get(&mut tx, &session_id)
            .await?
            .ok_or_else(Problem::unauthorized)?;
        if unsafe_method(&parts.method) {
            let csrf = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| Problem::forbidden("missing CSRF token"))?;
            if !crypto::same(&crypto::token_hash(csrf), &session.csrf_hash) {
                return Err(Problem::forbidden("bad CSRF token"));
            }
        }
        let user = users::get(&mut tx, &session.user_id)
            .await?
            .ok_or_else(Problem::unauthorized)?;
        let via = Via::Cookie {
            session_id,
            mfa_done: session.mfa_done,
        };
        (tenant.to_owned(), user, via)
    };
    let role = Role::parse(&user.role).ok_or_else(Problem::internal)?;
    let mut p = state.store.platform().await?;
    let tenant = fernhand_store::tenants::get(&mut p, &tenant_id)
        .await?
        .ok_or_else(Problem::unauthorized)?;
    drop(p);
    Ok(Pending {
        tenant_id,
        user,
        role,
        via,
        tenant_requires_mfa: tenant.require_mfa,
        state: state.clone(),
    })
}

impl FromRequestParts<AppState> for Pending {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).await
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let pending = authenticate(parts, state).await?;
        if pending.mfa_outstanding() {
            return Err(Problem::mfa_required());
        }
        if pending.user.must_change_password && matches!(pending.via, Via::Cookie { .. }) {
            return Err(Problem::new(
                axum::http::StatusCode::FORBIDDEN,
                "password_change_required",
                "set a new password first",
            ));
        }
        Ok(Principal(pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_least_privilege() {
        assert!(Role::TenantAdmin.permits(Permission::ManageUsers));
        assert!(!Role::Expert.permits(Permission::ManageUsers));
        assert!(!Role::Expert.permits(Permission::ReadAudit));
        assert!(Role::Expert.permits(Permission::RunSessions));
        assert!(!Role::Auditor.permits(Permission::RunSessions));
        assert!(Role::Auditor.permits(Permission::ReadAudit));
        assert!(Role::Expert.permits(Permission::WorkDesk));
        assert!(!Role::Expert.permits(Permission::ManageDesk));
        assert!(Role::Auditor.permits(Permission::ReadDesk));
        assert!(!Role::Auditor.permits(Permission::WorkDesk));
        for r in [Role::TenantAdmin, Role::Expert, Role::Auditor] {
            assert_eq!(Role::parse(r.name()), Some(r));
        }
    }
}
