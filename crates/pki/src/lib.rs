//! The deployment's private PKI and its TLS configurations.
//!
//! Every server-to-server connection in Fernhand is mutually authenticated
//! (reference requirement R12): relays register with the control plane over
//! mutual TLS, both presenting certificates issued by the deployment's own CA.
//! `fernhand admin ca init` makes that CA; `fernhand admin ca issue` issues
//! certificates; this crate does the work (with `rcgen`) and builds the
//! `rustls` configurations (ring provider) the services use.
//!
//! Files: `ca.pem` (certificate), `ca.key` (private key, mode 0600), and
//! `ca.json` (the CA's name, needed to issue). Issued: `<name>.pem` (chain:
//! leaf then CA) and `<name>.key`.

mod ca;
mod config;

pub use ca::{Ca, Issued, Usage};
pub use config::{
    PkiError, client_config, install_default_provider, load_certs, load_key, server_config,
};
