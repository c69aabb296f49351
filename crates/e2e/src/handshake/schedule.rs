//! The handshake's key schedule.
//!
//! With K = H(S) from SRP, th_hc = transcript hash over Hello and Challenge and
//! th_full = transcript hash over Hello, Challenge and Proof (all HKDF-SHA-256):
//!
//! ```text
//! client finished = HMAC-SHA-256(HKDF(th_hc, K, "FH1 client finished"), th_hc)
//! server finished = HMAC-SHA-256(HKDF(th_hc, K, "FH1 server finished"), th_full)
//! member secret   = HKDF(th_hc, K, "FH1 member secret" ‖ th_full)
//! ```
//! where HKDF(salt, ikm, info) yields 32 bytes.

use crate::kdf::{
    self, CLIENT_FINISHED_LABEL, HASH_LEN, MEMBER_SECRET_LABEL, SERVER_FINISHED_LABEL,
};
use crate::keys::MemberSecret;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Keys derived once SRP produced K and both sides have seen the Challenge.
pub(crate) struct Schedule {
    session_key: Zeroizing<Vec<u8>>,
    th_hc: [u8; HASH_LEN],
}

impl Schedule {
    pub(crate) fn new(session_key: Zeroizing<Vec<u8>>, th_hc: [u8; HASH_LEN]) -> Schedule {
        Schedule { session_key, th_hc }
    }

    fn derive(&self, info: &[&[u8]]) -> Zeroizing<[u8; HASH_LEN]> {
        kdf::hkdf(&self.th_hc, &self.session_key, info)
    }

    pub(crate) fn client_finished(&self) -> [u8; HASH_LEN] {
        let key = self.derive(&[CLIENT_FINISHED_LABEL]);
        kdf::hmac_sha256(key.as_slice(), &self.th_hc)
    }

    pub(crate) fn server_finished(&self, th_full: &[u8; HASH_LEN]) -> [u8; HASH_LEN] {
        let key = self.derive(&[SERVER_FINISHED_LABEL]);
        kdf::hmac_sha256(key.as_slice(), th_full)
    }

    pub(crate) fn member_secret(&self, th_full: &[u8; HASH_LEN]) -> MemberSecret {
        MemberSecret::new(*self.derive(&[MEMBER_SECRET_LABEL, th_full]))
    }
}

/// Constant-time equality of a received finished value with the expected one.
pub(crate) fn finished_ok(expected: &[u8; HASH_LEN], received: &[u8]) -> bool {
    expected.as_slice().ct_eq(received).into()
}
