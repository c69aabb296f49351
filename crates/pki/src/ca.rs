//! Making a CA and issuing certificates with it.

use crate::config::PkiError;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use serde::{Deserialize, Serialize};
use std::fs;
use std::net::IpAddr;
use std::path::Path;

/// A deployment CA: its certificate and key.
pub struct Ca {
    name: String,
    cert_pem: String,
    key: KeyPair,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct CaMeta {
    name: String,
}

/// What an issued certificate may be used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// A TLS server (the control plane's HTTPS, a relay's WSS).
    Server,
    /// A TLS client (a relay registering with the control plane).
    Client,
    /// Both (a relay: it serves members and registers as a client).
    ServerAndClient,
}

/// A certificate and its key, PEM-encoded.
pub struct Issued {
    /// Leaf certificate followed by the CA certificate.
    pub chain_pem: String,
    /// The private key (PKCS#8).
    pub key_pem: String,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued").finish_non_exhaustive()
    }
}

fn ca_params(name: &str) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn.push(DnType::OrganizationName, "Fernhand deployment");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

impl Ca {
    /// A new CA named `name` (ECDSA P-256).
    pub fn create(name: &str) -> Result<Ca, PkiError> {
        let key = KeyPair::generate()?;
        let cert = ca_params(name)?.self_signed(&key)?;
        Ok(Ca {
            name: name.to_owned(),
            cert_pem: cert.pem(),
            key,
        })
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Write `ca.pem`, `ca.key` (owner-only) and `ca.json` into `dir`.
    /// Refuses to overwrite an existing CA.
    pub fn save(&self, dir: &Path) -> Result<(), PkiError> {
        fs::create_dir_all(dir)?;
        let key_path = dir.join("ca.key");
        if key_path.exists() {
            return Err(PkiError::Exists(key_path.display().to_string()));
        }
        write_private(&key_path, &self.key.serialize_pem())?;
        fs::write(dir.join("ca.pem"), &self.cert_pem)?;
        let meta = serde_json::to_string_pretty(&CaMeta {
            name: self.name.clone(),
        })
        .map_err(|e| PkiError::Invalid(e.to_string()))?;
        fs::write(dir.join("ca.json"), meta)?;
        Ok(())
    }

    /// Load a CA saved by [`Ca::save`].
    pub fn load(dir: &Path) -> Result<Ca, PkiError> {
        let meta: CaMeta = serde_json::from_slice(&fs::read(dir.join("ca.json"))?)
            .map_err(|e| PkiError::Invalid(format!("ca.json: {e}")))?;
        let key = KeyPair::from_pem(&fs::read_to_string(dir.join("ca.key"))?)?;
        let cert_pem = fs::read_to_string(dir.join("ca.pem"))?;
        Ok(Ca {
            name: meta.name,
            cert_pem,
            key,
        })
    }

    /// Issue a certificate for `name` (DNS names and IP addresses it answers
    /// to) valid for `usage`.
    pub fn issue(&self, name: &str, hosts: &[String], usage: Usage) -> Result<Issued, PkiError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        for host in hosts {
            let san = match host.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(
                    host.clone()
                        .try_into()
                        .map_err(|_| PkiError::Invalid(format!("bad host name {host:?}")))?,
                ),
            };
            params.subject_alt_names.push(san);
        }
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = match usage {
            Usage::Server => vec![ExtendedKeyUsagePurpose::ServerAuth],
            Usage::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
            Usage::ServerAndClient => vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
        };
        let key = KeyPair::generate()?;
        let issuer = Issuer::new(ca_params(&self.name)?, &self.key);
        let cert = params.signed_by(&key, &issuer)?;
        Ok(Issued {
            chain_pem: format!("{}{}", cert.pem(), self.cert_pem),
            key_pem: key.serialize_pem(),
        })
    }
}

/// Write a file readable by its owner only.
pub(crate) fn write_private(path: &Path, contents: &str) -> Result<(), PkiError> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(contents.as_bytes())?;
        Ok(())
    }
    #[cfg(not(unix))]
    {
        fs::write(path, contents)?;
        Ok(())
    }
}

impl Issued {
    /// Write `<name>.pem` and `<name>.key` (owner-only) into `dir`.
    pub fn save(&self, dir: &Path, name: &str) -> Result<(), PkiError> {
        fs::create_dir_all(dir)?;
        let key_path = dir.join(format!("{name}.key"));
        if key_path.exists() {
            return Err(PkiError::Exists(key_path.display().to_string()));
        }
        write_private(&key_path, &self.key_pem)?;
        fs::write(dir.join(format!("{name}.pem")), &self.chain_pem)?;
        Ok(())
    }
}
