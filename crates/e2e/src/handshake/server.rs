//! The SRP server's side of the join handshake (the one holding a verifier).
//!
//! A [`VerifierStore`] holds the verifiers a leader (or an unattended agent)
//! accepts, counts wrong proofs, and locks for good after the policy's limit:
//! each handshake can test only one guess of the secret, so the lock bounds an
//! online guessing attack to that many guesses in total.

use super::Established;
use super::messages::{self, SALT_MIN};
use super::schedule::{Schedule, finished_ok};
use crate::error::HandshakeError;
use crate::kdf::Transcript;
use crate::random;
use crate::srp_group::{self, EPHEMERAL_LEN};
use crate::suite::{Policy, Suite};
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Salt length we issue (bytes).
const SALT_LEN: usize = 32;
const _: () = assert!(SALT_LEN >= SALT_MIN);

/// SRP verifiers of one identity, one per suite the policy accepts.
///
/// Computed by the holder itself from the secret; the secret is not kept.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Verifier {
    identity: Vec<u8>,
    salt: Vec<u8>,
    #[zeroize(skip)]
    suites: Vec<Suite>,
    verifiers: Vec<Vec<u8>>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("identity", &String::from_utf8_lossy(&self.identity))
            .field("suites", &self.suites)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// Compute verifiers for `identity` and `secret` under a fresh random salt,
    /// for every suite `policy` accepts.
    pub fn new(
        policy: &Policy,
        identity: &[u8],
        secret: &[u8],
    ) -> Result<Verifier, HandshakeError> {
        if !messages::identity_ok(identity) {
            return Err(HandshakeError::Malformed(crate::MessageError::Invalid {
                field: "identity",
                reason: "must be 1-128 bytes of printable ASCII without spaces",
            }));
        }
        let mut salt = vec![0u8; SALT_LEN];
        random::fill("srp salt", &mut salt)?;
        let suites = policy.suites().to_vec();
        let verifiers = suites
            .iter()
            .map(|suite| srp_group::compute_verifier(*suite, identity, secret, &salt))
            .collect();
        Ok(Verifier {
            identity: identity.to_vec(),
            salt,
            suites,
            verifiers,
        })
    }

    /// The identity this verifier answers for.
    pub fn identity(&self) -> &[u8] {
        &self.identity
    }

    /// The verifier as one line of text for the holder's own storage
    /// (`v1.<identity>.<salt>.<suite id>:<verifier>,…`, fields base64url).
    /// It lets anyone who reads it test password guesses offline, so it is
    /// stored like a password hash: readable only by its owner.
    pub fn export(&self) -> Zeroizing<String> {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
        let per_suite: Vec<String> = self
            .suites
            .iter()
            .zip(&self.verifiers)
            .map(|(suite, v)| format!("{}:{}", suite.id(), B64.encode(v)))
            .collect();
        Zeroizing::new(format!(
            "v1.{}.{}.{}",
            B64.encode(&self.identity),
            B64.encode(&self.salt),
            per_suite.join(",")
        ))
    }

    /// Read what [`Verifier::export`] wrote.
    pub fn import(text: &str) -> Result<Verifier, HandshakeError> {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
        let bad = |reason: &'static str| {
            HandshakeError::Malformed(crate::MessageError::Invalid {
                field: "stored verifier",
                reason,
            })
        };
        let mut parts = text.trim().split('.');
        if parts.next() != Some("v1") {
            return Err(bad("unknown format"));
        }
        let identity = parts
            .next()
            .and_then(|p| B64.decode(p).ok())
            .filter(|i| messages::identity_ok(i))
            .ok_or_else(|| bad("identity"))?;
        let salt = parts
            .next()
            .and_then(|p| B64.decode(p).ok())
            .filter(|s| s.len() >= SALT_MIN)
            .ok_or_else(|| bad("salt"))?;
        let mut suites = Vec::new();
        let mut verifiers = Vec::new();
        for entry in parts.next().ok_or_else(|| bad("verifiers"))?.split(',') {
            let (id, v) = entry.split_once(':').ok_or_else(|| bad("verifier entry"))?;
            let suite = id
                .parse::<u8>()
                .ok()
                .and_then(Suite::from_id)
                .ok_or_else(|| bad("suite"))?;
            let v = B64.decode(v).map_err(|_| bad("verifier"))?;
            if v.is_empty() || v.len() > suite.modulus_len() {
                return Err(bad("verifier length"));
            }
            suites.push(suite);
            verifiers.push(v);
        }
        if parts.next().is_some() || suites.is_empty() {
            return Err(bad("trailing fields"));
        }
        Ok(Verifier {
            identity,
            salt,
            suites,
            verifiers,
        })
    }

    fn for_suite(&self, suite: Suite) -> Option<&[u8]> {
        let index = self.suites.iter().position(|s| *s == suite)?;
        self.verifiers.get(index).map(Vec::as_slice)
    }
}

/// The verifiers a session leader or agent accepts, and the count of wrong
/// proofs against them.
#[derive(Debug)]
pub struct VerifierStore {
    policy: Policy,
    verifiers: Vec<Verifier>,
    failures: u32,
}

