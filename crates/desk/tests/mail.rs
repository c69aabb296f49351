//! Incoming e-mail read for the desk: sender, reference, new text without
//! the quoted conversation, files, automatic mail, and refusals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fernhand_desk::RecordKind;
use fernhand_desk::mail::{self, MailError};

const NEW: &str = "From: Maria Keller <Maria.Keller@Example.com>\r\n\
To: help@desk.example\r\n\
Subject: Printer on floor 2 =?utf-8?q?sh=C3=B6ws?= E-42\r\n\
Message-ID: <a1@example.com>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\
\r\n\
--b\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<p>It jams <b>every</b> time.</p><script>alert(1)</script>\r\n\
--b\r\n\
Content-Type: image/png\r\n\
Content-Disposition: attachment; filename=\"../../jam.png\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
iVBORw0KGgo=\r\n\
--b--\r\n";

#[test]
fn a_new_message_becomes_sender_subject_text_and_files() {
    let m = mail::parse(NEW.as_bytes()).unwrap();
    assert_eq!(m.from, "maria.keller@example.com");
    assert_eq!(m.from_name.as_deref(), Some("Maria Keller"));
    assert_eq!(m.subject, "Printer on floor 2 shöws E-42");
    assert_eq!(m.message_id, "a1@example.com");
    assert_eq!(m.reference, None);
    assert!(m.text.contains("It jams every time."), "{:?}", m.text);
    assert!(!m.automatic);
    assert_eq!(m.files.len(), 1);
    assert_eq!(m.files[0].name, ".._.._jam.png", "no path survives");
    assert_eq!(m.files[0].bytes, b"\x89PNG\r\n\x1a\n");
}

#[test]
fn a_reply_names_its_record_and_loses_the_quote() {
    let raw = "From: maria@example.com\r\nSubject: Re: [INC-42] Printer\r\nMessage-ID: <a2@example.com>\r\n\r\n\
Still broken after the restart.\r\n\r\nOn Mon, 1 Dec 2026, Desk wrote:\r\n> Please restart it.\r\n";
    let m = mail::parse(raw.as_bytes()).unwrap();
    let r = m.reference.unwrap();
    assert_eq!((r.kind, r.number), (RecordKind::Incident, 42));
    assert_eq!(m.text, "Still broken after the restart.");
    assert_eq!(
        mail::reference_in("[no] [CHG-7] x"),
        Some("CHG-7".parse().unwrap())
    );
    assert_eq!(mail::reference_in("[INC-] [INC-x]"), None);
}

#[test]
fn machines_are_recognised_and_bad_messages_refused() {
    for header in [
        "Auto-Submitted: auto-replied",
        "Precedence: bulk",
        "X-Autoreply: yes",
        "List-Id: <list.example.com>",
    ] {
        let raw =
            format!("From: a@example.com\r\n{header}\r\nSubject: Out of office\r\n\r\nAway.\r\n");
        assert!(mail::parse(raw.as_bytes()).unwrap().automatic, "{header}");
    }
    let human = "From: a@example.com\r\nAuto-Submitted: no\r\nSubject: x\r\n\r\ny\r\n";
    assert!(!mail::parse(human.as_bytes()).unwrap().automatic);
    assert_eq!(mail::parse(b"").unwrap_err(), MailError::Unparseable);
    assert_eq!(
        mail::parse(b"Subject: nobody sent this\r\n\r\ntext\r\n").unwrap_err(),
        MailError::NoSender
    );
    assert_eq!(
        mail::parse(b"From: not an address\r\nSubject: x\r\n\r\ntext\r\n").unwrap_err(),
        MailError::NoSender
    );
    // Without a Message-ID the same bytes give the same id.
    let raw = b"From: a@example.com\r\nSubject: x\r\n\r\nhello\r\n";
    let (a, b) = (mail::parse(raw).unwrap(), mail::parse(raw).unwrap());
    assert!(a.message_id.starts_with("sha256:"));
    assert_eq!(a.message_id, b.message_id);
}

#[test]
fn an_mbox_splits_into_its_messages() {
    let mbox = "From a@example.com Mon Dec  1 10:00:00 2026\n\
From: a@example.com\nSubject: one\nMessage-ID: <1@x>\n\nfirst\n\n\
From b@example.com Mon Dec  1 11:00:00 2026\n\
From: b@example.com\nSubject: two\nMessage-ID: <2@x>\n\nsecond\n>From the mbox escape\n";
    let messages = mail::mbox(mbox.as_bytes());
    assert_eq!(messages.len(), 2);
    let second = mail::parse(&messages[1]).unwrap();
    assert_eq!(
        (second.from.as_str(), second.subject.as_str()),
        ("b@example.com", "two")
    );
}
