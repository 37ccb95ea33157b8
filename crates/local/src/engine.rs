use std::{
    num::NonZeroU32,
    path::{Path, PathBuf},
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
        mpsc::{Receiver, Sender, TryRecvError, channel},
    },
};

use llama_cpp_2::{
    context::params::LlamaContextParams,
    llama_backend::LlamaBackend,
    llama_batch::LlamaBatch,
    model::{LlamaModel, params::LlamaModelParams},
    sampling::LlamaSampler,
    token::LlamaToken,
    vocab::LlamaVocab,
};
use preflight_core::{
    BoxFuture, ErrorKind, FinishReason, Generate, GenerateRequest, GenerateResponse, ProviderError, Usage,
};

use crate::ChatTemplate;

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// CPU threads for llama.cpp (see [`default_threads`]).
    pub threads: usize,
    /// Conversations decoded together in one batch.
    pub parallel: usize,
    /// Context length per conversation (prompt + answer), in tokens.
    pub ctx_per_seq: u32,
    /// Answer length when the request sets no `max_tokens`.
    pub default_max_tokens: u32,
}

/// Prompts are decoded in chunks with fixed boundaries, each chunk in a decode call of its own.
/// llama.cpp's numerics for a token depend on how many tokens of its sequence share its decode
/// call (its CPU attention takes a different path for one query, a few, or a tile of them), so
/// fixed chunks make an answer independent of what else the engine is doing, and they make a
/// reused prefix (which ends at a boundary) bitwise the same as one computed afresh. (Answer
/// tokens go one per conversation per call. One dependence is left in llama.cpp: once a
/// conversation passes 256 tokens, its attention is split by the longest conversation decoded
/// beside it.)
/// The boundaries: every 8 positions up to 32, where prompts share prefixes (SmolLM2's system
/// prompt is 24 tokens), then every 64, where chunks of 64 decode at nearly the speed of
/// whole-prompt batches (chunks of 8: 60% of it).
const SMALL_CHUNK: usize = 8;
const SMALL_UNTIL: usize = 32;
const LARGE_CHUNK: usize = 64;

/// Where the prompt chunk starting at `pos` ends.
fn chunk_end(pos: usize) -> usize {
    if pos < SMALL_UNTIL { (pos / SMALL_CHUNK + 1) * SMALL_CHUNK } else { (pos / LARGE_CHUNK + 1) * LARGE_CHUNK }
}

/// The last chunk boundary at or before `n`.
fn boundary_at_or_below(n: usize) -> usize {
    if n < SMALL_UNTIL {
        n - n % SMALL_CHUNK
    } else if n < LARGE_CHUNK {
        SMALL_UNTIL
    } else {
        n - n % LARGE_CHUNK
    }
}

/// One thread per core, at most 4: llama.cpp's threads spin, so more threads than free cores
/// collapses throughput (2 threads on 2 busy cores fell from 120 to 3 tokens/s here).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 4)
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions { threads: default_threads(), parallel: 8, ctx_per_seq: 2048, default_max_tokens: 512 }
    }
}

/// A local model that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("{path}: {message}")]
    Load { path: PathBuf, message: String },
}

struct Job {
    request: GenerateRequest,
    reply: tokio::sync::oneshot::Sender<Result<GenerateResponse, ProviderError>>,
}

/// A GGUF model running in-process on its own engine thread.
pub struct LocalModel {
    id: String,
    jobs: Sender<Job>,
    description: String,
    template: ChatTemplate,
    counters: Arc<Counters>,
}

/// Prompt tokens the engine was given, and how many of them it found already in its KV cache.
#[derive(Default)]
struct Counters {
    prompt: AtomicU64,
    reused: AtomicU64,
}

/// What the engine has done since it was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineStats {
    /// Prompt tokens of all requests.
    pub prompt_tokens: u64,
    /// Of those, the tokens taken from the KV cache (a prefix shared with an earlier prompt)
    /// instead of being computed.
    pub reused_prompt_tokens: u64,
}

