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

/// Values per run, each kept with the state of the run it was computed for. `busy` holds a lock
/// per run while one is computed, so two requests (or a request and the warm-up) for the same
/// big run wait for one computation instead of making two.
struct Cached<T> {
    values: Mutex<HashMap<String, (StateKey, Arc<T>)>>,
    busy: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached { values: Mutex::default(), busy: Mutex::default() }
    }
}

/// The per-run caches, shared with the background thread that warms them.
#[derive(Default)]
struct Caches {
    reports: Cached<Result<Report, String>>,
    facets: Cached<Result<Facets, String>>,
}

fn key(store: &Store, run: &preflight_store::RunRow) -> StateKey {
    let (probes, scores) = store.high_water().unwrap_or((-1, -1));
    StateKey { probes, scores, updated_at: run.updated_at.clone(), status: run.status.as_str().to_string() }
}

fn cached<T>(cache: &Cached<T>, store: &Store, run: &preflight_store::RunRow, make: impl FnOnce() -> T) -> Arc<T> {
    let key = key(store, run);
    let hit = || {
        let values = cache.values.lock().unwrap();
        values.get(&run.id).filter(|(k, _)| *k == key).map(|(_, v)| v.clone())
    };
    if let Some(v) = hit() {
        return v;
    }
    let lock = cache.busy.lock().unwrap().entry(run.id.clone()).or_default().clone();
    let _computing = lock.lock().unwrap();
    if let Some(v) = hit() {
        return v;
    }
    let v = Arc::new(make());
    cache.values.lock().unwrap().insert(run.id.clone(), (key, v.clone()));
    v
}

impl Caches {
    fn report(&self, store: &Store, run: &preflight_store::RunRow) -> Arc<Result<Report, String>> {
        cached(&self.reports, store, run, || {
            let policy = preflight_stats::Policy::load_or_default(preflight_report::policy_path_of(run).as_deref())
                .map_err(|e| e.to_string())?;
            preflight_report::report_of(store, &run.id, &policy).map_err(|e| e.to_string())
        })
    }

    fn facets(&self, store: &Store, run: &preflight_store::RunRow) -> Arc<Result<Facets, String>> {
        cached(&self.facets, store, run, || store.facets(&run.id).map_err(|e| e.to_string()))
    }
}

/// Runs whose filter counts and scorecard are computed when the viewer starts, newest first
/// (on a run of 10⁶ probes they take seconds: better before the first click than after it).
const WARM_RUNS: usize = 3;

pub struct App {
    pub(crate) store: PathBuf,
    /// Stops the background thread when the app goes.
    stop: Arc<std::sync::atomic::AtomicBool>,
    /// The review form's secret: a label is written only with it (a page of another site cannot
    /// post one).
    pub(crate) form_secret: String,
    caches: Arc<Caches>,
}

impl App {
    /// The app over the store at `store`. A background thread warms the newest runs' caches,
    /// then keeps the search index (`SearchIndex`: a file beside the store) up with the store.
    pub fn new(store: PathBuf) -> App {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let caches = Arc::new(Caches::default());
        let (path, flag, warm) = (store.clone(), stop.clone(), caches.clone());
        let _ = std::thread::Builder::new().name("preflight-view-background".into()).spawn(move || {
            if let Ok(s) = Store::open_read_only(&path) {
                for run in s.runs().unwrap_or_default().iter().take(WARM_RUNS) {
                    if flag.load(std::sync::atomic::Ordering::Relaxed) {
                        return;
                    }
                    warm.facets(&s, run);
                    warm.report(&s, run);
                }
            }
            index_in_background(&path, &flag)
        });
        App { store, stop, form_secret: random_hex(16), caches }
    }

    pub(crate) fn open(&self) -> Result<Store, Resp> {
        Store::open_read_only(&self.store).map_err(|e| Resp::text(500, e.to_string()))
    }

    /// The run's report (scorecard, evidence), computed once per state of the run.
    pub(crate) fn report(&self, store: &Store, run: &preflight_store::RunRow) -> Arc<Result<Report, String>> {
        self.caches.report(store, run)
    }

    /// The counts behind the explorer's filters, once per state of the run.
    pub(crate) fn facets(&self, store: &Store, run: &preflight_store::RunRow) -> Result<Facets, Resp> {
        self.caches.facets(store, run).as_ref().clone().map_err(|e| Resp::text(500, e))
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

/// The run `id` (its probes not counted: `done` is 0), or a 404 page.
pub(crate) fn run_or_404(store: &Store, id: &str) -> Result<preflight_store::RunRow, Resp> {
    match store.run_header(id) {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(not_found(&format!("no run {id} in this store"))),
        Err(e) => Err(Resp::text(500, e.to_string())),
    }
}
