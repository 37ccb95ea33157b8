//! `preflight-mock`: run the mock server from the command line (benchmarks, manual testing).
//!
//! ```text
//! preflight-mock [--port N] [--port-file F] [--latency-ms MS] [--marker S] [--reply-words N]
//!                [--rules FILE.json] [--threads N] [--batch-ms MS]
//! preflight-mock --replay-tasks DIR [--guess] [--port-file F]   a scripted agent (`preflight_mock::agent`)
//! ```
use std::io::Write;

fn main() {
    let mut cfg = preflight_mock::MockConfig { threads: 0, ..Default::default() };
    let mut port = 8089u16;
    let mut port_file = None;
    let (mut replay, mut guess) = (None::<String>, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| die(&format!("{a} needs a value")));
        match a.as_str() {
            "--port" => port = val().parse().unwrap_or_else(|_| die("--port: not a number")),
            "--port-file" => port_file = Some(val()),
            "--latency-ms" => cfg.latency_ms = val().parse().unwrap_or_else(|_| die("--latency-ms: not a number")),
            "--marker" => cfg.marker = val(),
            "--reply-words" => cfg.reply_words = val().parse().unwrap_or_else(|_| die("--reply-words: not a number")),
            "--batch-ms" => cfg.batch_ms = val().parse().unwrap_or_else(|_| die("--batch-ms: not a number")),
            "--threads" => cfg.threads = val().parse().unwrap_or_else(|_| die("--threads: not a number")),
            "--replay-tasks" => replay = Some(val()),
            "--guess" => guess = true,
            "--rules" => {
                let path = val();
                let text = std::fs::read_to_string(&path).unwrap_or_else(|e| die(&format!("{path}: {e}")));
                cfg.rules = serde_json::from_str(&text).unwrap_or_else(|e| die(&format!("{path}: {e}")));
            }
            "-h" | "--help" => {
                println!(
                    "preflight-mock [--port N] [--port-file F] [--latency-ms MS] [--marker S] [--reply-words N] [--rules FILE.json] [--threads N] [--batch-ms MS]"
                );
                return;
            }
            other => die(&format!("unknown argument {other}")),
        }
    }
    if let Some(dir) = replay {
        let handler = preflight_mock::agent::replay(std::path::Path::new(&dir), guess, std::time::Duration::ZERO);
        let server = preflight_mock::Scripted::start(handler).unwrap_or_else(|e| die(&format!("bind: {e}")));
        if let Some(f) = port_file {
            let port = server.url().rsplit(':').next().unwrap_or("").to_string();
            std::fs::write(&f, format!("{port}\n")).unwrap_or_else(|e| die(&format!("{f}: {e}")));
        }
        eprintln!("preflight-mock: scripted agent on {}", server.url());
        loop {
            std::thread::park();
        }
    }
    let server = preflight_mock::MockServer::start_on(cfg, port).unwrap_or_else(|e| die(&format!("bind: {e}")));
    if let Some(f) = port_file {
        let mut file = std::fs::File::create(&f).unwrap_or_else(|e| die(&format!("{f}: {e}")));
        writeln!(file, "{}", server.addr().port()).ok();
    }
    eprintln!("preflight-mock listening on {}", server.base_url());
    // Serve until killed.
    loop {
        std::thread::park();
    }
}

fn die(msg: &str) -> ! {
    eprintln!("preflight-mock: {msg}");
    std::process::exit(2);
}
