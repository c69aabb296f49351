//! Golden transcripts: a whole session run with a seeded random source and
//! written as JSON to `tests/golden/`, one file per suite. The browser's
//! implementation replays the recorded random draws and must reproduce every
//! handshake message, every key delivery and every uncompressed sealed packet
//! byte for byte (and open the compressed ones to the same plaintext).
//!
//! This test regenerates the transcripts and fails if they differ from the
//! committed files: the wire format changed. If the change is intended, run it
//! with `FERNHAND_BLESS=1` and commit the new files with the change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use fernhand_e2e::testing::{self, Draw};
use fernhand_e2e::{
    ClientHandshake, Compression, Established, JoinCode, JoinLink, KeyDelivery, Leader, Member,
    MemberId, Policy, Suite, Verifier, VerifierStore,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

const SEED: u64 = 0x4645_524e_4841_4e44; // "FERNHAND"
const CODE: &str = "123456789012";
const LINK: &str = "https://support.example/join/AAECAwQFBgcICQoLDA0ODw#EBESExQVFhcYGRobHB0eHw";

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn file_name(suite: Suite) -> &'static str {
    match suite {
        Suite::Srp3072Aes256HmacSha256 => "session-srp3072.json",
        Suite::Srp2048Aes256HmacSha256 => "session-srp2048.json",
        Suite::ClassicSrp1024Aes128HmacSha1 => "session-classic1024.json",
    }
}

/// One join: the four messages and both sides' results.
fn join(
    client_policy: &Policy,
    store: &mut VerifierStore,
    identity: &[u8],
    secret: &[u8],
) -> (Value, Established, Established) {
    let (client, hello) = ClientHandshake::start(client_policy, identity, secret).unwrap();
    let (server, challenge) = store.respond(&hello).unwrap();
    let (client, proof) = client.on_challenge(&challenge).unwrap();
    let (confirm, server_done) = store.finish(server, &proof).unwrap();
    let client_done = client.on_confirm(&confirm).unwrap();
    assert_eq!(client_done.transcript_hash(), server_done.transcript_hash());
    let record = json!({
        "identity": String::from_utf8(identity.to_vec()).unwrap(),
        "secret": String::from_utf8(secret.to_vec()).unwrap(),
        "hello": hex::encode(&hello),
        "challenge": hex::encode(&challenge),
        "proof": hex::encode(&proof),
        "confirm": hex::encode(&confirm),
        "transcript_hash": hex::encode(client_done.transcript_hash()),
    });
    (record, client_done, server_done)
}

fn deliveries(step: &str, list: &[KeyDelivery]) -> Vec<Value> {
    list.iter()
        .map(|d| {
            json!({
                "step": step,
                "recipient": d.recipient().0,
                "epoch": d.epoch(),
                "revoke_previous": d.revokes_previous(),
                "bytes": hex::encode(d.as_bytes()),
            })
        })
        .collect()
}

/// Incompressible filler: SHA-256 in counter mode over a label.
fn noise(label: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut i = 0u32;
    while out.len() < len {
        out.extend_from_slice(&Sha256::digest(format!("{label}{i}")));
        i += 1;
    }
    out.truncate(len);
    out
}