/// What the engine thread reports once the model is loaded.
struct Ready {
    description: String,
    template: String,
    bos: String,
    eos: String,
}

/// The model's own chat template (GGUF `tokenizer.chat_template`) compiled, with its source and
/// the BOS and EOS pieces it renders with.
pub(crate) fn chat_template(model: &LlamaModel) -> Result<(ChatTemplate, String, String, String), String> {
    let vocab = model.vocab();
    let piece = |t: LlamaToken| String::from_utf8_lossy(&vocab.token_to_piece(t, true, None)).into_owned();
    let (bos, eos) = (piece(vocab.bos()), piece(vocab.eos()));
    let src = model
        .meta_val_str("tokenizer.chat_template")
        .map_err(|_| "it has no chat template (tokenizer.chat_template); preflight needs a chat model".to_string())?;
    let template =
        ChatTemplate::new(&src, &bos, &eos).map_err(|e| format!("its chat template does not compile: {e}"))?;
    Ok((template, src, bos, eos))
}

pub(crate) fn backend() -> &'static LlamaBackend {
    static BACKEND: OnceLock<LlamaBackend> = OnceLock::new();
    BACKEND.get_or_init(|| {
        // llama.cpp logs every tensor to stderr by default; a release gate's output is its report.
        llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default().with_logs_enabled(false));
        LlamaBackend::init().expect("llama.cpp backend initialises once")
    })
}

impl LocalModel {
    /// Loads `path` and starts the engine thread. Fails early, with the path, on a missing or
    /// unreadable file, a model without a chat template, or a context that cannot be created.
    pub fn load(path: &Path, opts: LocalOptions) -> Result<LocalModel, LocalError> {
        let err = |message: String| LocalError::Load { path: path.to_path_buf(), message };
        let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let mut magic = [0u8; 4];
        std::io::Read::read_exact(&mut std::fs::File::open(path).map_err(|e| err(e.to_string()))?, &mut magic)
            .map_err(|_| err("too short to be a GGUF file".into()))?;
        if &magic != b"GGUF" {
            return Err(err("not a GGUF file (bad magic)".into()));
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model").to_string();
        let (jobs, rx) = channel::<Job>();
        let (ready_tx, ready_rx) = channel::<Result<Ready, String>>();
        let owned = path.to_path_buf();
        let counters = Arc::new(Counters::default());
        let engine_counters = counters.clone();
        std::thread::Builder::new()
            .name("preflight-llama".into())
            .spawn(move || engine(&owned, opts, ready_tx, rx, &engine_counters))
            .map_err(|e| err(format!("cannot start the engine thread: {e}")))?;
        let ready = ready_rx.recv().map_err(|_| err("the engine thread died while loading".into()))?.map_err(err)?;
        let template = ChatTemplate::new(&ready.template, &ready.bos, &ready.eos).map_err(|e| err(e.to_string()))?;
        Ok(LocalModel {
            id: format!("local/{stem}"),
            jobs,
            description: format!("{}, {} bytes", ready.description, meta.len()),
            template,
            counters,
        })
    }

    /// The exact prompt text the model sees for `messages` (its chat template, rendered).
    pub fn render_prompt(&self, messages: &[preflight_core::Message]) -> Result<String, minijinja::Error> {
        self.template.render(messages)
    }

    /// Prompt tokens given and reused so far.
    pub fn stats(&self) -> EngineStats {
        EngineStats {
            prompt_tokens: self.counters.prompt.load(Ordering::Relaxed),
            reused_prompt_tokens: self.counters.reused.load(Ordering::Relaxed),
        }
    }

    /// A one-line description (architecture, parameters, file size).
    pub fn description(&self) -> &str {
        &self.description
    }
}

impl Generate for LocalModel {
    fn model_id(&self) -> &str {
        &self.id
    }

