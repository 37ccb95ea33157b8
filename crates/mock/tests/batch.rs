//! The mock's Batch API over plain HTTP/1.1, each call on a connection of its own (as a client
//! process killed and restarted would make them): upload, creation, validation failures, status
//! over `batch_ms`, the output and error files, the list's pages, and the stats.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use preflight_mock::{Action, MockConfig, MockServer, Rule};
use serde_json::{Value, json};

/// One request on a fresh connection: (status, body).
fn call(addr: SocketAddr, method: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = std::str::from_utf8(&out[9..12]).unwrap().parse().unwrap();
    (status, out[split + 4..].to_vec())
}

fn json_call(addr: SocketAddr, method: &str, path: &str, body: Value) -> (u16, Value) {
    let raw = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
    let (status, got) = call(addr, method, path, "application/json", &raw);
    (status, serde_json::from_slice(&got).unwrap_or(Value::Null))
}

fn line(custom_id: &str, prompt: &str) -> String {
    json!({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
        "body": {"model": "m", "messages": [{"role": "user", "content": prompt}]}})
    .to_string()
}

fn upload(addr: SocketAddr, jsonl: &str) -> String {
    let body = format!(
        "--b0undary\r\ncontent-disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--b0undary\r\n\
         content-disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\ncontent-type: application/jsonl\r\n\r\n\
         {jsonl}\r\n--b0undary--\r\n"
    );
    let (status, got) = call(addr, "POST", "/v1/files", "multipart/form-data; boundary=b0undary", body.as_bytes());
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&got));
    let file: Value = serde_json::from_slice(&got).unwrap();
    assert_eq!((file["purpose"].as_str(), file["bytes"].as_u64()), (Some("batch"), Some(jsonl.len() as u64)));
    file["id"].as_str().unwrap().to_string()
}

fn create(addr: SocketAddr, file_id: &str, chunk: &str) -> Value {
    let (status, batch) = json_call(
        addr,
        "POST",
        "/v1/batches",
        json!({"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h",
            "metadata": {"preflight_chunk": chunk}}),
    );
    assert_eq!(status, 200, "{batch}");
    batch
}

fn lines(addr: SocketAddr, file_id: &str) -> Vec<Value> {
    let (status, got) = call(addr, "GET", &format!("/v1/files/{file_id}/content"), "", b"");
    assert_eq!(status, 200);
    String::from_utf8(got).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn a_batch_validates_runs_for_batch_ms_and_completes_with_its_files() {
    let m = MockServer::start(MockConfig {
        batch_ms: 2000,
        rules: vec![Rule {
            contains: "fails".into(),
            action: Action::Status { code: 429, retry_after: Some("1".into()) },
            times: None,
            model: None,
            system: None,
        }],
        ..Default::default()
    })
    .unwrap();
    let addr = m.addr();
    let file = upload(addr, &[line("a", "hello"), line("b", "[[REFUSE]] no"), line("c", "this fails")].join("\n"));
    let batch = create(addr, &file, "chunk-1");
    let id = batch["id"].as_str().unwrap().to_string();
    assert_eq!((batch["status"].as_str(), batch["object"].as_str()), (Some("validating"), Some("batch")));
    assert_eq!(batch["metadata"], json!({"preflight_chunk": "chunk-1"}));
    assert!(batch["output_file_id"].is_null());

    // Validating for a quarter of batch_ms (500 ms), then in progress until 2 s.
    std::thread::sleep(Duration::from_millis(800));
    let (_, b) = json_call(addr, "GET", &format!("/v1/batches/{id}"), Value::Null);
    assert_eq!(b["status"], "in_progress");
    std::thread::sleep(Duration::from_millis(1300));
    let (_, b) = json_call(addr, "GET", &format!("/v1/batches/{id}"), Value::Null);
    assert_eq!(b["status"], "completed");
    assert_eq!(b["request_counts"], json!({"total": 3, "completed": 2, "failed": 1}));

    let out = lines(addr, b["output_file_id"].as_str().unwrap());
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["custom_id"], "a");
    assert_eq!(out[0]["response"]["status_code"], 200);
    assert!(out[0]["error"].is_null());
    assert_eq!(out[0]["response"]["body"]["object"], "chat.completion");
    assert_eq!(out[1]["response"]["body"]["choices"][0]["message"]["content"], "I can't help with that request.");
    let err = lines(addr, b["error_file_id"].as_str().unwrap());
    assert_eq!((err[0]["custom_id"].as_str(), err[0]["response"]["status_code"].as_u64()), (Some("c"), Some(429)));

    let stats = m.stats();
    assert_eq!((stats.batches_created, stats.requests), (1, 3));
    assert_eq!((stats.submitted("a"), stats.submitted("c")), (1, 1));
    assert_eq!(stats.by_status.get(&429), Some(&1));
    m.reset();
    assert_eq!(m.stats().submitted("a"), 0);
    // The batches outlive a stats reset: a restarted client still finds them.
    assert_eq!(json_call(addr, "GET", &format!("/v1/batches/{id}"), Value::Null).1["status"], "completed");
}

