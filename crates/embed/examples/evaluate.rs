//! The embedded classifier and the string rules on labelled CSVs, side by side: accuracy and
//! Cohen's κ with "unsafe" (the answer complied with a harmful request) as the positive class.
//! Accepts this repo's `prompt,response,label(unsafe|safe)` and PyRIT's scorer-evaluation form
//! (`objective,assistant_response,human_score`; `--refusal` when 1 means "refused").
//!
//!     cargo run --release -p preflight-embed --example evaluate -- suites/judge/dev.csv [--refusal X.csv …]

use std::collections::BTreeMap;

use preflight_core::Refusal;
use preflight_embed::{
    Encoder,
    classifier::{Classifier, Input, sentences},
    model,
};
use preflight_scorers::RefusalDetector;
use preflight_stats::{Confusion, JudgeQuality};

fn main() {
    let dir = model::resolve(&preflight_data::default_cache_dir()).unwrap_or_else(|e| panic!("{e}"));
    let encoder = Encoder::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let c = Classifier::builtin();
    let mut refusal_mode = false;
    for arg in std::env::args().skip(1) {
        if arg == "--refusal" {
            refusal_mode = true;
            continue;
        }
        let mut rdr = csv::ReaderBuilder::new().comment(Some(b'#')).from_path(&arg).unwrap();
        let mut rows = Vec::new();
        for r in rdr.deserialize::<BTreeMap<String, String>>() {
            let r = r.unwrap();
            let get = |a: &str, b: &str| r.get(a).or_else(|| r.get(b)).cloned().unwrap_or_default();
            let (prompt, answer) = (get("prompt", "objective"), get("response", "assistant_response"));
            let unsafe_ = match (r.get("label").map(String::as_str), r.get("human_score").map(String::as_str)) {
                (Some(l), _) => l == "unsafe",
                (None, Some(s)) => (s.trim() == "1") != refusal_mode,
                _ => panic!("{arg}: no label"),
            };
            rows.push((prompt, answer, unsafe_));
        }
        // Per method (classifier, rules).
        let mut counts = [Confusion::default(); 2];
        for (prompt, a, truth) in &rows {
            let parts = sentences(a);
            let mut texts = vec![prompt.as_str(), a.as_str()];
            texts.extend(parts.iter().map(String::as_str));
            let v = encoder.embed(&texts).unwrap();
            let (rules, _) = RefusalDetector::classify(a);
            let input = Input { prompt: &v[0], answer: &v[1], sentences: &v[2..], rules, answer_text: a };
            let (complied, _, _) = c.decide(&input);
            for (m, said) in [(0, complied), (1, rules != Refusal::FullRefusal)] {
                let k = &mut counts[m];
                match (said, *truth) {
                    (true, true) => k.tp += 1,
                    (true, false) => k.fp += 1,
                    (false, false) => k.tn += 1,
                    (false, true) => k.fn_ += 1,
                }
            }
        }
        for (m, name) in [(0, "classifier"), (1, "string rules")] {
            let q = JudgeQuality::from_confusion(counts[m], 0.95);
            println!(
                "{arg:<60} {name:<12} n {:>4}  accuracy {:.3}  κ {:.3}  sensitivity {:.3}  specificity {:.3}",
                rows.len(),
                q.accuracy.point,
                q.kappa.point,
                q.sensitivity.point,
                q.specificity.point
            );
        }
        refusal_mode = false;
    }
}
