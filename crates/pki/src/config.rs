//! rustls configurations (ring provider) from PEM: servers that may require
//! client certificates from the deployment CA, and clients that trust only
//! the deployment CA and may present their own certificate.

use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use thiserror::Error;

/// Errors of the PKI and TLS setup.
#[derive(Debug, Error)]
pub enum PkiError {
    /// Reading or writing a file failed.
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
    /// Certificate generation failed.
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// No certificate or key found, or PEM that does not parse.
    #[error("PEM: {0}")]
    Pem(String),
    /// A value that is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Refusing to overwrite existing key material.
    #[error("{0} already exists; refusing to overwrite it")]
    Exists(String),
}

/// Certificates from PEM text.
pub fn load_certs(pem: &str) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| PkiError::Pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(PkiError::Pem("no certificate found".to_owned()));
    }
    Ok(certs)
}

/// A private key from PEM text.
pub fn load_key(pem: &str) -> Result<PrivateKeyDer<'static>, PkiError> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| PkiError::Pem(e.to_string()))
}

/// Make ring the process-wide rustls provider (for libraries that build
/// their own configurations, such as the HTTP client). Idempotent.
pub fn install_default_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(ca_pem: &str) -> Result<RootCertStore, PkiError> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(ca_pem)? {
        roots.add(cert)?;
    }
    Ok(roots)
}

/// A TLS server with `chain_pem`/`key_pem`; when `client_ca_pem` is given,
/// clients must present a certificate issued by that CA (mutual TLS).
pub fn server_config(
    chain_pem: &str,
    key_pem: &str,
    client_ca_pem: Option<&str>,
) -> Result<ServerConfig, PkiError> {
    let builder =
        ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let builder = match client_ca_pem {
        Some(ca) => {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)?), provider())
                    .build()
                    .map_err(|e| PkiError::Invalid(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    Ok(builder.with_single_cert(load_certs(chain_pem)?, load_key(key_pem)?)?)
}

/// A TLS client trusting only `ca_pem`, presenting `identity` (chain, key)
/// when given (mutual TLS).
pub fn client_config(
    ca_pem: &str,
    identity: Option<(&str, &str)>,
) -> Result<ClientConfig, PkiError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots(ca_pem)?);
    Ok(match identity {
        Some((chain, key)) => builder.with_client_auth_cert(load_certs(chain)?, load_key(key)?)?,
        None => builder.with_no_client_auth(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ca, Usage};
    use rustls_pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn handshake(server: ServerConfig, client: ClientConfig) -> Result<(), String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let server_task = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
            tls.write_all(b"ok").await.map_err(|e| e.to_string())?;
            tls.flush().await.map_err(|e| e.to_string())?;
            Ok::<(), String>(())
        });
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let mut tls = connector
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = [0u8; 2];
        tls.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
        server_task.await.unwrap()?;
        Ok(())
    }

    #[tokio::test]
    async fn mutual_tls_with_the_deployment_ca() {
        let ca = Ca::create("Test CA").unwrap();
        let server = ca
            .issue("control", &["127.0.0.1".into()], Usage::Server)
            .unwrap();
        let relay = ca
            .issue("relay-1", &["127.0.0.1".into()], Usage::ServerAndClient)
            .unwrap();
        let server_cfg =
            server_config(&server.chain_pem, &server.key_pem, Some(ca.cert_pem())).unwrap();
        let client_cfg =
            client_config(ca.cert_pem(), Some((&relay.chain_pem, &relay.key_pem))).unwrap();
        handshake(server_cfg, client_cfg).await.unwrap();
    }

    #[tokio::test]
    async fn clients_without_a_certificate_or_from_another_ca_are_refused() {
        let ca = Ca::create("Test CA").unwrap();
        let other = Ca::create("Other CA").unwrap();
        let server = ca
            .issue("control", &["127.0.0.1".into()], Usage::Server)
            .unwrap();
        let stranger = other
            .issue("relay-x", &["127.0.0.1".into()], Usage::Client)
            .unwrap();
        let cfg =
            || server_config(&server.chain_pem, &server.key_pem, Some(ca.cert_pem())).unwrap();
        let anonymous = client_config(ca.cert_pem(), None).unwrap();
        assert!(handshake(cfg(), anonymous).await.is_err());
        let foreign = client_config(
            ca.cert_pem(),
            Some((&stranger.chain_pem, &stranger.key_pem)),
        )
        .unwrap();
        assert!(handshake(cfg(), foreign).await.is_err());
        // A client that trusts another CA refuses our server.
        let wrong_trust = client_config(other.cert_pem(), None).unwrap();
        let plain = server_config(&server.chain_pem, &server.key_pem, None).unwrap();
        assert!(handshake(plain, wrong_trust).await.is_err());
    }

    #[test]
    fn ca_saves_loads_and_keeps_issuing_verifiable_certificates() {
        let dir = std::env::temp_dir().join(format!("fernhand-pki-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ca = Ca::create("Saved CA").unwrap();
        ca.save(&dir).unwrap();
        assert!(matches!(ca.save(&dir), Err(PkiError::Exists(_))));
        let loaded = Ca::load(&dir).unwrap();
        assert_eq!(loaded.cert_pem(), ca.cert_pem());
        let issued = loaded
            .issue("relay-2", &["relay.example".into()], Usage::Server)
            .unwrap();
        // The chain verifies against the original CA certificate.
        assert!(server_config(&issued.chain_pem, &issued.key_pem, Some(ca.cert_pem())).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("ca.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(load_certs("not pem").is_err());
    }
}
