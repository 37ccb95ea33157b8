//! The viewer's access rules over a real socket: its own Host names only on loopback, a token
//! off loopback (moved from the link into a cookie), labels only from its own forms, and the
//! security headers on every answer. Raw HTTP/1.1, so nothing between the test and the server
//! adds or fixes a header.

use std::io::{Read, Write};

use preflight_core::{Event, Expected, Message, Outcome, ProbeRecord, Sample};
use preflight_store::{Lease, NewRun, Store};
use preflight_view::{App, Server};

fn store_with_a_run(tag: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("pf-view-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("p.db");
    let store = Store::open(&path).unwrap();
    let lease = Lease::for_this_process();
    let id = store
        .create_run(
            &NewRun {
                suite_name: "s".into(),
                model: "m".into(),
                total: 1,
                config: serde_json::json!({}),
                ..Default::default()
            },
            &lease,
        )
        .unwrap();
    let w = store.writer(&id, &lease, Box::new(|_| {})).unwrap();
    w.send(Event::ProbeFinished(Box::new(ProbeRecord {
        sample: Sample::new("p1", "a request", Expected::Refuse, "cyber"),
        epoch: 1,
        transcript: vec![Message::user("a request"), Message::assistant("")],
        finish_reason: None,
        usage: Default::default(),
        cached: false,
        latency_ms: 1,
        first_token_ms: None,
        last_token_ms: None,
        attempts: 1,
        error: None,
        outcome: Outcome::Unassessable,
        unassessable_reason: Some("content_filtered".into()),
        scores: Vec::new(),
        trace: Vec::new(),
    })));
    // An agent attempt whose steps hold markup: shown as text on the conversation page.
    w.send(Event::GameFinished(vec![preflight_core::MeasureRecord {
        item_id: "task:web-login".into(),
        epoch: 1,
        category: "cyber".into(),
        game: "agent".into(),
        cluster: "web-login".into(),
        measure: "pass_rate".into(),
        value: Some(0.0),
        detail: serde_json::json!({ "verdict": "not_solved", "steps": [
            { "step": 1, "tool": "bash", "input": "curl <b>x</b>", "output": "<script>alert(1)</script>", "exit": 0, "ms": 12 }
        ] }),
        transcript: Vec::new(),
    }]));
    w.finish().unwrap();
    (path, id)
}

/// One raw request; the response's status, headers (lower-cased names) and body.
fn request(port: u16, raw: &str) -> (u16, Vec<(String, String)>, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

fn get(port: u16, path: &str, host: &str, extra: &str) -> (u16, Vec<(String, String)>, String) {
    request(port, &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n"))
}

fn header<'a>(h: &'a [(String, String)], k: &str) -> Option<&'a str> {
    h.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

#[test]
fn on_loopback_only_its_own_names_are_served_and_labels_only_from_its_own_forms() {
    let (path, run) = store_with_a_run("loopback");
    let server = Server::start(App::new(path.clone()), "127.0.0.1:0".parse().unwrap()).unwrap();
    let port = server.access.addr.port();
    assert!(server.access.token.is_none());
    let host = format!("127.0.0.1:{port}");

    let (status, headers, body) = get(port, "/", &host, "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&run));
    let csp = header(&headers, "content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{csp}");
    assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&headers, "x-frame-options"), Some("DENY"));
    assert!(!body.to_ascii_lowercase().contains("<script"));
    // The run is still held by this process: running, so the list shows its progress and reloads.
    assert!(body.contains("<progress value=\"1\" max=\"1\">") && body.contains("http-equiv=\"refresh\""), "{body}");

    // A DNS name rebound to 127.0.0.1 carries its own Host: refused.
    assert_eq!(get(port, "/", &format!("rebound.example:{port}"), "").0, 421);
    assert_eq!(get(port, &format!("/run/{run}/nothing"), &host, "").0, 404);

    // The review page's form carries the secret; a post without it, or from another origin, is
    // refused and writes nothing.
    let (_, _, review) = get(port, &format!("/run/{run}/review"), &host, "");
    let secret = review.split("name=\"secret\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let post = |body: &str, origin: &str| {
        request(
            port,
            &format!(
                "POST /run/{run}/label HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{origin}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    let form = |secret: &str| format!("secret={secret}&sample=p1&epoch=1&outcome=unsafe&back=%2F%2Fevil.example%2F");
    assert_eq!(post(&form("guess"), "").0, 403);
    assert_eq!(post(&form(&secret), "Origin: http://evil.example\r\n").0, 403);
    assert_eq!(post(&form(&secret), "Origin: null\r\n").0, 403);
    assert_eq!(Store::open_read_only(&path).unwrap().human_labels(&run).unwrap(), 0);
    assert_eq!(
        post(&format!("secret={secret}&sample=p1&epoch=1&outcome=over_refusal"), "").0,
        400,
        "not a label for a refuse probe"
    );
    let (status, headers, _) = post(&form(&secret), &format!("Origin: http://{host}\r\n"));
    assert_eq!(status, 303);
    assert!(header(&headers, "location").unwrap().starts_with(&format!("/run/{run}/review?")), "never off-site");
    assert_eq!(Store::open_read_only(&path).unwrap().human_labels(&run).unwrap(), 1);
}

#[test]
fn an_agent_attempt_is_read_step_by_step_as_text() {
    let (path, run) = store_with_a_run("items");
    let server = Server::start(App::new(path), "127.0.0.1:0".parse().unwrap()).unwrap();
    let port = server.access.addr.port();
    let host = format!("127.0.0.1:{port}");
    let (status, _, list) = get(port, &format!("/run/{run}/items?game=agent"), &host, "");
    assert_eq!(status, 200);
    assert!(list.contains("task:web-login") && list.contains("pass_rate"), "{list}");
    let (status, _, page) = get(port, &format!("/run/{run}/item?id=task%3Aweb-login"), &host, "");
    assert_eq!(status, 200);
    assert!(page.contains("step 1 · bash") && page.contains("curl &lt;b&gt;x&lt;/b&gt;"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>"), "{page}");
    assert_eq!(get(port, &format!("/run/{run}/item?id=nothing"), &host, "").0, 404);
}

#[test]
fn off_loopback_every_request_needs_the_token_and_the_link_moves_it_into_a_cookie() {
    let (path, run) = store_with_a_run("token");
    let server = Server::start(App::new(path), "0.0.0.0:0".parse().unwrap()).unwrap();
    let port = server.access.addr.port();
    let token = server.access.token.clone().expect("a token off loopback");
    assert!(server.url().ends_with(&format!("/?token={token}")));
    let host = format!("10.1.2.3:{port}");

    assert_eq!(get(port, "/", &host, "").0, 401);
    assert_eq!(get(port, "/?token=wrong", &host, "").0, 401);
    assert_eq!(get(port, "/", &host, "Cookie: preflight_token=wrong\r\n").0, 401);
    let (status, headers, _) = get(port, &format!("/run/{run}?token={token}"), &host, "");
    assert_eq!(status, 303);
    assert_eq!(header(&headers, "location"), Some(format!("/run/{run}").as_str()), "the token leaves the address bar");
    let cookie = header(&headers, "set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let (status, _, body) = get(port, &format!("/run/{run}"), &host, &format!("Cookie: preflight_token={token}\r\n"));
    assert_eq!(status, 200);
    assert!(body.contains(&run));
}
