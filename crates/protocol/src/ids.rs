//! Identifiers that travel in frames and tickets: sessions, tenants, relays.
//!
//! Each is 16 random bytes, written as 32 lowercase hex digits in text (JSON,
//! logs, URLs). Member ids are the end-to-end layer's [`MemberId`]: small
//! integers assigned per session, 0 meaning "every member".

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

pub use fernhand_e2e::MemberId;

/// Member id 0 in a frame's target field: every member but the sender.
pub const ALL_MEMBERS: MemberId = MemberId(0);

/// A 16-byte id written as hex that cannot be parsed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("an id is 32 hexadecimal digits")]
pub struct BadId;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; 16]);

        impl $name {
            /// A fresh random id from the operating system's CSPRNG.
            pub fn random() -> Result<$name, getrandom::Error> {
                let mut bytes = [0u8; 16];
                getrandom::fill(&mut bytes)?;
                Ok($name(bytes))
            }

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }

        impl FromStr for $name {
            type Err = BadId;
            fn from_str(s: &str) -> Result<$name, BadId> {
                let mut bytes = [0u8; 16];
                hex::decode_to_slice(s, &mut bytes).map_err(|_| BadId)?;
                Ok($name(bytes))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// A remote support session.
    SessionId
);
id_type!(
    /// A tenant (customer account of the service).
    TenantId
);
id_type!(
    /// A relay (communication server).
    RelayId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_as_text_and_json() {
        let id = SessionId::random().unwrap();
        assert_eq!(id.to_string().len(), 32);
        assert_eq!(id.to_string().parse::<SessionId>(), Ok(id));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<SessionId>(&json).unwrap(), id);
        assert_eq!("xyz".parse::<SessionId>(), Err(BadId));
        assert!(serde_json::from_str::<RelayId>("\"00\"").is_err());
    }
}
