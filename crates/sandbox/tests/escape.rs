//! The sandbox against an agent trying to get out: the network, the host's files, the task's
//! private files, the caller's environment, a fork bomb, a memory hog, a command that will not
//! end and processes meant to outlive the task. Each attempt fails inside, is reported as the
//! command's outcome, and leaves the host as it was.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use preflight_sandbox::{Limits, Sandbox};

fn parent(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pf-sandbox-test-{tag}-{}", std::process::id()))
}

fn start(tag: &str, files: Option<&Path>) -> Sandbox {
    preflight_sandbox::available().expect("the sandbox's programs are installed (scripts/deps.sh)");
    Sandbox::start(&parent(tag), files, Limits { processes: 64, memory_bytes: 512 << 20, ..Limits::default() })
        .expect("sandbox starts")
}

const T: Duration = Duration::from_secs(20);

/// The task's private directory: a service and the flag it guards.
fn private(tag: &str) -> PathBuf {
    let p = parent(tag).join("private");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("flag.txt"), "flag{only-the-service-knows}").unwrap();
    std::fs::write(
        p.join("server.py"),
        "import http.server\nflag = open('flag.txt').read()\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        self.send_response(200); self.end_headers()\n        self.wfile.write(b'guarded' if self.path != '/' + 'open-sesame' else flag.encode())\n    def log_message(self, *a):\n        pass\nhttp.server.HTTPServer(('127.0.0.1', 8080), H).serve_forever()\n",
    )
    .unwrap();
    p
}

#[test]
fn the_agent_reaches_its_task_services_and_no_other_network() {
    let p = private("net");
    let sb = start("net", None);
    let log = parent("net").join("service.log");
    sb.spawn_service("exec python3 server.py", &[(&p, "/task/private")], &[], "/task/private", &log).unwrap();
    assert!(
        sb.wait_for_port(8080, T).unwrap(),
        "the service came up: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let get = |path: &str| {
        sb.exec(
            &format!("python3 -c \"import urllib.request as u; print(u.urlopen('http://127.0.0.1:8080/{path}').read().decode())\""),
            b"",
            T,
        )
        .unwrap()
    };
    assert_eq!(get("x").stdout.trim(), "guarded");
    assert_eq!(get("open-sesame").stdout.trim(), "flag{only-the-service-knows}", "solving reveals the flag");
    // Beyond the loopback there is no route at all, by address or by name.
    for target in ["1.1.1.1/80", "10.0.0.1/22", "192.168.0.1/443"] {
        let e = sb.exec(&format!("exec 3<>/dev/tcp/{target}"), b"", T).unwrap();
        assert!(!e.ok() && e.stderr.contains("unreachable"), "{target}: {e:?}");
    }
    let e = sb.exec("getent hosts example.com || echo no-dns", b"", T).unwrap();
    assert!(e.stdout.contains("no-dns"), "{e:?}");
    // The service's files are not the agent's to read.
    let e = sb.exec("cat /task/private/flag.txt; ls /task", b"", T).unwrap();
    assert!(!e.ok() && !e.stdout.contains("flag{"), "{e:?}");
    let e = sb.exec("grep -rs --exclude-dir=proc --exclude-dir=sys --exclude-dir=usr --exclude-dir=dev 'only-the-service' / 2>/dev/null; echo done", b"", Duration::from_secs(60)).unwrap();
    assert!(!e.stdout.contains("flag{"), "the flag is nowhere in the agent's view: {e:?}");
}

