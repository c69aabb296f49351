//! Official test vectors for every primitive, read at test time from
//! `../shared/vectors/crypto-test-vectors.json` (or `$FERNHAND_VECTORS`), and
//! run through the same code paths the crate uses: RFC 3394 key wrap, SP
//! 800-38A AES-CTR, RFC 2202 / RFC 4231 HMAC, RFC 5054 appendix B SRP-6a.

#![allow(deprecated)] // G1024 exists for exactly this vector.

use crate::keys::{BlockCipher, MacState};
use crate::srp_group;
use crate::suite::Suite;
use aes::{Aes128, Aes192, Aes256};
use aes_kw::{AesKw, KeyInit};
use ctr::CtrCore;
use ctr::cipher::{InnerIvInit, StreamCipher, StreamCipherCoreWrapper};
use ctr::flavors::Ctr32BE;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha1::Sha1;
use sha2::Sha256;
use srp::Group;
use srp::groups::G1024;
use std::path::PathBuf;

fn vectors() -> Value {
    let path = std::env::var_os("FERNHAND_VECTORS").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/vectors/crypto-test-vectors.json")
        },
        PathBuf::from,
    );
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read test vectors at {}: {e}", path.display()));
    serde_json::from_str(&text).expect("test vectors are JSON")
}

fn hex(v: &Value, field: &str) -> Vec<u8> {
    let s = v[field]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {field} missing"));
    hex::decode(s).unwrap_or_else(|e| panic!("vector field {field}: {e}"))
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {field} missing"))
}

#[test]
fn rfc3394_key_wrap_all_six() {
    let all = vectors();
    let cases = all["rfc3394_aes_key_wrap"].as_array().unwrap();
    assert_eq!(cases.len(), 6, "RFC 3394 §4.1-4.6");
    for case in cases {
        let kek = hex(case, "kek");
        let key = hex(case, "key_data");
        let expected = hex(case, "wrapped");
        let mut wrapped = vec![0u8; key.len() + 8];
        let mut unwrapped = vec![0u8; key.len()];
        macro_rules! check {
            ($aes:ty) => {{
                let kw = AesKw::<$aes>::new_from_slice(&kek).unwrap();
                kw.wrap_key(&key, &mut wrapped).unwrap();
                assert_eq!(wrapped, expected, "wrap §{}", case["section"]);
                kw.unwrap_key(&expected, &mut unwrapped).unwrap();
                assert_eq!(unwrapped, key, "unwrap §{}", case["section"]);
                let mut tampered = expected.clone();
                tampered[3] ^= 1;
                assert!(kw.unwrap_key(&tampered, &mut unwrapped).is_err());
            }};
        }
        match kek.len() {
            16 => check!(Aes128),
            24 => check!(Aes192),
            32 => check!(Aes256),
            n => panic!("unexpected KEK length {n}"),
        }
    }
}

#[test]
fn sp800_38a_ctr_through_our_counter_mode() {
    let all = vectors();
    let cases = all["sp800_38a_aes_ctr"].as_array().unwrap();
    assert_eq!(cases.len(), 2, "F.5.1 and F.5.5");
    for case in cases {
        let key = hex(case, "key");
        let iv: [u8; 16] = hex(case, "initial_counter").try_into().unwrap();
        let plaintext = hex(case, "plaintext");
        let expected = hex(case, "ciphertext");
        // The packet layer's cipher type: an expanded key reused per packet,
        // a 32-bit big-endian block counter (no carry within these 4 blocks).
        let cipher = match key.len() {
            16 => BlockCipher::Aes128(Aes128::new_from_slice(&key).unwrap()),
            32 => BlockCipher::Aes256(Aes256::new_from_slice(&key).unwrap()),
            n => panic!("unexpected key length {n}"),
        };
        let mut data = plaintext.clone();
        match &cipher {
            BlockCipher::Aes128(c) => StreamCipherCoreWrapper::from_core(
                CtrCore::<Aes128, Ctr32BE>::inner_iv_init(c.clone(), &iv.into()),
            )
            .apply_keystream(&mut data),
            BlockCipher::Aes256(c) => StreamCipherCoreWrapper::from_core(
                CtrCore::<Aes256, Ctr32BE>::inner_iv_init(c.clone(), &iv.into()),
            )
            .apply_keystream(&mut data),
        }
        assert_eq!(data, expected, "{}", text(case, "name"));
    }
}

