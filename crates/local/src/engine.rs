use std::{
    num::NonZeroU32,
    path::{Path, PathBuf},
    sync::{
        OnceLock,
        mpsc::{Receiver, Sender, TryRecvError, channel},
    },
};

use llama_cpp_2::{
    context::{LlamaContext, params::LlamaContextParams},
    llama_backend::LlamaBackend,
    llama_batch::LlamaBatch,
    model::{LlamaModel, params::LlamaModelParams},
    sampling::LlamaSampler,
    token::LlamaToken,
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
    /// Tokens per decode call.
    pub batch: u32,
}

/// One thread per core, at most 4: llama.cpp's threads spin, so more threads than free cores
/// collapses throughput (2 threads on 2 busy cores fell from 120 to 3 tokens/s here).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 4)
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions { threads: default_threads(), parallel: 8, ctx_per_seq: 2048, default_max_tokens: 512, batch: 512 }
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
}

/// What the engine thread reports once the model is loaded.
struct Ready {
    description: String,
    template: String,
    bos: String,
    eos: String,
}

fn backend() -> &'static LlamaBackend {
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
        std::thread::Builder::new()
            .name("preflight-llama".into())
            .spawn(move || engine(&owned, opts, ready_tx, rx))
            .map_err(|e| err(format!("cannot start the engine thread: {e}")))?;
        let ready = ready_rx.recv().map_err(|_| err("the engine thread died while loading".into()))?.map_err(err)?;
        let template = ChatTemplate::new(&ready.template, &ready.bos, &ready.eos).map_err(|e| err(e.to_string()))?;
        Ok(LocalModel {
            id: format!("local/{stem}"),
            jobs,
            description: format!("{}, {} bytes", ready.description, meta.len()),
            template,
        })
    }

    /// The exact prompt text the model sees for `messages` (its chat template, rendered).
    pub fn render_prompt(&self, messages: &[preflight_core::Message]) -> Result<String, minijinja::Error> {
        self.template.render(messages)
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

fn sampler_for(req: &GenerateRequest) -> LlamaSampler {
    let temp = req.temperature.unwrap_or(1.0);
    if temp <= 0.0 {
        LlamaSampler::greedy()
    } else {
        let seed = req.seed.unwrap_or(0) as u32;
        LlamaSampler::chain_simple([LlamaSampler::temp(temp as f32), LlamaSampler::dist(seed)])
    }
}

fn engine(path: &Path, opts: LocalOptions, ready: Sender<Result<Ready, String>>, jobs: Receiver<Job>) {
    let backend = backend();
    let model = match LlamaModel::load_from_file(backend, path, &LlamaModelParams::default()) {
        Ok(m) => m,
        Err(e) => {
            let _ = ready.send(Err(format!("llama.cpp cannot load it: {e}")));
            return;
        }
    };
    let vocab = model.vocab();
    let piece = |t: LlamaToken| String::from_utf8_lossy(&vocab.token_to_piece(t, true, None)).into_owned();
    let (bos, eos) = (piece(vocab.bos()), piece(vocab.eos()));
    let (template, template_src) = match model.meta_val_str("tokenizer.chat_template") {
        Ok(src) => match ChatTemplate::new(&src, &bos, &eos) {
            Ok(t) => (t, src),
            Err(e) => {
                let _ = ready.send(Err(format!("its chat template does not compile: {e}")));
                return;
            }
        },
        Err(_) => {
            let _ = ready
                .send(Err("it has no chat template (tokenizer.chat_template); preflight needs a chat model".into()));
            return;
        }
    };
    let parallel = opts.parallel.max(1);
    let n_ctx = opts.ctx_per_seq.min(model.n_ctx_train().max(256)) * parallel as u32;
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_batch(opts.batch)
        .with_n_ubatch(opts.batch)
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

    let mut batch = LlamaBatch::new(opts.batch as usize, 1);
    let mut slots: Vec<Option<Slot>> = (0..parallel).map(|_| None).collect();
    let mut closed = false;
    loop {
        // Admit new conversations into free slots; block only when there is nothing to decode.
        for i in 0..parallel {
            if slots[i].is_some() || closed {
                continue;
            }
            let idle = slots.iter().all(Option::is_none);
            let job = if idle {
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
            // The template writes the special tokens as text; parse them, add none of our own.
            let mut tokens = vocab.tokenize(prompt.as_bytes(), false, true);
            if vocab.should_add_bos() && tokens.first() != Some(&vocab.bos()) {
                tokens.insert(0, vocab.bos());
            }
            let room = per_seq.saturating_sub(tokens.len() as u32);
            if room < 2 {
                let msg = format!("prompt of {} tokens does not fit the {per_seq}-token context", tokens.len());
                let _ = job.reply.send(Err(fail(ErrorKind::Permanent, msg)));
                continue;
            }
            let max_tokens = job.request.max_tokens.unwrap_or(opts.default_max_tokens).min(room - 1).max(1);
            let _ = ctx.clear_kv_cache_seq(Some(i as u32), None, None);
            slots[i] = Some(Slot {
                reply: job.reply,
                sampler: sampler_for(&job.request),
                prompt_tokens: tokens.len() as u32,
                pending: tokens,
                pos: 0,
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

        // Fill one batch: prompt chunks of new conversations and the last token of running ones.
        batch.clear();
        let cap = opts.batch as usize;
        for (seq, slot) in slots.iter_mut().enumerate() {
            let Some(s) = slot else { continue };
            s.logits_at = None;
            let free = cap - batch.n_tokens() as usize;
            if free == 0 || s.pending.is_empty() {
                continue;
            }
            let take = s.pending.len().min(free);
            let last = take == s.pending.len();
            for (k, tok) in s.pending.drain(..take).enumerate() {
                let want_logits = last && k + 1 == take;
                if want_logits {
                    s.logits_at = Some(batch.n_tokens());
                }
                batch.add(tok, s.pos, &[seq as i32], want_logits).expect("batch has room");
                s.pos += 1;
            }
        }
        if let Err(e) = ctx.decode(&mut batch) {
            for slot in slots.iter_mut() {
                if let Some(s) = slot.take() {
                    let _ = s.reply.send(Err(fail(ErrorKind::Transient, format!("llama.cpp decode failed: {e}"))));
                }
            }
            ctx.clear_kv_cache();
            continue;
        }

        // Sample the next token of every conversation whose logits were computed.
        for (seq, slot) in slots.iter_mut().enumerate() {
            let Some(s) = slot else { continue };
            let Some(at) = s.logits_at else { continue };
            let token = s.sampler.sample(&ctx, at);
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
                let s = slot.take().expect("slot is active");
                finish_slot(&mut ctx, seq, s, finish_reason);
            }
        }
    }
}

fn finish_slot(ctx: &mut LlamaContext<'_>, seq: usize, s: Slot, finish_reason: FinishReason) {
    let _ = ctx.clear_kv_cache_seq(Some(seq as u32), None, None);
    let text = String::from_utf8_lossy(&s.text).trim().to_string();
    let usage = Usage { prompt_tokens: s.prompt_tokens, completion_tokens: s.generated };
    let _ = s.reply.send(Ok(GenerateResponse { text, finish_reason, usage, cached: false }));
}
