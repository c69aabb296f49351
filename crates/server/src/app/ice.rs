//! ICE servers handed to a camera share's two browsers: STUN and TURN
//! addresses, with TURN credentials made per session and short-lived
//! (the TURN REST API convention that coturn's `use-auth-secret` and the
//! embedded TURN service both check): user name `EXPIRY:SESSION`,
//! password base64(HMAC-SHA1(shared secret, user name)). A credential
//! opens the TURN service for one session until it expires and proves
//! nothing else; the media it relays is DTLS-SRTP between the browsers.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha1::Sha1;
use zeroize::Zeroizing;

/// How long a TURN credential is valid (a relayed call outliving it loses
/// its relay at the next allocation refresh).
pub const CREDENTIAL_SECONDS: i64 = 12 * 3600;

/// Where the browsers find STUN and TURN.
#[derive(Clone, Default)]
pub struct Ice {
    /// `stun:` URLs (no credentials).
    pub stun: Vec<String>,
    /// `turn:` URLs and their shared secret.
    pub turn: Option<(Vec<String>, Zeroizing<Vec<u8>>)>,
}

impl std::fmt::Debug for Ice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ice")
            .field("stun", &self.stun)
            .field("turn", &self.turn.as_ref().map(|(urls, _)| urls))
            .finish()
    }
}

/// The TURN password of `user` under `secret`.
pub fn turn_password(secret: &[u8], user: &str) -> Option<String> {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret).ok()?;
    mac.update(user.as_bytes());
    Some(STANDARD.encode(mac.finalize().into_bytes()))
}

impl Ice {
    /// The `iceServers` list (WebRTC's shape) for session `session`,
    /// valid from `now`.
    pub fn servers_at(&self, session: &str, now: i64) -> Value {
        let mut out = Vec::new();
        if !self.stun.is_empty() {
            out.push(json!({"urls": self.stun}));
        }
        if let Some((urls, secret)) = &self.turn {
            let user = format!("{}:{session}", now + CREDENTIAL_SECONDS);
            if let Some(password) = turn_password(secret, &user) {
                out.push(json!({"urls": urls, "username": user, "credential": password}));
            }
        }
        Value::Array(out)
    }

    /// [`Ice::servers_at`] now.
    pub fn servers(&self, session: &str) -> Value {
        self.servers_at(session, fernhand_store::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_credentials_are_per_session_and_expire() {
        let ice = Ice {
            stun: vec!["stun:127.0.0.1:3478".into()],
            turn: Some((
                vec!["turn:127.0.0.1:3478?transport=udp".into()],
                Zeroizing::new(b"shared secret".to_vec()),
            )),
        };
        let list = ice.servers_at("abc", 1000);
        assert_eq!(list[0]["urls"][0], "stun:127.0.0.1:3478");
        let turn = &list[1];
        assert_eq!(
            turn["username"],
            format!("{}:abc", 1000 + CREDENTIAL_SECONDS)
        );
        // The password is the HMAC of exactly that user name.
        let expected = turn_password(b"shared secret", turn["username"].as_str().unwrap());
        assert_eq!(turn["credential"].as_str(), expected.as_deref());
        let other = ice.servers_at("abd", 1000);
        assert_ne!(other[1]["credential"], turn["credential"]);
        assert!(format!("{ice:?}").contains("turn:127.0.0.1"));
        assert!(!format!("{ice:?}").contains("shared secret"));
        assert_eq!(Ice::default().servers_at("abc", 1), json!([]));
    }
}
