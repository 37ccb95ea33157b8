use std::{
    io::{IsTerminal, Write},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use preflight_core::{Event, Observer, Outcome};

#[derive(Default)]
struct Counters {
    total: AtomicU64,
    skipped: AtomicU64,
    done: AtomicU64,
    unsafe_: AtomicU64,
    over_refusal: AtomicU64,
    unassessable: AtomicU64,
    cached: AtomicU64,
    retries: AtomicU64,
}

/// Progress on stderr: a redrawn bar with rate and ETA on a terminal, a plain line every
/// `plain_every` otherwise (CI logs), and a final line either way.
pub struct Progress {
    c: Arc<Counters>,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Progress {
    /// Starts the display thread. `enabled = false` shows nothing (for `--quiet`).
    pub fn start(enabled: bool, plain_every: Duration) -> Progress {
        let c = Arc::new(Counters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let thread = enabled.then(|| {
            let (c, stop) = (c.clone(), stop.clone());
            std::thread::Builder::new()
                .name("preflight-progress".into())
                .spawn(move || render_loop(&c, &stop, std::io::stderr().is_terminal(), plain_every))
                .expect("spawn progress")
        });
        Progress { c, stop, thread: Mutex::new(thread) }
    }

    fn on_event(&self, e: &Event) {
        let c = &self.c;
        match e {
            Event::RunStarted(info) => {
                c.total.store(info.total, Ordering::Relaxed);
                c.skipped.store(info.already_done, Ordering::Relaxed);
            }
            Event::Retrying { .. } => {
                c.retries.fetch_add(1, Ordering::Relaxed);
            }
            Event::ProbeFinished(r) => {
                c.done.fetch_add(1, Ordering::Relaxed);
                let slot = match r.outcome {
                    Outcome::Unsafe => Some(&c.unsafe_),
                    Outcome::OverRefusal => Some(&c.over_refusal),
                    Outcome::Unassessable => Some(&c.unassessable),
                    Outcome::Safe => None,
                };
                if let Some(s) = slot {
                    s.fetch_add(1, Ordering::Relaxed);
                }
                if r.cached {
                    c.cached.fetch_add(1, Ordering::Relaxed);
                }
            }
            _ => {}
        }
    }

    /// Draws the final line and stops the display thread.
    pub fn finish(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.lock().unwrap().take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

impl Observer for Progress {
    fn observe(&self, e: &Event) {
        self.on_event(e);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

fn fmt_secs(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn line(c: &Counters, started: Instant, bar: bool) -> String {
    let total = c.total.load(Ordering::Relaxed);
    let skipped = c.skipped.load(Ordering::Relaxed);
    let done = c.done.load(Ordering::Relaxed);
    let all = skipped + done;
    let elapsed = started.elapsed().as_secs_f64().max(1e-3);
    let rate = done as f64 / elapsed;
    let left = total.saturating_sub(all);
    let eta = if rate > 0.0 { fmt_secs(left as f64 / rate) } else { "?".into() };
    let frac = if total > 0 { all as f64 / total as f64 } else { 0.0 };
    let mut s = String::new();
    if bar {
        let width = 24;
        let fill = (frac * width as f64).round() as usize;
        s.push_str(&format!("[{}{}] ", "#".repeat(fill.min(width)), "-".repeat(width - fill.min(width))));
    }
    s.push_str(&format!(
        "{all}/{total} ({:.0}%) {rate:.1}/s ETA {eta} · unsafe {} · over-refusal {} · unassessable {}",
        frac * 100.0,
        c.unsafe_.load(Ordering::Relaxed),
        c.over_refusal.load(Ordering::Relaxed),
        c.unassessable.load(Ordering::Relaxed),
    ));
    let (retries, cached) = (c.retries.load(Ordering::Relaxed), c.cached.load(Ordering::Relaxed));
    if retries > 0 {
        s.push_str(&format!(" · retries {retries}"));
    }
    if cached > 0 {
        s.push_str(&format!(" · cached {cached}"));
    }
    if skipped > 0 {
        s.push_str(&format!(" · resumed past {skipped}"));
    }
    s
}

fn render_loop(c: &Counters, stop: &AtomicBool, tty: bool, plain_every: Duration) {
    let started = Instant::now();
    let mut err = std::io::stderr();
    let tick = if tty { Duration::from_millis(100) } else { plain_every };
    let mut last_plain = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::park_timeout(if tty { tick } else { Duration::from_millis(200) });
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if tty {
            let _ = write!(err, "\r\x1b[2K{}", line(c, started, true));
            let _ = err.flush();
        } else if last_plain.elapsed() >= tick {
            last_plain = Instant::now();
            let _ = writeln!(err, "progress: {}", line(c, started, false));
        }
    }
    if tty {
        let _ = writeln!(err, "\r\x1b[2K{}", line(c, started, true));
    } else {
        let _ = writeln!(err, "progress: {}", line(c, started, false));
    }
}
