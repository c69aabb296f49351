//! `fernhand bench desk`: the service desk at scale. Generates `--tickets`
//! tickets in one tenant (and a tenth as many in each of two noise tenants)
//! with realistic text, states and priorities, then measures on SQLite (and
//! PostgreSQL when given):
//! - create: records raised per second through the same code as the API
//!   (settings, checks, numbering, history, state log, search text, audit),
//!   one transaction each; baseline: a bare row insert per transaction;
//! - list: p95 of a filtered, keyset-paged list of 50; baseline: the same
//!   filter paged with OFFSET, as offset-paged desks do;
//! - search: p95 of a two-word full-text search (FTS5 / tsvector);
//!   baseline: the same words with `LIKE '%word%'`.

use super::{Report, Row};
use crate::cli::BenchArgs;
use fernhand_desk::RecordKind;
use fernhand_server::app::desk::records as desk;
use fernhand_server::app::desk::settings::DeskSettings;
use fernhand_store::desk::records::{self, Filter, Record};
use fernhand_store::{Backend, Store, new_id, tenants};
use serde_json::{Map, json};
use std::time::{Duration, Instant};

/// Queries timed per list and search scenario and side.
const SAMPLES: usize = 200;
/// Goals from the issue.
const LIST_GOAL_MS: f64 = 20.0;
const SEARCH_GOAL_MS: f64 = 50.0;
const CREATE_GOAL: f64 = 1000.0;

/// A small, fast, seeded generator (not for secrets).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
    /// An index in `0..n`, small ones far more often (≈ Zipf).
    #[allow(clippy::cast_possible_truncation)] // a float in 1..n, floored
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        let i = (n as f64).powf(u) as usize;
        i.saturating_sub(1).min(n - 1)
    }
}

/// The most frequent words of any text.
const FILLER_WORDS: &[&str] = &[
    "the", "and", "to", "is", "on", "it", "in", "not", "my", "since", "after", "with", "when",
    "for", "this", "again", "please", "can", "we", "user", "does", "all", "of", "from", "at",
    "but", "no", "now", "today", "help",
];

const SUPPORT_WORDS: &[&str] = &[
    "printer",
    "vpn",
    "email",
    "outlook",
    "password",
    "reset",
    "laptop",
    "screen",
    "slow",
    "crash",
    "error",
    "network",
    "wifi",
    "login",
    "account",
    "locked",
    "teams",
    "meeting",
    "audio",
    "camera",
    "driver",
    "update",
    "install",
    "license",
    "excel",
    "file",
    "share",
    "drive",
    "backup",
    "restore",
    "phone",
    "mobile",
    "scanner",
    "toner",
    "paper",
    "jam",
    "monitor",
    "keyboard",
    "mouse",
    "docking",
    "station",
    "certificate",
    "expired",
    "browser",
    "proxy",
    "firewall",
    "server",
    "database",
    "timeout",
    "invoice",
    "sap",
    "erp",
    "crm",
    "portal",
];

/// A vocabulary: support words first (most frequent), then made-up ones.
fn vocabulary() -> Vec<String> {
    let syllables = [
        "ka", "lo", "ri", "mu", "te", "sa", "no", "vi", "pe", "dor", "ban", "sel", "tu", "ge", "fi",
    ];
    let mut words: Vec<String> = FILLER_WORDS
        .iter()
        .chain(SUPPORT_WORDS)
        .map(|w| (*w).to_owned())
        .collect();
    let mut rng = SplitMix(7);
    while words.len() < 5000 {
        let n = 2 + rng.below(3);
        let w: String = (0..n)
            .map(|_| syllables[rng.below(syllables.len())])
            .collect();
        if !words.contains(&w) {
            words.push(w);
        }
    }
    words
}

