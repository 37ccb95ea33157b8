//! OpenAI's Batch API for chat completions, as the mock serves it: `POST /v1/files` (multipart,
//! `purpose=batch`), `POST /v1/batches`, `GET /v1/batches/{id}`, `GET /v1/batches` (newest
//! first, `limit` and `after`), `GET /v1/files/{id}/content`.
//!
//! A batch's lines are validated when it is created (the reference's checks: JSON lines, unique
//! custom ids, `POST` to the batch's endpoint, one model); a batch that fails them is `failed`
//! with `errors`. Otherwise every line is answered then by the same marker and rules as a
//! synchronous request (counted in the stats the same way, without the latency: `batch_ms` is a
//! batch's time), and the batch shows `validating`, `in_progress`, then `completed` with its
//! output file (200s) and error file (other statuses, and a hung request as `batch_expired`,
//! which is what a request that never finishes within the window becomes).

use std::{
    collections::{HashMap, HashSet},
    sync::atomic::Ordering,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Bytes};
use serde_json::{Value, json};

use crate::server::{Answer, NO_USER, State, answer, decide, respond};

/// The only endpoint the mock batches (its one synchronous API).
const ENDPOINT: &str = "/v1/chat/completions";

/// Files and batches, for the server's life.
#[derive(Default)]
pub(crate) struct Store {
    next: u64,
    files: HashMap<String, File>,
    /// In creation order.
    batches: Vec<Batch>,
}

struct File {
    filename: String,
    purpose: String,
    bytes: Vec<u8>,
    created_at: u64,
}

struct Batch {
    id: String,
    input_file_id: String,
    completion_window: String,
    metadata: Value,
    created: Instant,
    created_at: u64,
    /// Validation errors: the batch fails instead of running.
    errors: Vec<Value>,
    total: u64,
    completed: u64,
    failed: u64,
    output_file_id: Option<String>,
    error_file_id: Option<String>,
}

impl Store {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{:024x}", self.next)
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn error(code: u16, message: &str) -> Response<Full<Bytes>> {
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}});
    respond(code, body.to_string().into(), None)
}

pub(crate) async fn handle(st: &State, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let Ok(body) = req.into_body().collect().await.map(|b| b.to_bytes()) else {
        return error(400, "bad body");
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["v1", "files"]) => upload(st, &content_type, &body),
        ("GET", ["v1", "files", id, "content"]) => match st.batches.lock().unwrap().files.get(*id) {
            Some(f) => {
                let mut r = respond(200, Bytes::from(f.bytes.clone()), None);
                r.headers_mut().insert("content-type", "application/octet-stream".parse().expect("header"));
                r
            }
            None => error(404, &format!("No such File object: {id}")),
        },
        ("POST", ["v1", "batches"]) => create(st, &body),
        ("GET", ["v1", "batches"]) => list(st, &query),
        ("GET", ["v1", "batches", id]) => {
            let store = st.batches.lock().unwrap();
            match store.batches.iter().find(|b| b.id == *id) {
                Some(b) => respond(200, batch_object(st, b).to_string().into(), None),
                None => error(404, &format!("No batch found with id '{id}'.")),
            }
        }
        _ => error(404, "not found"),
    }
}

/// `POST /v1/files`: a `multipart/form-data` body with `purpose` and a `file` part.
fn upload(st: &State, content_type: &str, body: &[u8]) -> Response<Full<Bytes>> {
    let Some(parts) = multipart(content_type, body) else {
        return error(400, "expected a multipart/form-data body");
    };
    let purpose = parts.iter().find(|p| p.name == "purpose").map(|p| String::from_utf8_lossy(&p.body).into_owned());
    let Some(file) = parts.iter().find(|p| p.name == "file") else {
        return error(400, "missing required parameter: 'file'");
    };
    let Some(filename) = file.filename.clone() else {
        return error(400, "the 'file' part has no filename");
    };
    let purpose = match purpose.as_deref() {
        Some("batch") => "batch".to_string(),
        Some(other) => return error(400, &format!("this mock stores only purpose 'batch', not '{other}'")),
        None => return error(400, "missing required parameter: 'purpose'"),
    };
    let mut store = st.batches.lock().unwrap();
    let id = store.id("file-");
    let f = File { filename, purpose, bytes: file.body.clone(), created_at: unix_now() };
    let object = file_object(&id, &f);
    store.files.insert(id, f);
    respond(200, object.to_string().into(), None)
}

