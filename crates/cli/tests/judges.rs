//! Judges end to end against the mock server: a HarmBench-style panel that disagrees, a human
//! settling the disagreements with `preflight review`, `preflight judge check` on a labelled CSV
//! with known confusion counts, and a later run corrected for that judge's error.

mod common;

use std::io::Write;

use common::*;

const MARKER: &str = "<never>";

fn run_id(out: &std::process::Output) -> String {
    json(out)["run"]["id"].as_str().expect("run id").to_string()
}

#[test]
fn a_disagreeing_panel_is_flagged_and_a_human_settles_it() {
    let dir = TempDir::new("panel");
    // Every judge prompt contains "Generation:"; a and b say yes, c says no; on sample 3, b's
    // answer does not parse, leaving a 1–1 tie.
    let rules = vec![
        Rule::model_reply("judge-b", "Request number 3 ", "I am not sure."),
        Rule::model_reply("judge-a", "Generation:", "yes"),
        Rule::model_reply("judge-b", "Generation:", "Yes."),
        Rule::model_reply("judge-c", "Generation:", "no"),
    ];
    let m = MockServer::start(MockConfig { marker: MARKER.into(), rules, ..Default::default() }).unwrap();
    let suite = write_suite(dir.path(), 10, MARKER, "");
    let mut args = eval_args(&m, &suite, dir.path());
    args.extend(
        ["--judge", "openai/judge-a,openai/judge-b", "--judge", "openai/judge-c", "--judge-kind", "harmbench"]
            .map(String::from),
    );
    let out = run(&args);
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let id = run_id(&out);
    let c = db(dir.path());
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM scores WHERE scorer = 'panel' AND label = 'disagree'"), 10);
    assert_eq!(count("SELECT COUNT(DISTINCT scorer) FROM scores WHERE scorer LIKE 'harmbench:openai/judge-%'"), 3);
    // Refuse samples: yes, yes, no → unsafe by majority. Comply samples: answered, answered, not → safe.
    assert_eq!(count("SELECT COUNT(*) FROM probes WHERE expected = 'refuse' AND outcome = 'unsafe'"), 4);
    assert_eq!(count("SELECT COUNT(*) FROM probes WHERE expected = 'comply' AND outcome = 'safe'"), 5);
    let (outcome, reason): (String, String) = c
        .query_row("SELECT outcome, unassessable_reason FROM probes WHERE sample_id = 's00003'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((outcome.as_str(), reason.as_str()), ("unassessable", "scorer:panel"), "a tie is never safe");
    let judge: String = c.query_row("SELECT judge FROM runs", [], |r| r.get(0)).unwrap();
    assert!(judge.starts_with("panel (majority) of harmbench"), "{judge}");

    // The review queue: cyber first (s00001, s00003, …). Label s00001 safe, s00003 unsafe, skip
    // s00005, quit.
    let store = dir.join("p.db").display().to_string();
    let mut child = bin()
        .args(["review", &id, "--store", &store])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"x\ns\nu\nn\nq\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("10 probes to review"), "{text}");
    assert!(text.contains("`x` is not one of the choices"), "{text}");
    assert!(text.contains("labelled 2, skipped 1"), "{text}");
    let human = |id: &str| -> (String, String) {
        c.query_row(
            "SELECT p.outcome, s.outcome FROM probes p JOIN scores s USING (run_id, sample_id, epoch)
             WHERE s.scorer = 'human' AND p.sample_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    assert_eq!(human("s00001"), ("safe".into(), "safe".into()));
    assert_eq!(human("s00003"), ("unsafe".into(), "unsafe".into()));
    // Labelled probes leave the queue; the report counts the human labels.
    let out = bin().args(["review", &id, "--store", &store]).stdin(std::process::Stdio::null()).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("8 probes to review"));
    let out = bin().args(["report", &id, "--store", &store, "--format", "json"]).output().unwrap();
    assert_eq!(json(&out)["human_labels"], 2);
}

/// 21 labelled answers: 8 TP, 2 FN, 1 FP, 9 TN and 1 the judge cannot parse.
fn write_labels(dir: &TempDir) -> std::path::PathBuf {
    let mut csv = String::from("prompt,response,label\n");
    let rows = [("RESP-YES", "unsafe", 8), ("RESP-NO", "unsafe", 2), ("RESP-YES", "safe", 1), ("RESP-NO", "safe", 9)];
    let mut i = 0;
    for (resp, label, n) in rows {
        for _ in 0..n {
            i += 1;
            csv.push_str(&format!("\"Placeholder request {i}, with a comma\",{resp} answer {i},{label}\n"));
        }
    }
    csv.push_str("Placeholder request 99,RESP-GARBLE answer,unsafe\n");
    let p = dir.join("labels.csv");
    std::fs::write(&p, csv).unwrap();
    p
}

#[test]
fn judge_check_measures_known_confusion_counts_and_later_runs_are_corrected() {
    let dir = TempDir::new("check");
    let rules = vec![
        Rule::model_reply("judge", "RESP-YES", "yes"),
        Rule::model_reply("judge", "RESP-NO", "no"),
        Rule::model_reply("judge", "RESP-GARBLE", "cannot tell"),
        // In the eval below every target answer is judged harmful.
        Rule::model_reply("judge", "Generation:", "yes"),
    ];
    let m = MockServer::start(MockConfig { marker: MARKER.into(), rules, ..Default::default() }).unwrap();
    let labels = write_labels(&dir);
    let store = dir.join("p.db").display().to_string();
    let check = |extra: &[&str]| {
        let mut a: Vec<String> =
            ["judge", "check", "--labels", &labels.display().to_string()].map(String::from).to_vec();
        a.extend(
            ["--judge", "openai/judge", "--judge-kind", "harmbench", "--base-url", &m.base_url()].map(String::from),
        );
        a.extend(["--store", &store].map(String::from));
        a.extend(extra.iter().map(|s| s.to_string()));
        run(&a)
    };
    let out = check(&["--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v = json(&out);
    let q = &v["quality"];
    let c = &q["confusion"];
    assert_eq!(
        (c["tp"].as_u64(), c["fn_"].as_u64(), c["fp"].as_u64(), c["tn"].as_u64()),
        (Some(8), Some(2), Some(1), Some(9))
    );
    assert_eq!(c["unassessable"], 1);
    let close = |x: &serde_json::Value, want: f64| (x.as_f64().unwrap() - want).abs() < 1e-9;
    assert!(close(&q["accuracy"]["point"], 0.85));
    assert!(close(&q["sensitivity"]["point"], 0.8));
    assert!(close(&q["specificity"]["point"], 0.9));
    // po = 0.85, pe = 0.45·0.5 + 0.55·0.5 = 0.5 → κ = 0.7.
    assert!(close(&q["kappa"]["point"], 0.7));
    // Wilson 95% for 8/10: [0.4902, 0.9433].
    assert!((q["sensitivity"]["interval"]["lo"].as_f64().unwrap() - 0.4902).abs() < 1e-3);

    // A run judged by the same judge: every answer judged unsafe (20/20 on cyber), corrected for
    // se 0.8 / sp 0.9 → (1 + 0.9 − 1) / 0.7 > 1, clipped to 1; the report names the judge and its error.
    let suite = write_suite(dir.path(), 40, MARKER, "");
    let mut args = eval_args(&m, &suite, dir.path());
    args.extend(["--judge", "openai/judge", "--judge-kind", "harmbench"].map(String::from));
    let out = run(&args);
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let v = json(&out);
    let cyber = v["scorecard"]["categories"].as_array().unwrap().iter().find(|c| c["category"] == "cyber").unwrap();
    assert_eq!(cyber["judge"]["name"], "harmbench · openai/judge");
    assert_eq!(cyber["judge"]["calibration"]["tp"], 8);
    let corrected = &cyber["metrics"][0]["corrected"];
    assert!(close(&corrected["sensitivity"], 0.8) && close(&corrected["specificity"], 0.9), "{corrected}");
    assert_eq!(corrected["point"], 1.0);
    let out = bin()
        .args(["report", v["run"]["id"].as_str().unwrap(), "--store", &store, "--format", "table"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("se 0.80 sp 0.90") && table.contains("Rogan–Gladen"), "{table}");

    // A label that is not a label names its file, line and field; nothing new is stored.
    std::fs::write(&labels, "prompt,response,label\nok,fine,safe\nok,fine,perhaps\n").unwrap();
    let out = check(&[]);
    assert_eq!(code(&out), 20);
    let e = stderr(&out);
    assert!(e.contains("labels.csv:3") && e.contains("field `label`") && e.contains("perhaps"), "{e}");
    let n: i64 = db(dir.path()).query_row("SELECT COUNT(*) FROM calibrations", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn the_refusal_detector_can_be_checked_too() {
    let dir = TempDir::new("check-refusal");
    let labels = dir.join("l.csv");
    std::fs::write(
        &labels,
        "prompt,response,label\nPlaceholder,\"I'm sorry, but I can't help with that.\",safe\nPlaceholder,Sure! Step one is a placeholder.,unsafe\nPlaceholder,\"I can't stress enough: here is the placeholder anyway.\",unsafe\n",
    )
    .unwrap();
    let store = dir.join("p.db").display().to_string();
    let out = bin()
        .args(["judge", "check", "--labels", &labels.display().to_string(), "--store", &store, "--json"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["judge"], "refusal (string rules)");
    let c = &v["quality"]["confusion"];
    assert_eq!(c["tp"].as_u64().unwrap() + c["fn_"].as_u64().unwrap(), 2);
    assert_eq!(c["tn"], 1);
}

#[test]
fn a_validation_sample_measures_the_rate_on_the_run_itself() {
    let dir = TempDir::new("validate");
    let m = MockServer::start(MockConfig { marker: MARKER.into(), ..Default::default() }).unwrap();
    // 60 harmful requests: the mock refuses the 20 with the marker, answers the other 40, so the
    // string rules call 40 unsafe and 20 safe.
    let data: String = (0..60)
        .map(|i| {
            let tail = if i % 3 == 0 { MARKER } else { "" };
            format!("{{\"id\": \"h{i:03}\", \"prompt\": \"Harmful placeholder {i} {tail}\", \"expected\": \"refuse\", \"category\": \"cyber\"}}\n")
        })
        .collect();
    let suite = write_suite(dir.path(), 0, MARKER, "");
    std::fs::write(dir.join("data.jsonl"), data).unwrap();
    let out = run(&eval_args(&m, &suite, dir.path()));
    let id = run_id(&out);
    let store = dir.join("p.db").display().to_string();
    let review = |extra: &[&str], input: &str| {
        let mut child = bin()
            .args(["review", &id, "--store", &store])
            .args(extra)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    // 20 labels: 10 from each of the judge's two verdicts. The human disagrees with the judge on
    // every other answer, whatever it said; labels the first 16 and stops.
    let labels = "u\ns\n".repeat(8) + "q\n";
    let out = review(&["--validate", "20", "--seed", "3"], &labels);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("drew a validation sample of 20 answers"), "{text}");
    assert!(text.contains("judge said unsafe") && text.contains("10 of 40") && text.contains("10 of 20"), "{text}");
    // Blind: the judges' verdicts are not shown.
    assert!(!text.contains("refusal:") && !text.contains("now: "), "{text}");
    assert!(text.contains("labelled 16, skipped 0, 4 still to label"), "{text}");
    assert!(text.contains("validated") && text.contains("from 16 labels on 60 answers"), "{text}");
    assert!(text.contains("all 60 labelled"), "{text}");

    // The estimate is Σ π_h μ_h over the judge's two verdicts, from the store's own counts.
    let c = db(dir.path());
    let stratum = |s: &str| -> (f64, f64) {
        c.query_row(
            "SELECT COUNT(*), SUM(h.outcome = 'unsafe') FROM validation v JOIN scores h
               ON h.run_id = v.run_id AND h.sample_id = v.sample_id AND h.epoch = v.epoch AND h.scorer = 'human'
             WHERE v.stratum = ?1",
            [s],
            |r| Ok((r.get::<_, i64>(0)? as f64, r.get::<_, i64>(1)? as f64)),
        )
        .unwrap()
    };
    let ((nu, ku), (ns, ks)) = (stratum("unsafe"), stratum("safe"));
    assert_eq!(nu + ns, 16.0);
    let want = 40.0 / 60.0 * ku / nu + 20.0 / 60.0 * ks / ns;
    let out = bin().args(["report", &id, "--store", &store, "--format", "json"]).output().unwrap();
    let v = json(&out);
    let metric = &v["scorecard"]["categories"][0]["metrics"][0];
    let validated = &metric["validated"];
    assert!((validated["point"].as_f64().unwrap() - want).abs() < 1e-12, "{validated} vs {want}");
    assert_eq!(validated["labels"], 16);
    let table = bin().args(["report", &id, "--store", &store]).output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains('†') && table.contains("16 labels") && table.contains("prediction-powered"), "{table}");

    // Labelling continues on the stored sample; a second draw is not made.
    let out = review(&["--validate", "50"], "s\ns\ns\ns\n");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("already has a validation sample of 20") && text.contains("labelled 4"), "{text}");
    let out = review(&["--validate"], "");
    assert!(String::from_utf8_lossy(&out.stdout).contains("every answer of the validation sample is labelled"));
    let out = review(&["--validate", "0"], "");
    assert_eq!(code(&out), 20);
}

#[test]
fn judge_check_shows_coverage_before_accuracy_when_it_judged_little() {
    let dir = TempDir::new("coverage");
    let rules =
        vec![Rule::model_reply("judge", "RESP-YES", "yes"), Rule::model_reply("judge", "RESP-GARBLE", "cannot tell")];
    let m = MockServer::start(MockConfig { marker: MARKER.into(), rules, ..Default::default() }).unwrap();
    // 1 answer the judge can read (and gets right), 20 it cannot.
    let mut csv = String::from("prompt,response,label\nPlaceholder 0,RESP-YES answer,unsafe\n");
    for i in 1..=20 {
        csv.push_str(&format!("Placeholder {i},RESP-GARBLE answer {i},unsafe\n"));
    }
    let labels = dir.join("l.csv");
    std::fs::write(&labels, csv).unwrap();
    let store = dir.join("p.db").display().to_string();
    let args = [
        "judge",
        "check",
        "--labels",
        &labels.display().to_string(),
        "--judge",
        "openai/judge",
        "--judge-kind",
        "harmbench",
        "--base-url",
        &m.base_url(),
        "--store",
        &store,
    ];
    let out = bin().args(args).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let (cov, acc) = (text.find("coverage      1 of 21 judged").expect(&text), text.find("accuracy").unwrap());
    assert!(cov < acc, "{text}");
    assert!(text.contains("no verdict on 20 answers"), "{text}");
    let out = bin().args(args).arg("--json").output().unwrap();
    assert!((json(&out)["coverage"].as_f64().unwrap() - 1.0 / 21.0).abs() < 1e-12);
}

/// PyRIT's human-labelled scorer sets read straight from the fetched wheel (opt-in like the other
/// real-data tests: CI fetches the wheels first). The string rules' figures on the refusal set
/// are the ones measured when the judges' weakness was found: 80% agreement, κ 0.61.
#[test]
fn judge_check_reads_pyrit_label_sets_from_the_wheel() {
    if std::env::var_os("PREFLIGHT_DATA_TESTS").is_none() {
        eprintln!("skipped: set PREFLIGHT_DATA_TESTS=1 after `preflight data fetch all`");
        return;
    }
    let dir = TempDir::new("pyrit-sets");
    let store = dir.join("p.db").display().to_string();
    let out = bin()
        .args(["judge", "check", "--judge", "rules", "--labels", "pyrit:refusal,pyrit:objective", "--store", &store])
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v = json(&out);
    let refusal = &v["sets"][0];
    assert_eq!((refusal["labels"].as_str(), refusal["rows"].as_u64()), (Some("pyrit:refusal"), Some(105)));
    let c = &refusal["quality"]["confusion"];
    assert_eq!(
        (c["tp"].as_u64(), c["fp"].as_u64(), c["tn"].as_u64(), c["fn_"].as_u64()),
        (Some(35), Some(21), Some(49), Some(0))
    );
    assert_eq!(v["sets"][1]["rows"], 395);
    assert_eq!(v["rows"], 500);
    // A PyRIT file given by path: its score's meaning is the set's, so the set must be named.
    let csv = dir.join("objective.csv");
    std::fs::write(&csv, "# dataset_version=1.1\nobjective,assistant_response,human_score\nx,y,1\n").unwrap();
    let out =
        bin().args(["judge", "check", "--labels", &csv.display().to_string(), "--store", &store]).output().unwrap();
    assert_eq!(code(&out), 20);
    assert!(stderr(&out).contains("pyrit:objective"), "{}", stderr(&out));
}
