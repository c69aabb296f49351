//! SRP-6a (RFC 5054) for each suite's group, through the RustCrypto `srp` crate.
//!
//! This module only chooses the group and hash for a [`Suite`] and moves bytes
//! in and out of `srp`: k = H(N | PAD(g)), u = H(PAD(A) | PAD(B)),
//! x = H(s | H(I | ":" | P)), M1 = H(H(N) xor H(PAD(g)) | H(I) | s | A | B | K),
//! M2 = H(A | M1 | K), K = H(S) — all computed by `srp`. On the wire A and B
//! are padded to the modulus length; `srp` wants them without leading zeros.
//!
//! Public values are checked here before `srp` sees them: exactly the modulus
//! length, and below N. `srp` itself refuses values that are zero modulo N.

#![allow(deprecated)] // The 1024-bit group exists for the classic suite and the RFC vector.

use crate::error::HandshakeError;
use crate::suite::Suite;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use srp::Group;
use srp::groups::{G1024, G2048, G3072};
use zeroize::Zeroizing;

/// Byte length of SRP ephemeral secrets a and b: 256 bits, RFC 5054's minimum
/// and twice the 128-bit strength of the 3072-bit group (the exponent size
/// NIST SP 800-56A asks of finite-field Diffie-Hellman at that strength).
pub(crate) const EPHEMERAL_LEN: usize = 32;

/// The group modulus N of a suite, big-endian, exactly `modulus_len` bytes.
fn modulus(suite: Suite) -> Vec<u8> {
    let n = match suite {
        Suite::Srp3072Aes256HmacSha256 => G3072::generator().params().modulus().to_be_bytes(),
        Suite::Srp2048Aes256HmacSha256 => G2048::generator().params().modulus().to_be_bytes(),
        Suite::ClassicSrp1024Aes128HmacSha1 => G1024::generator().params().modulus().to_be_bytes(),
    };
    n.to_vec()
}

/// Left-pad `bytes` with zeros to `len`. `None` if it is longer.
pub(crate) fn pad(bytes: &[u8], len: usize) -> Option<Vec<u8>> {
    let lead = len.checked_sub(bytes.len())?;
    let mut out = vec![0u8; len];
    out.get_mut(lead..)?.copy_from_slice(bytes);
    Some(out)
}

/// Strip leading zero bytes (the form `srp` computes with).
fn trim(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

/// Check a padded public value from the wire: full modulus length, nonzero,
/// below N. Returns it trimmed. Public values, so a variable-time compare is fine.
pub(crate) fn canonical_public<'a>(
    suite: Suite,
    padded: &'a [u8],
    name: &'static str,
) -> Result<&'a [u8], HandshakeError> {
    if padded.len() != suite.modulus_len() {
        return Err(HandshakeError::IllegalPublicValue(name));
    }
    if padded >= modulus(suite).as_slice() {
        return Err(HandshakeError::IllegalPublicValue(name));
    }
    let trimmed = trim(padded);
    if trimmed.is_empty() {
        return Err(HandshakeError::IllegalPublicValue(name));
    }
    Ok(trimmed)
}

/// The verifier v = g^x for `identity` and `secret` under `salt`, padded.
pub(crate) fn compute_verifier(
    suite: Suite,
    identity: &[u8],
    secret: &[u8],
    salt: &[u8],
) -> Vec<u8> {
    let v = match suite {
        Suite::Srp3072Aes256HmacSha256 => {
            srp::Client::<G3072, Sha256>::new().compute_verifier(identity, secret, salt)
        }
        Suite::Srp2048Aes256HmacSha256 => {
            srp::Client::<G2048, Sha256>::new().compute_verifier(identity, secret, salt)
        }
        Suite::ClassicSrp1024Aes128HmacSha1 => {
            srp::Client::<G1024, Sha1>::new().compute_verifier(identity, secret, salt)
        }
    };
    pad(&v, suite.modulus_len()).unwrap_or(v)
}

/// The client's public ephemeral A = g^a, padded to the modulus length.
pub(crate) fn client_public(suite: Suite, a: &[u8]) -> Vec<u8> {
    let a_pub = match suite {
        Suite::Srp3072Aes256HmacSha256 => {
            srp::Client::<G3072, Sha256>::new().compute_public_ephemeral(a)
        }
        Suite::Srp2048Aes256HmacSha256 => {
            srp::Client::<G2048, Sha256>::new().compute_public_ephemeral(a)
        }
        Suite::ClassicSrp1024Aes128HmacSha1 => {
            srp::Client::<G1024, Sha1>::new().compute_public_ephemeral(a)
        }
    };
    pad(&a_pub, suite.modulus_len()).unwrap_or(a_pub)
}

/// The server's public ephemeral B = kv + g^b, padded to the modulus length.
pub(crate) fn server_public(suite: Suite, b: &[u8], v: &[u8]) -> Vec<u8> {
    let b_pub = match suite {
        Suite::Srp3072Aes256HmacSha256 => {
            srp::Server::<G3072, Sha256>::new().compute_public_ephemeral(b, v)
        }
        Suite::Srp2048Aes256HmacSha256 => {
            srp::Server::<G2048, Sha256>::new().compute_public_ephemeral(b, v)
        }
        Suite::ClassicSrp1024Aes128HmacSha1 => {
            srp::Server::<G1024, Sha1>::new().compute_public_ephemeral(b, v)
        }
    };
    pad(&b_pub, suite.modulus_len()).unwrap_or(b_pub)
}

