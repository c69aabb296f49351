//! `fernhand bench e2e`: the end-to-end layer against its bare primitives.
//!
//! Packets: seal and open of 64 B – 64 KiB bodies (default suite, no
//! compression) against AES-256-CTR then HMAC-SHA-256 over the same buffer,
//! in place, with keys expanded once — the primitives alone, no framing, no
//! header, no replay window. Ours uses the buffer-reusing calls a transport
//! uses (`seal_into` a reused buffer, `open_owned` of the received buffer).
//! The difference is what our framing costs. Goal: ≤ 15% overhead at 1 KiB
//! and above.
//!
//! Joins: the whole four-message handshake, both sides, per suite, against the
//! `srp` crate's bare client and server computations. Goal: ≤ 25 ms per join
//! with the 3072-bit group, on one core.

use super::{Report, Row, alternate};
use aes::Aes256;
use anyhow::{Context, anyhow};
use ctr::CtrCore;
use ctr::cipher::{InnerIvInit, KeyInit, StreamCipher, StreamCipherCoreWrapper};
use ctr::flavors::Ctr32BE;
use fernhand_e2e::{
    ClientHandshake, Compression, Leader, Member, MemberId, Policy, Suite, Verifier, VerifierStore,
};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use std::hint::black_box;
use std::time::{Duration, Instant};

const SIZES: [usize; 4] = [64, 1024, 16 * 1024, 64 * 1024];
/// Envelope bytes authenticated with each packet (a realistic relay envelope).
const AAD: &[u8] = b"FH1|session-0f1e2d3c|all|rel";
const OVERHEAD_GOAL_PCT: f64 = 15.0;
const JOIN_GOAL_MS: f64 = 25.0;

pub fn run(per_side: Duration) -> anyhow::Result<Report> {
    let mut rows = Vec::new();
    for size in SIZES {
        rows.push(seal_row(size, per_side)?);
        rows.push(open_row(size, per_side)?);
    }
    let headline = rows
        .iter()
        .position(|r| r.scenario == "seal 1 KiB")
        .unwrap_or(0);
    for suite in Suite::ALL {
        rows.push(join_row(suite, per_side)?);
    }
    rows.push(verifier_row(per_side)?);

    let worst = rows
        .iter()
        .filter(|r| r.unit == "MB/s" && packet_size(&r.scenario) >= 1024)
        .map(|r| (r.baseline / r.ours - 1.0) * 100.0)
        .fold(f64::MIN, f64::max);
    let join_ms = rows
        .iter()
        .find(|r| r.scenario == format!("join {}", Suite::Srp3072Aes256HmacSha256.name()))
        .map_or(f64::NAN, |r| r.ours);
    let conclusion = format!(
        "worst framing overhead at ≥1 KiB {worst:.1}% (goal ≤ {OVERHEAD_GOAL_PCT:.0}%: {}); \
         3072-bit join {join_ms:.1} ms (goal ≤ {JOIN_GOAL_MS:.0} ms: {})",
        if worst <= OVERHEAD_GOAL_PCT {
            "met"
        } else {
            "MISSED"
        },
        if join_ms <= JOIN_GOAL_MS {
            "met"
        } else {
            "MISSED"
        },
    );
    Ok(Report {
        area: "e2e",
        rows,
        headline,
        conclusion,
    })
}

fn label(size: usize) -> String {
    if size >= 1024 {
        format!("{} KiB", size / 1024)
    } else {
        format!("{size} B")
    }
}

fn packet_size(scenario: &str) -> usize {
    SIZES
        .iter()
        .copied()
        .find(|s| scenario.ends_with(&label(*s)))
        .unwrap_or(0)
}

/// Packets per timed batch: enough that reading the clock is negligible.
fn batch_len(size: usize) -> usize {
    (256 * 1024 / size).clamp(4, 256)
}

/// A leader and one member of the default suite, joined for real.
fn session() -> anyhow::Result<(Leader, Member)> {
    let suite = Suite::Srp3072Aes256HmacSha256;
    let policy = Policy::only(&[suite]);
    let (client, server) = join_once(&policy, b"code:000001", b"123456")?;
    let mut leader = Leader::new(suite, MemberId(1)).map_err(|e| anyhow!(e))?;
    let mut member = Member::new(client);
    for d in leader.admit(MemberId(2), server).map_err(|e| anyhow!(e))? {
        member.accept(d.as_bytes()).map_err(|e| anyhow!(e))?;
    }
    Ok((leader, member))
}

fn join_once(
    policy: &Policy,
    identity: &[u8],
    secret: &[u8],
) -> anyhow::Result<(fernhand_e2e::Established, fernhand_e2e::Established)> {
    let mut store = VerifierStore::new(policy.clone());
    store.insert(Verifier::new(policy, identity, secret)?);
    let (client, hello) = ClientHandshake::start(policy, identity, secret)?;
    let (server, challenge) = store.respond(&hello)?;
    let (client, proof) = client.on_challenge(&challenge)?;
    let (confirm, server_done) = store.finish(server, &proof)?;
    Ok((client.on_confirm(&confirm)?, server_done))
}

