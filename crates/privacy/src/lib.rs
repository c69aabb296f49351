//! Data protection checks shared by the endpoints and the server.
//!
//! - [`restricted`]: finds payment card numbers (Luhn), IBANs (ISO 13616
//!   mod 97) and national identifiers in text, and applies a tenant's
//!   policy (warn, mask, block). Pure functions over `&str`; the browser has
//!   the same rules in `web/lib/restricted.js`, and both are tested against
//!   one corpus (`tests/restricted-corpus.json`).
//! - [`archive`]: the tenant export archive's container: entries written
//!   while hashed, the manifest last; reading back refuses anything the
//!   manifest does not vouch for.
//! - [`malware`]: scans a received file before it is given to its user:
//!   a built-in EICAR test-file detector and ClamAV's `clamd` over its
//!   socket, behind one [`malware::Scanner`] trait.
//!
//! Knows nothing of networks, sessions or databases.

pub mod archive;
pub mod malware;
pub mod restricted;
