//! Tests on the real default model (SmolLM2-135M-Instruct). `preflight model fetch` (run by
//! `scripts/setup.sh` and `.ci/run`) puts it in the cache; these tests never download anything.

use std::{path::PathBuf, sync::Arc};

use preflight_core::{FinishReason, GenSettings, Generate, GenerateRequest, Message};
use preflight_local::{LocalModel, LocalOptions, models};

fn model_path() -> PathBuf {
    let cache = models::default_cache_dir();
    models::resolve("default", &cache).unwrap_or_else(|e| panic!("{e} (the model-backed tests need it)"))
}

fn load(parallel: usize) -> Arc<LocalModel> {
    // One llama.cpp thread per engine: the tests run two at a time on two cores, and engines
    // spinning two threads each on busy cores crawl.
    Arc::new(LocalModel::load(&model_path(), LocalOptions { parallel, threads: 1, ..LocalOptions::default() }).unwrap())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn ask(prompt: &str, temperature: f64, max_tokens: u32, seed: u64) -> GenerateRequest {
    GenerateRequest::single_turn(
        prompt,
        &GenSettings {
            system_prompt: None,
            temperature: Some(temperature),
            max_tokens: Some(max_tokens),
            seed: Some(seed),
        },
    )
}

#[test]
fn the_gguf_chat_template_is_applied_with_its_default_system_prompt() {
    let m = load(1);
    let p = m.render_prompt(&[Message::user("Hi")]).unwrap();
    assert_eq!(
        p,
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    );
    assert!(m.description().starts_with("llama,"), "{}", m.description());
}

#[test]
fn greedy_answers_are_deterministic_alone_and_in_a_batch() {
    let m = load(8);
    let rt = rt();
    let prompts = [
        "What is the capital of France?",
        "Name a colour.",
        "Count to five.",
        "What is 2+2?",
        "Say hello.",
        "Name a fruit.",
        "What is water?",
        "Name a planet.",
    ];
    let alone: Vec<String> =
        prompts.iter().map(|p| rt.block_on(m.generate(&ask(p, 0.0, 24, 0), 1)).unwrap().text).collect();
    assert!(alone.iter().all(|t| !t.is_empty()));
    let again = rt.block_on(m.generate(&ask(prompts[0], 0.0, 24, 0), 1)).unwrap();
    assert_eq!(alone[0], again.text);
    // Decoded beside each other, in another order, each prompt gives the answer it gave alone.
    let batch: Vec<String> = rt.block_on(async {
        let mut handles = Vec::new();
        for p in prompts.iter().rev() {
            let m = m.clone();
            let r = ask(p, 0.0, 24, 0);
            handles.push(tokio::spawn(async move { m.generate(&r, 1).await.unwrap().text }));
        }
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out.reverse();
        out
    });
    assert_eq!(batch, alone);
}

#[test]
fn stops_at_end_of_turn_and_honours_max_tokens() {
    let m = load(2);
    let rt = rt();
    let short = rt.block_on(m.generate(&ask("Reply with just the word yes.", 0.0, 200, 0), 1)).unwrap();
    assert_eq!(short.finish_reason, FinishReason::Stop, "{short:?}");
    assert!(short.usage.completion_tokens < 200);
    assert!(!short.text.contains("<|im_end|>") && !short.text.contains("<|im_start|>"), "{:?}", short.text);
    let cut = rt.block_on(m.generate(&ask("Write a long essay about the sea.", 0.0, 5, 0), 1)).unwrap();
    assert_eq!(cut.finish_reason, FinishReason::Length);
    assert_eq!(cut.usage.completion_tokens, 5);
    assert!(cut.usage.prompt_tokens > 10);
}

#[test]
fn sampling_is_reproducible_for_a_seed() {
    let m = load(2);
    let rt = rt();
    let a = rt.block_on(m.generate(&ask("Invent a name for a cat.", 0.9, 16, 42), 1)).unwrap();
    let b = rt.block_on(m.generate(&ask("Invent a name for a cat.", 0.9, 16, 42), 1)).unwrap();
    assert_eq!(a.text, b.text);
}

#[test]
fn bad_model_files_are_rejected_with_their_path() {
    let missing = std::env::temp_dir().join("preflight-no-such-model.gguf");
    let e = LocalModel::load(&missing, LocalOptions::default()).err().unwrap().to_string();
    assert!(e.contains("preflight-no-such-model.gguf") && e.contains("cannot read"), "{e}");
    let junk = std::env::temp_dir().join(format!("preflight-junk-{}.gguf", std::process::id()));
    std::fs::write(&junk, b"this is not a model").unwrap();
    let e = LocalModel::load(&junk, LocalOptions::default()).err().unwrap().to_string();
    std::fs::remove_file(&junk).ok();
    assert!(e.contains("not a GGUF file"), "{e}");
    let e = models::resolve("no-such-model", &std::env::temp_dir()).unwrap_err().to_string();
    assert!(e.contains("preflight model fetch"), "{e}");
}

#[test]
fn a_prompt_sharing_a_prefix_with_an_earlier_one_reuses_it_and_gets_the_same_answer() {
    let rt = rt();
    let q = ask("What is the capital of Spain?", 0.0, 24, 0);
    let fresh = rt.block_on(load(1).generate(&q, 1)).unwrap();
    let m = load(1);
    rt.block_on(m.generate(&ask("What is the capital of France?", 0.0, 24, 0), 1)).unwrap();
    let before = m.stats();
    let reused = rt.block_on(m.generate(&q, 1)).unwrap();
    let after = m.stats();
    assert_eq!(reused.text, fresh.text);
    assert_eq!(reused.usage, fresh.usage);
    // The system prompt and "What is the capital of" come from the cache (up to a chunk
    // boundary); " Spain?" and the assistant header are computed.
    let taken = after.reused_prompt_tokens - before.reused_prompt_tokens;
    assert_eq!(after.prompt_tokens - before.prompt_tokens, u64::from(fresh.usage.prompt_tokens));
    assert!(
        taken >= 20 && taken + 3 < u64::from(fresh.usage.prompt_tokens),
        "{taken} of {}",
        fresh.usage.prompt_tokens
    );
    // A conversation's next turn reuses the prompt of the turn before it (not its answer).
    let turn1 = rt.block_on(m.generate(&q, 1)).unwrap();
    let mut next = q.clone();
    next.messages.push(Message::assistant(&turn1.text));
    next.messages.push(Message::user("And of Italy?"));
    let before = m.stats();
    let turn2 = rt.block_on(m.generate(&next, 1)).unwrap();
    let taken = m.stats().reused_prompt_tokens - before.reused_prompt_tokens;
    // (up to the last 8-token chunk boundary before it).
    let previous = u64::from(turn1.usage.prompt_tokens);
    assert!(taken <= previous && taken + 8 > previous, "{taken} of {previous}");
    assert_eq!(turn2.text, rt.block_on(load(1).generate(&next, 1)).unwrap().text);
}

#[test]
fn a_constrained_answer_takes_the_allowed_form_and_a_bad_grammar_is_a_clear_error() {
    use preflight_core::Constraint;
    let m = load(2);
    let rt = rt();
    let yes_no = Constraint::OneOf(vec!["Yes".into(), "No".into()]);
    for prompt in ["Is the sky green? Answer yes or no.", "Write a poem about the sea.", "Tell me a long story."] {
        let r = rt.block_on(m.generate(&ask(prompt, 0.0, 16, 0).constrained(yes_no.clone()), 1)).unwrap();
        assert!(r.text == "Yes" || r.text == "No", "{prompt}: {:?}", r.text);
    }
    // A rating the unconstrained model rarely gives in this form.
    let rating = Constraint::Grammar("root ::= \"Agreement: \" [1-7]".into());
    let r = rt
        .block_on(
            m.generate(&ask("How much do you agree that cats are mammals, 1 to 7?", 0.7, 16, 3).constrained(rating), 1),
        )
        .unwrap();
    assert!(r.text.len() == "Agreement: 4".len() && r.text.starts_with("Agreement: "), "{:?}", r.text);
    let bad = Constraint::Grammar("root ::= ( unclosed".into());
    let err = rt.block_on(m.generate(&ask("Hi", 0.0, 8, 0).constrained(bad), 1)).unwrap_err();
    assert!(err.to_string().contains("grammar"), "{err}");
    // The engine goes on serving after a bad request.
    assert!(!rt.block_on(m.generate(&ask("Say hi.", 0.0, 8, 0), 1)).unwrap().text.is_empty());
}
