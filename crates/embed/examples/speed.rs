//! Embedding speed on this machine: texts per second at several batch sizes, on the answers of
//! `suites/judge/dev.csv` (as the judge sees them), in the order given and sorted by length.
//!
//!     cargo run --release -p preflight-embed --example speed [-- N]

use std::collections::BTreeMap;

use preflight_embed::{Encoder, model};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(256);
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let dir = model::resolve(&preflight_data::default_cache_dir()).unwrap_or_else(|e| panic!("{e}"));
    let encoder = Encoder::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let mut rdr = csv::Reader::from_path(format!("{root}/suites/judge/dev.csv")).unwrap();
    let texts: Vec<String> =
        rdr.deserialize::<BTreeMap<String, String>>().take(n).map(|r| r.unwrap()["response"].clone()).collect();
    let mut sorted = texts.clone();
    sorted.sort_by_key(|t| t.len());
    encoder.embed(&["warm up"]).unwrap();
    println!(
        "{} texts (mean {:.0} chars); threads: candle default",
        texts.len(),
        texts.iter().map(|t| t.len()).sum::<usize>() as f64 / texts.len() as f64
    );
    for (what, list) in [("as given", &texts), ("sorted by length", &sorted)] {
        for batch in [1usize, 8, 32] {
            let started = std::time::Instant::now();
            for chunk in list.chunks(batch) {
                let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
                encoder.embed(&refs).unwrap();
            }
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{what:<18} batch {batch:>2}: {:>7.1} texts/s ({:.1} ms each)",
                list.len() as f64 / secs,
                1000.0 * secs / list.len() as f64
            );
        }
    }
}
