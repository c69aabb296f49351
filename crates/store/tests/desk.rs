//! The desk tables on both backends (SQLite, and PostgreSQL when
//! configured as for `tests/store.rs`): per-tenant numbering, optimistic
//! updates, filtered lists and full-text search, history and notes, and
//! that one tenant never sees another's desk rows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fernhand_store::desk::{cis, history, notes, records, text, votes};
use fernhand_store::{Store, StoreError, new_id, tenants};

async fn stores() -> Vec<Store> {
    let dir = std::env::temp_dir().join(format!("fernhand-desk-{}", new_id().unwrap()));
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
        _ => assert!(
            std::env::var_os("FERNHAND_REQUIRE_PG").is_none(),
            "FERNHAND_REQUIRE_PG is set but no PostgreSQL is configured"
        ),
    }
    out
}

async fn tenant(store: &Store) -> String {
    let mut p = store.platform().await.unwrap();
    let t = tenants::create(&mut p, &format!("d-{}", new_id().unwrap()), "Desk")
        .await
        .unwrap();
    p.commit().await.unwrap();
    t.id
}

fn incident(number: i64, title: &str, priority: &str, at: i64) -> records::Record {
    records::Record {
        id: new_id().unwrap(),
        kind: "incident".into(),
        number,
        title: title.into(),
        description: format!("{title} — reported by phone"),
        state: "new".into(),
        state_category: "new".into(),
        priority: Some(priority.into()),
        assignee_group: Some("service-desk".into()),
        assignee: None,
        requester: Some("req-1".into()),
        ci_id: None,
        fields: serde_json::Map::new(),
        created_by: "u-1".into(),
        created_at: at,
        updated_at: at,
        version: 1,
        sla_level: "ok".into(),
        sla_due_at: Some(at + 3600),
    }
}