/// The message classes a session carries, each with a representative body.
fn message_classes() -> Vec<(&'static str, Vec<u8>, Compression)> {
    let report = json!({
        "os": "Debian GNU/Linux 13", "cpus": 8, "memory_mib": 15871,
        "disks": [{"mount": "/", "used_pct": 41}, {"mount": "/home", "used_pct": 77}],
        "processes": ["systemd", "Xorg", "firefox", "firefox", "firefox", "fernhand"],
    })
    .to_string();
    vec![
        (
            "control",
            br#"{"type":"permissions","view":true,"control":false}"#.to_vec(),
            Compression::IfSmaller,
        ),
        (
            "chat",
            "Grüezi! Können Sie meinen Bildschirm sehen? 画面が見えますか？"
                .as_bytes()
                .to_vec(),
            Compression::IfSmaller,
        ),
        (
            "chat-long",
            "The printer on floor 3 shows error E-42 again. "
                .repeat(12)
                .into_bytes(),
            Compression::IfSmaller,
        ),
        ("file-chunk", noise("file", 1024), Compression::IfSmaller),
        (
            "file-chunk-text",
            "id,name,amount\n".repeat(200).into_bytes(),
            Compression::IfSmaller,
        ),
        (
            "screen-update",
            [vec![0x20u8; 2048], noise("tile", 256)].concat(),
            Compression::IfSmaller,
        ),
        (
            "cursor",
            vec![0, 0, 3, 32, 1, 144, 0, 1],
            Compression::IfSmaller,
        ),
        (
            "input",
            vec![0x01, 0x00, 0x00, 0x02, 0x80, 0x01, 0x68, 0x00, 0x00],
            Compression::Never,
        ),
        (
            "clipboard",
            b"copied text: copied text: copied text: copied text: copied!".to_vec(),
            Compression::Never,
        ),
        ("diagnostics", report.into_bytes(), Compression::IfSmaller),
    ]
}

fn packet_record(
    label: &str,
    sender: u32,
    aad: &[u8],
    plaintext: &[u8],
    compression: Compression,
    sealed: &[u8],
) -> Value {
    let compressed = sealed[2] & 1 == 1;
    json!({
        "class": label,
        "sender": sender,
        "epoch": u32::from_be_bytes(sealed[3..7].try_into().unwrap()),
        "seq": u64::from_be_bytes(sealed[11..19].try_into().unwrap()),
        "compression": match compression { Compression::Never => "never", Compression::IfSmaller => "if-smaller" },
        "compressed": compressed,
        "seal_must_match": !compressed,
        "aad": hex::encode(aad),
        "plaintext": hex::encode(plaintext),
        "sealed": hex::encode(sealed),
    })
}

fn draws_json(draws: &[Draw]) -> Vec<Value> {
    draws
        .iter()
        .map(|d| json!({ "label": d.label, "bytes": hex::encode(&d.bytes) }))
        .collect()
}

