//! The only crate that speaks SQL.
//!
//! - [`Store`]: runs, probes (with full transcripts) and scores in one SQLite file
//!   (`./preflight.db` by default). Probes are appended by a [`Writer`] thread in batched
//!   transactions; `(run, sample, epoch)` is the primary key, so a resumed run can neither lose
//!   nor duplicate a probe. WAL mode keeps committed batches across `kill -9`.
//! - [`SqliteCache`]: the response cache in its own file, shared across stores and runs.
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("pf-store-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let store = preflight_store::Store::open(&dir.join("p.db")).unwrap();
//! let id = store.create_run(&preflight_store::NewRun { suite_name: "demo".into(), model: "openai/x".into(),
//!     total: 3, config: serde_json::json!({}), ..Default::default() }).unwrap();
//! assert_eq!(store.run(&id).unwrap().unwrap().status, "running");
//! ```

mod cache;
mod coverage;
mod labels;
mod measures;
mod stops;
mod store;
mod time;
mod writer;

pub use cache::SqliteCache;
pub use coverage::{Behaviour, Cell};
pub use labels::Calibration;
pub use measures::{MeasureItem, MeasureObs, MeasureRow};
pub use stops::{OutcomeRow, StopRow};
pub use store::{NewRun, ProbeRow, RunRow, Store, StoreError};
pub use time::{now_rfc3339, rfc3339, rfc3339_seconds};
pub use writer::Writer;
