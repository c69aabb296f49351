//! The portal's pages for end users: their tickets with a form to raise a
//! new one, and a ticket with its conversation, a reply form and the moves
//! the requester may make (resume, close, reopen).

use super::{Layout, respond, when};
use crate::app::AppState;
use crate::app::desk::portal::{self, Reply, Ticket};
use crate::app::desk::settings::DeskSettings;
use crate::app::principal::{Permission, Principal};
use crate::problem::Problem;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;

/// A row of the list.
pub struct Row {
    reference: String,
    title: String,
    state: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "portal_list.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
}

/// `GET /portal`: my tickets and a form to raise one.
pub async fn list(state: State<AppState>, uri: Uri, who: Result<Principal, Problem>) -> Response {
    respond(&state, &uri, who, Layout::portal, async |p| {
        list_page(p).await
    })
    .await
}

async fn list_page(p: &Principal) -> Result<ListPage, Problem> {
    p.require(Permission::UsePortal)?;
    let mut tx = p.tx().await?;
    let s = DeskSettings::load(&mut tx).await?;
    let found = portal::list(&mut tx, &p.user.id, None).await?;
    tx.commit().await?;
    let rows = found
        .iter()
        .map(|r| {
            let lifecycle = crate::app::desk::records::kind_of(r).map(|k| s.lifecycle(k));
            Row {
                reference: crate::app::desk::records::reference_of(r)
                    .map(|x| x.to_string())
                    .unwrap_or_default(),
                title: r.title.clone(),
                state: lifecycle
                    .ok()
                    .and_then(|l| l.state(&r.state).map(|st| st.label.clone()))
                    .unwrap_or_else(|| r.state.clone()),
                updated: when(r.updated_at),
            }
        })
        .collect();
    Ok(ListPage {
        layout: Layout::portal(p),
        rows,
    })
}

#[derive(Template)]
#[template(path = "portal_ticket.html")]
struct TicketPage {
    layout: Layout,
    created: String,
    replies: Vec<(String, Reply)>,
    files: Vec<(String, String)>,
    t: Ticket,
}

/// `GET /portal/{key}`: one of my tickets.
pub async fn ticket(
    state: State<AppState>,
    uri: Uri,
    who: Result<Principal, Problem>,
    Path(key): Path<String>,
) -> Response {
    respond(&state, &uri, who, Layout::portal, async |p| {
        ticket_page(p, &key).await
    })
    .await
}

async fn ticket_page(p: &Principal, key: &str) -> Result<TicketPage, Problem> {
    p.require(Permission::UsePortal)?;
    let mut tx = p.tx().await?;
    let s = DeskSettings::load(&mut tx).await?;
    let r = portal::own(&mut tx, &p.user.id, key).await?;
    let mut t = portal::view(&mut tx, &s, &r, &p.user.id).await?;
    let files = fernhand_store::desk::attachments::list(&mut tx, &r.id, true)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    tx.commit().await?;
    let replies = std::mem::take(&mut t.replies)
        .into_iter()
        .map(|r| (when(r.at), r))
        .collect();
    Ok(TicketPage {
        layout: Layout::portal(p),
        created: when(t.created_at),
        replies,
        files,
        t,
    })
}