/// Run the whole scenario for `suite` and describe it.
fn transcript(suite: Suite) -> Value {
    let (body, draws) = testing::with_seed(SEED ^ u64::from(suite.id()), || {
        let client_policy = Policy::with_classic();
        let server_policy = Policy::only(&[suite]);
        let mut leader = Leader::new(suite, MemberId(1)).unwrap();
        let mut store = VerifierStore::new(server_policy.clone());

        // First member: the join code read over the phone.
        let code = JoinCode::parse(CODE).unwrap();
        store.insert(Verifier::new(&server_policy, &code.identity(), code.secret()).unwrap());
        let (join_code, m2_client, m2_server) =
            join(&client_policy, &mut store, &code.identity(), code.secret());
        // Shown so another implementation can find where it goes wrong.
        let m2_secret_hex = hex::encode(testing::established_secret(&m2_client));
        assert_eq!(
            m2_secret_hex,
            hex::encode(testing::established_secret(&m2_server))
        );
        let mut m2 = Member::new(m2_client);
        let d_admit2 = leader.admit(MemberId(2), m2_server).unwrap();
        for d in &d_admit2 {
            m2.accept(d.as_bytes()).unwrap();
        }

        // Second member: the join link from an e-mail.
        let link = JoinLink::parse(LINK).unwrap();
        store.insert(Verifier::new(&server_policy, &link.identity(), link.secret()).unwrap());
        let (join_link, m3_client, m3_server) =
            join(&client_policy, &mut store, &link.identity(), link.secret());
        let mut m3 = Member::new(m3_client);
        let d_admit3 = leader.admit(MemberId(3), m3_server).unwrap();
        for d in &d_admit3 {
            match d.recipient().0 {
                2 => m2.accept(d.as_bytes()).unwrap(),
                _ => m3.accept(d.as_bytes()).unwrap(),
            };
        }

        // Every message class, from the leader and from the members.
        let aad = b"FH1 envelope | session 0f1e2d3c | to all | reliable".to_vec();
        let mut packets = Vec::new();
        for (label, body, compression) in message_classes() {
            let sealed = leader.seal(&aad, &body, compression).unwrap();
            assert_eq!(m2.open(&aad, &sealed).unwrap().plaintext(), body);
            assert_eq!(m3.open(&aad, &sealed).unwrap().plaintext(), body);
            packets.push(packet_record(label, 1, &aad, &body, compression, &sealed));
        }
        for (label, body, compression) in message_classes().into_iter().take(3) {
            let sealed = m2.seal(&aad, &body, compression).unwrap();
            assert_eq!(leader.open(&aad, &sealed).unwrap().plaintext(), body);
            packets.push(packet_record(label, 2, &aad, &body, compression, &sealed));
        }
        let to_one = b"FH1 envelope | session 0f1e2d3c | to member 1 | latest-wins".to_vec();
        let body = noise("frame", 300);
        let sealed = m3.seal(&to_one, &body, Compression::IfSmaller).unwrap();
        assert_eq!(leader.open(&to_one, &sealed).unwrap().plaintext(), body);
        packets.push(packet_record(
            "screen-update",
            3,
            &to_one,
            &body,
            Compression::IfSmaller,
            &sealed,
        ));

        // Member 3 leaves: epoch with the revoke flag, for member 2 only.
        let d_remove3 = leader.remove(MemberId(3)).unwrap();
        for d in &d_remove3 {
            m2.accept(d.as_bytes()).unwrap();
        }
        let body = b"member 3 has left the session".to_vec();
        let sealed = leader.seal(&aad, &body, Compression::IfSmaller).unwrap();
        assert_eq!(m2.open(&aad, &sealed).unwrap().plaintext(), body);
        assert!(m3.open(&aad, &sealed).is_err());
        packets.push(packet_record(
            "control",
            1,
            &aad,
            &body,
            Compression::IfSmaller,
            &sealed,
        ));

        let mut all_deliveries = deliveries("admit member 2", &d_admit2);
        all_deliveries.extend(deliveries("admit member 3", &d_admit3));
        all_deliveries.extend(deliveries("remove member 3", &d_remove3));
        json!({
            "joins": [
                { "member": 2, "via": "code", "code": CODE, "member_secret": m2_secret_hex, "messages": join_code },
                { "member": 3, "via": "link", "link": LINK, "messages": join_link },
            ],
            "deliveries": all_deliveries,
            "packets": packets,
        })
    });
    json!({
        "format": "fernhand-e2e golden transcript 1",
        "suite": { "id": suite.id(), "name": suite.name() },
        "client_offers": Policy::with_classic().suites().iter().map(|s| s.id()).collect::<Vec<_>>(),
        "server_accepts": [suite.id()],
        "leader": 1,
        "random_draws": draws_json(&draws),
        "session": body,
    })
}

#[test]
fn golden_transcripts_are_reproduced_byte_for_byte() {
    let bless = std::env::var_os("FERNHAND_BLESS").is_some();
    for suite in Suite::ALL {
        let generated = serde_json::to_string_pretty(&transcript(suite)).unwrap() + "\n";
        // Deterministic: a second run gives the same bytes.
        let again = serde_json::to_string_pretty(&transcript(suite)).unwrap() + "\n";
        assert_eq!(generated, again, "the seeded run is not deterministic");
        let path = golden_dir().join(file_name(suite));
        if bless {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run with FERNHAND_BLESS=1 to create it",
                path.display()
            )
        });
        assert!(
            committed == generated,
            "{} differs from what the code produces: the wire format changed. \
             If intended, rerun with FERNHAND_BLESS=1 and commit the file.",
            path.display()
        );
    }
}

#[test]
fn transcripts_record_every_random_draw_by_purpose() {
    let t = transcript(Suite::Srp3072Aes256HmacSha256);
    let labels: Vec<&str> = t["random_draws"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "group key",
            "srp salt",
            "srp server ephemeral b",
            "srp client ephemeral a",
            "group key",
            "srp salt",
            "srp server ephemeral b",
            "srp client ephemeral a",
            "group key",
            "group key",
        ]
    );
}