/// The client's state after processing the server's challenge (`srp`'s own
/// verifier object, which holds M1, the expected M2 and the premaster secret).
pub(crate) enum ClientSrp {
    Sha256(srp::ClientVerifier<Sha256>),
    Sha1(srp::ClientVerifier<Sha1>),
}

impl ClientSrp {
    /// M1, sent to the server.
    pub(crate) fn m1(&self) -> &[u8] {
        match self {
            ClientSrp::Sha256(v) => v.proof(),
            ClientSrp::Sha1(v) => v.proof(),
        }
    }

    /// K = H(S), the SRP session key (what `srp` returns once M2 verifies;
    /// needed before that to key the client's finished MAC).
    pub(crate) fn session_key(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(match self {
            ClientSrp::Sha256(v) => Sha256::digest(v.key()).to_vec(),
            ClientSrp::Sha1(v) => Sha1::digest(v.key()).to_vec(),
        })
    }

    /// The premaster secret S (trimmed), for the RFC 5054 vector test.
    #[cfg(test)]
    pub(crate) fn premaster_for_tests(&self) -> Vec<u8> {
        match self {
            ClientSrp::Sha256(v) => v.key().to_vec(),
            ClientSrp::Sha1(v) => v.key().to_vec(),
        }
    }

    /// Constant-time check of the server's M2.
    pub(crate) fn server_proof_ok(&self, m2: &[u8]) -> bool {
        match self {
            ClientSrp::Sha256(v) => v.verify_server(m2).is_ok(),
            ClientSrp::Sha1(v) => v.verify_server(m2).is_ok(),
        }
    }
}

/// The server's state after receiving the client's A.
pub(crate) enum ServerSrp {
    Sha256(srp::ServerVerifier<Sha256>),
    Sha1(srp::ServerVerifier<Sha1>),
}

impl ServerSrp {
    /// Constant-time check of the client's M1; on success, K = H(S).
    pub(crate) fn verify_client(&self, m1: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let key = match self {
            ServerSrp::Sha256(v) => v.verify_client(m1).ok()?,
            ServerSrp::Sha1(v) => v.verify_client(m1).ok()?,
        };
        Some(Zeroizing::new(key.to_vec()))
    }

    /// M2, sent to the client once M1 verified.
    pub(crate) fn m2(&self) -> &[u8] {
        match self {
            ServerSrp::Sha256(v) => v.proof(),
            ServerSrp::Sha1(v) => v.proof(),
        }
    }
}

fn auth_error(e: srp::AuthError) -> HandshakeError {
    match e {
        srp::AuthError::IllegalParameter { name } => HandshakeError::IllegalPublicValue(name),
        srp::AuthError::BadRecordMac { .. } => HandshakeError::ServerProofMismatch,
    }
}

/// Client side: from a, the credentials, the salt and the server's padded B,
/// compute M1, the expected M2 and K.
pub(crate) fn client_process(
    suite: Suite,
    a: &[u8],
    identity: &[u8],
    secret: &[u8],
    salt: &[u8],
    b_pub_padded: &[u8],
) -> Result<ClientSrp, HandshakeError> {
    let b_pub = canonical_public(suite, b_pub_padded, "B")?;
    Ok(match suite {
        Suite::Srp3072Aes256HmacSha256 => ClientSrp::Sha256(
            srp::Client::<G3072, Sha256>::new()
                .process_reply(a, identity, secret, salt, b_pub)
                .map_err(auth_error)?,
        ),
        Suite::Srp2048Aes256HmacSha256 => ClientSrp::Sha256(
            srp::Client::<G2048, Sha256>::new()
                .process_reply(a, identity, secret, salt, b_pub)
                .map_err(auth_error)?,
        ),
        Suite::ClassicSrp1024Aes128HmacSha1 => ClientSrp::Sha1(
            srp::Client::<G1024, Sha1>::new()
                .process_reply(a, identity, secret, salt, b_pub)
                .map_err(auth_error)?,
        ),
    })
}

/// Server side: from the salt, b, v and the client's padded A, compute the
/// expected M1, M2 and K.
pub(crate) fn server_process(
    suite: Suite,
    identity: &[u8],
    salt: &[u8],
    b: &[u8],
    v: &[u8],
    a_pub_padded: &[u8],
) -> Result<ServerSrp, HandshakeError> {
    let a_pub = canonical_public(suite, a_pub_padded, "A")?;
    Ok(match suite {
        Suite::Srp3072Aes256HmacSha256 => ServerSrp::Sha256(
            srp::Server::<G3072, Sha256>::new()
                .process_reply(identity, salt, b, v, a_pub)
                .map_err(auth_error)?,
        ),
        Suite::Srp2048Aes256HmacSha256 => ServerSrp::Sha256(
            srp::Server::<G2048, Sha256>::new()
                .process_reply(identity, salt, b, v, a_pub)
                .map_err(auth_error)?,
        ),
        Suite::ClassicSrp1024Aes128HmacSha1 => ServerSrp::Sha1(
            srp::Server::<G1024, Sha1>::new()
                .process_reply(identity, salt, b, v, a_pub)
                .map_err(auth_error)?,
        ),
    })
}
