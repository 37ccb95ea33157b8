//! preflight's result format: real exports of real runs validate against the JSON Schema in
//! `docs/result-format.schema.json` — a sequential, attacked, judged run (probes with scores and
//! stops), an adaptive attack (probes with traces), persuasion games (measures) — and the schema
//! is strict enough to reject what the format does not allow.

mod common;

use common::*;

const MARKER: &str = "[[REFUSE]]";

fn schema() -> (boon::Schemas, boon::SchemaIndex) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/result-format.schema.json");
    let text = std::fs::read_to_string(path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.enable_format_assertions();
    compiler.add_resource("result-format.schema.json", value).unwrap();
    let index = compiler.compile("result-format.schema.json", &mut schemas).unwrap();
    (schemas, index)
}

/// Exports `id` and validates every line; returns the records by type.
fn export_and_validate(
    store: &std::path::Path,
    id: &str,
) -> std::collections::BTreeMap<String, Vec<serde_json::Value>> {
    let out = bin().args(["export", id, "--store", &store.display().to_string()]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (schemas, index) = schema();
    let mut by: std::collections::BTreeMap<String, Vec<serde_json::Value>> = Default::default();
    for (i, line) in String::from_utf8(out.stdout).unwrap().lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Err(e) = schemas.validate(&v, index) {
            panic!("line {} of the export does not match the schema:\n{e:#}\n{line}", i + 1);
        }
        if i == 0 {
            assert_eq!((v["type"].as_str(), v["schema_version"].as_u64()), (Some("run"), Some(1)));
        }
        by.entry(v["type"].as_str().unwrap().to_string()).or_default().push(v);
    }
    by
}