async fn raise(store: &Store, t: &str, title: &str, priority: &str, at: i64) -> records::Record {
    let mut tx = store.tenant(t).await.unwrap();
    let n = fernhand_store::desk::next_number(&mut tx, "incident")
        .await
        .unwrap();
    let r = incident(n, title, priority, at);
    records::insert(&mut tx, &r).await.unwrap();
    text::put(
        &mut tx,
        &r.id,
        &r.id,
        &format!("{} {}", r.title, r.description),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    r
}

#[tokio::test]
async fn numbering_updates_lists_and_search() {
    for store in stores().await {
        let (a, b) = (tenant(&store).await, tenant(&store).await);
        let printer = raise(&store, &a, "Printer jams on floor 3", "p3", 1000).await;
        let vpn = raise(&store, &a, "VPN drops every hour", "p2", 2000).await;
        let other = raise(&store, &b, "Printer on fire", "p1", 3000).await;
        // Numbers are per tenant.
        assert_eq!((printer.number, vpn.number, other.number), (1, 2, 1));

        // Filters and order (newest first).
        let mut tx = store.tenant(&a).await.unwrap();
        let all = records::list(
            &mut tx,
            &records::Filter {
                kind: Some("incident".into()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(all.iter().map(|r| r.number).collect::<Vec<_>>(), [2, 1]);
        let p3 = records::list(
            &mut tx,
            &records::Filter {
                priority: Some("p3".into()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(p3.len(), 1);
        let page = records::list(
            &mut tx,
            &records::Filter {
                after: Some((vpn.updated_at, vpn.id.clone())),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(page.iter().map(|r| r.number).collect::<Vec<_>>(), [1]);
        let dated = records::list(
            &mut tx,
            &records::Filter {
                created_from: Some(1500),
                created_to: Some(2500),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(dated.len(), 1);

        // Search: whole words (a prefix where `*` asks for one), all
        // required, only this tenant's rows.
        let search = |text: &'static str| records::Filter {
            text: Some(text.into()),
            limit: 50,
            ..Default::default()
        };
        let hits = records::list(&mut tx, &search("print* jams"))
            .await
            .unwrap();
        assert_eq!(
            hits.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            [printer.id.as_str()]
        );
        assert!(
            records::list(&mut tx, &search("print jams"))
                .await
                .unwrap()
                .is_empty(),
            "a word matches whole unless `*` follows it"
        );
        let none = records::list(
            &mut tx,
            &records::Filter {
                text: Some("fire".into()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(none.is_empty(), "tenant a must not find tenant b's text");
        // Query syntax is only words.
        let odd = records::list(
            &mut tx,
            &records::Filter {
                text: Some("\"vpn\" OR NEAR(".into()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(odd.is_empty());
        // Notes are searchable too.
        notes::insert(
            &mut tx,
            &notes::Note {
                id: new_id().unwrap(),
                record_id: vpn.id.clone(),
                author: "u-1".into(),
                public: false,
                body: "Suspect the firewall's idle timeout".into(),
                created_at: 2100,
            },
        )
        .await
        .unwrap();
        text::put(
            &mut tx,
            &vpn.id,
            "note-1",
            "Suspect the firewall's idle timeout",
        )
        .await
        .unwrap();
        let hits = records::list(
            &mut tx,
            &records::Filter {
                text: Some("firewall idle".into()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].id, vpn.id);
        assert_eq!(notes::list(&mut tx, &vpn.id, true).await.unwrap().len(), 0);
        assert_eq!(notes::list(&mut tx, &vpn.id, false).await.unwrap().len(), 1);

        // Optimistic update: the second writer with the old version loses.
        let mut edited = vpn.clone();
        edited.state = "assigned".into();
        edited.updated_at = 2200;
        assert!(records::update(&mut tx, &edited).await.unwrap());
        assert!(!records::update(&mut tx, &edited).await.unwrap());
        let stored = records::get(&mut tx, &vpn.id).await.unwrap().unwrap();
        assert_eq!((stored.state.as_str(), stored.version), ("assigned", 2));
        assert_eq!(
            records::by_number(&mut tx, "incident", 2)
                .await
                .unwrap()
                .unwrap()
                .id,
            vpn.id
        );

        // History and state log keep order.
        history::append(
            &mut tx,
            &vpn.id,
            2200,
            "u-1",
            &[
                ("state".into(), Some("new".into()), Some("assigned".into())),
                ("assignee".into(), None, Some("u-1".into())),
            ],
        )
        .await
        .unwrap();
        history::append(
            &mut tx,
            &vpn.id,
            2300,
            "u-1",
            &[("priority".into(), Some("p2".into()), Some("p1".into()))],
        )
        .await
        .unwrap();
        let h = history::list(&mut tx, &vpn.id).await.unwrap();
        assert_eq!(
            h.iter()
                .map(|c| (c.seq, c.field.as_str()))
                .collect::<Vec<_>>(),
            [(1, "state"), (2, "assignee"), (3, "priority")]
        );
        history::enter_state(
            &mut tx,
            &vpn.id,
            &history::Entered {
                at: 2000,
                state: "new".into(),
                category: "new".into(),
            },
        )
        .await
        .unwrap();
        history::enter_state(
            &mut tx,
            &vpn.id,
            &history::Entered {
                at: 2200,
                state: "assigned".into(),
                category: "active".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(history::states(&mut tx, &vpn.id).await.unwrap().len(), 2);

        // Links and votes.
        records::link(&mut tx, &printer.id, "relates_to", &vpn.id, 2400)
            .await
            .unwrap();
        let l = records::links(&mut tx, &vpn.id).await.unwrap();
        assert_eq!(
            (l.len(), l[0].outgoing, l[0].other_id.as_str()),
            (1, false, printer.id.as_str())
        );
        let v = votes::StoredVote {
            member: "m-1".into(),
            vote: "approve".into(),
            comment: String::new(),
            at: 1,
        };
        votes::cast(&mut tx, &vpn.id, &v).await.unwrap();
        tx.commit().await.unwrap();
        // A conflict ends its transaction (PostgreSQL aborts it): nothing of
        // it is kept.
        let mut tx = store.tenant(&a).await.unwrap();
        assert!(matches!(
            votes::cast(&mut tx, &vpn.id, &v).await,
            Err(StoreError::Conflict(_))
        ));
        drop(tx);
        let mut tx = store.tenant(&a).await.unwrap();
        assert_eq!(votes::list(&mut tx, &vpn.id).await.unwrap().len(), 1);
        assert_eq!(history::list(&mut tx, &vpn.id).await.unwrap().len(), 3);
        drop(tx);

        // Tenant b sees none of it.
        let mut tx = store.tenant(&b).await.unwrap();
        assert!(records::get(&mut tx, &vpn.id).await.unwrap().is_none());
        assert!(history::list(&mut tx, &vpn.id).await.unwrap().is_empty());
        assert!(
            notes::list(&mut tx, &vpn.id, false)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(votes::list(&mut tx, &vpn.id).await.unwrap().is_empty());
        let mut forged = vpn.clone();
        forged.title = "pwned".into();
        forged.version = 2;
        assert!(
            !records::update(&mut tx, &forged).await.unwrap(),
            "an update across tenants must touch nothing"
        );
        assert_eq!(
            records::list(
                &mut tx,
                &records::Filter {
                    limit: 50,
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .len(),
            1
        );
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn configuration_items_and_relations() {
    for store in stores().await {
        let (a, b) = (tenant(&store).await, tenant(&store).await);
        let mut tx = store.tenant(&a).await.unwrap();
        let mk = |name: &str, ci_type: &str| cis::Ci {
            id: new_id().unwrap(),
            name: name.into(),
            ci_type: ci_type.into(),
            attributes: serde_json::Map::new(),
            device_id: None,
            created_at: 1,
            updated_at: 1,
        };
        let (srv, app) = (mk("srv-01", "server"), mk("crm", "application"));
        cis::insert(&mut tx, &srv).await.unwrap();
        cis::insert(&mut tx, &app).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.tenant(&a).await.unwrap();
        assert!(matches!(
            cis::insert(&mut tx, &mk("srv-01", "server")).await,
            Err(StoreError::Conflict(_))
        ));
        drop(tx);
        let mut tx = store.tenant(&a).await.unwrap();
        let rel = cis::Relation {
            from_ci: app.id.clone(),
            relation: "runs-on".into(),
            to_ci: srv.id.clone(),
        };
        cis::relate(&mut tx, &rel).await.unwrap();
        cis::relate(&mut tx, &rel).await.unwrap();
        assert_eq!(cis::relations(&mut tx).await.unwrap(), [rel]);
        let mut attrs = serde_json::Map::new();
        attrs.insert("os".into(), "Debian 13".into());
        assert!(
            cis::set_attributes(&mut tx, &srv.id, &attrs, 2)
                .await
                .unwrap()
        );
        assert_eq!(
            cis::by_name(&mut tx, "srv-01")
                .await
                .unwrap()
                .unwrap()
                .attributes["os"],
            "Debian 13"
        );
        assert_eq!(
            cis::list(&mut tx, Some("server"), 10).await.unwrap().len(),
            1
        );
        tx.commit().await.unwrap();
        let mut tx = store.tenant(&b).await.unwrap();
        assert!(cis::get(&mut tx, &srv.id).await.unwrap().is_none());
        assert!(cis::relations(&mut tx).await.unwrap().is_empty());
        // The same name is free in another tenant.
        cis::insert(&mut tx, &mk("srv-01", "server")).await.unwrap();
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn an_import_indexes_its_records_and_numbering_continues_after_it() {
    for store in stores().await {
        let a = tenant(&store).await;
        let rows: Vec<records::Record> = (1..=1000)
            .map(|n| {
                incident(
                    n,
                    &format!(
                        "Imported ticket {n} about {}",
                        if n % 10 == 0 { "scanners" } else { "mail" }
                    ),
                    "p4",
                    n,
                )
            })
            .collect();
        let mut tx = store.tenant(&a).await.unwrap();
        records::import(&mut tx, &rows).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.tenant(&a).await.unwrap();
        let hits = records::list(
            &mut tx,
            &records::Filter {
                text: Some("scanner*".into()),
                limit: 200,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(hits.len(), 100);
        assert_eq!(
            history::states(&mut tx, &rows[5].id).await.unwrap().len(),
            1
        );
        assert_eq!(
            fernhand_store::desk::next_number(&mut tx, "incident")
                .await
                .unwrap(),
            1001
        );
        // Replacing a source's text re-indexes it.
        text::put(&mut tx, &rows[0].id, &rows[0].id, "now about scanners")
            .await
            .unwrap();
        let hits = records::list(
            &mut tx,
            &records::Filter {
                text: Some("scanners".into()),
                limit: 200,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(hits.len(), 101);
        let mail = records::list(
            &mut tx,
            &records::Filter {
                text: Some("ticket 1 mail".into()),
                limit: 200,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(
            mail.iter().all(|r| r.id != rows[0].id),
            "the old text is gone from the index"
        );
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn a_new_record_is_written_whole_with_its_state_history_and_text_or_not_at_all() {
    for store in stores().await {
        let t = tenant(&store).await;
        let first = history::Entered {
            at: 1_800_000_000,
            state: "new".into(),
            category: "new".into(),
        };
        let changes = vec![
            ("created".to_owned(), None, Some("new".to_owned())),
            ("title".to_owned(), None, Some("Beamer flickers".to_owned())),
            ("impact".to_owned(), None, Some("low".to_owned())),
        ];
        let raised = || records::Raised {
            first: &first,
            actor: "u-1",
            changes: &changes,
            text: "Beamer flickers in room 3",
            prefix: "INC",
            audit: "desk.create",
        };
        let mut r = incident(0, "Beamer flickers", "p4", first.at);
        let mut tx = store.tenant(&t).await.unwrap();
        records::create(&mut tx, &mut r, raised()).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(r.number, 1, "numbered in the batch");
        let mut second = incident(0, "Projector hums", "p4", first.at);
        let mut tx = store.tenant(&t).await.unwrap();
        records::create(&mut tx, &mut second, raised())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(second.number, 2);
        let mut tx = store.tenant(&t).await.unwrap();
        let lines = history::list(&mut tx, &r.id).await.unwrap();
        assert_eq!(
            lines
                .iter()
                .map(|l| (l.seq, l.field.as_str()))
                .collect::<Vec<_>>(),
            [(1, "created"), (2, "title"), (3, "impact")]
        );
        let states = history::states(&mut tx, &r.id).await.unwrap();
        assert_eq!(states, std::slice::from_ref(&first));
        let found = records::list(
            &mut tx,
            &records::Filter {
                text: Some("room".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(found.len(), 2, "both search texts went in");
        let by_reference = records::list(
            &mut tx,
            &records::Filter {
                text: Some("INC-1".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(
            by_reference.iter().any(|x| x.id == r.id),
            "the reference is searchable"
        );
        let audit = fernhand_store::audit::list(&mut tx, 0, 10).await.unwrap();
        let entry = audit
            .iter()
            .find(|a| a.target == r.id)
            .expect("an audit entry");
        assert_eq!(entry.action, "desk.create");
        let detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap();
        assert_eq!(detail, serde_json::json!({"kind": "incident", "number": 1}));
        drop(tx);

        // The same id again: refused as a conflict, and nothing of the
        // second attempt stays (no second state or history line).
        let mut tx = store.tenant(&t).await.unwrap();
        let mut same = r.clone();
        let again = records::create(&mut tx, &mut same, raised()).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        drop(tx);
        let mut tx = store.tenant(&t).await.unwrap();
        assert_eq!(history::list(&mut tx, &r.id).await.unwrap().len(), 3);
        assert_eq!(history::states(&mut tx, &r.id).await.unwrap().len(), 1);
    }
}