    fn generate<'a>(
        &'a self,
        request: &'a GenerateRequest,
        _epoch: u32,
    ) -> BoxFuture<'a, Result<GenerateResponse, ProviderError>> {
        Box::pin(async move {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let stopped = || ProviderError::new(ErrorKind::Permanent, &self.id, None, "the local engine stopped");
            self.jobs.send(Job { request: request.clone(), reply: tx }).map_err(|_| stopped())?;
            rx.await.map_err(|_| stopped())?
        })
    }
}

/// A conversation being decoded in one sequence of the shared context.
struct Slot {
    reply: tokio::sync::oneshot::Sender<Result<GenerateResponse, ProviderError>>,
    sampler: LlamaSampler,
    /// Tokens still to feed (the prompt, then each sampled token).
    pending: Vec<LlamaToken>,
    /// Next position in this sequence.
    pos: i32,
    /// Index in the current batch whose logits belong to this slot.
    logits_at: Option<i32>,
    prompt_tokens: u32,
    generated: u32,
    max_tokens: u32,
    text: Vec<u8>,
}

/// The sampler a request asks for: greedy at temperature 0, else temperature and a seeded draw;
/// behind a grammar when the request constrains its answer (llama.cpp then only lets the model
/// pick tokens the grammar allows, so a 135M model's verdict always parses).
fn sampler_for(req: &GenerateRequest, model: &LlamaModel) -> Result<LlamaSampler, String> {
    let temp = req.temperature.unwrap_or(1.0);
    let pick = if temp <= 0.0 {
        LlamaSampler::greedy()
    } else {
        let seed = req.seed.unwrap_or(0) as u32;
        LlamaSampler::chain_simple([LlamaSampler::temp(temp as f32), LlamaSampler::dist(seed)])
    };
    match &req.constraint {
        None => Ok(pick),
        Some(c) => {
            let grammar = LlamaSampler::grammar(model, &c.to_grammar(), "root")
                .map_err(|e| format!("the answer's constraint is not a valid grammar: {e:?}"))?;
            Ok(LlamaSampler::chain_simple([grammar, pick]))
        }
    }
}

