//! Session control: the JSON bodies of `Control` messages, one object with
//! a `type` field each (see `docs/protocol.md` §8).
//!
//! Permissions are words: `view` (see the screen), `control` (pointer and
//! keyboard), `files` (send and fetch files), `diagnostics` (read the
//! system report), `clipboard` (read and set the clipboard). The host's
//! user grants some of them; the host enforces them on every packet.

use serde::{Deserialize, Serialize};

/// See the screen.
pub const VIEW: &str = "view";
/// Pointer and keyboard.
pub const CONTROL: &str = "control";
/// Send and fetch files.
pub const FILES: &str = "files";
/// Read the diagnostics report.
pub const DIAGNOSTICS: &str = "diagnostics";
/// Read and set the clipboard.
pub const CLIPBOARD: &str = "clipboard";
/// Every permission, in the order prompts list them.
pub const ALL_PERMISSIONS: [&str; 5] = [VIEW, CONTROL, FILES, DIAGNOSTICS, CLIPBOARD];

/// Longest free-text field (names, reasons, paths) accepted.
pub const MAX_TEXT: usize = 4096;

/// One control message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Control {
    /// Leader → host: who asks, and for what.
    Request {
        /// The expert's name, as the control plane knows it.
        expert: String,
        /// Permissions asked for.
        permissions: Vec<String>,
    },
    /// Host → everyone: what its user allows now (after consent, and every
    /// time it changes). An empty list: consent refused or withdrawn.
    Granted {
        /// Permissions allowed.
        permissions: Vec<String>,
    },
    /// Anyone → everyone: this member ends the session.
    End {
        /// Why, for the others to show.
        reason: String,
    },
    /// Expert → host: send the diagnostics report.
    DiagnosticsRequest {},
    /// Host → expert: the report (structure in `docs/protocol.md`).
    Diagnostics {
        /// The report.
        report: serde_json::Value,
    },
    /// Receiver → sender: write file `id` from `offset` (what it already
    /// holds from an interrupted try).
    FileAccept {
        /// Transfer id.
        id: u32,
        /// Bytes already held.
        offset: u64,
    },
    /// Either side: transfer `id` failed or was refused, and why.
    FileError {
        /// Transfer id.
        id: u32,
        /// What went wrong, for people.
        error: String,
        /// Set when the receiver's malware check found something and
        /// quarantined the file: the threat's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        threat: Option<String>,
    },
    /// Receiver → sender: file `id` arrived whole and its SHA-256 matched.
    FileDone {
        /// Transfer id.
        id: u32,
    },
    /// Expert → host: send me this file (path relative to the host's
    /// shared folder); the host answers with a file offer of that `id`.
    FileRequest {
        /// Transfer id the expert chose.
        id: u32,
        /// Path under the shared folder.
        path: String,
    },
    /// Expert → unattended host: restart the machine; the agent comes
    /// back and the expert connects again.
    Reboot {},
    /// Host → member: a request or packet of this member was refused
    /// (missing permission, bad name, …) and dropped.
    Denied {
        /// What was refused (`input`, `file offer 3`, `diagnostics`, …).
        what: String,
        /// Why.
        reason: String,
    },
}

impl Control {
    /// Read a control message from its JSON value.
    pub fn from_value(value: &serde_json::Value) -> Result<Control, String> {
        let control: Control = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        if control.longest_text() > MAX_TEXT {
            return Err("a text field is too long".into());
        }
        Ok(control)
    }

    /// As a JSON value.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    fn longest_text(&self) -> usize {
        match self {
            Control::Request {
                expert,
                permissions,
            } => permissions
                .iter()
                .map(String::len)
                .max()
                .unwrap_or(0)
                .max(expert.len()),
            Control::Granted { permissions } => {
                permissions.iter().map(String::len).max().unwrap_or(0)
            }
            Control::End { reason } => reason.len(),
            Control::FileError { error, threat, .. } => {
                error.len().max(threat.as_ref().map_or(0, String::len))
            }
            Control::FileRequest { path, .. } => path.len(),
            Control::Denied { what, reason } => what.len().max(reason.len()),
            Control::DiagnosticsRequest {}
            | Control::Diagnostics { .. }
            | Control::FileAccept { .. }
            | Control::FileDone { .. }
            | Control::Reboot {} => 0,
        }
    }
}

/// Whether `p` is a permission this version knows.
pub fn is_permission(p: &str) -> bool {
    ALL_PERMISSIONS.contains(&p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn control_messages_have_their_documented_json() {
        let granted = Control::Granted {
            permissions: vec![VIEW.into(), CONTROL.into()],
        };
        assert_eq!(
            granted.to_value(),
            json!({"type": "granted", "permissions": ["view", "control"]})
        );
        assert_eq!(
            Control::from_value(&json!({"type": "file_accept", "id": 3, "offset": 65536})),
            Ok(Control::FileAccept {
                id: 3,
                offset: 65536
            })
        );
        assert_eq!(
            Control::from_value(&json!({"type": "diagnostics_request"})),
            Ok(Control::DiagnosticsRequest {})
        );
        // docs/protocol.md's quarantine example, byte for byte.
        let doc = include_str!("../../../docs/protocol.md");
        let example = r#"{"type":"file_error","id":3,"error":"malware found (Eicar-Test-Signature): the file was quarantined","threat":"Eicar-Test-Signature"}"#;
        assert!(doc.contains(example), "the example is in the document");
        let quarantined = Control::FileError {
            id: 3,
            error: "malware found (Eicar-Test-Signature): the file was quarantined".into(),
            threat: Some("Eicar-Test-Signature".into()),
        };
        assert_eq!(
            Control::from_value(&serde_json::from_str(example).unwrap_or_default()),
            Ok(quarantined.clone())
        );
        assert_eq!(
            Some(quarantined.to_value()),
            serde_json::from_str::<serde_json::Value>(example).ok()
        );
        // Without a threat the field is absent, as before.
        let plain = Control::FileError {
            id: 3,
            error: "disk full".into(),
            threat: None,
        };
        assert_eq!(
            plain.to_value(),
            json!({"type": "file_error", "id": 3, "error": "disk full"})
        );
    }

    #[test]
    fn unknown_or_oversized_control_is_refused() {
        assert!(Control::from_value(&json!({"type": "format_disk"})).is_err());
        assert!(Control::from_value(&json!({"type": "reboot", "now": true})).is_err());
        assert!(
            Control::from_value(&json!({"type": "end", "reason": "x".repeat(MAX_TEXT + 1)}))
                .is_err()
        );
    }
}
