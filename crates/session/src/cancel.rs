//! Stopping a session from outside: [`Cancel::stop`] finishes what is being written and ends
//! the run interrupted (resumable); the process's Ctrl-C / SIGTERM do the same when the caller
//! asks for [`Signals::Process`], and a second one quits at once after the run is marked.

use std::sync::Arc;

use tokio::sync::watch;

/// A handle that stops a running session. Cheap to clone; any thread.
#[derive(Clone)]
pub struct Cancel {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Cancel {
    fn default() -> Self {
        Cancel { tx: Arc::new(watch::channel(false).0) }
    }
}

impl Cancel {
    /// Stops the session: in-flight probes are dropped (resume runs them), stored ones stay.
    pub fn stop(&self) {
        let _ = self.tx.send(true);
    }

    pub fn is_stopped(&self) -> bool {
        *self.tx.borrow()
    }

    pub(crate) fn sender(&self) -> Arc<watch::Sender<bool>> {
        self.tx.clone()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<bool> {
        self.tx.subscribe()
    }
}

/// What the process's interrupt signals do during a session.
pub enum Signals {
    /// Nothing: the caller stops the session with [`Cancel::stop`].
    Ignore,
    /// Ctrl-C / SIGTERM stop the session like [`Cancel::stop`]; a second one marks the run
    /// interrupted in the store (waiting at most two seconds for the writer) and then calls
    /// `quit` (which should end the process: whatever was in flight is abandoned).
    Process { quit: Box<dyn Fn() + Send + Sync> },
}

pub(crate) async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
