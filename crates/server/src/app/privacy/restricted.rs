//! The tenant's restricted-data policy on text the server stores in clear
//! (desk records, notes and replies, attachment names, e-mail brought in):
//! warn keeps the text and tells the sender, mask stores it with the
//! restricted parts starred out, block refuses it with a typed problem.
//! The rules themselves are `fernhand_privacy::restricted`.

use crate::app::problem::Problem;
use axum::http::StatusCode;
use fernhand_privacy::restricted::{self, Kind, Policy};
use fernhand_store::{TenantTx, privacy};
use serde_json::{Map, Value};

/// The tenant's policy.
pub async fn policy(tx: &mut TenantTx) -> Result<Policy, Problem> {
    let settings = privacy::get(tx).await?;
    Ok(Policy::parse(&settings.restricted_policy).unwrap_or_default())
}

fn blocked(e: &restricted::Blocked) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "restricted_data",
        e.to_string(),
    )
}

/// Apply `policy` to one text in place; the kinds found.
pub fn apply(policy: Policy, text: &mut String) -> Result<Vec<Kind>, Problem> {
    let checked = restricted::check(policy, text).map_err(|e| blocked(&e))?;
    *text = checked.text;
    Ok(checked.kinds)
}

/// Apply `policy` to every string value of a record's fields in place.
pub fn apply_fields(policy: Policy, fields: &mut Map<String, Value>) -> Result<Vec<Kind>, Problem> {
    let mut all = Vec::new();
    for value in fields.values_mut() {
        if let Value::String(text) = value {
            for k in apply(policy, text)? {
                if !all.contains(&k) {
                    all.push(k);
                }
            }
        }
    }
    Ok(all)
}

/// The kinds in submitted text, for the answer's `restricted_data` (the
/// sender's warning, whatever the policy did).
pub fn found_in<'a>(texts: impl IntoIterator<Item = &'a str>) -> Value {
    let mut kinds: Vec<&'static str> = Vec::new();
    for text in texts {
        for f in restricted::scan(text) {
            if !kinds.contains(&f.kind.as_str()) {
                kinds.push(f.kind.as_str());
            }
        }
    }
    Value::from(kinds)
}

/// The string values of a field map (for [`found_in`]).
pub fn strings(fields: &Map<String, Value>) -> impl Iterator<Item = &str> {
    fields.values().filter_map(Value::as_str)
}