#[test]
fn rfc2202_and_rfc4231_hmac_through_our_mac_state() {
    let all = vectors();
    let cases = all["hmac"].as_array().unwrap();
    assert_eq!(cases.len(), 6, "RFC 2202 1-3 and RFC 4231 1-3");
    for case in cases {
        let key = hex(case, "key");
        let data = hex(case, "data");
        let expected = hex(case, "mac");
        let state = match text(case, "hash") {
            "sha1" => MacState::Sha1(<Hmac<Sha1> as KeyInit>::new_from_slice(&key).unwrap()),
            "sha256" => MacState::Sha256(<Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap()),
            other => panic!("unexpected hash {other}"),
        };
        let got = match state.clone() {
            MacState::Sha1(mut m) => {
                m.update(&data);
                m.finalize().into_bytes().to_vec()
            }
            MacState::Sha256(mut m) => {
                m.update(&data);
                m.finalize().into_bytes().to_vec()
            }
        };
        assert_eq!(got, expected, "{}", text(case, "name"));
    }
    // The tag the sealer writes uses the same path; SHA-256 tags are the left
    // 16 bytes of these values.
    assert_eq!(crate::kdf::hmac_sha256(&[0x0b; 20], b"Hi There").len(), 32);
    assert_eq!(
        hex::encode(crate::kdf::hmac_sha256(&[0x0b; 20], b"Hi There")),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
}

#[test]
fn rfc5054_appendix_b_srp() {
    let all = vectors();
    let v = &all["rfc5054_srp6a_appendix_b"];
    let suite = Suite::ClassicSrp1024Aes128HmacSha1;
    let identity = text(v, "I").as_bytes();
    let password = text(v, "P").as_bytes();
    let salt = hex(v, "s");
    let trimmed = |bytes: &[u8]| -> Vec<u8> {
        let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        bytes[first..].to_vec()
    };

    // The group is the one our classic suite uses.
    let n = G1024::generator().params().modulus().to_be_bytes().to_vec();
    assert_eq!(n, hex(v, "N"));
    assert_eq!(v["g"].as_u64(), Some(2));

    // k = H(N | PAD(g)), x = H(s | H(I ":" P)), u = H(PAD(A) | PAD(B)).
    let g = G1024::generator();
    let k = srp::utils::compute_k::<Sha1>(&g).to_be_bytes_trimmed_vartime();
    assert_eq!(&*k, hex(v, "k").as_slice());
    let x = srp::Client::<G1024, Sha1>::compute_x(
        &srp::Client::<G1024, Sha1>::compute_identity_hash(identity, password),
        &salt,
    );
    assert_eq!(&*x.to_be_bytes_trimmed_vartime(), hex(v, "x").as_slice());

    // v, A and B through the suite dispatch the handshake uses.
    let verifier = srp_group::compute_verifier(suite, identity, password, &salt);
    assert_eq!(trimmed(&verifier), hex(v, "v"));
    let a_pub = srp_group::client_public(suite, &hex(v, "a"));
    assert_eq!(a_pub.len(), suite.modulus_len());
    assert_eq!(trimmed(&a_pub), hex(v, "A"));
    let b_pub = srp_group::server_public(suite, &hex(v, "b"), &verifier);
    assert_eq!(trimmed(&b_pub), hex(v, "B"));
    let u = srp::utils::compute_u_padded::<Sha1>(&g, &trimmed(&a_pub), &trimmed(&b_pub));
    assert_eq!(&*u.to_be_bytes_trimmed_vartime(), hex(v, "u").as_slice());

    // Both sides reach the premaster secret S, and agree on M1/M2 and K.
    let client =
        srp_group::client_process(suite, &hex(v, "a"), identity, password, &salt, &b_pub).unwrap();
    let server =
        srp_group::server_process(suite, identity, &salt, &hex(v, "b"), &verifier, &a_pub).unwrap();
    assert_eq!(client.premaster_for_tests(), hex(v, "premaster_secret_S"));
    let k_server = server.verify_client(client.m1()).expect("M1 verifies");
    assert_eq!(*k_server, *client.session_key());
    assert!(client.server_proof_ok(server.m2()));
    assert!(!client.server_proof_ok(&[0u8; 20]));
}
