//! A scriptable OpenAI-compatible server for tests and benchmarks. It binds 127.0.0.1 only.
//!
//! By default it answers every `POST /v1/chat/completions` (also `/chat/completions`) with a
//! compliant text, or a refusal when the last user message contains the refusal marker. [`Rule`]s
//! script anything else by substring of the last user message: a fixed reply, an HTTP status with
//! `Retry-After`, a hang, a malformed body, a content-filter stop — optionally only for the first N
//! requests carrying that exact message, which models transient faults.
//!
//! A request with `"stream": true` gets its answer as chat-completions server-sent events
//! (chunks of a few words, a usage chunk, `data: [DONE]`), sent whole after the latency.
//!
//! `GET /stats` returns request counters; `POST /stats/reset` zeroes them.
//!
//! OpenAI's Batch API for chat completions is served too (`/v1/files`, `/v1/batches`): each line
//! of a batch is answered by the same marker and rules, and a batch completes
//! [`MockConfig::batch_ms`] after its creation; [`Stats`] counts the batches created and how
//! often each custom id was submitted.
//!
//! ```
//! let mock = preflight_mock::MockServer::start(preflight_mock::MockConfig::default()).unwrap();
//! assert!(mock.base_url().starts_with("http://127.0.0.1:"));
//! ```

//! [`Scripted`] is the transport for mocks of other APIs: it records every request and answers
//! with what the test's function returns, so a test speaks Anthropic's or Gemini's wire format
//! without a server of its own.

mod batch;
mod scripted;
mod server;

pub use scripted::{Recorded, Reply, Scripted};

pub mod agent;
pub use server::{Action, MockConfig, MockServer, Rule, Stats};
