//! Next-token logits straight from llama.cpp, for checking one set of its kernels against
//! another: preflight's repacked Q4_1 kernel (`crates/local/cmake/q4_1_repack.inc`) against the
//! reference kernel (`PREFLIGHT_REFERENCE_KERNELS=1`, read once per process), or a quantized
//! model against the same weights in F32 (`bench/kernels.sh`).

use std::{num::NonZeroU32, path::Path};

use llama_cpp_2::{
    context::params::LlamaContextParams,
    llama_batch::LlamaBatch,
    model::{LlamaModel, params::LlamaModelParams},
};

use preflight_core::Message;

use crate::engine::{LocalError, backend, chat_template, prompt_tokens};

/// The logits after the last token of a prompt, computed twice: with the whole prompt in one
/// decode call (multi-row kernels) and with its last token decoded alone (single-row kernels).
pub struct NextTokenLogits {
    pub batch: Vec<f32>,
    pub single: Vec<f32>,
}

/// The logits of the answer's first token to `question`, asked as a user message through the
/// model's own chat template and tokenized as the engine does.
pub fn next_token_logits(path: &Path, question: &str) -> Result<NextTokenLogits, LocalError> {
    let err = |message: String| LocalError::Load { path: path.to_path_buf(), message };
    let model = LlamaModel::load_from_file(backend(), path, &LlamaModelParams::default())
        .map_err(|e| err(format!("llama.cpp cannot load it: {e}")))?;
    let (template, ..) = chat_template(&model).map_err(err)?;
    let prompt = template.render(&[Message::user(question)]).map_err(|e| err(format!("chat template failed: {e}")))?;
    let tokens = prompt_tokens(&model.vocab(), &prompt);
    let n = tokens.len();
    if n < 2 {
        return Err(err(format!("the prompt has {n} tokens; at least 2 are needed")));
    }
    // The prompt decoded in calls ending at `ends` (the last one at n).
    let logits_after = |ends: &[usize]| -> Result<Vec<f32>, LocalError> {
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n.next_power_of_two().max(256) as u32))
            .with_n_batch(n as u32)
            .with_n_ubatch(n as u32)
            .with_n_threads(1);
        let mut ctx = model.new_context(backend(), params).map_err(|e| err(format!("no context: {e}")))?;
        let mut batch = LlamaBatch::new(n, 1);
        let mut start = 0;
        for &end in ends {
            batch.clear();
            for (i, &token) in tokens.iter().enumerate().take(end).skip(start) {
                batch.add(token, i as i32, &[0], i + 1 == n).map_err(|e| err(e.to_string()))?;
            }
            ctx.decode(&mut batch).map_err(|e| err(format!("decode: {e}")))?;
            start = end;
        }
        Ok(ctx.get_logits_ith(batch.n_tokens() - 1).to_vec())
    };
    Ok(NextTokenLogits { batch: logits_after(&[n])?, single: logits_after(&[n - 1, n])? })
}
