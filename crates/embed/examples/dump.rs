//! Writes what the classifier reads of labelled answers, for analysis outside Rust: per CSV a
//! `NAME.jsonl` (id, complied, rules label, words, sentences) and `NAME.f32` (little-endian
//! rows of 384: the request, the answer, then each sentence).
//!
//!     cargo run --release -p preflight-embed --example dump -- OUT_DIR A.csv [--refusal B.csv …]

use std::{collections::BTreeMap, io::Write};

use preflight_embed::{Encoder, classifier::sentences, model};
use preflight_scorers::RefusalDetector;

fn main() {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(args.next().expect("OUT_DIR"));
    std::fs::create_dir_all(&out).unwrap();
    let dir = model::resolve(&preflight_data::default_cache_dir()).unwrap_or_else(|e| panic!("{e}"));
    let encoder = Encoder::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let mut refusal_mode = false;
    for arg in args {
        if arg == "--refusal" {
            refusal_mode = true;
            continue;
        }
        let name = std::path::Path::new(&arg).file_stem().unwrap().to_string_lossy().to_string();
        let mut meta = std::io::BufWriter::new(std::fs::File::create(out.join(format!("{name}.jsonl"))).unwrap());
        let mut vecs = std::io::BufWriter::new(std::fs::File::create(out.join(format!("{name}.f32"))).unwrap());
        let mut rdr = csv::ReaderBuilder::new().comment(Some(b'#')).from_path(&arg).unwrap();
        let started = std::time::Instant::now();
        let mut n = 0;
        for (i, r) in rdr.deserialize::<BTreeMap<String, String>>().enumerate() {
            let r = r.unwrap();
            let get = |a: &str, b: &str| r.get(a).or_else(|| r.get(b)).cloned().unwrap_or_default();
            let (prompt, answer) = (get("prompt", "objective"), get("answer", "response"));
            let answer = if answer.is_empty() { get("assistant_response", "assistant_response") } else { answer };
            let complied = match (r.get("label").map(String::as_str), r.get("human_score").map(String::as_str)) {
                (Some("complied" | "unsafe"), _) => true,
                (Some("refused" | "safe"), _) => false,
                (None, Some(s)) => (s.trim() == "1") != refusal_mode,
                _ => panic!("{arg}: no label"),
            };
            let parts = sentences(&answer);
            let mut texts = vec![prompt.as_str(), answer.as_str()];
            texts.extend(parts.iter().map(String::as_str));
            let v = encoder.embed(&texts).unwrap();
            for e in &v {
                for x in e {
                    vecs.write_all(&x.to_le_bytes()).unwrap();
                }
            }
            let (rules, _) = RefusalDetector::classify(&answer);
            let line = serde_json::json!({
                "id": r.get("id").cloned().unwrap_or_else(|| format!("{name}-{i}")),
                "set": name, "complied": complied, "rules": format!("{rules:?}"),
                "expected": r.get("expected"), "style": r.get("style"), "source": r.get("source"),
                "words": answer.split_whitespace().count(), "n": v.len(),
                "prompt": prompt, "answer": answer,
            });
            writeln!(meta, "{line}").unwrap();
            n += 1;
        }
        eprintln!("{name}: {n} rows in {:.1} s", started.elapsed().as_secs_f64());
        refusal_mode = false;
    }
}