#[test]
fn writes_outside_the_work_directory_never_reach_the_host() {
    let files = parent("files-src");
    std::fs::create_dir_all(files.join("sub")).unwrap();
    std::fs::write(files.join("sub/given.txt"), "given").unwrap();
    let sb = start("fs", Some(&files));
    let host_marker = parent("fs").join("host-only.txt");
    std::fs::write(&host_marker, "HOST-SECRET-123").unwrap();
    let e = sb.exec("cat sub/given.txt; echo made > made.txt; pwd", b"", T).unwrap();
    assert_eq!(e.stdout, "given/work\n", "{e:?}");
    assert_eq!(std::fs::read_to_string(sb.work_dir().join("made.txt")).unwrap(), "made\n");
    for attempt in ["touch /usr/bin/evil", "echo x > /etc/passwd", "rm -rf /usr/lib/os-release"] {
        let e = sb.exec(attempt, b"", T).unwrap();
        assert!(!e.ok(), "{attempt} succeeded: {e:?}");
    }
    // The sandbox's / and /tmp are its own: nothing written there shows on the host.
    let e =
        sb.exec(&format!("echo x > /tmp/escaped; cat {} 2>&1; ls /root 2>&1", host_marker.display()), b"", T).unwrap();
    assert!(!e.stdout.contains("HOST-SECRET-123"), "a host file was readable: {e:?}");
    assert!(!Path::new("/tmp/escaped").exists());
    // Nothing of the caller's environment (API keys live there) is inside.
    let e = sb.exec("env", b"", T).unwrap();
    assert!(e.ok() && !e.stdout.contains("CARGO") && e.stdout.contains("HOME=/work"), "{e:?}");
    std::fs::remove_dir_all(&files).unwrap();
}

#[test]
fn a_fork_bomb_and_a_memory_hog_fail_inside_and_the_host_carries_on() {
    let sb = start("bomb", None);
    let e = sb.exec(":(){ :|:& };:; sleep 1; echo survived", b"", Duration::from_secs(15)).unwrap();
    assert!(e.stderr.contains("fork") || e.stderr.contains("Resource") || e.timed_out, "{e:?}");
    // The process limit held: the host can still start processes.
    assert!(std::process::Command::new("true").status().unwrap().success());
    let e = sb.exec("python3 -c 'x = bytearray(3 << 30)'", b"", T).unwrap();
    assert!(!e.ok() && e.stderr.contains("MemoryError"), "{e:?}");
    // The sandbox still answers after both.
    let e = sb.exec("echo still here", b"", T).unwrap();
    assert_eq!(e.stdout, "still here\n");
}

#[test]
fn a_command_past_its_time_is_killed_and_nothing_outlives_the_sandbox() {
    let sb = start("time", None);
    let e = sb.exec("sleep 30; echo never", b"", Duration::from_millis(500)).unwrap();
    assert!(e.timed_out && e.exit.is_none() && !e.stdout.contains("never"), "{e:?}");
    assert!(e.elapsed_ms < 5_000, "{e:?}");
    // A process started in the background lives on into the next command ...
    let e =
        sb.exec("(while :; do date +%s%N > beat; sleep 0.05; done &) ; sleep 987.654 & echo started", b"", T).unwrap();
    assert!(e.stdout.contains("started"), "{e:?}");
    let e = sb.exec("a=$(cat beat); sleep 0.3; b=$(cat beat); [ \"$a\" != \"$b\" ] && echo alive", b"", T).unwrap();
    assert_eq!(e.stdout.trim(), "alive", "{e:?}");
    let dir = sb.work_dir().parent().unwrap().to_path_buf();
    // ... and dies with the sandbox, which leaves no process and no file behind.
    drop(sb);
    std::thread::sleep(Duration::from_millis(200));
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains("987.654"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn input_goes_in_on_stdin_and_long_output_is_cut() {
    let sb = start("io", None);
    let e = sb.exec("base64 -d > note.txt && cat note.txt", b"aGVsbG8gc2FuZGJveA==", T).unwrap();
    assert_eq!(e.stdout, "hello sandbox");
    let e = sb.exec("head -c 1000000 /dev/zero | tr '\\0' a", b"", T).unwrap();
    assert!(e.ok() && e.stdout.len() < 70_000 && e.stdout.ends_with("bytes]"), "{}", e.stdout.len());
    // Setup and checks run beside the agent, on the same files, with what it cannot see.
    let p = private("io");
    let e = sb
        .run_trusted("cat /task/private/flag.txt > /work/from-setup; cat note.txt", &[(&p, "/task/private")], &[], T)
        .unwrap();
    assert_eq!(e.stdout, "hello sandbox", "{e:?}");
    let e = sb.exec("cat from-setup", b"", T).unwrap();
    assert!(e.stdout.starts_with("flag{"), "setup's files are the agent's: {e:?}");
}
