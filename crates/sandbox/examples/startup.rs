//! Sandbox start-up and teardown times (bench/sandbox.sh): N sandboxes made one after another,
//! each running one command, then dropped; prints median and p99 of each stage in ms.
//!
//!   cargo run --release -p preflight-sandbox --example startup -- [N]

use std::time::{Duration, Instant};

use preflight_sandbox::{Limits, Sandbox};

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    preflight_sandbox::available().expect("sandbox available");
    let parent = std::env::temp_dir().join(format!("pf-sandbox-bench-{}", std::process::id()));
    let (mut start, mut exec, mut drop_) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let t = Instant::now();
        let sb = Sandbox::start(&parent, None, Limits::default()).expect("start");
        start.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        assert!(sb.exec("true", b"", Duration::from_secs(10)).unwrap().ok());
        exec.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        drop(sb);
        drop_.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let _ = std::fs::remove_dir_all(&parent);
    println!("| stage | n | median ms | p99 ms |\n|---|---:|---:|---:|");
    for (name, v) in [("start", &mut start), ("exec `true`", &mut exec), ("drop", &mut drop_)] {
        println!("| {name} | {n} | {:.1} | {:.1} |", pct(v, 0.5), pct(v, 0.99));
    }
}
