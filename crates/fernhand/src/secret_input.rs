//! Secrets typed by people: from a file named on the command line, or
//! asked at the terminal without echo — never from an argument, where
//! other users of the machine could read them in the process list.

use anyhow::Context;
use std::path::Path;
use zeroize::Zeroizing;

/// The secret in `file` (its first line), or asked with `prompt`.
pub fn read(file: Option<&Path>, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    if let Some(path) = file {
        let text = Zeroizing::new(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        );
        let line = text.lines().next().unwrap_or_default();
        return Ok(Zeroizing::new(line.to_owned()));
    }
    let answer = rpassword::prompt_password(prompt)
        .context("no terminal to ask on; give the secret in a file instead")?;
    Ok(Zeroizing::new(answer))
}

/// A TLS client configuration trusting `ca` (PEM file), if given.
pub fn trust(ca: Option<&Path>) -> anyhow::Result<Option<rustls::ClientConfig>> {
    let Some(path) = ca else { return Ok(None) };
    let pem =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(fernhand_pki::client_config(&pem, None)?))
}
