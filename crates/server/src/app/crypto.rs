//! Secrets of the control plane: password hashing (Argon2id), random tokens
//! stored only as SHA-256, constant-time comparison, and sealing of TOTP
//! secrets at rest (AES-256-GCM under the server's secret key).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Hash a password with Argon2id (defaults: 19 MiB, 2 passes, 1 lane; a
/// random salt from the OS).
pub fn hash_password(password: &str) -> Option<String> {
    PasswordHasher::<PasswordHash>::hash_password(&Argon2::default(), password.as_bytes())
        .ok()
        .map(|h| h.to_string())
}

/// Whether `password` matches the Argon2id `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// [`verify_password`] on the blocking pool, so an Argon2 run (tens of
/// milliseconds of CPU) never stalls the async workers.
pub async fn check_password(password: &str, hash: &str) -> bool {
    let password = Zeroizing::new(password.to_owned());
    let hash = hash.to_owned();
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

/// [`hash_password`] on the blocking pool.
pub async fn make_hash(password: &str) -> Option<String> {
    let password = Zeroizing::new(password.to_owned());
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .ok()
        .flatten()
}

/// A random token: 32 bytes, base64url.
pub fn token() -> Option<Zeroizing<String>> {
    let mut raw = Zeroizing::new([0u8; 32]);
    getrandom::fill(raw.as_mut_slice()).ok()?;
    Some(Zeroizing::new(URL_SAFE_NO_PAD.encode(raw.as_slice())))
}

/// A random password people can type: 20 characters of base64url.
pub fn password() -> Option<Zeroizing<String>> {
    let mut raw = Zeroizing::new([0u8; 15]);
    getrandom::fill(raw.as_mut_slice()).ok()?;
    Some(Zeroizing::new(URL_SAFE_NO_PAD.encode(raw.as_slice())))
}

/// SHA-256 of a token, hex: what is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time equality of two strings.
pub fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Seals small secrets (TOTP keys) for storage.
pub struct Sealer {
    key: Zeroizing<[u8; 32]>,
}

impl Sealer {
    /// A sealer with `key`.
    pub fn new(key: [u8; 32]) -> Sealer {
        Sealer {
            key: Zeroizing::new(key),
        }
    }

    /// A sealer with a key that is already held zeroising.
    pub fn from_key(key: Zeroizing<[u8; 32]>) -> Sealer {
        Sealer { key }
    }

    /// `nonce ‖ ciphertext`, base64url.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Option<String> {
        let cipher = Aes256Gcm::new_from_slice(self.key.as_slice()).ok()?;
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).ok()?;
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                aes_gcm::aead::Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .ok()?;
        Some(URL_SAFE_NO_PAD.encode([nonce.as_slice(), &sealed].concat()))
    }

    /// Undo [`Sealer::seal`] (same `context`).
    pub fn open(&self, sealed: &str, context: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        let (nonce, ciphertext) = bytes.split_first_chunk::<12>()?;
        let cipher = Aes256Gcm::new_from_slice(self.key.as_slice()).ok()?;
        cipher
            .decrypt(
                &Nonce::from(*nonce),
                aes_gcm::aead::Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horse!", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn sealed_secrets_open_only_with_key_and_context() {
        let s = Sealer::new([7; 32]);
        let sealed = s.seal(b"JBSWY3DPEHPK3PXP", b"user-1").unwrap();
        assert_eq!(
            s.open(&sealed, b"user-1").unwrap().as_slice(),
            b"JBSWY3DPEHPK3PXP"
        );
        assert!(s.open(&sealed, b"user-2").is_none());
        assert!(Sealer::new([8; 32]).open(&sealed, b"user-1").is_none());
        assert_ne!(
            s.seal(b"x", b"c"),
            s.seal(b"x", b"c"),
            "fresh nonce each time"
        );
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (token().unwrap(), token().unwrap());
        assert_ne!(*a, *b);
        assert_eq!(token_hash(&a).len(), 64);
        assert!(same(&token_hash(&a), &token_hash(&a)));
        assert!(!same("a", "b"));
    }
}
