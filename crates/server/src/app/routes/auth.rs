//! Sign-in (password, then TOTP or a recovery code), sign-out, MFA set-up,
//! password change, and the tenant's "MFA for everyone" switch.
//!
//! Failed sign-ins count per account: after five the account locks with a
//! growing back-off, and every failure and lock is a security event.
//! Unknown tenants and users cost the same Argon2 time as known ones.

use super::Peer;
use crate::app::AppState;
use crate::app::crypto;
use crate::app::json::ApiJson;
use crate::app::limits::lock_seconds;
use crate::app::principal::{Pending, Permission, Principal, SESSION_COOKIE, Via};
use crate::app::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use fernhand_store::sessions::AuthSession;
use fernhand_store::{audit, now, sessions, tenants, users};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use totp_rs::{Algorithm, Builder, Totp};

/// How long a browser session lasts.
const SESSION_SECONDS: i64 = 12 * 3600;
/// A real Argon2id hash of nothing in particular: checking against it costs
/// what checking a real password costs (timing equalisation).
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| crypto::hash_password("fernhand timing equaliser").unwrap_or_default())
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    tenant: String,
    email: String,
    password: String,
}

fn bad_credentials() -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
        "wrong tenant, e-mail or password",
    )
}

pub async fn login(
    State(state): State<AppState>,
    Peer(peer): Peer,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, Problem> {
    if let Some(ip) = peer
        && !state.limits.login(ip)
    {
        state
            .security_event(None, "rate_limited", peer, json!({"route": "login"}))
            .await;
        return Err(Problem::too_many(
            "too many sign-in attempts from this address; wait a minute",
        ));
    }
    let mut p = state.store.platform().await?;
    let found = tenants::by_slug(&mut p, &body.tenant).await?;
    drop(p);
    let Some(tenant) = found else {
        crypto::check_password(&body.password, dummy_hash()).await;
        state
            .security_event(
                None,
                "login_failed",
                peer,
                json!({"reason": "unknown tenant"}),
            )
            .await;
        return Err(bad_credentials());
    };
    // The connection is not held while Argon2 runs.
    let mut tx = state.store.tenant(&tenant.id).await?;
    let found = users::by_email(&mut tx, &body.email).await?;
    drop(tx);
    let Some(user) = found else {
        crypto::check_password(&body.password, dummy_hash()).await;
        state
            .security_event(
                Some(&tenant.id),
                "login_failed",
                peer,
                json!({"reason": "unknown user"}),
            )
            .await;
        return Err(bad_credentials());
    };
    if user.locked_until > now() {
        state
            .security_event(
                Some(&tenant.id),
                "login_while_locked",
                peer,
                json!({"user": user.id}),
            )
            .await;
        return Err(Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "account_locked",
            "too many failed sign-ins; the account is locked for a while",
        ));
    }
    if !crypto::check_password(&body.password, &user.password_hash).await {
        let mut tx = state.store.tenant(&tenant.id).await?;
        let failures = users::count_failed_login(&mut tx, &user.id).await?;
        let lock = lock_seconds(failures);
        if lock > 0 {
            users::lock_until(&mut tx, &user.id, now() + lock).await?;
        }
        tx.commit().await?;
        state
            .security_event(
                Some(&tenant.id),
                "login_failed",
                peer,
                json!({"user": user.id, "failures": failures}),
            )
            .await;
        if lock > 0 {
            state
                .security_event(
                    Some(&tenant.id),
                    "account_locked",
                    peer,
                    json!({"user": user.id, "seconds": lock}),
                )
                .await;
        }
        return Err(bad_credentials());
    }
    let mut tx = state.store.tenant(&tenant.id).await?;
    users::set_login_state(&mut tx, &user.id, 0, 0).await?;
    let token = crypto::token().ok_or_else(Problem::internal)?;
    let csrf = crypto::token().ok_or_else(Problem::internal)?;
    let mfa_needed = user.mfa_secret.is_some() || tenant.require_mfa;
    sessions::create(
        &mut tx,
        &AuthSession {
            id: crypto::token_hash(&token),
            user_id: user.id.clone(),
            csrf_hash: crypto::token_hash(&csrf),
            mfa_done: !mfa_needed,
            expires_at: now() + SESSION_SECONDS,
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &user.id,
        "login",
        &user.id,
        &json!({"ip": peer.map(|p| p.to_string())}),
    )
    .await?;
    tx.commit().await?;
    let body = json!({
        "csrf_token": csrf.as_str(),
        "mfa_required": user.mfa_secret.is_some(),
        "mfa_setup_required": tenant.require_mfa && user.mfa_secret.is_none(),
        "password_change_required": user.must_change_password,
        "user": user,
    });
    let mut response = Json(body).into_response();
    let cookie = format!(
        "{SESSION_COOKIE}={}.{}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}{}",
        tenant.id,
        token.as_str(),
        if state.tls { "; Secure" } else { "" }
    );
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|_| Problem::internal())?,
    );
    Ok(response)
}