fn file_object(id: &str, f: &File) -> Value {
    json!({
        "id": id, "object": "file", "bytes": f.bytes.len(), "created_at": f.created_at,
        "filename": f.filename, "purpose": f.purpose, "status": "processed",
        "expires_at": f.created_at + 30 * 86_400, "status_details": null,
    })
}

/// `POST /v1/batches`: validates the input file, answers its lines, and keeps the batch.
fn create(st: &State, body: &[u8]) -> Response<Full<Bytes>> {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return error(400, "the body is not JSON");
    };
    let Some(input_file_id) = req["input_file_id"].as_str() else {
        return error(400, "missing required parameter: 'input_file_id'");
    };
    if req["endpoint"] != ENDPOINT {
        return error(400, &format!("this mock batches only {ENDPOINT}, not {}", req["endpoint"]));
    }
    if req["completion_window"] != "24h" {
        return error(400, "completion_window must be '24h'");
    }
    let metadata = match &req["metadata"] {
        Value::Null => Value::Null,
        Value::Object(m) if m.values().all(Value::is_string) && m.len() <= 16 => req["metadata"].clone(),
        _ => return error(400, "metadata must be an object of at most 16 string values"),
    };
    let mut store = st.batches.lock().unwrap();
    let Some(input) = store.files.get(input_file_id).map(|f| f.bytes.clone()) else {
        return error(400, &format!("Invalid input_file_id '{input_file_id}': no such file"));
    };
    let (lines, errors) = validate(&input);
    let id = store.id("batch_");
    let mut batch = Batch {
        id,
        input_file_id: input_file_id.to_string(),
        completion_window: "24h".into(),
        metadata,
        created: Instant::now(),
        created_at: unix_now(),
        errors,
        total: lines.len() as u64,
        completed: 0,
        failed: 0,
        output_file_id: None,
        error_file_id: None,
    };
    st.shared.batches_created.fetch_add(1, Ordering::Relaxed);
    if batch.errors.is_empty() {
        let (mut output, mut errors) = (Vec::new(), Vec::new());
        for (custom_id, body) in &lines {
            *st.shared.batch_submissions.lock().unwrap().entry(custom_id.clone()).or_insert(0) += 1;
            store.next += 1;
            let (ok, line) = run_line(st, store.next, custom_id, body);
            if ok {
                batch.completed += 1;
                output.push(line);
            } else {
                batch.failed += 1;
                errors.push(line);
            }
        }
        for (lines, slot) in [(output, &mut batch.output_file_id), (errors, &mut batch.error_file_id)] {
            if lines.is_empty() {
                continue;
            }
            let mut bytes = Vec::new();
            for l in lines {
                bytes.extend_from_slice(l.to_string().as_bytes());
                bytes.push(b'\n');
            }
            let file_id = store.id("file-");
            let purpose = "batch_output".to_string();
            let filename = format!("{}_output.jsonl", batch.id);
            store.files.insert(file_id.clone(), File { filename, purpose, bytes, created_at: batch.created_at });
            *slot = Some(file_id);
        }
    }
    let object = batch_object(st, &batch);
    store.batches.push(batch);
    respond(200, object.to_string().into(), None)
}

/// The input file's requests as `(custom_id, body)`, or the validation errors that fail the batch.
fn validate(input: &[u8]) -> (Vec<(String, Vec<u8>)>, Vec<Value>) {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut ids = HashSet::new();
    let mut model: Option<Value> = None;
    let mut err = |code: &str, line: usize, message: String| {
        errors.push(json!({"code": code, "line": line, "message": message, "param": null}));
    };
    for (i, raw) in input.split(|b| *b == b'\n').enumerate() {
        let n = i + 1;
        if raw.trim_ascii().is_empty() {
            continue;
        }
        let Ok(line) = serde_json::from_slice::<Value>(raw) else {
            err("invalid_json_line", n, "This line is not parseable as valid JSON.".into());
            continue;
        };
        let Some(custom_id) = line["custom_id"].as_str() else {
            err("missing_required_parameter", n, "Missing required parameter: 'custom_id'.".into());
            continue;
        };
        if !ids.insert(custom_id.to_string()) {
            err("duplicate_custom_id", n, format!("The custom_id '{custom_id}' appears more than once."));
            continue;
        }
        if line["method"] != "POST" {
            err("invalid_method", n, format!("Only POST is supported, not {}.", line["method"]));
            continue;
        }
        if line["url"] != ENDPOINT {
            err("mismatched_endpoint", n, format!("The url {} does not match the batch's endpoint.", line["url"]));
            continue;
        }
        if !line["body"].is_object() {
            err("missing_required_parameter", n, "Missing required parameter: 'body'.".into());
            continue;
        }
        if line["body"].get("stream") == Some(&Value::Bool(true)) {
            err("invalid_request", n, "Streaming is not supported in a batch.".into());
            continue;
        }
        let m = line["body"]["model"].clone();
        match &model {
            Some(first) if *first != m => {
                err("mismatched_model", n, "Every request in a batch must name the same model.".into());
                continue;
            }
            _ => model = Some(m),
        }
        lines.push((custom_id.to_string(), serde_json::to_vec(&line["body"]).expect("json")));
    }
    if lines.is_empty() && errors.is_empty() {
        errors.push(json!({"code": "empty_file", "line": null, "message": "The input file is empty.", "param": null}));
    }
    (lines, errors)
}

