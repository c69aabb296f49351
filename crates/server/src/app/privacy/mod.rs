//! Data protection on the server: signed deletion certificates, the
//! retention job (deletion requests, subscription ends, a tenant's
//! shorter session retention), and the restricted-data policy applied to
//! text the server itself stores (desk records and notes). Chat of remote
//! sessions is end-to-end encrypted and checked in the endpoints instead.

pub mod certificate;
pub mod restricted;
pub mod retention;
