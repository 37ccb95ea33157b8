//! The only crate that speaks SQL.
//!
//! - [`Store`]: runs, probes (with full transcripts) and scores in one SQLite file
//!   (`./preflight.db` by default). A run's events (probes, game conversations, sequential
//!   stops, status changes) are written by its [`Writer`] thread only, in batched transactions;
//!   `(run, sample, epoch)` is the primary key, so a resumed run can neither lose nor duplicate a
//!   probe. WAL mode keeps committed batches across `kill -9`.
//! - [`Lease`]: one process at a time runs a run; the writer renews the lease, a dead holder's
//!   lease is taken over by the next resume.
//! - Validation samples: a stratified random sample of a run's answers for human labels, stored
//!   with the judge's verdict at the draw ([`JudgedProbe`]).
//! - [`StoreJournal`]: the batch journal (chunks sent to a provider's batch API, their batch ids),
//!   written synchronously so a killed run polls what it submitted instead of sending it again.
//! - Browsing ([`Store::probe_page`], [`Store::facets`]): the viewer's pages, each one index walk.
//! - [`SearchIndex`]: full-text search (FTS5) in a file beside the store, built by the viewer in
//!   the background (never by a run's writer), following each run by rowid.
//! - [`SqliteCache`]: the response cache in its own file, shared across stores and runs.
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("pf-store-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let store = preflight_store::Store::open(&dir.join("p.db")).unwrap();
//! let lease = preflight_store::Lease::for_this_process();
//! let id = store.create_run(&preflight_store::NewRun { suite_name: "demo".into(), model: "openai/x".into(),
//!     total: 3, config: serde_json::json!({}), ..Default::default() }, &lease).unwrap();
//! assert_eq!(store.run(&id).unwrap().unwrap().status, preflight_core::RunStatus::Running);
//! ```

mod batches;
mod browse;
mod cache;
mod coverage;
mod labels;
mod lease;
mod measures;
mod search;
mod stops;
mod store;
mod time;
mod validation;
mod writer;

pub use batches::StoreJournal;
pub use browse::{Facets, MeasureLine, NO_ATTACK, ProbeFilter, ProbeLine, fts_query};
pub use cache::SqliteCache;
pub use coverage::{Behaviour, Cell};
pub use labels::Calibration;
pub use lease::{HEARTBEAT, Lease, LeaseHolder, STALE_AFTER};
pub use measures::{MeasureItem, MeasureObs};
pub use search::{Coverage, SearchIndex, index_path};
pub use stops::OutcomeRow;
pub use store::{NewRun, ProbeRow, RunRow, Speed, Store, StoreError};
pub use time::{now_rfc3339, rfc3339, rfc3339_seconds};
pub use validation::JudgedProbe;
pub use writer::Writer;
