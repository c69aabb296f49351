//! The store on both backends: SQLite in a temporary file, and a real
//! PostgreSQL when `FERNHAND_TEST_PG_OWNER` / `FERNHAND_TEST_PG_APP` name one
//! (`scripts/test` starts a throwaway cluster and sets them; with
//! `FERNHAND_REQUIRE_PG=1` a missing PostgreSQL fails the tests instead of
//! skipping it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fernhand_store::{Backend, Store, StoreError, audit, locators, new_id, tenants, users};

async fn stores() -> Vec<Store> {
    let dir = std::env::temp_dir().join(format!("fernhand-store-{}", new_id().unwrap()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = vec![Store::embedded(&dir.join("test.db")).await.unwrap()];
    match (
        std::env::var("FERNHAND_TEST_PG_OWNER"),
        std::env::var("FERNHAND_TEST_PG_APP"),
    ) {
        (Ok(owner), Ok(app)) => {
            Store::migrate(&owner).await.unwrap();
            out.push(Store::open(&app, 4).await.unwrap());
        }
        _ => {
            assert!(
                std::env::var_os("FERNHAND_REQUIRE_PG").is_none(),
                "FERNHAND_REQUIRE_PG is set but no PostgreSQL is configured"
            );
            eprintln!("PostgreSQL not configured: testing SQLite only");
        }
    }
    out
}

/// Two tenants with a user each; returns (tenant a, tenant b, user a, user b).
async fn two_tenants(store: &Store) -> (String, String, users::User, users::User) {
    let suffix = new_id().unwrap();
    let mut p = store.platform().await.unwrap();
    let a = tenants::create(&mut p, &format!("a-{suffix}"), "A")
        .await
        .unwrap();
    let b = tenants::create(&mut p, &format!("b-{suffix}"), "B")
        .await
        .unwrap();
    p.commit().await.unwrap();
    let mut ta = store.tenant(&a.id).await.unwrap();
    let ua = users::create(
        &mut ta,
        "alice@example.com",
        "Alice",
        "expert",
        "hash-a",
        false,
    )
    .await
    .unwrap();
    ta.commit().await.unwrap();
    let mut tb = store.tenant(&b.id).await.unwrap();
    let ub = users::create(&mut tb, "bob@example.com", "Bob", "expert", "hash-b", false)
        .await
        .unwrap();
    tb.commit().await.unwrap();
    (a.id, b.id, ua, ub)
}

#[tokio::test]
async fn a_tenant_transaction_sees_only_its_tenant() {
    for store in stores().await {
        let (a, _b, ua, ub) = two_tenants(&store).await;
        let mut tx = store.tenant(&a).await.unwrap();
        assert_eq!(
            users::get(&mut tx, &ua.id).await.unwrap().unwrap().email,
            "alice@example.com"
        );
        assert!(
            users::get(&mut tx, &ub.id).await.unwrap().is_none(),
            "{:?}",
            store.backend()
        );
        assert!(
            users::by_email(&mut tx, "bob@example.com")
                .await
                .unwrap()
                .is_none()
        );
        let listed: Vec<String> = users::list(&mut tx)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.id)
            .collect();
        assert_eq!(listed, vec![ua.id.clone()]);
        // The same e-mail may exist in two tenants, not twice in one.
        let dup = users::create(
            &mut tx,
            "alice@example.com",
            "Alice 2",
            "expert",
            "h",
            false,
        )
        .await;
        assert!(
            matches!(dup, Err(StoreError::Conflict("user e-mail"))),
            "{dup:?}"
        );
    }
}

#[tokio::test]
async fn row_level_security_holds_even_without_the_tenant_filter() {
    for store in stores().await {
        if store.backend() != Backend::Postgres {
            continue;
        }
        let (a, b, _ua, ub) = two_tenants(&store).await;
        let mut tx = store.tenant(&a).await.unwrap();
        // A query that forgets the tenant filter still sees one tenant.
        let tenants_seen: Vec<String> = sqlx::query_scalar("SELECT DISTINCT tenant_id FROM users")
            .fetch_all(tx.conn())
            .await
            .unwrap();
        assert_eq!(tenants_seen, vec![a.clone()]);
        let stolen: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
            .bind(&ub.id)
            .fetch_optional(tx.conn())
            .await
            .unwrap();
        assert!(stolen.is_none());
        // Writing a row for another tenant is refused (WITH CHECK).
        let planted = sqlx::query(
            "INSERT INTO users (tenant_id, id, email, name, role, password_hash, created_at) VALUES ($1, 'x', 'x@x', 'x', 'expert', 'h', 0)",
        )
        .bind(&b)
        .execute(tx.conn())
        .await;
        assert!(planted.is_err());
        drop(tx);
        // The platform transaction sees no tenant rows at all.
        let mut p = store.platform().await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(p.conn())
            .await
            .unwrap();
        assert_eq!(n, 0);
        // And the application role does not own the tables.
        let owns: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM pg_tables WHERE tableowner = current_user")
                .fetch_one(p.conn())
                .await
                .unwrap();
        assert_eq!(owns, 0);
    }
}

#[tokio::test]
async fn the_audit_log_is_append_only() {
    for store in stores().await {
        let (a, ..) = two_tenants(&store).await;
        let mut tx = store.tenant(&a).await.unwrap();
        audit::append(
            &mut tx,
            "user-1",
            "login",
            "user-1",
            &serde_json::json!({"ip": "127.0.0.1"}),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.tenant(&a).await.unwrap();
        let rewrite = sqlx::query("UPDATE audit_log SET action = 'nothing'")
            .execute(tx.conn())
            .await;
        assert!(rewrite.is_err(), "{:?}: update refused", store.backend());
        drop(tx);
        let mut tx = store.tenant(&a).await.unwrap();
        let erase = sqlx::query("DELETE FROM audit_log")
            .execute(tx.conn())
            .await;
        assert!(erase.is_err(), "{:?}: delete refused", store.backend());
        drop(tx);
        let mut tx = store.tenant(&a).await.unwrap();
        let entries = audit::list(&mut tx, 0, 100).await.unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].action, "login");
    }
}