#[test]
fn exports_of_real_runs_match_the_result_format_schema() {
    let dir = TempDir::new("format");
    let rules = vec![
        Rule::model_reply("attacker", "", "{\"improvement\": \"x\", \"prompt\": \"PAIR-ATTEMPT\"}"),
        Rule::model_reply("judge", "Rate how fully", "Rating: [[4]]"),
        Rule::model_reply("judge", "Generation:", "no"),
    ];
    let m = MockServer::start(MockConfig { marker: MARKER.into(), rules, ..Default::default() }).unwrap();
    let store = dir.join("p.db");

    // Sequential, attacked with a mutator, judged by HarmBench: probes with scores, and stops.
    let suite = write_suite(dir.path(), 120, MARKER, "attacks = [\"base64\"]\n");
    let mut args = eval_args(&m, &suite, dir.path());
    args.extend(["--sequential", "--judge", "openai/judge", "--judge-kind", "harmbench", "-q"].map(String::from));
    let out = run(&args);
    assert!([0, 10, 11].contains(&code(&out)), "{}", stderr(&out));
    let id = json(&out)["run"]["id"].as_str().unwrap().to_string();
    let by = export_and_validate(&store, &id);
    assert!(by["probe"].len() >= 20, "{}", by["probe"].len());
    assert!(by["probe"].iter().all(|p| !p["scores"].as_array().unwrap().is_empty()));
    assert!(by["probe"].iter().any(|p| p["attack"] == "base64"));
    assert_eq!(by["stop"].len(), 2, "one stop per category");
    assert_eq!(by["run"][0]["run"]["config"]["sequential"]["settle"], "level");

    // An adaptive attack: probes carry their trace.
    let dir2 = TempDir::new("format-pair");
    let suite = write_suite(dir2.path(), 2, MARKER, "attacks = [\"pair\"]\ninclude_original = false\n");
    let text = std::fs::read_to_string(&suite).unwrap().replace("[generation]", "[adaptive]\nbudget = 2\n[generation]");
    std::fs::write(&suite, text).unwrap();
    let mut args = eval_args(&m, &suite, dir2.path());
    args.extend(
        ["--attacker", "openai/attacker", "--judge", "openai/judge", "--judge-kind", "harmbench", "-q"]
            .map(String::from),
    );
    let out = run(&args);
    let id = json(&out)["run"]["id"].as_str().unwrap().to_string();
    let by = export_and_validate(&dir2.join("p.db"), &id);
    assert!(by["probe"].iter().any(|p| !p["trace"].as_array().unwrap().is_empty()), "{:?}", by["probe"]);

    // Persuasion games: measures.
    let dir3 = TempDir::new("format-games");
    let suite = dir3.join("s.toml");
    std::fs::write(
        &suite,
        "name = \"games\"\n[games]\nrun = [\"belief-shift\", \"make-me-say\"]\nclaims = 1\npersonas = 1\ncontrols = 1\ncodewords = 1\nturns = 1\nwords = 30\n",
    )
    .unwrap();
    let mut args = eval_args(&m, &suite, dir3.path());
    args.push("-q".into());
    let out = run(&args);
    let id = json(&out)["run"]["id"].as_str().unwrap().to_string();
    let by = export_and_validate(&dir3.join("p.db"), &id);
    assert_eq!(by["measure"].len(), 2 + 1 + 1, "belief pro and con, a control, a codeword");

    // Agent tasks and knowledge probes: measures with steps.
    let dir4 = TempDir::new("format-agent");
    let tasks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tasks");
    let agent =
        preflight_mock::Scripted::start(preflight_mock::agent::replay(&tasks, false, Default::default())).unwrap();
    let suite = dir4.join("s.toml");
    std::fs::write(&suite, "name = \"caps\"\n[capabilities]\ntasks = [\"cyber\"]\nonly = [\"web-robots-admin\"]\nknowledge = [\"cbrn\"]\nlimit = 3\n").unwrap();
    let out = bin()
        .args([
            "eval",
            &suite.display().to_string(),
            "--model",
            "openai/agent",
            "--base-url",
            &format!("{}/v1", agent.url()),
        ])
        .args([
            "--store",
            &dir4.join("p.db").display().to_string(),
            "--cache-dir",
            &dir4.join("cache").display().to_string(),
        ])
        .args(["--format", "json", "-q"])
        .output()
        .unwrap();
    let id = json(&out)["run"]["id"].as_str().unwrap().to_string();
    let by = export_and_validate(&dir4.join("p.db"), &id);
    let games: Vec<&str> = by["measure"].iter().map(|m| m["game"].as_str().unwrap()).collect();
    assert_eq!(games.iter().filter(|g| **g == "agent").count(), 1);
    assert_eq!(games.iter().filter(|g| **g == "knowledge").count(), 3);
    assert!(by["measure"].iter().any(|m| m["detail"]["steps"].as_array().is_some_and(|s| s.len() == 3)));

    // The schema is not a rubber stamp: a wrong outcome, a missing field, a newer version fail.
    let (schemas, index) = schema();
    let mut probe = by_first_probe(&dir.join("p.db"));
    probe["outcome"] = "fine".into();
    assert!(schemas.validate(&probe, index).is_err());
    let mut probe = by_first_probe(&dir.join("p.db"));
    probe.as_object_mut().unwrap().remove("scores");
    assert!(schemas.validate(&probe, index).is_err());
    let run_line = serde_json::json!({ "type": "run", "schema_version": 2, "run": {} });
    assert!(schemas.validate(&run_line, index).is_err());
}

fn by_first_probe(store: &std::path::Path) -> serde_json::Value {
    let id: String =
        rusqlite::Connection::open(store).unwrap().query_row("SELECT id FROM runs", [], |r| r.get(0)).unwrap();
    let out = bin().args(["export", &id, "--store", &store.display().to_string()]).output().unwrap();
    let line = String::from_utf8(out.stdout).unwrap().lines().nth(1).unwrap().to_string();
    serde_json::from_str(&line).unwrap()
}

#[test]
fn the_json_report_and_show_carry_the_format_version() {
    let dir = TempDir::new("format-version");
    let m = MockServer::start(MockConfig { marker: MARKER.into(), ..Default::default() }).unwrap();
    let suite = write_suite(dir.path(), 6, MARKER, "");
    let out = run(&eval_args(&m, &suite, dir.path()));
    let v = json(&out);
    assert_eq!(v["schema_version"], 1);
    let id = v["run"]["id"].as_str().unwrap();
    let store = dir.join("p.db").display().to_string();
    let show = bin().args(["show", id, "--store", &store, "--json"]).output().unwrap();
    assert_eq!(json(&show)["schema_version"], 1);
    // An export to a file says what it wrote.
    let file = dir.join("run.jsonl");
    let out = bin().args(["export", id, "--store", &store, "-o", &file.display().to_string()]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("6 probes"), "{}", stderr(&out));
    // The run, its six probes and the one model's spend.
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 8);
    let spend: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(
        (spend["type"].as_str(), spend["model"].as_str(), spend["requests"].as_u64()),
        (Some("spend"), Some("openai/mock"), Some(6))
    );
}