fn engine(
    path: &Path,
    opts: LocalOptions,
    ready: Sender<Result<Ready, String>>,
    jobs: Receiver<Job>,
    counters: &Counters,
) {
    let backend = backend();
    let model = match LlamaModel::load_from_file(backend, path, &LlamaModelParams::default()) {
        Ok(m) => m,
        Err(e) => {
            let _ = ready.send(Err(format!("llama.cpp cannot load it: {e}")));
            return;
        }
    };
    let vocab = model.vocab();
    let (template, template_src, bos, eos) = match chat_template(&model) {
        Ok(t) => t,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let parallel = opts.parallel.max(1);
    let n_ctx = opts.ctx_per_seq.min(model.n_ctx_train().max(256)) * parallel as u32;
    // A decode call holds one prompt chunk or one token per conversation.
    let batch_size = parallel.max(LARGE_CHUNK);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_batch(batch_size as u32)
        .with_n_ubatch(batch_size as u32)
        .with_n_seq_max(parallel as u32)
        .with_n_threads(opts.threads as i32)
        .with_n_threads_batch(opts.threads as i32);
    let mut ctx = match model.new_context(backend, params) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(format!("cannot create a context of {n_ctx} tokens: {e}")));
            return;
        }
    };
    let arch = model.meta_val_str("general.architecture").unwrap_or_else(|_| "?".into());
    let per_seq = n_ctx / parallel as u32;
    let description =
        format!("{arch}, {} parameters, {parallel} × {per_seq} tokens, {} threads", model.n_params(), opts.threads);
    let _ = ready.send(Ok(Ready { description, template: template_src, bos, eos }));
    let id = format!("local/{}", path.file_stem().and_then(|s| s.to_str()).unwrap_or("model"));
    let fail = |kind, msg: String| ProviderError::new(kind, &id, None, msg);

    let mut batch = LlamaBatch::new(batch_size, 1);
    let mut slots: Vec<Option<Slot>> = (0..parallel).map(|_| None).collect();
    // The prompt tokens each sequence holds in the KV cache, by position. A finished conversation
    // leaves them there, and the next prompt given to that sequence reuses the longest common
    // prefix instead of computing it again: every prompt of a battery starts with the same
    // system prompt, and each turn of a conversation starts with the turns before it. Answer
    // tokens are not reused: decoded one at a time, their cache entries can differ in the last
    // bits from the same tokens computed as a prompt, and a greedy answer must not depend on
    // what the engine ran before.
    let mut kept: Vec<Vec<LlamaToken>> = vec![Vec::new(); parallel];
    let mut closed = false;
    loop {
        // Admit new conversations into free slots; block only when there is nothing to decode.
        while !closed && slots.iter().any(Option::is_none) {
            let job = if slots.iter().all(Option::is_none) {
                match jobs.recv() {
                    Ok(j) => j,
                    Err(_) => return,
                }
            } else {
                match jobs.try_recv() {
                    Ok(j) => j,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        closed = true;
                        break;
                    }
                }
            };
            let prompt = match template.render(&job.request.messages) {
                Ok(p) => p,
                Err(e) => {
                    let _ = job.reply.send(Err(fail(ErrorKind::Permanent, format!("chat template failed: {e}"))));
                    continue;
                }
            };
            let tokens = prompt_tokens(&vocab, &prompt);
            if tokens.is_empty() {
                let _ = job
                    .reply
                    .send(Err(fail(ErrorKind::Permanent, "the chat template rendered an empty prompt".into())));
                continue;
            }
            let room = per_seq.saturating_sub(tokens.len() as u32);
            if room < 2 {
                let msg = format!("prompt of {} tokens does not fit the {per_seq}-token context", tokens.len());
                let _ = job.reply.send(Err(fail(ErrorKind::Permanent, msg)));
                continue;
            }
            let max_tokens = job.request.max_tokens.unwrap_or(opts.default_max_tokens).min(room - 1).max(1);
            let sampler = match sampler_for(&job.request, &model) {
                Ok(s) => s,
                Err(msg) => {
                    let _ = job.reply.send(Err(fail(ErrorKind::Permanent, msg)));
                    continue;
                }
            };
            // The free sequence sharing the longest prefix with this prompt. The prefix reused ends
            // at a chunk boundary, before the last prompt token (decoded again for its logits).
            let (i, keep) = (0..parallel)
                .filter(|&i| slots[i].is_none())
                .map(|i| {
                    let shared = common_prefix(&kept[i], &tokens).min(tokens.len() - 1);
                    (i, boundary_at_or_below(shared))
                })
                .max_by_key(|&(i, keep)| (keep, std::cmp::Reverse(i)))
                .expect("a free slot");
            let _ = ctx.clear_kv_cache_seq(Some(i as u32), Some(keep as u32), None);
            kept[i].truncate(keep);
            counters.prompt.fetch_add(tokens.len() as u64, Ordering::Relaxed);
            counters.reused.fetch_add(keep as u64, Ordering::Relaxed);
            slots[i] = Some(Slot {
                reply: job.reply,
                sampler,
                prompt_tokens: tokens.len() as u32,
                pending: tokens[keep..].to_vec(),
                pos: keep as i32,
                logits_at: None,
                generated: 0,
                max_tokens,
                text: Vec::new(),
            });
        }
        if slots.iter().all(Option::is_none) {
            if closed {
                return;
            }
            continue;
        }

        // Prompts: one chunk per conversation and round, each decoded on its own (see
        // `chunk_end`); the last chunk's logits give the first answer token.
        let mut failed = None;
        for seq in 0..parallel {
            let Some(s) = slots[seq].as_mut() else { continue };
            if s.generated > 0 || s.pending.is_empty() {
                continue;
            }
            let take = s.pending.len().min(chunk_end(s.pos as usize) - s.pos as usize);
            let last = take == s.pending.len();
            batch.clear();
            for (k, tok) in s.pending.drain(..take).enumerate() {
                batch.add(tok, s.pos, &[seq as i32], last && k + 1 == take).expect("batch has room");
                kept[seq].push(tok);
                s.pos += 1;
            }
            if let Err(e) = ctx.decode(&mut batch) {
                failed = Some(e);
                break;
            }
            if last {
                let token = s.sampler.sample(&ctx, take as i32 - 1);
                advance(&mut slots[seq], token, &vocab);
            }
        }

        // Answers: the last sampled token of every answering conversation, decoded together.
        if failed.is_none() {
            batch.clear();
            for (seq, slot) in slots.iter_mut().enumerate() {
                let Some(s) = slot else { continue };
                s.logits_at = None;
                if s.generated == 0 {
                    continue;
                }
                let tok = s.pending.pop().expect("an answering conversation has its last token to feed");
                s.logits_at = Some(batch.n_tokens());
                batch.add(tok, s.pos, &[seq as i32], true).expect("batch has room");
                s.pos += 1;
            }
            if batch.n_tokens() > 0 {
                match ctx.decode(&mut batch) {
                    Ok(()) => {
                        for slot in slots.iter_mut() {
                            let Some(at) = slot.as_ref().and_then(|s| s.logits_at) else { continue };
                            let token = slot.as_mut().expect("slot is active").sampler.sample(&ctx, at);
                            advance(slot, token, &vocab);
                        }
                    }
                    Err(e) => failed = Some(e),
                }
            }
        }
        if let Some(e) = failed {
            for slot in slots.iter_mut() {
                if let Some(s) = slot.take() {
                    let _ = s.reply.send(Err(fail(ErrorKind::Transient, format!("llama.cpp decode failed: {e}"))));
                }
            }
            ctx.clear_kv_cache();
            kept.iter_mut().for_each(Vec::clear);
        }
    }
}