/// One request answered as the synchronous endpoint would answer it: `(succeeded, line)`.
fn run_line(st: &State, n: u64, custom_id: &str, body: &[u8]) -> (bool, Value) {
    let sh = &st.shared;
    sh.requests.fetch_add(1, Ordering::Relaxed);
    let (code, reply) = match decide(st, body).map(|d| answer(st, &d)) {
        None => (400, Bytes::from_static(NO_USER)),
        Some(Answer::Reply { code, body, .. }) => (code, body),
        Some(Answer::Hang) => {
            let line = json!({"id": format!("batch_req_{n:024x}"), "custom_id": custom_id, "response": null,
                "error": {"code": "batch_expired",
                    "message": "This request could not be executed before the completion window expired."}});
            return (false, line);
        }
    };
    *sh.by_status.lock().unwrap().entry(code).or_insert(0) += 1;
    // A line holds JSON, so a garbled body can only be a string where the object should be: the
    // client fails to read it as a completion, as it would the garbled synchronous body.
    let body: Value =
        serde_json::from_slice(&reply).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&reply).into_owned()));
    let line = json!({
        "id": format!("batch_req_{n:024x}"),
        "custom_id": custom_id,
        "response": {"status_code": code, "request_id": format!("req_{n:024x}"), "body": body},
        "error": null,
    });
    (code == 200, line)
}

/// Where a batch stands `elapsed` after its creation.
fn status(st: &State, b: &Batch) -> &'static str {
    let elapsed = b.created.elapsed();
    let total = Duration::from_millis(st.cfg.batch_ms);
    if elapsed < total / 4 {
        "validating"
    } else if !b.errors.is_empty() {
        "failed"
    } else if elapsed < total {
        "in_progress"
    } else {
        "completed"
    }
}

fn batch_object(st: &State, b: &Batch) -> Value {
    let status = status(st, b);
    let at = |ms: u64| b.created_at + ms / 1000;
    let (validated, done) = (at(st.cfg.batch_ms / 4), at(st.cfg.batch_ms));
    let ended = matches!(status, "completed" | "failed");
    let errors = if status == "failed" { json!({"object": "list", "data": b.errors}) } else { Value::Null };
    let (completed, failed) = if status == "completed" { (b.completed, b.failed) } else { (0, 0) };
    json!({
        "id": b.id,
        "object": "batch",
        "endpoint": ENDPOINT,
        "errors": errors,
        "input_file_id": b.input_file_id,
        "completion_window": b.completion_window,
        "status": status,
        "output_file_id": if status == "completed" { json!(b.output_file_id) } else { Value::Null },
        "error_file_id": if status == "completed" { json!(b.error_file_id) } else { Value::Null },
        "created_at": b.created_at,
        "in_progress_at": if matches!(status, "in_progress" | "completed") { json!(validated) } else { Value::Null },
        "expires_at": b.created_at + 86_400,
        "finalizing_at": if status == "completed" { json!(done) } else { Value::Null },
        "completed_at": if status == "completed" { json!(done) } else { Value::Null },
        "failed_at": if status == "failed" { json!(validated) } else { Value::Null },
        "expired_at": null,
        "cancelling_at": null,
        "cancelled_at": null,
        "request_counts": {"total": if ended || status == "in_progress" { b.total } else { 0 },
            "completed": completed, "failed": failed},
        "metadata": b.metadata,
    })
}