impl VerifierStore {
    /// An empty store that answers with the suites of `policy`.
    pub fn new(policy: Policy) -> VerifierStore {
        VerifierStore {
            policy,
            verifiers: Vec::new(),
            failures: 0,
        }
    }

    /// Accept joins for `verifier`'s identity (replacing an earlier verifier
    /// of the same identity).
    pub fn insert(&mut self, verifier: Verifier) {
        self.verifiers.retain(|v| v.identity != verifier.identity);
        self.verifiers.push(verifier);
    }

    /// Stop accepting `identity`.
    pub fn remove(&mut self, identity: &[u8]) {
        self.verifiers.retain(|v| v.identity != identity);
    }

    /// How many proofs have failed so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Refuse every join from now on (as if the limit had been reached):
    /// for a holder that counts failures across stores, such as a device
    /// locked out after wrong passwords in earlier sessions.
    pub fn lock(&mut self) {
        self.failures = self.policy.max_failed_proofs();
    }

    /// Whether the failure limit has been reached: no more joins.
    pub fn is_locked(&self) -> bool {
        self.failures >= self.policy.max_failed_proofs()
    }

    /// Answer a client's Hello: choose the suite (our order of preference among
    /// those offered), find the verifier, and make the Challenge.
    pub fn respond(&self, hello: &[u8]) -> Result<(ServerHandshake, Vec<u8>), HandshakeError> {
        if self.is_locked() {
            return Err(HandshakeError::Locked);
        }
        let decoded = messages::decode_hello(hello)?;
        let suite = self
            .policy
            .suites()
            .iter()
            .copied()
            .find(|s| decoded.suites.contains(s))
            .ok_or(HandshakeError::NoCommonSuite)?;
        let verifier = self
            .verifiers
            .iter()
            .find(|v| v.identity == decoded.identity)
            .ok_or(HandshakeError::UnknownIdentity)?;
        let v = verifier
            .for_suite(suite)
            .ok_or(HandshakeError::NoCommonSuite)?;

        let mut b = Zeroizing::new([0u8; EPHEMERAL_LEN]);
        random::fill("srp server ephemeral b", b.as_mut_slice())?;
        let b_pub = srp_group::server_public(suite, b.as_slice(), v);
        let challenge = messages::encode_challenge(suite, &verifier.salt, &b_pub);

        let mut transcript = Transcript::new();
        transcript.push(hello);
        transcript.push(&challenge);
        Ok((
            ServerHandshake {
                suite,
                identity: verifier.identity.clone(),
                salt: verifier.salt.clone(),
                v: Zeroizing::new(v.to_vec()),
                b,
                transcript,
            },
            challenge,
        ))
    }

    /// Check the client's Proof for a handshake this store answered. A wrong
    /// M1 or finished value counts as a failed guess. On success returns the
    /// Confirm to send and the established handshake.
    pub fn finish(
        &mut self,
        handshake: ServerHandshake,
        proof: &[u8],
    ) -> Result<(Vec<u8>, Established), HandshakeError> {
        if self.is_locked() {
            return Err(HandshakeError::Locked);
        }
        let suite = handshake.suite;
        let decoded = messages::decode_proof(suite, proof)?;
        let srp = srp_group::server_process(
            suite,
            &handshake.identity,
            &handshake.salt,
            handshake.b.as_slice(),
            &handshake.v,
            decoded.a_pub,
        )?;
        let Some(session_key) = srp.verify_client(decoded.m1) else {
            self.failures = self.failures.saturating_add(1);
            return Err(HandshakeError::WrongSecret);
        };
        let schedule = Schedule::new(session_key, handshake.transcript.hash());
        if !finished_ok(&schedule.client_finished(), decoded.finished) {
            self.failures = self.failures.saturating_add(1);
            return Err(HandshakeError::TranscriptMismatch);
        }
        let mut transcript = handshake.transcript.clone();
        transcript.push(proof);
        let th_full = transcript.hash();
        let confirm = messages::encode_confirm(srp.m2(), &schedule.server_finished(&th_full));
        Ok((
            confirm,
            Established {
                suite,
                identity: handshake.identity.clone(),
                member_secret: schedule.member_secret(&th_full),
                transcript_hash: th_full,
            },
        ))
    }
}

/// A server that has sent its Challenge and waits for the Proof. Single use:
/// [`VerifierStore::finish`] consumes it.
pub struct ServerHandshake {
    suite: Suite,
    identity: Vec<u8>,
    salt: Vec<u8>,
    v: Zeroizing<Vec<u8>>,
    b: Zeroizing<[u8; EPHEMERAL_LEN]>,
    transcript: Transcript,
}

impl fmt::Debug for ServerHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandshake")
            .field("suite", &self.suite)
            .field("identity", &String::from_utf8_lossy(&self.identity))
            .finish_non_exhaustive()
    }
}

impl ServerHandshake {
    /// The suite this side chose.
    pub fn suite(&self) -> Suite {
        self.suite
    }
}
