//! Who may allocate: TURN REST API credentials (`EXPIRY:SESSION`, password
//! HMAC-SHA1 of it under the shared secret), unexpired and not more than a
//! day ahead, in our realm. The `turn` crate calls this on its read loop,
//! so it only computes; every refusal looks the same to the client.

use crate::app::ice::turn_password;
use std::net::SocketAddr;
use turn::auth::{AuthHandler, generate_auth_key};
use zeroize::Zeroizing;

/// Longest credential lifetime accepted.
const MAX_AHEAD_SECONDS: i64 = 24 * 3600;

/// Checks TURN REST API credentials.
pub struct RestAuth {
    secret: Zeroizing<Vec<u8>>,
    realm: String,
}

impl RestAuth {
    /// For `secret` in `realm`.
    pub fn new(secret: Zeroizing<Vec<u8>>, realm: &str) -> RestAuth {
        RestAuth {
            secret,
            realm: realm.to_owned(),
        }
    }

    /// The long-term key of `username` at `now`, if its credential holds.
    pub fn key_at(&self, username: &str, realm: &str, now: i64) -> Option<Vec<u8>> {
        if realm != self.realm {
            return None;
        }
        let (expiry, session) = username.split_once(':')?;
        let expiry: i64 = expiry.parse().ok()?;
        let session_ok = !session.is_empty()
            && session.len() <= 64
            && session.bytes().all(|b| b.is_ascii_hexdigit());
        if !session_ok || expiry <= now || expiry > now + MAX_AHEAD_SECONDS {
            return None;
        }
        let password = Zeroizing::new(turn_password(&self.secret, username)?);
        Some(generate_auth_key(username, realm, &password))
    }
}

impl AuthHandler for RestAuth {
    fn auth_handle(
        &self,
        username: &str,
        realm: &str,
        _src: SocketAddr,
    ) -> Result<Vec<u8>, turn::Error> {
        self.key_at(username, realm, fernhand_store::now())
            .ok_or(turn::Error::ErrNoSuchUser)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fresh_credentials_of_our_realm_open_turn() {
        let auth = RestAuth::new(Zeroizing::new(b"secret".to_vec()), "fernhand");
        let user = "2000:0123abcd";
        let password = turn_password(b"secret", user).unwrap();
        assert_eq!(
            auth.key_at(user, "fernhand", 1000),
            Some(generate_auth_key(user, "fernhand", &password))
        );
        assert_eq!(auth.key_at(user, "other", 1000), None, "another realm");
        assert_eq!(auth.key_at(user, "fernhand", 2000), None, "expired");
        assert_eq!(
            auth.key_at("999999:0123abcd", "fernhand", 1000),
            None,
            "more than a day ahead"
        );
        assert_eq!(auth.key_at("2000", "fernhand", 1000), None, "no session");
        assert_eq!(
            auth.key_at("2000:../x", "fernhand", 1000),
            None,
            "odd session"
        );
        assert_eq!(auth.key_at("soon:0123", "fernhand", 1000), None);
    }
}