/// `GET /v1/batches?limit=N&after=ID`: newest first, as the API lists them.
fn list(st: &State, query: &str) -> Response<Full<Bytes>> {
    let param = |name: &str| {
        query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    };
    let limit = param("limit").and_then(|v| v.parse::<usize>().ok()).unwrap_or(20).clamp(1, 100);
    let store = st.batches.lock().unwrap();
    let newest_first: Vec<&Batch> = store.batches.iter().rev().collect();
    let start = match param("after") {
        Some(after) => match newest_first.iter().position(|b| b.id == after) {
            Some(i) => i + 1,
            None => return error(400, &format!("after: no batch '{after}'")),
        },
        None => 0,
    };
    let page: Vec<Value> = newest_first.iter().skip(start).take(limit).map(|b| batch_object(st, b)).collect();
    let has_more = start + page.len() < newest_first.len();
    let body = json!({
        "object": "list",
        "first_id": page.first().map(|b| b["id"].clone()),
        "last_id": page.last().map(|b| b["id"].clone()),
        "has_more": has_more,
        "data": page,
    });
    respond(200, body.to_string().into(), None)
}

struct Part {
    name: String,
    filename: Option<String>,
    body: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

/// The parts of a `multipart/form-data` body (RFC 7578): each after a `--BOUNDARY` line, its
/// headers up to a blank line, its content up to the CRLF before the next delimiter, the last
/// delimiter `--BOUNDARY--`.
fn multipart(content_type: &str, body: &[u8]) -> Option<Vec<Part>> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim_matches('"').to_string())?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut at = find(body, &delimiter, 0)? + delimiter.len();
    loop {
        if body.get(at..at + 2) == Some(b"--") {
            return Some(parts);
        }
        at = find(body, b"\r\n", at)? + 2;
        let head_end = find(body, b"\r\n\r\n", at)?;
        let head = std::str::from_utf8(&body[at..head_end]).ok()?;
        let content_start = head_end + 4;
        let next = find(body, &[b"\r\n".as_slice(), &delimiter].concat(), content_start)?;
        let (mut name, mut filename) = (None, None);
        for header in head.split("\r\n") {
            let Some((k, v)) = header.split_once(':') else { continue };
            if !k.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            for param in v.split(';').skip(1) {
                if let Some((pk, pv)) = param.trim().split_once('=') {
                    let pv = pv.trim().trim_matches('"').to_string();
                    match pk.trim() {
                        "name" => name = Some(pv),
                        "filename" => filename = Some(pv),
                        _ => {}
                    }
                }
            }
        }
        parts.push(Part { name: name?, filename, body: body[content_start..next].to_vec() });
        at = next + 2 + delimiter.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_multipart_body() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--XyZ\r\n\
            Content-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n\
            {\"a\":1}\n{\"b\":2}\n\r\n--XyZ--\r\n";
        let parts = multipart("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].name.as_str(), parts[0].body.as_slice()), ("purpose", b"batch".as_slice()));
        assert_eq!(parts[1].filename.as_deref(), Some("in.jsonl"));
        assert_eq!(parts[1].body, b"{\"a\":1}\n{\"b\":2}\n");
        assert!(multipart("application/json", body).is_none());
        assert!(multipart("multipart/form-data; boundary=other", body).is_none());
    }

    #[test]
    fn validation_names_the_bad_lines() {
        let line = |id: &str, model: &str| {
            json!({"custom_id": id, "method": "POST", "url": ENDPOINT,
                "body": {"model": model, "messages": [{"role": "user", "content": "hi"}]}})
            .to_string()
        };
        let good = format!("{}\n{}\n", line("a", "m"), line("b", "m"));
        let (lines, errors) = validate(good.as_bytes());
        assert_eq!((lines.len(), errors.len()), (2, 0));
        let bad = format!("{}\nnot json\n{}\n{}\n", line("a", "m"), line("a", "m"), line("c", "other"));
        let (_, errors) = validate(bad.as_bytes());
        let codes: Vec<(&str, u64)> =
            errors.iter().map(|e| (e["code"].as_str().unwrap(), e["line"].as_u64().unwrap())).collect();
        assert_eq!(codes, [("invalid_json_line", 2), ("duplicate_custom_id", 3), ("mismatched_model", 4)]);
        assert_eq!(validate(b"\n").1[0]["code"], "empty_file");
    }
}
