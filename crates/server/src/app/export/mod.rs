//! Tenant export and import: everything a tenant has, as a documented,
//! versioned archive (`docs/privacy.md`, "Export archive"): a tar of JSON
//! lines per table, the tenant's files (desk attachments, camera-share
//! items) opened from their seals, and a manifest with every entry's
//! SHA-256, written last. An import checks the whole archive against its
//! manifest before it touches the database, then writes the tenant in one
//! transaction: all of it or nothing.

pub use fernhand_privacy::archive;
pub mod jobs;
pub mod tenant;
