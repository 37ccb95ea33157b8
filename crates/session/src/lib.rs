//! An evaluation session as a library: everything `preflight eval` does, without the command
//! line, so the viewer, exports and workers can start, resume or stop an evaluation.
//!
//! - [`RunConfig`] (`config`): what a run is, typed and stored as JSON with the run (never
//!   secrets); [`Overrides`]: what a resume may change; the range checks every number passes.
//! - [`Session`]: [`Session::prepare`] validates and wires providers and judges
//!   (`wiring`, `judges`), creates or takes over the run (its lease); [`Session::run`] carries
//!   out the phases — probes, survivors (`attack`), sequential rounds (`sequential`), persuasion
//!   games (`games`) — as one stream of [`preflight_core::Event`]s that the store's writer
//!   persists and the caller's [`preflight_core::Observer`] shows, and ends in a [`Finish`].
//! - [`Cancel`] and [`Signals`]: stopping a session from outside, or on Ctrl-C.
//! - `builtin` and `suites`: the built-in suites and how a suite argument is resolved.
//! - `calibrate`: `judge check`, a judge measured against human labels; `generate`: new seed
//!   prompts per (category × style) cell from an attacker model; `plan`: probes and time each
//!   category needs before a run; `validate`: the stratified random sample `review --validate`
//!   draws for human labels.
//!
//! ```no_run
//! use std::sync::Arc;
//! use preflight_session::{Finish, Paths, RunConfig, Session, Signals, Start};
//! let cfg = RunConfig::new("builtin:starter", "openai/gpt-4o-mini", "https://api.openai.com/v1");
//! let paths = Paths { store: "preflight.db".into(), cache_dir: preflight_session::cache_dir(None) };
//! let session = Session::prepare(Start::New(Box::new(cfg)), &paths).unwrap();
//! match session.run(Arc::new(preflight_core::Unobserved), Signals::Ignore).unwrap() {
//!     Finish::Verdict(report) => println!("{}", report.verdict_line()),
//!     Finish::Interrupted | Finish::StoreFailed(_) | Finish::NoVerdict(_) => {}
//! }
//! ```

pub mod attack;
pub mod builtin;
pub mod calibrate;
mod cancel;
pub mod capabilities;
pub mod config;
mod games;
pub mod generate;
pub mod judges;
pub mod plan;
pub mod prices;
mod sequential;
mod session;
pub mod suites;
pub mod validate;
pub mod wiring;

pub use cancel::{Cancel, Signals};
pub use config::{Overrides, RunConfig};
pub use session::{Finish, Info, MAX_HARNESS_ERROR_SHARE, Paths, Session, Start};
pub use wiring::{cache_dir, default_base_url};
