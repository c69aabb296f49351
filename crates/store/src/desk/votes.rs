//! Change advisory board votes on a change: one per member.

use crate::{StoreError, TenantTx};
use serde::Serialize;
use sqlx::Row;

/// A vote as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredVote {
    /// The member (user id).
    pub member: String,
    /// `approve` or `reject`.
    pub vote: String,
    /// Why.
    pub comment: String,
    /// When (Unix seconds).
    pub at: i64,
}

/// Stores a vote; a second vote of the same member is a conflict.
pub async fn cast(tx: &mut TenantTx, record_id: &str, v: &StoredVote) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO desk_votes (tenant_id, record_id, member, vote, comment, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant)
    .bind(record_id)
    .bind(&v.member)
    .bind(&v.vote)
    .bind(&v.comment)
    .bind(v.at)
    .execute(tx.conn())
    .await
    .map_err(|e| StoreError::conflict_on(e, "vote"))?;
    Ok(())
}

/// A change's votes, in order cast.
pub async fn list(tx: &mut TenantTx, record_id: &str) -> Result<Vec<StoredVote>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query(
        "SELECT member, vote, comment, at FROM desk_votes WHERE tenant_id = $1 AND record_id = $2 ORDER BY at, member",
    )
    .bind(tenant)
    .bind(record_id)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredVote {
                member: r.try_get("member")?,
                vote: r.try_get("vote")?,
                comment: r.try_get("comment")?,
                at: r.try_get("at")?,
            })
        })
        .collect()
}
