//! The viewer's state and its routes. Each request opens the store read-only (a cheap SQLite
//! open; a run being written stays readable through WAL); only a review label opens it to write.
//! A run's scorecard and filter counts are computed once per state of the run and kept.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
};

use preflight_report::Report;
use preflight_store::{Facets, Store};

use crate::{
    http::{Req, Resp, random_hex},
    page::{esc, frame},
};

/// What identifies one state of a run: a new probe, score or label anywhere, or a status change,
/// makes a new key (all O(1) reads).
#[derive(Debug, Clone, PartialEq, Eq)]
struct StateKey {
    probes: i64,
    scores: i64,
    updated_at: String,
    status: String,
}

type Cached<T> = Mutex<HashMap<String, (StateKey, Arc<T>)>>;

pub struct App {
    pub(crate) store: PathBuf,
    /// Stops the search indexer when the app goes.
    stop: Arc<std::sync::atomic::AtomicBool>,
    /// The review form's secret: a label is written only with it (a page of another site cannot
    /// post one).
    pub(crate) form_secret: String,
    reports: Cached<Result<Report, String>>,
    facets: Cached<Result<Facets, String>>,
}

impl App {
    /// The app over the store at `store`; starts the search indexer (`search.rs` of the store
    /// crate: a file beside the store, filled in the background, a few thousand probes at a time).
    pub fn new(store: PathBuf) -> App {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (path, flag) = (store.clone(), stop.clone());
        let _ =
            std::thread::Builder::new().name("preflight-index".into()).spawn(move || index_in_background(&path, &flag));
        App { store, stop, form_secret: random_hex(16), reports: Mutex::default(), facets: Mutex::default() }
    }

    pub(crate) fn open(&self) -> Result<Store, Resp> {
        Store::open_read_only(&self.store).map_err(|e| Resp::text(500, e.to_string()))
    }

    fn key(&self, store: &Store, run: &preflight_store::RunRow) -> StateKey {
        let (probes, scores) = store.high_water().unwrap_or((-1, -1));
        StateKey { probes, scores, updated_at: run.updated_at.clone(), status: run.status.as_str().to_string() }
    }

    fn cached<T>(
        &self,
        cache: &Cached<T>,
        store: &Store,
        run: &preflight_store::RunRow,
        make: impl FnOnce() -> T,
    ) -> Arc<T> {
        let key = self.key(store, run);
        if let Some((k, v)) = cache.lock().unwrap().get(&run.id)
            && *k == key
        {
            return v.clone();
        }
        let v = Arc::new(make());
        cache.lock().unwrap().insert(run.id.clone(), (key, v.clone()));
        v
    }

    /// The run's report (scorecard, evidence), computed once per state of the run.
    pub(crate) fn report(&self, store: &Store, run: &preflight_store::RunRow) -> Arc<Result<Report, String>> {
        self.cached(&self.reports, store, run, || {
            let policy = preflight_stats::Policy::load_or_default(preflight_report::policy_path_of(run).as_deref())
                .map_err(|e| e.to_string())?;
            preflight_report::report_of(store, &run.id, &policy).map_err(|e| e.to_string())
        })
    }

    /// The counts behind the explorer's filters, once per state of the run.
    pub(crate) fn facets(&self, store: &Store, run: &preflight_store::RunRow) -> Result<Facets, Resp> {
        let made = self.cached(&self.facets, store, run, || store.facets(&run.id).map_err(|e| e.to_string()));
        made.as_ref().clone().map_err(|e| Resp::text(500, e))
    }

    /// Routes a request.
    pub fn handle(&self, r: &Req) -> Resp {
        let parts: Vec<&str> = r.path.trim_matches('/').split('/').collect();
        let res = match (r.method.as_str(), parts.as_slice()) {
            ("GET", [""]) => crate::runs::list(self, r),
            ("GET", ["style.css"]) => Ok(Resp {
                status: 200,
                content_type: "text/css; charset=utf-8",
                body: crate::page::style().into_bytes(),
                headers: Vec::new(),
            }),
            ("GET", ["compare"]) => crate::runs::compare(self, r),
            ("GET", ["run", id]) => crate::runs::scorecard(self, id),
            ("GET", ["run", id, "report.html"]) => crate::runs::download(self, id),
            ("GET", ["run", id, "probes"]) => crate::probes::explorer(self, id, r),
            ("GET", ["run", id, "probe"]) => crate::probes::transcript(self, id, r),
            ("GET", ["run", id, "items"]) => crate::items::list(self, id, r),
            ("GET", ["run", id, "item"]) => crate::items::item(self, id, r),
            ("GET", ["run", id, "review"]) => crate::probes::review(self, id, r),
            ("POST", ["run", id, "label"]) => crate::probes::label(self, id, r),
            _ => Err(not_found("no such page")),
        };
        res.unwrap_or_else(|e| e)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Keeps the search index up with the store until `stop`: new probes of every run, then a pause.
fn index_in_background(store: &std::path::Path, stop: &std::sync::atomic::AtomicBool) {
    let mut index = None;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        if index.is_none() {
            index = preflight_store::SearchIndex::open(store).ok();
        }
        let done = match index.as_mut().map(|i| i.catch_up(5_000)) {
            Some(Ok(n)) => n,
            // The store or the index cannot be read now (being replaced, a full disk): later.
            _ => {
                index = None;
                0
            }
        };
        if done == 0 {
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    }
}

pub(crate) fn not_found(what: &str) -> Resp {
    let mut r = Resp::html(frame("not found", &[], &format!("<h1>Not found</h1><p>{}</p>", esc(what)), None));
    r.status = 404;
    r
}

/// The run `id`, or a 404 page.
pub(crate) fn run_or_404(store: &Store, id: &str) -> Result<preflight_store::RunRow, Resp> {
    match store.run(id) {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(not_found(&format!("no run {id} in this store"))),
        Err(e) => Err(Resp::text(500, e.to_string())),
    }
}
