//! A tenant's desk settings — lifecycles, business calendar, SLA policy and
//! change advisory board — loaded with the shipped defaults where the
//! tenant set nothing, and checked before they are stored.

use crate::app::problem::Problem;
use fernhand_desk::RecordKind;
use fernhand_desk::cab::Board;
use fernhand_desk::calendar::{BusinessCalendar, CalendarSpec};
use fernhand_desk::lifecycle::Lifecycle;
use fernhand_desk::sla::SlaPolicy;
use fernhand_store::TenantTx;
use fernhand_store::desk::settings;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Everything the rules need, for one tenant.
#[derive(Clone, Debug, Serialize)]
pub struct DeskSettings {
    /// Lifecycles by kind.
    pub lifecycles: Vec<Lifecycle>,
    /// Business calendar as set.
    pub calendar: CalendarSpec,
    /// SLA targets.
    pub sla: SlaPolicy,
    /// Change advisory board, if set up.
    pub cab: Option<Board>,
    #[serde(skip)]
    built: Option<BusinessCalendar>,
    /// The tenant's webhook ids, kept beside the settings (by the webhook
    /// routes) so raising a record needs no second read to know where its
    /// event goes.
    #[serde(skip)]
    pub webhooks: Vec<String>,
}

/// The setting holding the tenant's webhook ids (not writable through the
/// settings API).
pub const WEBHOOKS: &str = "webhooks";

/// The setting names a tenant admin may write.
pub const NAMES: [&str; 7] = [
    "calendar",
    "sla",
    "cab",
    "lifecycle.incident",
    "lifecycle.problem",
    "lifecycle.change",
    "lifecycle.release",
];

fn parse<T: DeserializeOwned>(
    stored: &[(String, String)],
    name: &str,
) -> Result<Option<T>, Problem> {
    match stored.iter().find(|(n, _)| n == name) {
        None => Ok(None),
        Some((_, text)) => serde_json::from_str(text).map(Some).map_err(|e| {
            tracing::error!(setting = name, error = %e, "stored desk setting does not parse");
            Problem::internal()
        }),
    }
}

impl DeskSettings {
    /// The tenant's settings (defaults where unset): Monday to Friday,
    /// 08:00–18:00 UTC, ITIL lifecycles, common SLA targets, no board.
    pub async fn load(tx: &mut TenantTx) -> Result<DeskSettings, Problem> {
        let stored = settings::all(tx).await?;
        let mut lifecycles = Vec::new();
        for kind in RecordKind::ALL {
            let l = parse(&stored, &format!("lifecycle.{}", kind.name()))?
                .unwrap_or_else(|| Lifecycle::default_for(kind));
            lifecycles.push(l);
        }
        let calendar = parse(&stored, "calendar")?.unwrap_or_else(default_calendar);
        let sla = parse(&stored, "sla")?.unwrap_or_default();
        let cab = parse(&stored, "cab")?;
        let built = calendar.build().ok();
        let webhooks = parse(&stored, WEBHOOKS)?.unwrap_or_default();
        Ok(DeskSettings {
            lifecycles,
            calendar,
            sla,
            cab,
            built,
            webhooks,
        })
    }

    /// The lifecycle of a kind.
    pub fn lifecycle(&self, kind: RecordKind) -> &Lifecycle {
        self.lifecycles
            .iter()
            .find(|l| l.kind == kind)
            .unwrap_or_else(|| &self.lifecycles[0])
    }

    /// The business calendar, ready to count.
    pub fn calendar(&self) -> Option<&BusinessCalendar> {
        self.built.as_ref()
    }
}

fn default_calendar() -> CalendarSpec {
    let text = r#"{"time_zone":"UTC","hours":[
        {"day":"mon","from":"08:00","to":"18:00"},{"day":"tue","from":"08:00","to":"18:00"},
        {"day":"wed","from":"08:00","to":"18:00"},{"day":"thu","from":"08:00","to":"18:00"},
        {"day":"fri","from":"08:00","to":"18:00"}]}"#;
    serde_json::from_str(text).unwrap_or_else(|_| CalendarSpec::always())
}

/// Checks and stores one setting.
pub async fn put(
    tx: &mut TenantTx,
    name: &str,
    value: serde_json::Value,
    at: i64,
) -> Result<(), Problem> {
    let bad = |e: String| Problem::bad_request(format!("{name}: {e}"));
    match name {
        "calendar" => {
            let c: CalendarSpec =
                serde_json::from_value(value.clone()).map_err(|e| bad(e.to_string()))?;
            c.build().map_err(|e| bad(e.to_string()))?;
        }
        "sla" => {
            let s: SlaPolicy =
                serde_json::from_value(value.clone()).map_err(|e| bad(e.to_string()))?;
            s.validate().map_err(|e| bad(e.to_string()))?;
        }
        "cab" => {
            let b: Board = serde_json::from_value(value.clone()).map_err(|e| bad(e.to_string()))?;
            b.validate().map_err(|e| bad(e.to_string()))?;
            for m in &b.members {
                if fernhand_store::users::get(tx, m).await?.is_none() {
                    return Err(bad(format!("{m:?} is not a user of this tenant")));
                }
            }
        }
        _ => {
            let kind = name
                .strip_prefix("lifecycle.")
                .and_then(RecordKind::parse)
                .ok_or_else(Problem::not_found)?;
            let l: Lifecycle =
                serde_json::from_value(value.clone()).map_err(|e| bad(e.to_string()))?;
            l.validate(kind).map_err(|e| bad(e.to_string()))?;
            // Records must not be stranded in a state the edit drops.
            for state in fernhand_store::desk::records::states_in_use(tx, kind.name()).await? {
                if l.state(&state).is_none() {
                    return Err(Problem::conflict(format!(
                        "{kind} records are in state {state:?}, which this lifecycle drops; move them out first"
                    )));
                }
            }
        }
    }
    settings::put(tx, name, &value.to_string(), at).await?;
    Ok(())
}
