//! The route table: every route with its access rule and handler.

mod agent_control;
mod auth;
mod camera;
mod desk;
mod desk_cmdb;
mod desk_extras;
mod desk_sessions;
mod devices;
mod exports;
mod health;
mod logs;
mod platform;
mod portal;
mod privacy;
mod session_events;
mod sessions;
mod tokens;
mod users;

use super::principal::Permission;
use super::{Access, AppState, RouteSpec};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// The caller's address, when the server records it.
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer::of(parts))
    }
}

impl Peer {
    /// The address of the request `parts` belong to.
    pub fn of(parts: &Parts) -> Peer {
        Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        )
    }
}

async fn tickets(
    axum::extract::State(state): axum::extract::State<AppState>,
    Peer(peer): Peer,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    crate::broker::http::request_ticket(&state.broker, peer, &headers, &body).await
}

async fn openapi() -> axum::Json<serde_json::Value> {
    axum::Json(super::openapi::document().clone())
}

fn spec(method: Method, path: &'static str, access: Access, example: &'static str) -> RouteSpec {
    RouteSpec {
        method,
        path,
        access,
        example,
        body: None,
    }
}

pub(super) fn all() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::{Device, Grant, Needs, Operator, Pending, Public};
    use Method as M;
    use Permission::*;
    vec![
        (spec(M::GET, "/healthz", Public, ""), get(health::healthz)),
        (spec(M::GET, "/api/openapi.json", Public, ""), get(openapi)),
        (
            // Public by access, but answered only to loopback callers
            // unless the operator makes it public.
            spec(M::GET, "/metrics", Public, ""),
            get(super::metrics::serve),
        ),
        (
            spec(M::GET, "/api/v1/platform/tenants", Operator, ""),
            get(platform::list),
        ),
        (
            spec(
                M::POST,
                "/api/v1/platform/tenants",
                Operator,
                r#"{"slug":"acme","name":"Acme Ltd","admin_email":"it@acme.example"}"#,
            )
            .body::<platform::NewTenant>(),
            post(platform::create),
        ),
        (
            spec(M::GET, "/api/v1/platform/tenants/{id}", Operator, ""),
            get(platform::get),
        ),
        (
            spec(
                M::POST,
                "/api/v1/session-events",
                Grant,
                r#"{"kind":"malware_quarantined","threat":"Eicar-Test-Signature","sha256":""}"#,
            )
            .body::<session_events::SessionEvent>(),
            post(session_events::report),
        ),
        (
            spec(M::POST, "/api/v1/privacy/exports", Needs(ManageTenant), "{}"),
            post(exports::start),
        ),
        (
            spec(M::GET, "/api/v1/privacy/exports/{id}", Needs(ManageTenant), ""),
            get(exports::status),
        ),
        (
            spec(M::GET, "/api/v1/privacy/exports/{id}/archive", Needs(ManageTenant), ""),
            get(exports::archive),
        ),
        (
            spec(M::GET, "/api/v1/privacy/settings", Needs(ManageTenant), ""),
            get(privacy::settings),
        ),
        (
            spec(
                M::PUT,
                "/api/v1/privacy/settings",
                Needs(ManageTenant),
                r#"{"restricted_policy":"mask","session_retention_days":365}"#,
            )
            .body::<privacy::Settings>(),
            put(privacy::set_settings),
        ),
        (
            spec(
                M::POST,
                "/api/v1/privacy/deletion-requests",
                Needs(ManageTenant),
                r#"{"scope":"records","records":["INC-12"]}"#,
            )
            .body::<privacy::NewDeletion>(),
            post(privacy::request),
        ),
        (
            spec(M::GET, "/api/v1/privacy/deletion-requests", Needs(ManageTenant), ""),
            get(privacy::list),
        ),
        (
            spec(
                M::GET,
                "/api/v1/privacy/deletion-requests/{id}/certificate",
                Needs(ManageTenant),
                "",
            ),
            get(privacy::certificate),
        ),
        (
            spec(M::GET, "/api/v1/deletion-certificates/key", Public, ""),
            get(privacy::certificate_key),
        ),
        (
            spec(M::GET, "/api/v1/deletion-certificates/{id}", Public, ""),
            get(privacy::certificate_by_receipt),
        ),
        (
            spec(
                M::PUT,
                "/api/v1/platform/tenants/{id}/subscription",
                Operator,
                r#"{"ends_at":1893456000}"#,
            )
            .body::<platform::Subscription>(),
            put(platform::set_subscription),
        ),
        (
            spec(M::POST, "/broker/v1/tickets", Grant, "{}")
                .body::<crate::broker::http::TicketRequest>(),
            post(tickets),
        ),
        (
            spec(
                M::POST,
                "/api/v1/auth/login",
                Public,
                r#"{"tenant":"default","email":"admin@localhost","password":"x"}"#,
            )
            .body::<auth::Login>(),
            post(auth::login),
        ),
        (
            spec(M::POST, "/api/v1/auth/logout", Pending, "{}"),
            post(auth::logout),
        ),
        (
            spec(M::POST, "/api/v1/auth/mfa/setup", Pending, "{}"),
            post(auth::mfa_setup),
        ),
        (
            spec(
                M::POST,
                "/api/v1/auth/mfa/confirm",
                Pending,
                r#"{"setup_token":"x","code":"123456"}"#,
            )
            .body::<auth::MfaConfirm>(),
            post(auth::mfa_confirm),
        ),
        (
            spec(
                M::POST,
                "/api/v1/auth/mfa/verify",
                Pending,
                r#"{"code":"123456"}"#,
            )
            .body::<auth::MfaVerify>(),
            post(auth::mfa_verify),
        ),
        (spec(M::GET, "/api/v1/me", Pending, ""), get(auth::me)),
        (
            spec(
                M::POST,
                "/api/v1/me/password",
                Pending,
                r#"{"current":"x","new":"a long new passphrase"}"#,
            )
            .body::<auth::PasswordChange>(),
            post(auth::change_password),
        ),
        (
            spec(
                M::PUT,
                "/api/v1/tenant/mfa",
                Needs(ManageTenant),
                r#"{"required":true}"#,
            )
            .body::<auth::RequireMfa>(),
            put(auth::require_mfa),
        ),
        (
            spec(M::GET, "/api/v1/users", Needs(ManageUsers), ""),
            get(users::list),
        ),
        (
            spec(
                M::POST,
                "/api/v1/users",
                Needs(ManageUsers),
                r#"{"email":"new@example.com","name":"New","role":"expert"}"#,
            )
            .body::<users::NewUser>(),
            post(users::create),
        ),
        (
            spec(M::GET, "/api/v1/users/{id}", Needs(ManageUsers), ""),
            get(users::get),
        ),
        (
            spec(M::GET, "/api/v1/tokens", Needs(OwnTokens), ""),
            get(tokens::list),
        ),
        (
            spec(
                M::POST,
                "/api/v1/tokens",
                Needs(OwnTokens),
                r#"{"name":"script","scopes":["sessions:read"]}"#,
            )
            .body::<tokens::NewToken>(),
            post(tokens::create),
        ),
        (
            spec(M::DELETE, "/api/v1/tokens/{id}", Needs(OwnTokens), ""),
            delete(tokens::revoke),
        ),
        (
            spec(M::GET, "/api/v1/sessions", Needs(ReadSessions), ""),
            get(sessions::list),
        ),
        (
            spec(M::POST, "/api/v1/sessions", Needs(RunSessions), "{}"),
            post(sessions::create),
        ),
        (
            spec(M::GET, "/api/v1/sessions/{id}", Needs(ReadSessions), ""),
            get(sessions::get),
        ),
        (
            spec(
                M::POST,
                "/api/v1/sessions/{id}/end",
                Needs(RunSessions),
                r#"{"outcome":"solved"}"#,
            )
            .body::<sessions::End>(),
            post(sessions::end),
        ),
        (
            spec(M::POST, "/api/v1/join", Public, r#"{"locator":"123456"}"#)
                .body::<sessions::Join>(),
            post(sessions::join),
        ),
        (
            spec(M::GET, "/api/v1/audit", Needs(ReadAudit), ""),
            get(logs::audit),
        ),
        (
            spec(M::GET, "/api/v1/security-events", Needs(ManageTenant), ""),
            get(logs::security),
        ),
        (
            spec(
                M::POST,
                "/api/v1/enrolment-tokens",
                Needs(ManageDevices),
                r#"{"ttl_seconds":3600}"#,
            )
            .body::<devices::NewEnrolmentToken>(),
            post(devices::create_enrolment_token),
        ),
        (
            spec(
                M::POST,
                "/api/v1/enrol",
                Public,
                r#"{"token":"fhe_x_y","name":"host","os":"linux","policy":"unattended"}"#,
            )
            .body::<devices::Enrol>(),
            post(devices::enrol),
        ),
        (
            spec(M::GET, "/api/v1/agent/control", Device, ""),
            get(agent_control::control),
        ),
        (
            spec(M::GET, "/api/v1/devices", Needs(ReadDevices), ""),
            get(devices::list),
        ),
        (
            spec(M::GET, "/api/v1/devices/{id}", Needs(ReadDevices), ""),
            get(devices::get),
        ),
        (
            spec(
                M::PUT,
                "/api/v1/devices/{id}",
                Needs(ManageDevices),
                r#"{"group_id":null,"policy":"ask"}"#,
            )
            .body::<devices::DeviceUpdate>(),
            put(devices::update),
        ),
        (
            spec(M::DELETE, "/api/v1/devices/{id}", Needs(ManageDevices), ""),
            delete(devices::remove),
        ),
        (
            spec(
                M::POST,
                "/api/v1/devices/{id}/connect",
                Needs(RunSessions),
                "{}",
            ),
            post(devices::connect),
        ),
        (
            spec(M::GET, "/api/v1/device-groups", Needs(ReadDevices), ""),
            get(devices::list_groups),
        ),
        (
            spec(
                M::POST,
                "/api/v1/device-groups",
                Needs(ManageDevices),
                r#"{"name":"Front desk"}"#,
            )
            .body::<devices::NewGroup>(),
            post(devices::create_group),
        ),
        (
            spec(
                M::PUT,
                "/api/v1/device-groups/{id}/experts",
                Needs(ManageDevices),
                r#"{"experts":[]}"#,
            )
            .body::<devices::GroupExperts>(),
            put(devices::set_group_experts),
        ),
        (
            spec(M::GET, "/api/v1/desk/records", Needs(ReadDesk), ""),
            get(desk::list),
        ),
        (
            spec(
                M::POST,
                "/api/v1/desk/records",
                Needs(WorkDesk),
                r#"{"kind":"incident","fields":{"title":"Printer jams","impact":"low","urgency":"high"}}"#,
            )
            .body::<desk::NewRecord>(),
            post(desk::create),
        ),
        (
            spec(M::GET, "/api/v1/desk/records/{id}", Needs(ReadDesk), ""),
            get(desk::get),
        ),
        (
            spec(
                M::PATCH,
                "/api/v1/desk/records/{id}",
                Needs(WorkDesk),
                r#"{"version":1,"fields":{"urgency":"medium"}}"#,
            )
            .body::<desk::Edit>(),
            patch(desk::edit),
        ),
        (
            spec(
                M::POST,
                "/api/v1/desk/records/{id}/transition",
                Needs(WorkDesk),
                r#"{"version":1,"to":"assigned","fields":{}}"#,
            )
            .body::<desk::Move>(),
            post(desk::transition),
        ),
        (
            spec(M::GET, "/api/v1/desk/records/{id}/notes", Needs(ReadDesk), ""),
            get(desk::list_notes),
        ),
        (
            spec(
                M::POST,
                "/api/v1/desk/records/{id}/notes",
                Needs(WorkDesk),
                r#"{"body":"Called the user back","public":false}"#,
            )
            .body::<desk::NewNote>(),
            post(desk::add_note),
        ),
        (
            spec(M::GET, "/api/v1/desk/records/{id}/history", Needs(ReadDesk), ""),
            get(desk::list_history),
        ),
        (
            spec(
                M::POST,
                "/api/v1/desk/records/{id}/links",
                Needs(WorkDesk),
                r#"{"to":"PRB-1","relation":"caused_by"}"#,
            )
            .body::<desk::NewLink>(),
            post(desk::add_link),
        ),
        (
            spec(
                M::POST,
                "/api/v1/desk/records/{id}/votes",
                Needs(WorkDesk),
                r#"{"vote":"approve","comment":"low risk"}"#,
            )
            .body::<desk::NewVote>(),
            post(desk::vote),
        ),
        (
            spec(
                M::POST,
                "/api/v1/desk/records/{id}/remote-session",
                Needs(RunSessions),
                "{}",
            ),
            post(desk_sessions::start),
        ),
        (
            spec(
                M::POST,
                "/api/v1/desk/records/{id}/camera-share",
                Needs(RunSessions),
                "{}",
            ),
            post(desk_sessions::start_camera),
        ),
        (
            spec(M::POST, "/api/v1/camera-shares", Needs(RunSessions), "{}"),
            post(camera::create),
        ),
        (
            spec(M::GET, "/api/v1/sessions/{id}/ice", Needs(RunSessions), ""),
            get(camera::ice),
        ),
        (
            spec(
                M::POST,
                "/api/v1/sessions/{id}/camera/snapshots",
                Needs(RunSessions),
                "",
            ),
            post(camera::snapshot).layer(camera::snapshot_limit()),
        ),
        (
            spec(
                M::POST,
                "/api/v1/sessions/{id}/camera/record",
                Needs(RunSessions),
                r#"{"connected_at":2,"ended_at":300,"chat":[{"at":5,"from":"Ana","text":"Hello"}],"annotations":[{"at":5000,"shape":"arrow","points":[0.1,0.1,0.5,0.5]}],"path":"direct"}"#,
            )
            .body::<camera::Record>(),
            post(camera::record).layer(axum::extract::DefaultBodyLimit::max(4 << 20)),
        ),
        (
            spec(M::GET, "/api/v1/sessions/{id}/camera/items", Needs(ReadSessions), ""),
            get(camera::items),
        ),
        (
            spec(M::GET, "/api/v1/camera/items/{id}", Needs(ReadSessions), ""),
            get(camera::item),
        ),
        (
            spec(
                M::POST,
                "/api/v1/sessions/{id}/record",
                Needs(RunSessions),
                r#"{"members":[{"name":"Ana","role":"expert","joined_at":1},{"name":"Maria","role":"customer","joined_at":2}],"started_at":1,"ended_at":300,"transcript":[{"at":5,"from":"Ana","text":"Hello"}],"files":[]}"#,
            )
            .body::<desk_sessions::Summary>(),
            // Long sessions have long transcripts.
            post(desk_sessions::attach).layer(axum::extract::DefaultBodyLimit::max(4 << 20)),
        ),
        (
            spec(M::GET, "/api/v1/desk/records/{id}/conflicts", Needs(ReadDesk), ""),
            get(desk_cmdb::conflicts),
        ),
        (
            spec(M::GET, "/api/v1/desk/cis", Needs(ReadDesk), ""),
            get(desk_cmdb::list),
        ),
        (
            spec(
                M::POST,
                "/api/v1/desk/cis",
                Needs(WorkDesk),
                r#"{"name":"srv-01","ci_type":"server","attributes":{"os":"Debian 13"}}"#,
            )
            .body::<desk_cmdb::NewCi>(),
            post(desk_cmdb::create),
        ),
        (
            spec(M::GET, "/api/v1/desk/cis/{id}", Needs(ReadDesk), ""),
            get(desk_cmdb::get),
        ),
        (
            spec(
                M::POST,
                "/api/v1/desk/cis/{id}/relations",
                Needs(WorkDesk),
                r#"{"relation":"runs-on","to":"srv-01"}"#,
            )
            .body::<desk_cmdb::NewRelation>(),
            post(desk_cmdb::relate),
        ),
        (
            spec(M::GET, "/api/v1/desk/settings", Needs(ReadDesk), ""),
            get(desk_cmdb::get_settings),
        ),
        (
            spec(
                M::PUT,
                "/api/v1/desk/settings",
                Needs(ManageDesk),
                r#"{"sla":{"targets":{"p1":{"own_minutes":15,"resolve_minutes":240}},"warn_percent":75}}"#,
            ),
            put(desk_cmdb::put_settings),
        ),
        (
            spec(
                M::POST,
                "/api/v1/desk/records/{id}/attachments",
                Needs(WorkDesk),
                "",
            ),
            post(desk_extras::upload).layer(desk_extras::upload_limit()),
        ),
        (
            spec(M::GET, "/api/v1/desk/records/{id}/attachments", Needs(ReadDesk), ""),
            get(desk_extras::list),
        ),
        (
            spec(M::GET, "/api/v1/desk/attachments/{id}", Needs(ReadDesk), ""),
            get(desk_extras::fetch),
        ),
        (
            spec(M::PUT, "/api/v1/desk/records/{id}/watch", Needs(ReadDesk), ""),
            put(desk_extras::watch),
        ),
        (
            spec(M::DELETE, "/api/v1/desk/records/{id}/watch", Needs(ReadDesk), ""),
            delete(desk_extras::unwatch),
        ),
        (
            spec(M::GET, "/api/v1/desk/views", Needs(ReadDesk), ""),
            get(desk_extras::list_views),
        ),
        (
            spec(
                M::POST,
                "/api/v1/desk/views",
                Needs(ReadDesk),
                r#"{"name":"My open P1s","query":"priority=p1&category=new&mine=1"}"#,
            )
            .body::<desk_extras::NewView>(),
            post(desk_extras::save_view),
        ),
        (
            spec(M::DELETE, "/api/v1/desk/views/{id}", Needs(ReadDesk), ""),
            delete(desk_extras::delete_view),
        ),
        (
            spec(M::GET, "/api/v1/desk/webhooks", Needs(ManageDesk), ""),
            get(desk_extras::list_webhooks),
        ),
        (
            spec(
                M::POST,
                "/api/v1/desk/webhooks",
                Needs(ManageDesk),
                r#"{"url":"https://hooks.example.com/desk","secret":"a long shared secret"}"#,
            )
            .body::<desk_extras::NewWebhook>(),
            post(desk_extras::add_webhook),
        ),
        (
            spec(M::DELETE, "/api/v1/desk/webhooks/{id}", Needs(ManageDesk), ""),
            delete(desk_extras::delete_webhook),
        ),
        (
            spec(M::GET, "/api/v1/portal/tickets", Needs(UsePortal), ""),
            get(portal::list),
        ),
        (
            spec(
                M::POST,
                "/api/v1/portal/tickets",
                Needs(UsePortal),
                r#"{"title":"The printer on floor 2 jams","description":"Since Monday","urgency":"medium"}"#,
            )
            .body::<crate::app::desk::portal::NewTicket>(),
            post(portal::raise),
        ),
        (
            spec(M::GET, "/api/v1/portal/tickets/{id}", Needs(UsePortal), ""),
            get(portal::get),
        ),
        (
            spec(
                M::POST,
                "/api/v1/portal/tickets/{id}/replies",
                Needs(UsePortal),
                r#"{"body":"It jams again this morning."}"#,
            )
            .body::<portal::NewReply>(),
            post(portal::reply),
        ),
        (
            spec(
                M::POST,
                "/api/v1/portal/tickets/{id}/transition",
                Needs(UsePortal),
                r#"{"version":3,"to":"closed"}"#,
            )
            .body::<portal::Move>(),
            post(portal::transition),
        ),
        (
            spec(
                M::POST,
                "/api/v1/portal/tickets/{id}/attachments",
                Needs(UsePortal),
                "",
            ),
            post(desk_extras::portal_upload).layer(desk_extras::upload_limit()),
        ),
        (
            spec(M::GET, "/api/v1/portal/attachments/{id}", Needs(UsePortal), ""),
            get(desk_extras::portal_fetch),
        ),
    ]
}
