//! Tokens per second of the in-process engine (used by `bench/llama.sh`).
//!
//! ```text
//! cargo run --release -p preflight-local --example tokens -- MODEL.gguf THREADS PARALLEL [CTX_PER_SEQ] [ENGINES]
//! ```
//! Prints one JSON line: prompt tokens/s (a long prompt, 1 new token), single-stream generation
//! tokens/s, and aggregate generation tokens/s with PARALLEL concurrent prompts (without prompt
//! processing, as for the single stream) and aggregate tokens/s over the whole wall time.
//! `PREFLIGHT_REFERENCE_KERNELS=1` measures llama.cpp's reference Q4_1 kernel instead of the
//! repacked one preflight adds (`crates/local/cmake/q4_1_repack.inc`).

use std::{sync::Arc, time::Instant};

use preflight_core::{GenSettings, Generate, GenerateRequest};
use preflight_local::{LocalModel, LocalOptions};

const STORIES: [&str; 8] = [
    "Write a long story about a dragon who learns to bake bread.",
    "Write a long story about a lighthouse keeper and a storm.",
    "Write a long story about a robot that wants to paint.",
    "Write a long story about two friends crossing a desert.",
    "Write a long story about a cat who runs a library.",
    "Write a long story about a village that forgot its name.",
    "Write a long story about a sailor who maps the stars.",
    "Write a long story about a garden that grows at night.",
];

fn req(prompt: &str, max: u32) -> GenerateRequest {
    GenerateRequest::single_turn(
        prompt,
        &GenSettings { temperature: Some(0.0), max_tokens: Some(max), ..Default::default() },
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::PathBuf::from(&args[1]);
    let threads: usize = args[2].parse().unwrap();
    let parallel: usize = args[3].parse().unwrap();
    let ctx_per_seq: u32 = args.get(4).map(|a| a.parse().unwrap()).unwrap_or(LocalOptions::default().ctx_per_seq);
    // A pool: ENGINES separate engines (THREADS each, PARALLEL sequences each), prompts dealt round-robin.
    let engines: usize = args.get(5).map(|a| a.parse().unwrap()).unwrap_or(1);
    let reference_kernels = std::env::var("PREFLIGHT_REFERENCE_KERNELS").is_ok_and(|v| v == "1");
    let engine_name = if reference_kernels { "preflight-reference-kernels" } else { "preflight" };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    // Every timed run gets fresh engines, warmed up with one short prompt: an engine reuses the
    // prompt prefixes it has seen, and a run must not find the previous run's prompts cached.
    // (All runs reuse the same 24-token system prompt from the warm-up.)
    let fresh = |parallel: usize, count: usize| -> Vec<Arc<LocalModel>> {
        (0..count)
            .map(|_| {
                let opts = LocalOptions { threads, parallel, ctx_per_seq, ..LocalOptions::default() };
                let m = Arc::new(LocalModel::load(&path, opts).unwrap());
                rt.block_on(m.generate(&req("Hi", 4), 1)).unwrap();
                m
            })
            .collect()
    };

    let long_prompt = "Summarise the following text in one word. ".to_string()
        + &"The quick brown fox jumps over the lazy dog. ".repeat(40);
    let single = fresh(1, 1).remove(0);
    let before = single.stats();
    let t = Instant::now();
    rt.block_on(single.generate(&req(&long_prompt, 1), 1)).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let stats = single.stats();
    let computed =
        (stats.prompt_tokens - before.prompt_tokens) - (stats.reused_prompt_tokens - before.reused_prompt_tokens);
    let prompt_tps = computed as f64 / secs;
    drop(single);

    let timed = |models: &[Arc<LocalModel>], prompts: &[&str], max: u32| -> (u32, f64) {
        let t = Instant::now();
        let n: u32 = rt.block_on(async {
            let mut hs = Vec::new();
            for (i, s) in prompts.iter().enumerate() {
                let m = models[i % models.len()].clone();
                let r = req(s, max);
                hs.push(tokio::spawn(async move { m.generate(&r, 1).await.unwrap().usage.completion_tokens }));
            }
            let mut n = 0;
            for h in hs {
                n += h.await.unwrap();
            }
            n
        });
        (n, t.elapsed().as_secs_f64())
    };
    // Generation excludes prompt processing: the same prompts are timed with 1 new token and
    // with 128, each on fresh engines, and the difference is taken.
    let (mut gen_tokens, mut gen_secs) = (0u32, 0f64);
    for s in STORIES.iter().take(2) {
        let (n1, t1) = timed(&fresh(1, 1), &[s], 1);
        let (n, t) = timed(&fresh(1, 1), &[s], 128);
        gen_secs += t - t1;
        gen_tokens += n - n1;
    }
    let single_tps = gen_tokens as f64 / gen_secs;

    let prompts: Vec<&str> = STORIES.iter().cycle().take(parallel * engines).copied().collect();
    let (first_tokens, first_secs) = timed(&fresh(parallel, engines), &prompts, 1);
    let (total, secs) = timed(&fresh(parallel, engines), &prompts, 128);
    let agg_tps = (total - first_tokens) as f64 / (secs - first_secs);
    let wall_tps = total as f64 / secs;
    println!(
        "{{\"engine\": \"{engine_name}\", \"threads\": {threads}, \"parallel\": {parallel}, \"engines\": {engines}, \"prompt_tps\": {prompt_tps:.1}, \"gen_tps\": {single_tps:.1}, \"agg_gen_tps\": {agg_tps:.1}, \"agg_wall_tps\": {wall_tps:.1}, \"agg_tokens\": {total}}}"
    );
}
