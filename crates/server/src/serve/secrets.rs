//! The control plane's own secrets, kept in the data folder: the key that
//! seals secrets at rest (TOTP keys) and the Ed25519 key that signs relay
//! tickets. Created on first start (random, from the OS), written with mode
//! 0600 to a temporary file and renamed into place, so a crash never leaves
//! half a key; read back on later starts.

use std::fs;
use std::io::Write;
use std::path::Path;
use thiserror::Error;
use zeroize::Zeroizing;

/// Why a key file could not be used.
#[derive(Debug, Error)]
pub enum SecretError {
    /// Reading or writing the file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// Which file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not 32 bytes.
    #[error("key file {0} is damaged (it must hold exactly 32 bytes)")]
    Damaged(String),
    /// The operating system gave no randomness.
    #[error("no randomness from the operating system")]
    Random,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SecretError + '_ {
    move |source| SecretError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The 32-byte key in `path`, made if the file does not exist.
pub fn load_or_create_key(path: &Path) -> Result<Zeroizing<[u8; 32]>, SecretError> {
    let mut key = Zeroizing::new([0u8; 32]);
    match fs::read(path) {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            if bytes.len() != 32 {
                return Err(SecretError::Damaged(path.display().to_string()));
            }
            key.copy_from_slice(&bytes);
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            getrandom::fill(key.as_mut_slice()).map_err(|_| SecretError::Random)?;
            write_private(path, key.as_slice())?;
            Ok(key)
        }
        Err(e) => Err(io(path)(e)),
    }
}

/// Write `bytes` to `path` readable by the owner only, atomically.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SecretError> {
    let tmp = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io(&tmp))?;
    file.write_all(bytes).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
}

/// Create `dir` (and parents) readable by the owner only.
pub fn private_dir(dir: &Path) -> Result<(), SecretError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_then_read_back_and_a_damaged_one_is_refused() {
        let dir = std::env::temp_dir().join(format!("fernhand-keys-{}", std::process::id()));
        private_dir(&dir).unwrap();
        let path = dir.join("k.key");
        let _ = fs::remove_file(&path);
        let first = load_or_create_key(&path).unwrap();
        let again = load_or_create_key(&path).unwrap();
        assert_eq!(*first, *again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        fs::write(&path, b"short").unwrap();
        assert!(matches!(
            load_or_create_key(&path),
            Err(SecretError::Damaged(_))
        ));
        fs::remove_dir_all(&dir).unwrap();
    }
}
