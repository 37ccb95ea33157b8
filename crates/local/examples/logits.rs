//! Next-token logits after a fixed question, for checking kernels against each other (used by
//! `bench/kernels.sh`; `PREFLIGHT_REFERENCE_KERNELS=1` selects llama.cpp's reference Q4_1 kernel).
//!
//! ```text
//! cargo run --release -p preflight-local --example logits -- MODEL.gguf OUT_PREFIX
//! ```
//! Writes OUT_PREFIX.batch.f32 (the prompt decoded in one call: multi-row kernels) and
//! OUT_PREFIX.single.f32 (its last token decoded alone: single-row kernels), little-endian f32.

use preflight_local::kernels::next_token_logits;

const QUESTION: &str = "Write a haiku about the sea, then explain what a GPU is.";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let logits = next_token_logits(std::path::Path::new(&args[1]), QUESTION).unwrap_or_else(|e| panic!("{e}"));
    for (name, values) in [("batch", &logits.batch), ("single", &logits.single)] {
        let bytes: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
        std::fs::write(format!("{}.{name}.f32", args[2]), bytes).unwrap();
    }
}