#[test]
fn an_invalid_input_file_fails_the_batch_without_running_it() {
    let m = MockServer::start(MockConfig::default()).unwrap();
    let addr = m.addr();
    let file = upload(addr, &[line("a", "one"), line("a", "two")].join("\n"));
    let b = create(addr, &file, "chunk-dup");
    assert_eq!(b["status"], "failed");
    assert_eq!(b["errors"]["data"][0]["code"], "duplicate_custom_id");
    assert_eq!(b["errors"]["data"][0]["line"], 2);
    let stats = m.stats();
    assert_eq!((stats.batches_created, stats.requests, stats.submitted("a")), (1, 0, 0));
    // An unknown file, and an endpoint the mock does not batch, are refused outright.
    assert_eq!(
        json_call(
            addr,
            "POST",
            "/v1/batches",
            json!({"input_file_id": "file-none", "endpoint": "/v1/chat/completions",
            "completion_window": "24h"})
        )
        .0,
        400
    );
    assert_eq!(
        json_call(
            addr,
            "POST",
            "/v1/batches",
            json!({"input_file_id": file, "endpoint": "/v1/embeddings",
            "completion_window": "24h"})
        )
        .0,
        400
    );
    assert_eq!(call(addr, "GET", "/v1/files/file-none/content", "", b"").0, 404);
    assert_eq!(json_call(addr, "GET", "/v1/batches/batch_none", Value::Null).0, 404);
}

#[test]
fn the_list_is_newest_first_in_pages() {
    let m = MockServer::start(MockConfig::default()).unwrap();
    let addr = m.addr();
    let ids: Vec<String> = (0..3)
        .map(|i| {
            let file = upload(addr, &line(&format!("r{i}"), "hi"));
            create(addr, &file, &format!("chunk-{i}"))["id"].as_str().unwrap().to_string()
        })
        .collect();
    let (_, p1) = json_call(addr, "GET", "/v1/batches?limit=2", Value::Null);
    assert_eq!(p1["object"], "list");
    let got: Vec<&str> = p1["data"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(got, [ids[2].as_str(), ids[1].as_str()]);
    assert_eq!((p1["has_more"].as_bool(), p1["last_id"].as_str()), (Some(true), Some(ids[1].as_str())));
    assert_eq!(p1["data"][0]["metadata"]["preflight_chunk"], "chunk-2");
    let (_, p2) = json_call(addr, "GET", &format!("/v1/batches?limit=2&after={}", ids[1]), Value::Null);
    assert_eq!(p2["data"].as_array().unwrap().len(), 1);
    assert_eq!((p2["data"][0]["id"].as_str(), p2["has_more"].as_bool()), (Some(ids[0].as_str()), Some(false)));
}
