//! Embeds the browser's files (`web/`, without its tests and tooling) into
//! the binary, so `fernhand server` serves the console and join page with
//! nothing installed beside it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Top-level entries of `web/` that are not served.
const SKIPPED: &[&str] = &[
    "test",
    "node_modules",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
];

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let top = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = entry.file_name().to_string_lossy().into_owned();
        if SKIPPED.contains(&top.as_str()) || name.starts_with('.') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest.join("../../web");
    println!("cargo::rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    if root.is_dir() {
        walk(&root, &root, &mut files)?;
    }
    let mut code = String::from("/// Every served file of `web/`: path below it, and its bytes.\n");
    code.push_str("pub static ASSETS: &[(&str, &[u8])] = &[\n");
    for file in &files {
        let rel = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        let abs = file.canonicalize()?;
        let _ = writeln!(
            code,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("web_assets.rs");
    std::fs::write(out, code)
}