pub async fn logout(pending: Pending) -> Result<Response, Problem> {
    if let Via::Cookie { session_id, .. } = &pending.via {
        let mut tx = pending.tx().await?;
        sessions::delete(&mut tx, session_id).await?;
        audit::append(
            &mut tx,
            &pending.user.id,
            "logout",
            &pending.user.id,
            &json!({}),
        )
        .await?;
        tx.commit().await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("fh_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}

pub async fn me(pending: Pending) -> Json<serde_json::Value> {
    Json(json!({
        "user": pending.user,
        "tenant_id": pending.tenant_id,
        "mfa_enabled": pending.user.mfa_secret.is_some(),
        "mfa_outstanding": pending.mfa_outstanding(),
    }))
}

/// RFC 6238 TOTP: SHA-1, 6 digits, 30 s steps, one step of skew.
fn totp(secret: &[u8], account: &str) -> Result<Totp, Problem> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .with_issuer(Some("Fernhand"))
        .with_account_name(account)
        .build()
        .map_err(|_| Problem::internal())
}

fn cookie_only(pending: &Pending) -> Result<(), Problem> {
    match pending.via {
        Via::Cookie { .. } => Ok(()),
        Via::Token { .. } => Err(Problem::forbidden(
            "passwords and MFA are managed from a signed-in browser, not with an API token",
        )),
    }
}

/// Start MFA set-up: a fresh secret, sealed into a set-up token the client
/// returns with the first code.
pub async fn mfa_setup(
    State(state): State<AppState>,
    pending: Pending,
) -> Result<Json<serde_json::Value>, Problem> {
    cookie_only(&pending)?;
    if pending.user.mfa_secret.is_some() && pending.mfa_outstanding() {
        return Err(Problem::forbidden(
            "verify your current second factor first",
        ));
    }
    let mut secret = [0u8; 20];
    getrandom::fill(&mut secret).map_err(|_| Problem::internal())?;
    let t = totp(&secret, &pending.user.email)?;
    let setup_token = state
        .sealer
        .seal(&secret, format!("mfa-setup:{}", pending.user.id).as_bytes())
        .ok_or_else(Problem::internal)?;
    Ok(Json(json!({
        "secret": t.secret().to_base32(),
        "otpauth_url": t.to_url().map_err(|_| Problem::internal())?,
        "setup_token": setup_token,
    })))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaConfirm {
    setup_token: String,
    code: String,
}

/// Finish set-up with a valid code: MFA is on; recovery codes are shown once.
pub async fn mfa_confirm(
    State(state): State<AppState>,
    pending: Pending,
    ApiJson(body): ApiJson<MfaConfirm>,
) -> Result<Json<serde_json::Value>, Problem> {
    cookie_only(&pending)?;
    if pending.user.mfa_secret.is_some() && pending.mfa_outstanding() {
        return Err(Problem::forbidden(
            "verify your current second factor first",
        ));
    }
    let secret = state
        .sealer
        .open(
            &body.setup_token,
            format!("mfa-setup:{}", pending.user.id).as_bytes(),
        )
        .ok_or_else(|| Problem::bad_request("invalid set-up token"))?;
    if totp(&secret, &pending.user.email)?
        .check_current(&body.code)
        .is_none()
    {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_code",
            "that code is not valid now",
        ));
    }
    let mut codes = Vec::new();
    let mut hashes = Vec::new();
    for _ in 0..10 {
        let mut raw = [0u8; 10];
        getrandom::fill(&mut raw).map_err(|_| Problem::internal())?;
        let code = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        hashes.push(crypto::token_hash(&code));
        codes.push(code);
    }
    let sealed = state
        .sealer
        .seal(&secret, format!("mfa:{}", pending.user.id).as_bytes())
        .ok_or_else(Problem::internal)?;
    let mut tx = pending.tx().await?;
    users::set_mfa(
        &mut tx,
        &pending.user.id,
        Some(&sealed),
        &serde_json::to_string(&hashes).unwrap_or_default(),
    )
    .await?;
    if let Via::Cookie { session_id, .. } = &pending.via {
        sessions::set_mfa_done(&mut tx, session_id).await?;
    }
    audit::append(
        &mut tx,
        &pending.user.id,
        "mfa.enable",
        &pending.user.id,
        &json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!({ "recovery_codes": codes })))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaVerify {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

/// Give the second factor for this session: a TOTP code or a recovery code
/// (each recovery code works once).
pub async fn mfa_verify(
    State(state): State<AppState>,
    Peer(peer): Peer,
    pending: Pending,
    ApiJson(body): ApiJson<MfaVerify>,
) -> Result<StatusCode, Problem> {
    cookie_only(&pending)?;
    let Via::Cookie { session_id, .. } = &pending.via else {
        return Err(Problem::forbidden("cookie sessions only"));
    };
    let sealed = pending
        .user
        .mfa_secret
        .as_deref()
        .ok_or_else(|| Problem::bad_request("MFA is not set up for this account"))?;
    let mut tx = pending.tx().await?;
    let ok = match (&body.code, &body.recovery_code) {
        (Some(code), None) => {
            let secret = state
                .sealer
                .open(sealed, format!("mfa:{}", pending.user.id).as_bytes())
                .ok_or_else(Problem::internal)?;
            totp(&secret, &pending.user.email)?
                .check_current(code)
                .is_some()
        }
        (None, Some(recovery)) => {
            let mut hashes: Vec<String> =
                serde_json::from_str(&pending.user.recovery_codes).unwrap_or_default();
            let wanted = crypto::token_hash(recovery);
            let before = hashes.len();
            hashes.retain(|h| !crypto::same(h, &wanted));
            if hashes.len() < before {
                users::set_mfa(
                    &mut tx,
                    &pending.user.id,
                    Some(sealed),
                    &serde_json::to_string(&hashes).unwrap_or_default(),
                )
                .await?;
                true
            } else {
                false
            }
        }
        _ => {
            return Err(Problem::bad_request(
                "give either `code` or `recovery_code`",
            ));
        }
    };
    if !ok {
        drop(tx);
        state
            .security_event(
                Some(&pending.tenant_id),
                "mfa_failed",
                peer,
                json!({"user": pending.user.id}),
            )
            .await;
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "bad_code",
            "that code is not valid",
        ));
    }
    sessions::set_mfa_done(&mut tx, session_id).await?;
    audit::append(
        &mut tx,
        &pending.user.id,
        "mfa.verify",
        &pending.user.id,
        &json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current: String,
    new: String,
}

/// Change one's password (also what a first sign-in with a one-time
/// password must do).
pub async fn change_password(
    pending: Pending,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, Problem> {
    // A script's token never changes its owner's password.
    cookie_only(&pending)?;
    if pending.mfa_outstanding() {
        return Err(Problem::mfa_required());
    }
    if !crypto::check_password(&body.current, &pending.user.password_hash).await {
        return Err(bad_credentials());
    }
    if body.new.chars().count() < 12 || body.new.len() > 1024 {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
            "use 12 to 1024 characters",
        ));
    }
    let hash = crypto::make_hash(&body.new)
        .await
        .ok_or_else(Problem::internal)?;
    let mut tx = pending.tx().await?;
    users::set_password(&mut tx, &pending.user.id, &hash).await?;
    audit::append(
        &mut tx,
        &pending.user.id,
        "password.change",
        &pending.user.id,
        &json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequireMfa {
    required: bool,
}

/// Require MFA for every user of the tenant (or stop requiring it).
pub async fn require_mfa(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<RequireMfa>,
) -> Result<StatusCode, Problem> {
    principal.require(Permission::ManageTenant)?;
    let mut p = state.store.platform().await?;
    tenants::set_require_mfa(&mut p, &principal.tenant_id, body.required).await?;
    p.commit().await?;
    let mut tx = principal.tx().await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "tenant.require_mfa",
        &principal.tenant_id,
        &json!({"required": body.required}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
