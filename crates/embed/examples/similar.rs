//! Cosine similarity of every pair of lines on stdin, with the embedded encoder: for choosing
//! `preflight generate --semantic` on prompts of one's own.
//!
//!     printf 'first request\nsame request, reworded\n' | cargo run --release -p preflight-embed --example similar

use std::io::BufRead;

use preflight_embed::{Encoder, cosine, model};

fn main() {
    let dir = model::resolve(&preflight_data::default_cache_dir()).unwrap_or_else(|e| panic!("{e}"));
    let encoder = Encoder::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<String> =
        std::io::stdin().lock().lines().map_while(Result::ok).filter(|l| !l.trim().is_empty()).collect();
    let texts: Vec<&str> = lines.iter().map(String::as_str).collect();
    let v = preflight_embed::semantic::embed_all(&encoder, &texts).unwrap_or_else(|e| panic!("{e}"));
    for i in 0..v.len() {
        for j in i + 1..v.len() {
            println!("{:.3}  {:?}  {:?}", cosine(&v[i], &v[j]), lines[i], lines[j]);
        }
    }
}
