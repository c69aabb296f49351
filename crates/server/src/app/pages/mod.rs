//! Server-rendered pages of the service desk (for its agents), of the
//! portal (for end users) and of data protection (for tenant admins), from askama templates that escape every value
//! as HTML. Pages only read; their forms write through the JSON API (see
//! `web/desk/forms.js`), so every write has one path, one set of checks
//! and the API's CSRF protection. A caller without a browser session is
//! sent to the console's sign-in and back.

mod cmdb;
mod desk;
mod portal;
mod privacy;

use super::AppState;
use crate::app::principal::Principal;
use crate::problem::Problem;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use fernhand_store::TenantTx;
use std::collections::HashMap;

/// What the frame of every page shows.
pub struct Layout {
    /// Where the title links.
    pub home: &'static str,
    /// `desk` or `portal`.
    pub area: &'static str,
    /// The signed-in user.
    pub who: String,
    /// Whether this is the portal (no console link).
    pub portal: bool,
}

impl Layout {
    fn desk(p: &Principal) -> Layout {
        Layout::staff(p, "/desk", "service desk")
    }

    fn privacy(p: &Principal) -> Layout {
        Layout::staff(p, "/privacy", "data protection")
    }

    /// A page for the tenant's staff: their name and address, the console link.
    fn staff(p: &Principal, home: &'static str, area: &'static str) -> Layout {
        Layout {
            home,
            area,
            who: format!("{} ({})", p.user.name, p.user.email),
            portal: false,
        }
    }

    fn portal(p: &Principal) -> Layout {
        Layout {
            home: "/portal",
            area: "help",
            who: p.user.name.clone(),
            portal: true,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    title: String,
    detail: String,
}

/// A page's answer: HTML under the pages' policy, or a problem as a page.
pub struct Html {
    body: Result<String, Problem>,
    status: StatusCode,
}

impl Html {
    fn of(t: &impl Template) -> Html {
        Html {
            body: t.render().map_err(|e| {
                tracing::error!(error = %e, "page template failed");
                Problem::internal()
            }),
            status: StatusCode::OK,
        }
    }

    fn problem(layout: Layout, p: &Problem) -> Html {
        let title = match p.status {
            StatusCode::NOT_FOUND => "Not found".to_owned(),
            StatusCode::FORBIDDEN => "Not allowed".to_owned(),
            s => s.canonical_reason().unwrap_or("Error").to_owned(),
        };
        let mut page = Html::of(&ErrorPage {
            layout,
            title,
            detail: p.detail.clone(),
        });
        page.status = p.status;
        page
    }
}

/// The response of a page handler, carrying the TLS flag for its policy.
pub struct PageResponse(pub Html, pub bool);

impl IntoResponse for PageResponse {
    fn into_response(self) -> Response {
        let PageResponse(page, tls) = self;
        let mut response = match page.body {
            Ok(body) => (page.status, body).into_response(),
            Err(p) => return p.into_response(),
        };
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(super::web::page_policy(tls)),
        );
        response
    }
}

/// The caller, or the way to the sign-in page (and back to `uri`).
fn signed_in(who: Result<Principal, Problem>, uri: &Uri) -> Result<Principal, Box<Response>> {
    match who {
        Ok(p) => Ok(p),
        Err(p) if p.status == StatusCode::UNAUTHORIZED || p.status == StatusCode::FORBIDDEN => {
            let back = uri
                .path_and_query()
                .map_or("/desk", axum::http::uri::PathAndQuery::as_str);
            let to = format!("/?next={}", urlencode(back));
            Err(Box::new(Redirect::to(&to).into_response()))
        }
        Err(p) => Err(Box::new(p.into_response())),
    }
}

/// Percent-encodes everything but unreserved characters.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A moment for people: `2026-11-27 14:05 UTC`.
fn when(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|ts| ts.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// A span for people: `1 h 02 min 05 s`.
fn span(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    if h > 0 {
        format!("{h} h {m:02} min {s:02} s")
    } else if m > 0 {
        format!("{m} min {s:02} s")
    } else {
        format!("{s} s")
    }
}

/// Users' display names, looked up once each.
struct Names(HashMap<String, String>);

impl Names {
    fn new() -> Names {
        Names(HashMap::new())
    }

    async fn of(&mut self, tx: &mut TenantTx, id: &str) -> Result<String, Problem> {
        if let Some(n) = self.0.get(id) {
            return Ok(n.clone());
        }
        let name = match fernhand_store::users::get(tx, id).await? {
            Some(u) => u.name,
            None => id.to_owned(),
        };
        self.0.insert(id.to_owned(), name.clone());
        Ok(name)
    }
}

/// The routes of the desk's and the portal's pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/desk", get(desk::list))
        .route("/desk/new", get(desk::new))
        .route("/desk/cis", get(cmdb::list))
        .route("/desk/cis/{key}", get(cmdb::item))
        .route("/desk/{key}", get(desk::record))
        .route("/portal", get(portal::list))
        .route("/portal/{key}", get(portal::ticket))
        .route("/privacy", get(privacy::page))
        .route("/privacy/receipt", get(privacy::receipt))
}

/// A page for the signed-in caller (the sign-in otherwise): `build`
/// makes its template, or a problem shown as a page in `layout`'s frame.
async fn respond<T: Template>(
    state: &State<AppState>,
    uri: &Uri,
    who: Result<Principal, Problem>,
    layout: fn(&Principal) -> Layout,
    build: impl AsyncFnOnce(&Principal) -> Result<T, Problem>,
) -> Response {
    let p = match signed_in(who, uri) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let page = match build(&p).await {
        Ok(t) => Html::of(&t),
        Err(e) => Html::problem(layout(&p), &e),
    };
    PageResponse(page, state.tls).into_response()
}
