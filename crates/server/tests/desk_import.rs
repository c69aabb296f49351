//! Tickets brought over from GLPI and iTop CSV exports, on SQLite and
//! (when present) PostgreSQL: they keep their numbers as references, their
//! states and priorities map onto the incident lifecycle, requesters match
//! the tenant's users by e-mail, markup stays text, unreadable lines are
//! reported and skipped, and importing again changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use fernhand_server::app::desk::import::{self, Source};
use reqwest::StatusCode;

const GLPI: &str = "\u{feff}ID;Title;Status;Last update;Opening date;Priority;Requester - Requester;Assigned to - Technician;Category;Description\n\
1234;Printer jams on floor 2;Processing (assigned);2024-03-02 09:10;2024-03-01 08:00;High;REQUESTER;Jane Tech;Hardware > Printer;\"It jams <script>alert(1)</script>\nevery morning\"\n\
1240;VPN drops;Solved;2024-03-05 17:00;2024-03-04 11:30;Very high;someone@else.example;;Network;Every hour\n\
1241;;New;;;Low;;;;no title here\n\
1242;Phone broken;Sleeping;;;Low;;;;unknown status\n";

const ITOP: &str = "ref,title,status,priority,caller_id->friendlyname,agent_id->friendlyname,start_date,last_update,description\n\
R-000123,Mail quota full,pending,2,Maria Keller,,2024-02-10 10:00:00,2024-02-11 12:00:00,Waiting for the user\n\
R-000124,New laptop,new,4,Bo,,2024-02-12 09:00:00,2024-02-12 09:00:00,\n";

#[tokio::test]
async fn glpi_and_itop_exports_become_incidents_that_keep_their_numbers() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let glpi = GLPI.replace("REQUESTER", &t.requester.email);
        let store = &server.state.store;
        let mut tx = store.tenant(&t.id).await.unwrap();
        let report = import::run(&mut tx, Source::Glpi, glpi.as_bytes(), 1_800_000_000)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(report.imported, ["INC-1234", "INC-1240"]);
        assert_eq!(
            report.skipped.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            [5, 6],
            "{report:?}"
        );
        assert!(report.skipped[1].1.contains("Sleeping"));

        let inc = expert.get("/api/v1/desk/records/INC-1234").await;
        assert_eq!(inc.status, StatusCode::OK, "{}", inc.text);
        assert_eq!(inc.body["state"], "assigned");
        assert_eq!(inc.body["priority"], "p2");
        assert_eq!(
            inc.body["fields"]["requester"], t.requester.id,
            "matched by e-mail"
        );
        assert_eq!(inc.body["fields"]["category"], "Hardware > Printer");
        let description = inc.body["fields"]["description"].as_str().unwrap();
        assert!(description.starts_with("It jams <script>alert(1)</script>\nevery morning"));
        assert!(description.contains("Assigned in Glpi to Jane Tech"));
        assert_eq!(
            inc.body["created_at"], 1_709_280_000,
            "2024-03-01 08:00 UTC"
        );
        let solved = expert.get("/api/v1/desk/records/INC-1240").await;
        assert_eq!(
            (
                solved.body["state"].as_str(),
                solved.body["priority"].as_str()
            ),
            (Some("resolved"), Some("p1"))
        );
        assert_eq!(solved.body["fields"]["requester"], "someone@else.example");
        let found = expert.get("/api/v1/desk/records?q=printer").await;
        assert_eq!(found.body["items"][0]["reference"], "INC-1234");

        // iTop, then both again: nothing new.
        let mut tx = store.tenant(&t.id).await.unwrap();
        let itop = import::run(&mut tx, Source::Itop, ITOP.as_bytes(), 1_800_000_000)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(itop.imported, ["INC-123", "INC-124"]);
        let pending = expert.get("/api/v1/desk/records/INC-123").await;
        assert_eq!(pending.body["state"], "pending");
        assert_eq!(pending.body["fields"]["requester"], "Maria Keller");
        for (source, text) in [(Source::Glpi, glpi.as_str()), (Source::Itop, ITOP)] {
            let mut tx = store.tenant(&t.id).await.unwrap();
            let again = import::run(&mut tx, source, text.as_bytes(), 1_800_000_000)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            assert!(again.imported.is_empty(), "{again:?}");
            assert_eq!(again.existing, 2);
        }
        // New incidents number after the imported ones.
        let next = expert
            .post(
                "/api/v1/desk/records",
                serde_json::json!({"kind": "incident", "fields": {"title": "After the move"}}),
            )
            .await;
        assert_eq!(next.body["reference"], "INC-1241");

        // Not an export of that desk: refused, nothing written.
        let mut tx = store.tenant(&t.id).await.unwrap();
        let wrong = import::run(&mut tx, Source::Glpi, ITOP.as_bytes(), 1_800_000_000).await;
        assert!(wrong.is_err());
        drop(tx);
        server.shutdown().await;
    }
}
