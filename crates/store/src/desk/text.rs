//! The full-text index over records and notes: SQLite FTS5 (external
//! content, kept by triggers) or a PostgreSQL tsvector with a GIN index,
//! written in the same transaction as the text it indexes. Users type
//! words; [`match_expression`] turns them into a safe query (whole words,
//! a prefix where the user typed `*`, all required), never passing query
//! syntax through.

use crate::{Backend, StoreError, TenantTx};

/// Most words a search uses.
const MAX_WORDS: usize = 8;

/// Indexes (or re-indexes) one source of text of a record.
pub async fn put(
    tx: &mut TenantTx,
    record_id: &str,
    source_id: &str,
    body: &str,
) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query("DELETE FROM desk_text WHERE tenant_id = $1 AND source_id = $2")
        .bind(&tenant)
        .bind(source_id)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO desk_text (tenant_id, record_id, source_id, body) VALUES ($1, $2, $3, $4)",
    )
    .bind(tenant)
    .bind(record_id)
    .bind(source_id)
    .bind(body)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Indexes the text of a new source (nothing to replace).
pub async fn add(
    tx: &mut TenantTx,
    record_id: &str,
    source_id: &str,
    body: &str,
) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO desk_text (tenant_id, record_id, source_id, body) VALUES ($1, $2, $3, $4)",
    )
    .bind(tenant)
    .bind(record_id)
    .bind(source_id)
    .bind(body)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The words of a user's query: letters and digits, lowercased, at most
/// eight, each at most 64 characters.
pub fn words(query: &str) -> Vec<String> {
    terms(query).into_iter().map(|(w, _)| w).collect()
}

/// The words of a query, each with whether it asks for a prefix (typed
/// with a `*` right after it: `print*`).
fn terms(query: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = query;
    while out.len() < MAX_WORDS {
        let Some(start) = rest.find(char::is_alphanumeric) else {
            break;
        };
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(tail.len());
        let word: String = tail[..end]
            .chars()
            .take(64)
            .flat_map(char::to_lowercase)
            .collect();
        out.push((word, tail[end..].starts_with('*')));
        rest = &tail[end..];
    }
    out
}

/// The backend's query for a user's words (`None` when there are none),
/// all required: FTS5 `"w1" AND "w2"*`, or tsquery `w1 & w2:*`. Words
/// match whole (a prefix only where the user typed `*`): on a large desk
/// a prefix of every word costs a search several times over, and people
/// search for words they remember.
pub fn match_expression(backend: Backend, query: &str) -> Option<String> {
    let terms = terms(query);
    if terms.is_empty() {
        return None;
    }
    let parts: Vec<String> = terms
        .iter()
        .map(|(w, prefix)| match (backend, prefix) {
            (Backend::Sqlite, false) => format!("\"{w}\""),
            (Backend::Sqlite, true) => format!("\"{w}\"*"),
            (Backend::Postgres, false) => w.clone(),
            (Backend::Postgres, true) => format!("{w}:*"),
        })
        .collect();
    Some(parts.join(match backend {
        Backend::Sqlite => " AND ",
        Backend::Postgres => " & ",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_syntax_never_passes_through() {
        assert_eq!(
            match_expression(Backend::Sqlite, "Printer \"OR\" NEAR(x) *jam*").as_deref(),
            Some("\"printer\" AND \"or\" AND \"near\" AND \"x\" AND \"jam\"*")
        );
        assert_eq!(
            match_expression(Backend::Postgres, "vpn & !down:*").as_deref(),
            Some("vpn & down")
        );
        assert_eq!(
            match_expression(Backend::Postgres, "print* jam").as_deref(),
            Some("print:* & jam")
        );
        assert_eq!(match_expression(Backend::Sqlite, " -- ';"), None);
        assert_eq!(words("Ünïcode Straße").len(), 2);
        assert_eq!(words(&"a ".repeat(100)).len(), MAX_WORDS);
    }
}
