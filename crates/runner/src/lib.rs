//! The runner: carries out probes against a target and emits [`preflight_core::Event`]s.
//!
//! - [`Generator`] wraps a raw provider with what every model call needs: a concurrency bound, a
//!   requests-per-minute limit, retries with exponential backoff and jitter that honour
//!   `Retry-After` (a 429 pauses the whole provider), the response [`preflight_core::Cache`], and
//!   [`preflight_core::Secrets`] cut out of every answer. Judges get a
//!   `Generator` too, so their calls are limited, retried and cached the same way.
//! - [`Batcher`] puts a provider's batch API behind the same handle: requests gathered into
//!   journalled chunks, submitted, polled and handed out, never submitted twice across restarts.
//! - [`Runner`] streams probes, skips the ones already stored (resume), runs each as a single-turn
//!   procedure, scores it, and reports it through an [`EventSink`]. It stops cleanly on cancel and
//!   aborts (as a harness error) when the provider is unreachable or rejects every request.
//!
//! The runner knows nothing of SQLite or terminals: the binary wires events to the store and the
//! progress display.
//!
//! ```
//! use std::sync::Arc;
//! use preflight_runner::{Generator, Limits};
//! # struct Echo;
//! # impl preflight_core::Generate for Echo {
//! #   fn model_id(&self) -> &str { "echo" }
//! #   fn generate<'a>(&'a self, r: &'a preflight_core::GenerateRequest, _: u32)
//! #     -> preflight_core::BoxFuture<'a, Result<preflight_core::GenerateResponse, preflight_core::ProviderError>> {
//! #     Box::pin(async move { Ok(preflight_core::GenerateResponse::new(r.messages[0].content.clone(),
//! #       preflight_core::FinishReason::Stop, Default::default())) }) }
//! # }
//! let g = Generator::new(Arc::new(Echo), "echo".into(), Limits::default(), None, None);
//! assert_eq!(g.limits().concurrency, 16);
//! ```

mod batch;
mod generator;
mod run;
mod spend;

pub use batch::{BatchConfig, Batcher};
pub use generator::{Generator, Limits, cache_key};
pub use run::{ABORT_AFTER_ERRORS, ABORT_AFTER_PERMANENT, EventSink, ProbeKeys, Runner, StopReason, probe_key};
pub use spend::Spend;
