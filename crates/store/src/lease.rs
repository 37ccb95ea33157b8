//! Runs are leased: one process at a time runs a run. The holder's writer beats every
//! [`HEARTBEAT`]; a lease whose holder stopped beating for [`STALE_AFTER`], or whose process is
//! gone from this machine, is taken over by the next `--resume`. Two processes on one run would
//! send every prompt twice.

use std::time::Duration;

use serde::Serialize;

/// How often the holder's writer renews its lease.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// A lease not renewed for this long belongs to a process that is gone (or cut off).
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// Milliseconds since the epoch, as leases record them.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// This process's claim on runs: `host/pid/nonce`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    owner: String,
}

impl Lease {
    /// A lease for this process (a fresh nonce, so two stores opened by one process differ).
    pub fn for_this_process() -> Lease {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
            .unwrap_or(0);
        Lease { owner: format!("{}/{}/{:08x}", host_name(), std::process::id(), nanos) }
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }
}

/// Who holds a run, as the store says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaseHolder {
    pub owner: String,
    pub host: String,
    pub pid: Option<u32>,
    /// When it last beat, ms since the epoch.
    pub heartbeat_ms: i64,
}

impl LeaseHolder {
    pub(crate) fn from_columns(owner: Option<String>, heartbeat_ms: Option<i64>) -> Option<LeaseHolder> {
        let owner = owner?;
        let mut parts = owner.splitn(3, '/');
        let host = parts.next().unwrap_or_default().to_string();
        let pid = parts.next().and_then(|p| p.parse().ok());
        Some(LeaseHolder { owner, host, pid, heartbeat_ms: heartbeat_ms.unwrap_or(0) })
    }

    /// Time since the last heartbeat.
    pub fn age(&self) -> Duration {
        Duration::from_millis(now_ms().saturating_sub(self.heartbeat_ms).max(0) as u64)
    }

    /// The holder still runs the run: it beat recently, and if it is on this machine its process
    /// exists.
    pub fn is_live(&self) -> bool {
        if self.age() >= STALE_AFTER {
            return false;
        }
        match self.pid {
            Some(pid) if self.host == host_name() => process_exists(pid),
            _ => true,
        }
    }
}

impl std::fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.pid {
            Some(pid) => write!(f, "pid {pid} on {}", self.host)?,
            None => write!(f, "{}", self.owner)?,
        }
        write!(f, " (last heartbeat {} s ago)", self.age().as_secs())
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Whether a process with this id exists here. Without `/proc` nothing can be told, so it is
/// assumed to exist and only the heartbeat decides.
fn process_exists(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_is_live_while_it_beats_and_its_process_exists() {
        let me = Lease::for_this_process();
        let live = LeaseHolder::from_columns(Some(me.owner().into()), Some(now_ms())).unwrap();
        assert!(live.is_live());
        assert_eq!(live.pid, Some(std::process::id()));
        let stale = LeaseHolder::from_columns(Some(me.owner().into()), Some(now_ms() - 60_000)).unwrap();
        assert!(!stale.is_live(), "no heartbeat for a minute");
        // A process id that cannot exist on this machine: gone, whatever the heartbeat says.
        let gone = LeaseHolder::from_columns(Some(format!("{}/4294967290/x", host_name())), Some(now_ms())).unwrap();
        assert!(!gone.is_live());
        let elsewhere = LeaseHolder::from_columns(Some("other.example/4294967290/x".into()), Some(now_ms())).unwrap();
        assert!(elsewhere.is_live(), "another machine's process cannot be checked: the heartbeat decides");
        assert!(elsewhere.to_string().starts_with("pid 4294967290 on other.example"));
    }
}