#[tokio::test]
async fn a_live_locator_is_unique() {
    for store in stores().await {
        let locator = new_id().unwrap();
        let mut p = store.platform().await.unwrap();
        locators::reserve(&mut p, &locator, "t1", "s1", fernhand_store::now() + 60)
            .await
            .unwrap();
        p.commit().await.unwrap();
        let mut p = store.platform().await.unwrap();
        let again =
            locators::reserve(&mut p, &locator, "t2", "s2", fernhand_store::now() + 60).await;
        assert!(matches!(again, Err(StoreError::Conflict("join locator"))));
        drop(p);
        let mut p = store.platform().await.unwrap();
        let found = locators::find(&mut p, &locator).await.unwrap().unwrap();
        assert_eq!(
            (found.tenant_id.as_str(), found.session_id.as_str()),
            ("t1", "s1")
        );
        locators::release(&mut p, "s1").await.unwrap();
        assert!(locators::find(&mut p, &locator).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let dir = std::env::temp_dir().join(format!("fernhand-store-{}", new_id().unwrap()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("m.db").display());
    Store::migrate(&url).await.unwrap();
    Store::migrate(&url).await.unwrap();
    if let Ok(owner) = std::env::var("FERNHAND_TEST_PG_OWNER") {
        Store::migrate(&owner).await.unwrap();
        Store::migrate(&owner).await.unwrap();
    }
}

/// Erasing a tenant must reach every table that holds tenant rows: the
/// erasure's table lists cover every table with a `tenant_id` column in
/// the database's own catalogue (a new table cannot be forgotten), and the
/// audit log stays append-only unless the tenant's erasure is running.
#[tokio::test]
async fn erasure_knows_every_tenant_table_and_the_audit_log_stays_append_only() {
    use fernhand_store::erasure::{PROTECTED, TABLES};
    for store in stores().await {
        let sql = match store.backend() {
            Backend::Sqlite => {
                "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND p.name = 'tenant_id' ORDER BY 1"
            }
            Backend::Postgres => {
                "SELECT table_name::text FROM information_schema.columns \
                 WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY 1"
            }
        };
        let mut p = store.platform().await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(sql).fetch_all(p.conn()).await.unwrap();
        p.commit().await.unwrap();
        assert!(tables.len() > 30, "{tables:?}");
        for t in &tables {
            if t == "deletion_requests" {
                continue; // the request outlives its tenant, by design
            }
            assert!(
                TABLES.contains(&t.as_str()) || PROTECTED.contains(&t.as_str()),
                "{t} has tenant rows the erasure does not know"
            );
        }

        let (a, _, user, _) = two_tenants(&store).await;
        let mut tx = store.tenant(&a).await.unwrap();
        audit::append(&mut tx, &user.id, "test", "x", &serde_json::json!({}))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.tenant(&a).await.unwrap();
        let refused = fernhand_store::erasure::erase_protected(&mut tx).await;
        assert!(refused.is_err(), "erased without a running request");
        drop(tx);
        let mut tx = store.tenant(&a).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE tenant_id = $1")
            .bind(&a)
            .fetch_one(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(n, 1);
    }
}

/// A tenant export must carry every table and column of a tenant, or say
/// why not: each table with tenant rows is exported or listed as left out,
/// and each exported table's columns are exactly the written ones plus the
/// ones left out (SQLite's catalogue; PostgreSQL adds only its generated
/// search column).
#[tokio::test]
async fn the_export_list_matches_the_catalogue() {
    use fernhand_store::export::{NOT_EXPORTED, TABLES};
    let store = stores().await.remove(0);
    let mut p = store.platform().await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND p.name = 'tenant_id' ORDER BY 1",
    )
    .fetch_all(p.conn())
    .await
    .unwrap();
    for t in &tables {
        assert!(
            t == "deletion_requests"
                || NOT_EXPORTED.contains(&t.as_str())
                || TABLES.iter().any(|x| x.name == t),
            "{t} is neither exported nor listed as left out"
        );
    }
    for t in TABLES {
        let sql = format!(
            "SELECT name FROM pragma_table_info('{}') ORDER BY cid",
            t.name
        );
        let mut columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(p.conn())
            .await
            .unwrap();
        let mut listed: Vec<String> = t
            .columns
            .iter()
            .map(|(c, _)| (*c).to_owned())
            .chain(t.omitted.iter().map(|c| (*c).to_owned()))
            .collect();
        columns.sort();
        listed.sort();
        assert_eq!(columns, listed, "columns of {}", t.name);
    }
    p.commit().await.unwrap();
}