/// Takes a sampled token: the end of the answer (end-of-generation or `max_tokens`), or the next
/// token to feed.
fn advance(slot: &mut Option<Slot>, token: LlamaToken, vocab: &LlamaVocab<'_>) {
    let s = slot.as_mut().expect("slot is active");
    let eog = vocab.is_eog(token);
    if !eog {
        s.text.extend_from_slice(&vocab.token_to_piece(token, false, None));
        s.generated += 1;
    }
    let finish = if eog {
        Some(FinishReason::Stop)
    } else if s.generated >= s.max_tokens {
        Some(FinishReason::Length)
    } else {
        s.pending.push(token);
        None
    };
    if let Some(finish_reason) = finish {
        finish_slot(slot.take().expect("slot is active"), finish_reason);
    }
}

/// A rendered prompt's tokens. The template writes the special tokens as text: they are parsed,
/// and only a BOS the model wants and the template left out is added.
pub(crate) fn prompt_tokens(vocab: &LlamaVocab<'_>, prompt: &str) -> Vec<LlamaToken> {
    let mut tokens = vocab.tokenize(prompt.as_bytes(), false, true);
    if vocab.should_add_bos() && tokens.first() != Some(&vocab.bos()) {
        tokens.insert(0, vocab.bos());
    }
    tokens
}

/// How many leading tokens `a` and `b` share.
fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Answers a finished conversation. Its tokens stay in the KV cache for the next prompt.
fn finish_slot(s: Slot, finish_reason: FinishReason) {
    let text = String::from_utf8_lossy(&s.text).trim().to_string();
    let usage = Usage { prompt_tokens: s.prompt_tokens, completion_tokens: s.generated };
    let _ = s.reply.send(Ok(GenerateResponse::new(text, finish_reason, usage)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_boundaries_are_every_8_up_to_32_then_every_64() {
        let mut ends = vec![];
        let mut pos = 0;
        while pos < 200 {
            pos = chunk_end(pos);
            ends.push(pos);
        }
        assert_eq!(ends, [8, 16, 24, 32, 64, 128, 192, 256]);
        for n in 0..300 {
            let b = boundary_at_or_below(n);
            assert!(b <= n && (b == 0 || ends.contains(&b) || b.is_multiple_of(64)), "{n} → {b}");
            assert!(chunk_end(b) > n, "{n}: {b} is not the last boundary before it");
        }
    }
}
