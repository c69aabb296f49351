//! `docs/protocol.md` stays true: every hex example marked
//! `<!-- golden: <file> <path> -->` must equal the value at that path in the
//! named golden transcript, and every label the key schedule uses must appear
//! in the document spelled exactly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn lookup<'a>(mut value: &'a Value, path: &str) -> &'a Value {
    for part in path.split('.') {
        value = match part.parse::<usize>() {
            Ok(i) => &value[i],
            Err(_) => &value[part],
        };
    }
    value
}

#[test]
fn every_marked_example_matches_its_golden_transcript() {
    let doc = std::fs::read_to_string(root().join("docs/protocol.md")).unwrap();
    let lines: Vec<&str> = doc.lines().collect();
    let mut checked = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(spec) = line
            .trim()
            .strip_prefix("<!-- golden:")
            .and_then(|s| s.strip_suffix("-->"))
        else {
            continue;
        };
        let mut parts = spec.split_whitespace();
        let (file, path) = (parts.next().unwrap(), parts.next().unwrap());
        assert_eq!(
            lines[i + 1].trim(),
            "```hex",
            "marker at line {} needs a hex block",
            i + 1
        );
        let hex: String = lines[i + 2..]
            .iter()
            .take_while(|l| l.trim() != "```")
            .flat_map(|l| l.split_whitespace())
            .collect();
        let golden: Value = serde_json::from_str(
            &std::fs::read_to_string(root().join("crates/e2e/tests/golden").join(file)).unwrap(),
        )
        .unwrap();
        let expected = lookup(&golden, path)
            .as_str()
            .unwrap_or_else(|| panic!("{file} has no string at {path}"));
        assert_eq!(
            hex,
            expected,
            "docs/protocol.md line {}: {file} {path}",
            i + 1
        );
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} examples found");
}

#[test]
fn every_label_is_documented_exactly() {
    let doc = std::fs::read_to_string(root().join("docs/protocol.md")).unwrap();
    for label in [
        "FH1 handshake transcript",
        "FH1 client finished",
        "FH1 server finished",
        "FH1 member secret",
        "FH1 key wrap",
        "FH1 packet keys",
    ] {
        assert!(
            doc.contains(&format!("\"{label}\"")),
            "label {label:?} missing"
        );
    }
}
