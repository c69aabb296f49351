//! The `fernhand` command line, run as a user runs it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn fernhand() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fernhand"))
}

#[test]
fn server_says_honestly_that_it_is_not_built_yet() {
    let out = fernhand().arg("server").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("not yet"), "{stderr}");
    assert!(stderr.contains("127.0.0.1:8080"), "{stderr}");
}

#[test]
fn bench_rejects_a_nonsense_duration() {
    let out = fernhand()
        .args(["bench", "e2e", "--seconds", "-1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn bench_e2e_json_has_every_scenario_and_a_summary() {
    // A functional check of the report's shape with a tiny budget; the
    // figures themselves are not judged here.
    let out = fernhand()
        .args(["bench", "e2e", "--json", "--seconds", "0.01"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect();
    let (summary, scenarios) = lines.split_last().unwrap();
    assert_eq!(summary["summary"], true);
    assert_eq!(summary["headline"], "seal 1 KiB");
    for name in [
        "seal 64 B",
        "open 64 B",
        "seal 1 KiB",
        "open 1 KiB",
        "seal 16 KiB",
        "open 16 KiB",
        "seal 64 KiB",
        "open 64 KiB",
    ] {
        let row = scenarios
            .iter()
            .find(|r| r["scenario"] == name)
            .unwrap_or_else(|| panic!("scenario {name} missing"));
        assert_eq!(row["unit"], "MB/s");
        assert!(row["ours"].as_f64().unwrap() > 0.0);
        assert!(row["baseline"].as_f64().unwrap() > 0.0);
    }
    let joins = scenarios.iter().filter(|r| r["unit"] == "ms/join").count();
    assert_eq!(joins, 3, "one join row per suite");
}