/// The baseline's keyed primitives: AES-256 expanded once, HMAC pads absorbed once.
struct Bare {
    aes: Aes256,
    mac: Hmac<Sha256>,
}

impl Bare {
    fn new() -> Bare {
        let mut key = [0u8; 64];
        key.iter_mut().zip(0u8..).for_each(|(b, i)| *b = i);
        let (enc, mac_key) = key.split_at(32);
        Bare {
            aes: Aes256::new_from_slice(enc).unwrap_or_else(|_| unreachable!("32-byte key")),
            mac: <Hmac<Sha256> as KeyInit>::new_from_slice(mac_key)
                .unwrap_or_else(|_| unreachable!("any length")),
        }
    }

    fn ctr(&self, seq: u64, buf: &mut [u8]) {
        let mut iv = [0u8; 16];
        iv[4..12].copy_from_slice(&seq.to_be_bytes());
        StreamCipherCoreWrapper::from_core(CtrCore::<Aes256, Ctr32BE>::inner_iv_init(
            self.aes.clone(),
            &iv.into(),
        ))
        .apply_keystream(buf);
    }

    fn tag(&self, buf: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(buf);
        mac.finalize().into_bytes().into()
    }
}

fn plaintext(size: usize) -> Vec<u8> {
    (0..size)
        .map(|i| u8::try_from(i.wrapping_mul(131) % 251).unwrap_or(0))
        .collect()
}

fn seal_row(size: usize, per_side: Duration) -> anyhow::Result<Row> {
    let (mut leader, _member) = session()?;
    let bare = Bare::new();
    let body = plaintext(size);
    let mut buf = body.clone();
    let mut out = Vec::with_capacity(size + 64);
    let batch = batch_len(size);
    let mut seq = 0u64;
    let (ours, base) = alternate(
        per_side,
        || {
            let start = Instant::now();
            for _ in 0..batch {
                out.clear();
                let sealed = leader.seal_into(AAD, black_box(&body), Compression::Never, &mut out);
                black_box((sealed.is_ok(), &out));
            }
            start.elapsed()
        },
        || {
            let start = Instant::now();
            for _ in 0..batch {
                seq += 1;
                bare.ctr(seq, black_box(&mut buf));
                black_box(bare.tag(&buf));
            }
            start.elapsed()
        },
    );
    Ok(throughput_row(
        format!("seal {}", label(size)),
        size,
        batch,
        ours,
        base,
    ))
}

fn open_row(size: usize, per_side: Duration) -> anyhow::Result<Row> {
    let (mut leader, mut member) = session()?;
    let bare = Bare::new();
    let body = plaintext(size);
    let batch = batch_len(size);
    let buf = body.clone();
    let expected = bare.tag(&buf);
    let mut seq = 0u64;
    let mut error = None;
    let (ours, base) = alternate(
        per_side,
        || {
            // Seal a fresh batch (not timed), then time opening it.
            let sealed: Vec<Vec<u8>> = (0..batch)
                .filter_map(|_| leader.seal(AAD, &body, Compression::Never).ok())
                .collect();
            // Buffers are freed after the clock stops, as the baseline frees none.
            let mut opened = Vec::with_capacity(sealed.len());
            let start = Instant::now();
            for packet in sealed {
                match member.open_owned(AAD, black_box(packet)) {
                    Ok(o) => opened.push(o),
                    Err(e) => drop(error.get_or_insert(e)),
                }
            }
            let elapsed = start.elapsed();
            black_box(&opened);
            elapsed
        },
        || {
            // The same shape of work: a batch of freshly filled buffers, each
            // verified then decrypted in place.
            let mut buffers: Vec<Vec<u8>> = (0..batch).map(|_| buf.clone()).collect();
            let start = Instant::now();
            for b in &mut buffers {
                seq += 1;
                let ok = subtle_eq(&bare.tag(black_box(b)), &expected);
                black_box(ok);
                bare.ctr(seq, b);
            }
            let elapsed = start.elapsed();
            black_box(&buffers);
            elapsed
        },
    );
    if let Some(e) = error {
        return Err(anyhow!(e)).context("a genuine packet failed to open during the bench");
    }
    Ok(throughput_row(
        format!("open {}", label(size)),
        size,
        batch,
        ours,
        base,
    ))
}

/// The baseline's tag check, constant-time like ours.
fn subtle_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn throughput_row(scenario: String, size: usize, batch: usize, ours: f64, base: f64) -> Row {
    let mbps = |secs_per_batch: f64| (size * batch) as f64 / secs_per_batch / 1e6;
    let (ours, baseline) = (mbps(ours), mbps(base));
    let overhead = (baseline / ours - 1.0) * 100.0;
    Row {
        scenario,
        unit: "MB/s",
        ours,
        baseline,
        baseline_name: "bare AES-256-CTR + HMAC-SHA-256, in place",
        higher_is_better: true,
        extra: vec![
            ("size", json!(size)),
            ("overhead_pct", json!((overhead * 10.0).round() / 10.0)),
            (
                "ns_per_packet_ours",
                json!((size as f64 / ours * 1e3).round()),
            ),
        ],
    }
}