fn sentence(rng: &mut SplitMix, vocab: &[String], words: usize) -> String {
    (0..words)
        .map(|_| vocab[rng.zipf(vocab.len())].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Ticket `number` of `total`, raised over the last three years in
/// number order (as desks number them), changed within 30 days after.
fn generated(rng: &mut SplitMix, vocab: &[String], number: i64, total: i64, now: i64) -> Record {
    let kind = match rng.below(100) {
        0..85 => "incident",
        85..93 => "problem",
        93..98 => "change",
        _ => "release",
    };
    let (state, category) = match rng.below(100) {
        0..70 => ("closed", "closed"),
        70..80 => ("resolved", "resolved"),
        80..92 => ("assigned", "active"),
        92..96 => ("new", "new"),
        _ => ("pending", "pending"),
    };
    let span = 3 * 365 * 86_400;
    let created =
        now - span + span * number / total.max(1) - i64::try_from(rng.below(3600)).unwrap_or(0);
    let updated = created + i64::try_from(rng.below(30 * 86_400)).unwrap_or(0);
    Record {
        id: format!("{:032x}", rng.next() as u128 | ((rng.next() as u128) << 64)),
        kind: kind.into(),
        number,
        title: sentence(rng, vocab, 6),
        description: sentence(rng, vocab, 30),
        state: state.into(),
        state_category: category.into(),
        priority: Some(format!("p{}", 1 + rng.zipf(5).min(4).max(rng.below(5)))),
        assignee_group: Some(format!("group-{}", rng.below(12))),
        assignee: Some(format!("user-{}", rng.below(60))),
        requester: Some(format!("person-{}@example.com", rng.below(20_000))),
        ci_id: None,
        fields: Map::new(),
        created_by: format!("user-{}", rng.below(60)),
        created_at: created,
        updated_at: updated.min(now),
        version: 1,
        sla_level: "ok".into(),
        sla_due_at: None,
    }
}

async fn new_tenant(store: &Store, label: &str) -> anyhow::Result<String> {
    let mut p = store.platform().await?;
    let t = tenants::create(&mut p, &format!("bench-{label}-{}", &new_id()?[..8]), label).await?;
    p.commit().await?;
    Ok(t.id)
}

async fn fill(
    store: &Store,
    tenant: &str,
    tickets: u64,
    seed: u64,
    vocab: &[String],
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut rng = SplitMix(seed);
    let now = fernhand_store::now();
    let mut number = 0i64;
    let batch = 10_000u64;
    let mut done = 0u64;
    while done < tickets {
        let n = batch.min(tickets - done);
        let rows: Vec<Record> = (0..n)
            .map(|_| {
                number += 1;
                generated(
                    &mut rng,
                    vocab,
                    number,
                    i64::try_from(tickets).unwrap_or(i64::MAX),
                    now,
                )
            })
            .collect();
        let mut tx = store.tenant(tenant).await?;
        records::import(&mut tx, &rows).await?;
        tx.commit().await?;
        done += n;
        if done.is_multiple_of(100_000) {
            eprintln!(
                "  {done} tickets loaded ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(started.elapsed())
}

#[allow(clippy::cast_possible_truncation)] // a rank within the sample count
fn p95(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    let i = ((samples.len() as f64) * 0.95).ceil() as usize;
    samples
        .get(i.saturating_sub(1))
        .copied()
        .unwrap_or(f64::NAN)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn create_rate(
    store: &Store,
    tenant: &str,
    per_side: Duration,
) -> anyhow::Result<(f64, f64)> {
    let mut fields = Map::new();
    fields.insert(
        "title".into(),
        json!("Outlook keeps asking for the password"),
    );
    fields.insert(
        "description".into(),
        json!("Since this morning, after the update, on the docking station"),
    );
    fields.insert("impact".into(), json!("low"));
    fields.insert("urgency".into(), json!("medium"));
    // Alternate rounds so load changes hit both alike.
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    let mut rng = SplitMix(99);
    let vocab = [String::from("bare")];
    for _ in 0..4 {
        let (mut n, start) = (0u64, Instant::now());
        while start.elapsed() < per_side / 4 {
            let mut tx = store.tenant(tenant).await?;
            let s = DeskSettings::load(&mut tx)
                .await
                .map_err(|p| anyhow::anyhow!(p.detail))?;
            let t = fernhand_store::now();
            desk::create(&mut tx, &s, "bench", RecordKind::Incident, &fields, t)
                .await
                .map_err(|p| anyhow::anyhow!(p.detail))?;
            tx.commit().await?;
            n += 1;
        }
        ours.push(n as f64 / start.elapsed().as_secs_f64());
        let (mut n, start) = (0u64, Instant::now());
        while start.elapsed() < per_side / 4 {
            let mut tx = store.tenant(tenant).await?;
            let number = fernhand_store::desk::next_number(&mut tx, "release").await?;
            let mut r = generated(&mut rng, &vocab, number, number, fernhand_store::now());
            r.kind = "release".into();
            records::insert(&mut tx, &r).await?;
            tx.commit().await?;
            n += 1;
        }
        base.push(n as f64 / start.elapsed().as_secs_f64());
    }
    ours.sort_by(f64::total_cmp);
    base.sort_by(f64::total_cmp);
    Ok((ours[ours.len() / 2], base[base.len() / 2]))
}

const OPEN: [&str; 3] = ["new", "active", "pending"];

fn list_filter(rng: &mut SplitMix) -> Filter {
    Filter {
        kind: Some("incident".into()),
        categories: OPEN.iter().map(|c| (*c).to_owned()).collect(),
        priority: Some(format!("p{}", 1 + rng.below(3))),
        assignee: (rng.below(2) == 0).then(|| format!("user-{}", rng.below(60))),
        limit: 50,
        ..Default::default()
    }
}

async fn list_p95(store: &Store, tenant: &str) -> anyhow::Result<(f64, f64)> {
    let mut rng = SplitMix(11);
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    for i in 0..SAMPLES {
        let mut f = list_filter(&mut rng);
        let depth = if i % 2 == 0 { 0 } else { 50 * rng.below(40) };
        // Where a reader paging down would be: the cursor of row `depth`.
        let mut tx = store.tenant(tenant).await?;
        if depth > 0 {
            let mut probe = f.clone();
            probe.limit = u32::try_from(depth.min(200)).unwrap_or(200);
            let mut last = None;
            let mut seen = 0;
            while seen < depth {
                probe.after = last.clone();
                let page = records::list(&mut tx, &probe).await?;
                if page.is_empty() {
                    break;
                }
                seen += page.len();
                last = page.last().map(|r| (r.updated_at, r.id.clone()));
            }
            f.after = last;
        }
        let start = Instant::now();
        let page = records::list(&mut tx, &f).await?;
        ours.push(ms(start.elapsed()));
        std::hint::black_box(page);
        let sql = format!(
            "SELECT id, kind, number, title, description, state, state_category, priority, assignee_group, assignee, \
             requester, ci_id, fields, created_by, created_at, updated_at, version, sla_level, sla_due_at \
             FROM desk_records WHERE tenant_id = $1 AND kind = 'incident' AND state_category IN ('new', 'active', 'pending') \
             AND priority = $2 {} ORDER BY updated_at DESC, id DESC LIMIT 50 OFFSET {depth}",
            if f.assignee.is_some() {
                "AND assignee = $3"
            } else {
                ""
            }
        );
        let start = Instant::now();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_owned())
            .bind(f.priority.clone());
        if let Some(a) = &f.assignee {
            q = q.bind(a.clone());
        }
        let rows = q.fetch_all(tx.conn()).await?;
        base.push(ms(start.elapsed()));
        std::hint::black_box(rows.len());
        tx.commit().await?;
    }
    Ok((p95(ours), p95(base)))
}

async fn search_p95(
    store: &Store,
    tenant: &str,
    vocab: &[String],
) -> anyhow::Result<(f64, f64, f64)> {
    let mut rng = SplitMix(23);
    let (mut ours, mut base, mut hits) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..SAMPLES {
        // Words of middling frequency: a search that finds a page of tickets.
        let head = FILLER_WORDS.len();
        let w1 = &vocab[head + rng.below(200)];
        let w2 = &vocab[head + rng.below(800)];
        let f = Filter {
            text: Some(format!("{w1} {w2}")),
            limit: 50,
            ..Default::default()
        };
        let mut tx = store.tenant(tenant).await?;
        let start = Instant::now();
        let found = records::list(&mut tx, &f).await?;
        ours.push(ms(start.elapsed()));
        hits.push(found.len() as f64);
        let start = Instant::now();
        let rows = sqlx::query(
            "SELECT id, title FROM desk_records WHERE tenant_id = $1 \
             AND (title LIKE $2 OR description LIKE $2) AND (title LIKE $3 OR description LIKE $3) \
             ORDER BY updated_at DESC, id DESC LIMIT 50",
        )
        .bind(tenant.to_owned())
        .bind(format!("%{w1}%"))
        .bind(format!("%{w2}%"))
        .fetch_all(tx.conn())
        .await?;
        base.push(ms(start.elapsed()));
        std::hint::black_box(rows.len());
        tx.commit().await?;
    }
    hits.sort_by(f64::total_cmp);
    Ok((p95(ours), p95(base), hits[hits.len() / 2]))
}

async fn measure(
    store: Store,
    label: &str,
    args: &BenchArgs,
    vocab: &[String],
) -> anyhow::Result<Vec<Row>> {
    let tenant = new_tenant(&store, "measured").await?;
    for (i, noise) in ["noise-a", "noise-b"].iter().enumerate() {
        let t = new_tenant(&store, noise).await?;
        eprintln!(
            "{label}: loading {} noise tickets into {noise}",
            args.tickets / 10
        );
        fill(&store, &t, args.tickets / 10, 1000 + i as u64, vocab).await?;
    }
    eprintln!("{label}: loading {} tickets", args.tickets);
    let load = fill(&store, &tenant, args.tickets, 42, vocab).await?;
    // Fresh planner statistics, as the server's housekeeping (SQLite) or
    // autovacuum (PostgreSQL, run by the owning role) has after a load.
    store.optimize().await?;
    if let Some(owner) = &args.pg_owner
        && store.backend() == Backend::Postgres
    {
        let owner = Store::open(owner, 1).await?;
        let mut tx = owner.platform().await?;
        // The desk's tables only (the catalogs are the superuser's).
        sqlx::query("ANALYZE desk_records, desk_text, desk_state_log, desk_history")
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        owner.close().await;
    }
    let size = if args.tickets >= 1_000_000 {
        format!("{}M", args.tickets / 1_000_000)
    } else {
        format!("{}k", args.tickets / 1000)
    };
    let (list_ours, list_base) = list_p95(&store, &tenant).await?;
    let (search_ours, search_base, median_hits) = search_p95(&store, &tenant, vocab).await?;
    let per_side = Duration::from_secs_f64(args.seconds.max(2.0));
    let (create_ours, create_base) = create_rate(&store, &tenant, per_side).await?;
    store.close().await;
    let load_rate = args.tickets as f64 / load.as_secs_f64();
    Ok(vec![
        Row {
            scenario: format!("{label} {size} list of 50, p95"),
            unit: "ms",
            ours: list_ours,
            baseline: list_base,
            baseline_name: "same filter, OFFSET paging",
            higher_is_better: false,
            extra: vec![
                ("goal_ms", json!(LIST_GOAL_MS)),
                ("tickets", json!(args.tickets)),
            ],
        },
        Row {
            scenario: format!("{label} {size} search, p95"),
            unit: "ms",
            ours: search_ours,
            baseline: search_base,
            baseline_name: "LIKE '%word%' over title and text",
            higher_is_better: false,
            extra: vec![
                ("goal_ms", json!(SEARCH_GOAL_MS)),
                ("median_hits", json!(median_hits)),
            ],
        },
        Row {
            scenario: format!("{label} {size} create"),
            unit: "rec/s",
            ours: create_ours,
            baseline: create_base,
            baseline_name: "bare row insert per transaction",
            higher_is_better: true,
            extra: vec![
                ("goal_per_s", json!(CREATE_GOAL)),
                ("import_per_s", json!(load_rate.round())),
            ],
        },
    ])
}

pub fn run(args: &BenchArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(
        (1000..=5_000_000).contains(&args.tickets),
        "--tickets is 1,000 to 5,000,000"
    );
    let runtime = tokio::runtime::Runtime::new()?;
    let vocab = vocabulary();
    let mut rows = Vec::new();
    runtime.block_on(async {
        if !args.postgres_only {
            let dir = std::env::temp_dir().join(format!("fernhand-bench-desk-{}", new_id()?));
            std::fs::create_dir_all(&dir)?;
            let store = Store::embedded(&dir.join("desk.db")).await?;
            rows.extend(measure(store, "sqlite", args, &vocab).await?);
            if std::env::var_os("FERNHAND_BENCH_KEEP").is_some() {
                eprintln!("kept the SQLite database in {}", dir.display());
            } else {
                std::fs::remove_dir_all(&dir).ok();
            }
        }
        if let (Some(owner), Some(app)) = (&args.pg_owner, &args.pg_app) {
            Store::migrate(owner).await?;
            let store = Store::open(app, 8).await?;
            rows.extend(measure(store, "postgres", args, &vocab).await?);
        }
        anyhow::Ok(())
    })?;
    let worst = |unit: &str, pick: &dyn Fn(&Row) -> bool| {
        rows.iter()
            .filter(|r| r.unit == unit && pick(r))
            .map(|r| r.ours)
            .fold(f64::NAN, |a, b| if a.is_nan() || b > a { b } else { a })
    };
    let slowest_create = rows
        .iter()
        .filter(|r| r.unit == "rec/s")
        .map(|r| r.ours)
        .fold(f64::INFINITY, f64::min);
    let list = worst("ms", &|r: &Row| r.scenario.contains("list"));
    let search = worst("ms", &|r: &Row| r.scenario.contains("search"));
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    let conclusion = format!(
        "worst list p95 {list:.1} ms (goal ≤{LIST_GOAL_MS}: {}), worst search p95 {search:.1} ms (goal ≤{SEARCH_GOAL_MS}: {}), slowest create {slowest_create:.0}/s (goal ≥{CREATE_GOAL}: {})",
        verdict(list <= LIST_GOAL_MS),
        verdict(search <= SEARCH_GOAL_MS),
        verdict(slowest_create >= CREATE_GOAL)
    );
    Ok(Report {
        area: "desk",
        rows,
        headline: 1,
        conclusion,
    })
}
