//! Deletion certificates: what was deleted, when and by which rule,
//! signed with the deployment's Ed25519 certificate key
//! (`keys/certificates.key`) so anyone holding the published public key
//! can check one later, even after the tenant is gone. A certificate names
//! opaque ids, record numbers, table names and counts, never content.
//!
//! The signed file is `{"certificate": "<JSON text>", "signature":
//! "<base64>", "public_key": "<base64>"}`; the signature is over the exact
//! bytes of the `certificate` string, so no canonical JSON is needed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use fernhand_store::deletion_requests::DeletionRequest;
use serde_json::{Value, json};

/// The certificate's format name.
pub const FORMAT: &str = "fernhand-deletion-certificate";

/// The signed certificate of a finished request.
pub fn issue(key: &SigningKey, request: &DeletionRequest, completed_at: i64) -> String {
    let body = json!({
        "format": FORMAT,
        "version": 1,
        "request": request.id,
        "tenant": request.tenant_id,
        "scope": request.scope,
        "rule": request.rule,
        "targets": request.targets,
        "requested_at": request.requested_at,
        "requested_by": request.requested_by,
        "hold_until": request.hold_until,
        "completed_at": completed_at,
        "deleted": request.progress.deleted,
        "not_found": request.progress.missing,
        "storage": "rows deleted from the database, attachments and camera-share items with them \
                    (they are stored in it); on SQLite deleted pages are overwritten and the \
                    search index merged",
        "backups": "copies in backups taken before completed_at leave with those backups, \
                    on the operator's backup expiry schedule (docs/operations.md)",
    })
    .to_string();
    let signature = key.sign(body.as_bytes());
    json!({
        "certificate": body,
        "signature": STANDARD.encode(signature.to_bytes()),
        "public_key": STANDARD.encode(key.verifying_key().to_bytes()),
    })
    .to_string()
}

/// Why a certificate does not check out.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    /// Not the signed file's shape.
    #[error("not a signed deletion certificate")]
    Shape,
    /// The signature does not match the certificate and key.
    #[error("the signature does not match")]
    Signature,
    /// Signed by another key than the one expected.
    #[error("signed by another key")]
    OtherKey,
}

/// Check a signed certificate against `key`; returns the certificate.
pub fn verify(signed: &str, key: &VerifyingKey) -> Result<Value, CertificateError> {
    let outer: Value = serde_json::from_str(signed).map_err(|_| CertificateError::Shape)?;
    let body = outer["certificate"]
        .as_str()
        .ok_or(CertificateError::Shape)?;
    let signature = outer["signature"]
        .as_str()
        .and_then(|s| STANDARD.decode(s).ok())
        .and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok())
        .ok_or(CertificateError::Shape)?;
    let named = outer["public_key"]
        .as_str()
        .and_then(|s| STANDARD.decode(s).ok())
        .ok_or(CertificateError::Shape)?;
    if named.as_slice() != key.as_bytes().as_slice() {
        return Err(CertificateError::OtherKey);
    }
    key.verify(body.as_bytes(), &Signature::from_bytes(&signature))
        .map_err(|_| CertificateError::Signature)?;
    let cert: Value = serde_json::from_str(body).map_err(|_| CertificateError::Shape)?;
    if cert["format"] != FORMAT {
        return Err(CertificateError::Shape);
    }
    Ok(cert)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fernhand_store::deletion_requests::Progress;

    fn request() -> DeletionRequest {
        let mut progress = Progress::default();
        progress.deleted.insert("desk_records".into(), 3);
        DeletionRequest {
            id: "r1".into(),
            tenant_id: "t1".into(),
            scope: "records".into(),
            targets: vec!["INC-1".into()],
            rule: "request".into(),
            requested_by: Some("u1".into()),
            requested_at: 10,
            hold_until: None,
            state: "done".into(),
            progress,
            done_at: Some(20),
            certificate: None,
        }
    }

    #[test]
    fn a_certificate_verifies_and_any_change_is_caught() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let signed = issue(&key, &request(), 20);
        let cert = verify(&signed, &key.verifying_key());
        assert_eq!(
            cert.as_ref().map(|c| c["deleted"]["desk_records"].clone()),
            Ok(json!(3))
        );
        let tampered = signed.replace("\\\"desk_records\\\":3", "\\\"desk_records\\\":4");
        assert_ne!(tampered, signed);
        assert_eq!(
            verify(&tampered, &key.verifying_key()),
            Err(CertificateError::Signature)
        );
        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert_eq!(
            verify(&signed, &other.verifying_key()),
            Err(CertificateError::OtherKey)
        );
        assert_eq!(
            verify("{}", &key.verifying_key()),
            Err(CertificateError::Shape)
        );
    }
}