fn join_row(suite: Suite, per_side: Duration) -> anyhow::Result<Row> {
    let policy = Policy::only(&[suite]);
    let identity = b"code:000001";
    let secret = b"123456";
    let verifier = Verifier::new(&policy, identity, secret)?;
    let bare_v = bare_srp::verifier(suite, identity, secret);
    let mut error = None;
    let (ours, base) = alternate(
        per_side,
        || {
            let mut store = VerifierStore::new(policy.clone());
            store.insert(verifier.clone());
            let start = Instant::now();
            let result = (|| -> Result<(), fernhand_e2e::HandshakeError> {
                let (client, hello) = ClientHandshake::start(&policy, identity, secret)?;
                let (server, challenge) = store.respond(&hello)?;
                let (client, proof) = client.on_challenge(&challenge)?;
                let (confirm, _server_done) = store.finish(server, &proof)?;
                black_box(client.on_confirm(&confirm)?);
                Ok(())
            })();
            if let Err(e) = result {
                error.get_or_insert(e);
            }
            start.elapsed()
        },
        || {
            let start = Instant::now();
            black_box(bare_srp::join(suite, identity, secret, &bare_v));
            start.elapsed()
        },
    );
    if let Some(e) = error {
        return Err(anyhow!(e)).context("a handshake failed during the bench");
    }
    Ok(Row {
        scenario: format!("join {}", suite.name()),
        unit: "ms/join",
        ours: ours * 1e3,
        baseline: base * 1e3,
        baseline_name: "bare srp crate, both sides",
        higher_is_better: false,
        extra: vec![("suite", json!(suite.id()))],
    })
}

fn verifier_row(per_side: Duration) -> anyhow::Result<Row> {
    let suite = Suite::Srp3072Aes256HmacSha256;
    let policy = Policy::only(&[suite]);
    let mut error = None;
    let (ours, base) = alternate(
        per_side,
        || {
            let start = Instant::now();
            if let Err(e) = Verifier::new(&policy, b"code:000001", b"123456") {
                error.get_or_insert(e);
            }
            start.elapsed()
        },
        || {
            let start = Instant::now();
            black_box(bare_srp::verifier(suite, b"code:000001", b"123456"));
            start.elapsed()
        },
    );
    if let Some(e) = error {
        return Err(anyhow!(e));
    }
    Ok(Row {
        scenario: "verifier (once per session), 3072".to_owned(),
        unit: "ms",
        ours: ours * 1e3,
        baseline: base * 1e3,
        baseline_name: "bare srp compute_verifier",
        higher_is_better: false,
        extra: vec![],
    })
}

/// The baseline handshake: the `srp` crate's computations and nothing else.
mod bare_srp {
    #![allow(deprecated)]

    use fernhand_e2e::Suite;
    use sha2::Sha256;
    use srp::groups::{G1024, G2048, G3072};

    const SALT: [u8; 32] = [7; 32];

    pub fn verifier(suite: Suite, identity: &[u8], secret: &[u8]) -> Vec<u8> {
        match suite {
            Suite::Srp3072Aes256HmacSha256 => {
                srp::Client::<G3072, Sha256>::new().compute_verifier(identity, secret, &SALT)
            }
            Suite::Srp2048Aes256HmacSha256 => {
                srp::Client::<G2048, Sha256>::new().compute_verifier(identity, secret, &SALT)
            }
            Suite::ClassicSrp1024Aes128HmacSha1 => srp::Client::<G1024, sha1_alias::Sha1>::new()
                .compute_verifier(identity, secret, &SALT),
        }
    }

    /// Both sides of one join; true if the proofs verified.
    pub fn join(suite: Suite, identity: &[u8], secret: &[u8], v: &[u8]) -> bool {
        // Same exponent size as ours (256 bits), so only framing differs.
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        a.iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = u8::try_from(i).unwrap_or(0) ^ 0x5a);
        b.iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = u8::try_from(i).unwrap_or(0) ^ 0xa5);
        macro_rules! go {
            ($g:ty, $d:ty) => {{
                let client = srp::Client::<$g, $d>::new();
                let server = srp::Server::<$g, $d>::new();
                let a_pub = client.compute_public_ephemeral(&a);
                let b_pub = server.compute_public_ephemeral(&b, v);
                let (Ok(c), Ok(s)) = (
                    client.process_reply(&a, identity, secret, &SALT, &b_pub),
                    server.process_reply(identity, &SALT, &b, v, &a_pub),
                ) else {
                    return false;
                };
                s.verify_client(c.proof()).is_ok() && c.verify_server(s.proof()).is_ok()
            }};
        }
        match suite {
            Suite::Srp3072Aes256HmacSha256 => go!(G3072, Sha256),
            Suite::Srp2048Aes256HmacSha256 => go!(G2048, Sha256),
            Suite::ClassicSrp1024Aes128HmacSha1 => go!(G1024, sha1_alias::Sha1),
        }
    }

    mod sha1_alias {
        pub use sha1::Sha1;
    }
}
