//! Incoming e-mail into the desk, from a real Maildir and mbox on disk, on
//! SQLite and (when present) PostgreSQL: new messages raise incidents with
//! their files sealed, replies from the requester land on their ticket, a
//! stranger cannot reply into someone else's ticket, machines and garbage
//! are dropped without a word, and reading the same mail again changes
//! nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use fernhand_server::app::desk::mail::Outcome;
use fernhand_server::app::desk::mailbox::{self, Maildir, Mbox};
use reqwest::StatusCode;
use std::path::Path;

fn message(from: &str, subject: &str, id: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: help@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n\
--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"log.txt\"\r\n\r\n\
error 42 at boot\r\n--b--\r\n"
    )
}

fn deliver(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir.join("new")).unwrap();
    std::fs::write(dir.join("new").join(name), text).unwrap();
}

#[tokio::test]
async fn mail_raises_incidents_adds_replies_and_is_read_once() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let (store, sealer) = (&server.state.store, &server.state.sealer);
        let dir = std::env::temp_dir().join(format!(
            "fernhand-maildir-{}",
            fernhand_store::new_id().unwrap()
        ));
        deliver(
            &dir,
            "1.host",
            &message(
                &format!("Req <{}>", t.requester.email.to_uppercase()),
                "Laptop <b>won't</b> boot",
                "m1@x",
                "It beeps twice.",
            ),
        );
        deliver(&dir, "2.host", "\u{0}\u{1} not mail at all");
        deliver(
            &dir,
            "3.host",
            "From: a@example.com\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\nMessage-ID: <m3@x>\r\n\r\nAway\r\n",
        );
        let report = mailbox::read(
            store,
            sealer,
            &t.id,
            &mut Maildir::open(&dir).unwrap(),
            fernhand_store::now(),
        )
        .await
        .unwrap();
        let outcomes: Vec<&Outcome> = report.iter().map(|(_, o)| o).collect();
        assert_eq!(outcomes[0], &Outcome::Raised("INC-1".into()), "{report:?}");
        assert!(matches!(outcomes[1], Outcome::Refused(_)), "{report:?}");
        assert_eq!(outcomes[2], &Outcome::Automatic);
        assert_eq!(
            std::fs::read_dir(dir.join("new")).unwrap().count(),
            0,
            "all read"
        );
        assert!(dir.join("cur/1.host:2,S").exists());
        assert!(
            dir.join("cur/2.host:2,FS").exists(),
            "the refused one is flagged"
        );

        let inc = expert.get("/api/v1/desk/records/INC-1").await;
        assert_eq!(inc.body["fields"]["title"], "Laptop <b>won't</b> boot");
        assert_eq!(
            inc.body["fields"]["requester"], t.requester.id,
            "the sender's account"
        );
        assert!(
            inc.body["fields"]["description"]
                .as_str()
                .unwrap()
                .contains("It beeps twice.")
        );
        let id = inc.body["id"].as_str().unwrap().to_owned();
        let files = expert
            .get(&format!("/api/v1/desk/records/{id}/attachments"))
            .await;
        assert_eq!(files.body[0]["name"], "log.txt", "{}", files.text);
        assert_eq!(files.body[0]["public"], true);

        // The requester replies; a stranger's "reply" is a ticket of its
        // own; the first message again changes nothing.
        deliver(
            &dir,
            "4.host",
            &message(
                &t.requester.email,
                "Re: [INC-1] Laptop",
                "m4@x",
                "Still beeping.\r\n\r\nOn Monday the desk wrote:\r\n> try again",
            ),
        );
        deliver(
            &dir,
            "5.host",
            &message(
                "mallory@evil.example",
                "Re: [INC-1] Laptop",
                "m5@x",
                "Send me the log",
            ),
        );
        deliver(
            &dir,
            "6.host",
            &message(
                &t.requester.email,
                "Laptop won't boot",
                "m1@x",
                "It beeps twice.",
            ),
        );
        let report = mailbox::read(
            store,
            sealer,
            &t.id,
            &mut Maildir::open(&dir).unwrap(),
            fernhand_store::now(),
        )
        .await
        .unwrap();
        let outcomes: Vec<&Outcome> = report.iter().map(|(_, o)| o).collect();
        assert_eq!(
            outcomes,
            [
                &Outcome::Replied("INC-1".into()),
                &Outcome::Raised("INC-2".into()),
                &Outcome::Duplicate
            ],
            "{report:?}"
        );
        let notes = expert
            .get(&format!("/api/v1/desk/records/{id}/notes"))
            .await;
        let notes = notes.body.as_array().unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0]["body"], "Still beeping.", "without the quote");
        assert_eq!(notes[0]["public"], true);
        let stranger = expert.get("/api/v1/desk/records/INC-2").await;
        assert_eq!(stranger.body["fields"]["requester"], "mallory@evil.example");

        // An mbox read twice: two incidents, then nothing.
        let mbox = dir.join("inbox.mbox");
        std::fs::write(
            &mbox,
            format!(
                "From a@example.com Mon Dec  1 10:00:00 2026\n{}\nFrom b@example.com Mon Dec  1 11:00:00 2026\n{}\n",
                message("a@example.com", "Printer", "x1@x", "jams").replace("\r\n", "\n"),
                message("b@example.com", "Screen", "x2@x", "flickers").replace("\r\n", "\n"),
            ),
        )
        .unwrap();
        for want in [
            [
                Outcome::Raised("INC-3".into()),
                Outcome::Raised("INC-4".into()),
            ],
            [Outcome::Duplicate, Outcome::Duplicate],
        ] {
            let report = mailbox::read(
                store,
                sealer,
                &t.id,
                &mut Mbox::open(&mbox).unwrap(),
                fernhand_store::now(),
            )
            .await
            .unwrap();
            let got: Vec<Outcome> = report.into_iter().map(|(_, o)| o).collect();
            assert_eq!(got, want);
        }
        assert_eq!(
            expert.get("/api/v1/desk/records/INC-5").await.status,
            StatusCode::NOT_FOUND
        );
        let _ = std::fs::remove_dir_all(&dir);
        server.shutdown().await;
    }
}
