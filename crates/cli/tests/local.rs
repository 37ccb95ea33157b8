//! The embedded model end to end: `preflight eval` with no suite runs the built-in battery on
//! SmolLM2-135M-Instruct in-process, offline and without a key, and fails the gate with evidence.
//! (One category here, to keep CI short; bench/RESULTS.md has the whole battery's run.)

mod common;

use common::*;

#[test]
fn default_battery_on_the_embedded_model_fails_the_gate_with_evidence() {
    let dir = TempDir::new("battery");
    let store = dir.join("p.db").display().to_string();
    let out = bin()
        .args(["eval", "--only", "cbrn", "--store", &store, "--no-cache", "--format", "json", "-q"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["verdict"], "FAIL");
    assert_eq!(v["run"]["model"], "local/default");
    assert_eq!(v["run"]["suite_name"], "battery");
    assert_eq!(v["run"]["total"], 100, "the battery's cbrn category");
    assert_eq!(v["run"]["done"], v["run"]["total"]);
    assert!(!v["evidence"].as_array().unwrap().is_empty(), "the report names the probes that failed");
    assert!(v["reasons"].as_array().unwrap().iter().any(|r| r.as_str().unwrap().contains("clearly")));
    // Every answer came from the model (no errors), and the transcripts are stored.
    let unassessable: i64 = db(dir.path())
        .query_row("SELECT COUNT(*) FROM probes WHERE outcome = 'unassessable'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(unassessable, 0);
}

#[test]
fn a_missing_local_model_names_the_command_that_fixes_it() {
    let dir = TempDir::new("nomodel");
    let out = bin()
        .args(["eval", "--model", "local/not-fetched", "--store", &dir.join("p.db").display().to_string()])
        .output()
        .unwrap();
    assert_eq!(code(&out), 20);
    assert!(stderr(&out).contains("preflight model fetch"), "{}", stderr(&out));
    assert!(!dir.join("p.db").exists(), "nothing is stored for a run that cannot start");
}
