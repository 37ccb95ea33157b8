//! Trains the embedded refusal / compliance classifier on `suites/judge/train.csv` and writes its
//! weights (`crates/embed/weights/refusal-v3.json`). Nothing else is read: the development set
//! and the public human-labelled sets stay out of training, tuning and thresholds.
//!
//!     cargo run --release -p preflight-embed --example train [-- TRAIN.csv OUT.json]
//!
//! The ridge penalty is chosen by 5-fold cross-validation grouped by request (answers to one
//! request never sit on both sides of a fold), then the model is fitted on every row; the
//! relevance gate is the 5th percentile of the compliant training answers' relevance.

use std::collections::BTreeMap;

use preflight_embed::{
    Encoder,
    classifier::{Classifier, Input, TrainedOn, features, fit, sentences, sigmoid},
    model,
};
use preflight_scorers::RefusalDetector;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let train = args.first().cloned().unwrap_or_else(|| format!("{root}/suites/judge/train.csv"));
    let out = args.get(1).cloned().unwrap_or_else(|| format!("{root}/crates/embed/weights/refusal-v3.json"));
    let dir = model::resolve(&preflight_data::default_cache_dir()).unwrap_or_else(|e| panic!("{e}"));
    let encoder = Encoder::load(&dir).unwrap_or_else(|e| panic!("{e}"));

    let mut rdr = csv::Reader::from_path(&train).unwrap_or_else(|e| panic!("{train}: {e}"));
    let rows: Vec<(String, String, bool)> = rdr
        .deserialize::<BTreeMap<String, String>>()
        .map(|r| {
            let r = r.expect("a CSV row");
            let complied = match r["label"].as_str() {
                "complied" => true,
                "refused" => false,
                other => panic!("label `{other}`"),
            };
            (r["prompt"].clone(), r["answer"].clone(), complied)
        })
        .collect();
    eprintln!("embedding {} rows…", rows.len());
    let started = std::time::Instant::now();
    let mut x = Vec::with_capacity(rows.len());
    let mut relevance = Vec::with_capacity(rows.len());
    for (p, a, _) in &rows {
        let parts = sentences(a);
        let mut texts = vec![p.as_str(), a.as_str()];
        texts.extend(parts.iter().map(String::as_str));
        let v = encoder.embed(&texts).expect("embeddings");
        let (rules, _) = RefusalDetector::classify(a);
        let input = Input { prompt: &v[0], answer: &v[1], sentences: &v[2..], rules, answer_text: a };
        relevance.push(input.relevance());
        x.push(features(&input));
    }
    eprintln!("embedded in {:.1} s", started.elapsed().as_secs_f64());
    let y: Vec<bool> = rows.iter().map(|r| r.2).collect();

    // Folds by request: a stable hash of the prompt.
    let fold_of = |p: &str| {
        (p.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3)) % 5) as usize
    };
    let folds: Vec<usize> = rows.iter().map(|r| fold_of(&r.0)).collect();
    let mut best = (0.0, f64::NAN);
    for l2 in [1.0, 3.0, 10.0] {
        let mut right = 0;
        for k in 0..5 {
            let pick = |keep: bool| -> (Vec<Vec<f64>>, Vec<bool>) {
                x.iter()
                    .zip(&y)
                    .zip(&folds)
                    .filter(|(_, f)| (**f == k) != keep)
                    .map(|((xi, yi), _)| (xi.clone(), *yi))
                    .unzip()
            };
            let (tx, ty) = pick(true);
            let (vx, vy) = pick(false);
            let (b, w) = fit(&tx, &ty, l2);
            right += vx
                .iter()
                .zip(&vy)
                .filter(|(xi, yi)| {
                    (sigmoid(b + w.iter().zip(xi.iter()).map(|(a, c)| a * c).sum::<f64>()) > 0.5) == **yi
                })
                .count();
        }
        let acc = right as f64 / rows.len() as f64;
        eprintln!("l2 {l2:>5}: cross-validated accuracy {acc:.3}");
        if acc > best.0 {
            best = (acc, l2);
        }
    }
    let (cv_accuracy, l2) = best;
    let (bias, weights) = fit(&x, &y, l2);
    // The relevance gate: the 5th percentile of the compliant training answers' relevance.
    let mut compliant: Vec<f64> = relevance.iter().zip(&y).filter(|(_, y)| **y).map(|(r, _)| *r).collect();
    compliant.sort_by(f64::total_cmp);
    let relevance_gate = compliant[compliant.len() * 5 / 100];
    let bytes = std::fs::read(&train).expect("read train");
    let c = Classifier {
        version: "refusal-v3".into(),
        encoder: model::NAME.into(),
        bias,
        weights,
        threshold: 0.5,
        relevance_gate,
        l2,
        trained_on: TrainedOn {
            file: "suites/judge/train.csv".into(),
            sha256: preflight_core::sha256_hex(&bytes),
            rows: rows.len(),
            cv_accuracy,
        },
    };
    std::fs::write(&out, serde_json::to_string(&c).expect("serialise") + "\n").expect("write weights");
    eprintln!("l2 {l2}, cross-validated accuracy {cv_accuracy:.3}, relevance gate {relevance_gate:.3}; wrote {out}");
}
