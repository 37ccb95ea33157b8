//! `preflight view`: a local web app over a store.
//!
//! - [`http`]: the hyper server, the access rules (its own Host names on loopback, a token off
//!   loopback, a secret in every form, a strict CSP and no script on any page).
//! - [`App`]: routes and per-run caches (the scorecard and filter counts, computed once per
//!   state of a run); each request opens the store read-only, a review label opens it to write.
//! - Pages: [`runs`] (the list with live progress, a scorecard, the report download, two runs
//!   compared), [`probes`] (the explorer with filters and full-text search, a transcript,
//!   review) and `items` (persuasion-game conversations, agent attempts step by step). Every page is bounded: a page of probes is one index walk of 50 rows.
//!
//! ```no_run
//! let app = preflight_view::App::new("preflight.db".into());
//! let server = preflight_view::Server::start(app, "127.0.0.1:8765".parse().unwrap()).unwrap();
//! println!("{}", server.url());
//! server.wait();
//! ```

mod app;
pub mod http;
mod items;
mod page;
pub mod probes;
pub mod runs;

pub use app::App;
pub use http::{Req, Resp, Server};
