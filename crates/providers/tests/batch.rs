//! The batch clients against scripted servers on 127.0.0.1, answering as the API references
//! shape their objects: OpenAI's Batch API (files, batches, output and error files) and
//! Anthropic's Message Batches (batches, results files). Then `OpenAiBatch` against
//! `preflight-mock`'s own Batch API, whose lines follow the same marker and rules as its chat
//! completions.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use preflight_core::{
    BatchApi, BatchItem, BatchStatus, ErrorKind, FinishReason, Generate, GenerateRequest, GenerateResponse, Message,
    ProviderError, ToolDef,
};
use preflight_mock::{Action, MockConfig, MockServer, Recorded, Reply, Rule, Scripted};
use preflight_providers::{Anthropic, AnthropicBatch, AnthropicConfig, OpenAi, OpenAiBatch, OpenAiConfig};
use serde_json::{Value, json};

const OPENAI_KEY: &str = "sk-proj-test-0123456789abcdef";
const ANTHROPIC_KEY: &str = "sk-ant-test-0123456789abcdef";

fn weather_tool() -> ToolDef {
    ToolDef {
        name: "get_weather".into(),
        description: "Current weather in a city".into(),
        parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    }
}

/// Three requests of different shapes: plain, with a system turn and settings, with a tool.
fn items() -> Vec<BatchItem> {
    let plain = GenerateRequest {
        messages: vec![Message::user("Capital of France?")],
        temperature: None,
        max_tokens: None,
        seed: None,
        constraint: None,
        tools: Vec::new(),
    };
    let settings = GenerateRequest {
        messages: vec![Message::system("Be brief."), Message::user("How do I pick a lock?")],
        temperature: Some(0.0),
        max_tokens: Some(64),
        seed: Some(7),
        ..plain.clone()
    };
    let tool = GenerateRequest {
        messages: vec![Message::user("Weather in Paris?")],
        tools: vec![weather_tool()],
        ..plain.clone()
    };
    [plain, settings, tool]
        .into_iter()
        .enumerate()
        .map(|(i, request)| BatchItem { custom_id: format!("{i:064x}"), request })
        .collect()
}

fn id(i: usize) -> String {
    format!("{i:064x}")
}

fn by_id(
    results: Vec<(String, Result<GenerateResponse, ProviderError>)>,
) -> HashMap<String, Result<GenerateResponse, ProviderError>> {
    results.into_iter().collect()
}

fn kind(r: &Result<GenerateResponse, ProviderError>) -> ErrorKind {
    r.as_ref().map(|_| ()).unwrap_err().kind
}

/// The parts of a recorded multipart body: (name, filename, content type, content).
/// A multipart part: its name, filename, content type and bytes.
type Part = (String, Option<String>, Option<String>, Vec<u8>);

fn multipart(r: &Recorded) -> Vec<Part> {
    let ct = r.header("content-type").unwrap();
    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
    let boundary = format!("--{}", ct.split_once("boundary=").unwrap().1.trim_matches('"'));
    let text = String::from_utf8(r.body.clone()).unwrap();
    let mut parts = Vec::new();
    let mut rest = text.split_once(&boundary).unwrap().1;
    while !rest.starts_with("--") {
        let (part, next) = rest.split_once(&format!("\r\n{boundary}")).unwrap();
        let (head, content) = part.trim_start_matches("\r\n").split_once("\r\n\r\n").unwrap();
        let param = |name: &str| {
            head.split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix(&format!("{name}=\"")))
                .map(|v| v.trim_end_matches(['"', '\r']).split('"').next().unwrap().to_string())
        };
        let content_type = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Type: ").or_else(|| l.strip_prefix("content-type: ")))
            .map(str::to_string);
        parts.push((param("name").unwrap(), param("filename"), content_type, content.as_bytes().to_vec()));
        rest = next;
    }
    parts
}

// ---------------------------------------------------------------------------------------------
// OpenAI

fn openai_cfg(server: &Scripted) -> OpenAiConfig {
    OpenAiConfig {
        base_url: format!("{}/v1", server.url()),
        api_key: Some(OPENAI_KEY.into()),
        timeout: Duration::from_secs(10),
        ..OpenAiConfig::new("gpt-test")
    }
}

fn openai(server: &Scripted) -> OpenAiBatch {
    OpenAiBatch::new(openai_cfg(server)).unwrap()
}

/// A chat completion as the API reference shapes it.
fn completion(message: Value, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-123", "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-test",
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 7, "total_tokens": 27}
    })
}

/// A batch object as the API reference shapes it.
fn openai_batch(id: &str, status: &str, created_at: u64, extra: Value) -> Value {
    let mut b = json!({
        "id": id, "object": "batch", "endpoint": "/v1/chat/completions", "errors": null,
        "input_file_id": "file-in", "completion_window": "24h", "status": status,
        "output_file_id": null, "error_file_id": null, "created_at": created_at,
        "in_progress_at": null, "expires_at": created_at + 86_400, "finalizing_at": null, "completed_at": null,
        "failed_at": null, "expired_at": null, "cancelling_at": null, "cancelled_at": null,
        "request_counts": {"total": 3, "completed": 0, "failed": 0}, "metadata": null
    });
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

/// The body `OpenAi` posts for `req`.
async fn openai_sync_body(req: &GenerateRequest) -> Value {
    let server = Scripted::start(|_: &Recorded| {
        Reply::json(200, completion(json!({"role": "assistant", "content": "ok"}), "stop"))
    })
    .unwrap();
    OpenAi::new(openai_cfg(&server)).unwrap().generate(req, 0).await.unwrap();
    server.requests()[0].json()
}

#[tokio::test]
async fn openai_submit_uploads_the_jsonl_then_creates_a_batch_tagged_with_the_chunk() {
    let server = Scripted::start(|r: &Recorded| match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/v1/files") => Reply::json(
            200,
            json!({"id": "file-abc123", "object": "file", "bytes": 120_000, "created_at": 1_700_000_000,
                "filename": "preflight.jsonl", "purpose": "batch", "status": "processed", "expires_at": 1_702_592_000}),
        ),
        ("POST", "/v1/batches") => {
            Reply::json(200, openai_batch("batch_abc123", "validating", 1_700_000_000, json!({})))
        }
        _ => Reply::json(404, json!({"error": {"message": "not found"}})),
    })
    .unwrap();
    let client = openai(&server);
    assert_eq!(client.model_id(), "openai/gpt-test");
    let items = items();
    assert_eq!(client.submit("chunk-0007", &items).await.unwrap(), "batch_abc123");

    let sent = server.requests();
    assert_eq!(sent.len(), 2);
    for r in &sent {
        assert_eq!(r.header("authorization"), Some(format!("Bearer {OPENAI_KEY}").as_str()));
    }
    let parts = multipart(&sent[0]);
    let purpose = parts.iter().find(|p| p.0 == "purpose").unwrap();
    assert_eq!(purpose.3, b"batch");
    let file = parts.iter().find(|p| p.0 == "file").unwrap();
    assert!(file.1.as_deref().is_some_and(|f| f.ends_with(".jsonl")), "{:?}", file.1);
    assert_eq!(file.2.as_deref(), Some("application/jsonl"));
    let text = String::from_utf8(file.3.clone()).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert!(text.ends_with('\n'));
    for (line, item) in lines.iter().zip(&items) {
        assert_eq!(line["custom_id"], item.custom_id);
        assert_eq!(line["method"], "POST");
        assert_eq!(line["url"], "/v1/chat/completions");
        assert_eq!(line["body"], openai_sync_body(&item.request).await, "the synchronous body, to the byte");
        assert!(line["body"].get("stream").is_none());
    }
    assert_eq!(lines[2]["body"]["tools"][0]["function"]["name"], "get_weather");

    let create = &sent[1];
    assert_eq!(create.header("content-type"), Some("application/json"));
    assert_eq!(
        create.json(),
        json!({"input_file_id": "file-abc123", "endpoint": "/v1/chat/completions", "completion_window": "24h",
            "metadata": {"preflight_chunk": "chunk-0007"}})
    );
}

#[tokio::test]
async fn openai_batch_statuses_map_to_running_ended_and_failed() {
    let server = Scripted::start(|r: &Recorded| {
        let id = r.path.trim_start_matches("/v1/batches/");
        let extra = match id {
            "failed" => json!({"errors": {"object": "list", "data": [
                {"code": "invalid_json_line", "line": 3, "message": "This line is not parseable as valid JSON.", "param": null},
                {"code": "mismatched_model", "line": 9, "message": "All requests must use the same model.", "param": null}
            ]}}),
            "queue_full" => json!({"status": "failed", "errors": {"object": "list", "data": [
                {"code": "token_limit_exceeded", "line": null, "param": null,
                 "message": "Enqueued token limit reached for gpt-test in organization org-1. Limit: 90,000 enqueued tokens."}
            ]}}),
            _ => json!({}),
        };
        Reply::json(200, openai_batch(id, id, 1_700_000_000, extra))
    })
    .unwrap();
    let client = openai(&server);
    for s in ["validating", "in_progress", "finalizing", "cancelling"] {
        assert_eq!(client.poll(s).await.unwrap(), BatchStatus::Running, "{s}");
    }
    for s in ["completed", "expired", "cancelled"] {
        assert_eq!(client.poll(s).await.unwrap(), BatchStatus::Ended, "{s}");
    }
    let BatchStatus::Failed(e) = client.poll("failed").await.unwrap() else { panic!("not failed") };
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert!(e.message.contains("line 3: This line is not parseable as valid JSON. (invalid_json_line)"), "{e}");
    assert!(e.message.contains("line 9: All requests must use the same model."), "{e}");
    // A full queue clears once earlier batches finish: waiting helps.
    let BatchStatus::Failed(e) = client.poll("queue_full").await.unwrap() else { panic!("not failed") };
    assert_eq!(e.kind, ErrorKind::RateLimited { retry_after: None });
    // A status the client does not know is an error, neither polled for ever nor taken as ended.
    assert_eq!(client.poll("paused").await.unwrap_err().kind, ErrorKind::Permanent);
    assert_eq!(server.requests()[0].path, "/v1/batches/validating");
}

/// An output-file line as the Batch API reference shapes it.
fn output_line(custom_id: &str, status: u16, body: Value) -> String {
    json!({"id": "batch_req_1", "custom_id": custom_id,
        "response": {"status_code": status, "request_id": "req_1", "body": body}, "error": null})
    .to_string()
}

#[tokio::test]
async fn openai_results_read_the_output_and_error_files_as_synchronous_answers() {
    let output = [
        output_line(&id(0), 200, completion(json!({"role": "assistant", "content": "Paris."}), "stop")),
        output_line(
            &id(1),
            200,
            completion(
                json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_abc", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}),
                "tool_calls",
            ),
        ),
    ]
    .join("\n")
        + "\n";
    let error_body = |code: &str, msg: &str| json!({"error": {"message": msg, "type": "invalid_request_error", "param": null, "code": code}});
    let errors = [
        output_line(&id(2), 400, error_body("context_length_exceeded", "This model's maximum context length is 8192 tokens.")),
        output_line(&id(3), 400, error_body("content_filter", "The prompt was filtered.")),
        output_line(&id(4), 429, error_body("rate_limit_exceeded", "Rate limit reached.")),
        output_line(&id(5), 500, json!({"error": {"message": "The server had an error", "type": "server_error"}})),
        json!({"id": "batch_req_6", "custom_id": id(6), "response": null,
            "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}})
        .to_string(),
        json!({"id": "batch_req_7", "custom_id": id(7), "response": null,
            "error": {"code": "batch_cancelled", "message": "This request was cancelled."}})
        .to_string(),
    ]
    .join("\n");
    let server = Scripted::start(move |r: &Recorded| match r.path.as_str() {
        "/v1/batches/batch_done" => Reply::json(
            200,
            openai_batch(
                "batch_done",
                "expired",
                1_700_000_000,
                json!({"output_file_id": "file-out", "error_file_id": "file-err"}),
            ),
        ),
        "/v1/batches/batch_running" => {
            Reply::json(200, openai_batch("batch_running", "in_progress", 1_700_000_000, json!({})))
        }
        "/v1/files/file-out/content" => Reply::raw(200, "application/octet-stream", output.clone()),
        "/v1/files/file-err/content" => Reply::raw(200, "application/octet-stream", errors.clone()),
        _ => Reply::json(404, json!({"error": {"message": "not found"}})),
    })
    .unwrap();
    let client = openai(&server);
    let results = client.results("batch_done").await.unwrap();
    assert_eq!(results.len(), 8);
    let r = by_id(results);
    let paris = r[&id(0)].as_ref().unwrap();
    assert_eq!((paris.text.as_str(), paris.finish_reason), ("Paris.", FinishReason::Stop));
    assert_eq!((paris.usage.prompt_tokens, paris.usage.completion_tokens), (20, 7));
    let call = r[&id(1)].as_ref().unwrap();
    assert_eq!(call.finish_reason, FinishReason::ToolCalls);
    assert_eq!(call.tool_calls.len(), 1);
    assert_eq!((call.tool_calls[0].id.as_str(), call.tool_calls[0].name.as_str()), ("call_abc", "get_weather"));
    assert_eq!(call.tool_calls[0].arguments, r#"{"city":"Paris"}"#);
    let too_long = r[&id(2)].as_ref().unwrap_err();
    assert_eq!((too_long.kind, too_long.status), (ErrorKind::Permanent, Some(400)));
    assert!(too_long.message.contains("maximum context length"), "{too_long}");
    assert_eq!(kind(&r[&id(3)]), ErrorKind::ContentFiltered);
    assert_eq!(kind(&r[&id(4)]), ErrorKind::RateLimited { retry_after: None });
    assert_eq!(kind(&r[&id(5)]), ErrorKind::Transient);
    let expired = r[&id(6)].as_ref().unwrap_err();
    assert_eq!(expired.kind, ErrorKind::Transient);
    assert!(expired.message.contains("batch_expired"), "{expired}");
    assert_eq!(kind(&r[&id(7)]), ErrorKind::Transient);
    for path in ["/v1/files/file-out/content", "/v1/files/file-err/content"] {
        let got = server.requests().into_iter().find(|q| q.path == path).unwrap();
        assert_eq!(got.method, "GET");
        assert_eq!(got.header("authorization"), Some(format!("Bearer {OPENAI_KEY}").as_str()));
    }

    // Before the batch ends there are no files to read: an error, never an empty answer that
    // would send every request again.
    let before = server.requests().len();
    let e = client.results("batch_running").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
    assert_eq!(server.requests().len(), before + 1);
}

#[tokio::test]
async fn openai_find_follows_the_pages_to_the_batch_tagged_with_the_chunk() {
    const SINCE_MS: u64 = 1_700_000_000_000;
    let server = Scripted::start(|r: &Recorded| {
        let tagged = |id: &str, at: u64, chunk: &str| openai_batch(id, "in_progress", at, json!({"metadata": {"preflight_chunk": chunk}}));
        let page = |data: Vec<Value>, more: bool| {
            json!({"object": "list", "first_id": data[0]["id"], "last_id": data[data.len() - 1]["id"], "has_more": more, "data": data})
        };
        match r.query.as_deref() {
            Some("limit=100") => Reply::json(
                200,
                page(
                    vec![
                        tagged("batch_5", 1_700_000_300, "chunk-b"),
                        openai_batch("batch_4", "completed", 1_700_000_200, json!({})),
                        tagged("batch_3", 1_700_000_100, "chunk-c"),
                    ],
                    true,
                ),
            ),
            Some("limit=100&after=batch_3") => Reply::json(
                200,
                page(
                    vec![
                        tagged("batch_2", 1_700_000_050, "chunk-a"),
                        // Long before: another run's submission of the same chunk id.
                        tagged("batch_1", 1_600_000_000, "chunk-z"),
                    ],
                    true,
                ),
            ),
            other => Reply::json(400, json!({"error": {"message": format!("unexpected query {other:?}")}})),
        }
    })
    .unwrap();
    let client = openai(&server);
    assert_eq!(client.find("chunk-a", 3, SINCE_MS).await.unwrap().as_deref(), Some("batch_2"));
    let sent = server.requests();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|r| r.method == "GET" && r.path == "/v1/batches"));
    // Not there: the search stops at the page that reaches batches older than `since_ms`
    // (less a margin for clock skew), without asking for the next.
    assert_eq!(client.find("chunk-z", 3, SINCE_MS).await.unwrap(), None);
    assert_eq!(server.requests().len(), 4);
    assert_eq!(client.find("chunk-b", 3, SINCE_MS).await.unwrap().as_deref(), Some("batch_5"));
}

#[tokio::test]
async fn openai_malformed_bodies_are_transient() {
    let server = Scripted::start(|r: &Recorded| match r.path.as_str() {
        "/v1/files" => Reply::raw(200, "application/json", "{\"id\": \"file-"),
        "/v1/batches/garbled" => Reply::json(
            200,
            openai_batch("garbled", "completed", 1_700_000_000, json!({"output_file_id": "file-garbled"})),
        ),
        "/v1/batches/bad_body" => Reply::json(
            200,
            openai_batch("bad_body", "completed", 1_700_000_000, json!({"output_file_id": "file-bad-body"})),
        ),
        "/v1/files/file-garbled/content" => {
            Reply::raw(200, "application/octet-stream", output_line(&id(0), 200, json!({})) + "\n{\"custom_id\": \"00")
        }
        "/v1/files/file-bad-body/content" => Reply::raw(
            200,
            "application/octet-stream",
            output_line(&id(0), 200, json!("{\"choices\": [ trunc"))
                + "\n"
                + &output_line(&id(1), 200, json!({"choices": []})),
        ),
        _ => Reply::raw(200, "text/html", "<html>gateway</html>"),
    })
    .unwrap();
    let client = openai(&server);
    let e = client.submit("c", &items()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
    assert!(e.message.contains("malformed response body"), "{e}");
    assert_eq!(client.poll("html").await.unwrap_err().kind, ErrorKind::Transient);
    // A cut results file is read again, not taken line by line.
    assert_eq!(client.results("garbled").await.unwrap_err().kind, ErrorKind::Transient);
    // A whole file whose answers do not parse: each request is transient, as synchronously.
    let r = by_id(client.results("bad_body").await.unwrap());
    assert_eq!(kind(&r[&id(0)]), ErrorKind::Transient);
    assert_eq!(kind(&r[&id(1)]), ErrorKind::Transient);
}

#[tokio::test]
async fn openai_a_429_on_submit_carries_its_retry_after_and_the_key_stays_out_of_errors() {
    let server = Scripted::start(|r: &Recorded| {
        if r.query.is_some() {
            let key = r.header("authorization").unwrap_or_default().to_string();
            return Reply::json(401, json!({"error": {"message": format!("Incorrect API key provided: {key}"),
                "type": "invalid_request_error", "code": "invalid_api_key"}}));
        }
        Reply::json(429, json!({"error": {"message": "Rate limit reached for requests", "type": "requests", "code": "rate_limit_exceeded"}}))
            .with_header("retry-after", "3")
    })
    .unwrap();
    let client = openai(&server);
    let e = client.submit("c", &items()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(3)) });
    assert_eq!(server.requests().len(), 1, "no batch without its file");
    let e = client.find("c", 3, 0).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(OPENAI_KEY) && shown.contains("[REDACTED]"), "{shown}");
}

#[test]
fn openai_batch_refuses_an_azure_configuration() {
    let cfg = OpenAiConfig::azure("my-gpt4o", "https://example.invalid", "2024-10-21");
    let e = OpenAiBatch::new(cfg).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert!(e.message.contains("Azure"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Anthropic

fn anthropic_cfg(server: &Scripted) -> AnthropicConfig {
    let mut cfg = AnthropicConfig::new("claude-test");
    cfg.base_url = server.url();
    cfg.api_key = Some(ANTHROPIC_KEY.to_string());
    cfg.timeout = Duration::from_secs(10);
    cfg
}

fn anthropic(server: &Scripted) -> AnthropicBatch {
    AnthropicBatch::new(anthropic_cfg(server)).unwrap()
}

/// A message batch as the API reference shapes it.
fn message_batch(id: &str, status: &str, created_at: &str, counts: [u64; 5], results_url: Option<String>) -> Value {
    let [processing, succeeded, errored, canceled, expired] = counts;
    json!({
        "id": id, "type": "message_batch", "processing_status": status,
        "request_counts": {"processing": processing, "succeeded": succeeded, "errored": errored,
            "canceled": canceled, "expired": expired},
        "ended_at": null, "created_at": created_at, "expires_at": "2024-08-21T18:37:24.100435Z",
        "archived_at": null, "cancel_initiated_at": null, "results_url": results_url
    })
}

/// A Messages response as the API reference shapes it.
fn message(content: Value, stop_reason: &str) -> Value {
    json!({"id": "msg_01", "type": "message", "role": "assistant", "content": content, "model": "claude-test",
        "stop_reason": stop_reason, "stop_sequence": null, "usage": {"input_tokens": 12, "output_tokens": 5}})
}

async fn anthropic_sync_body(req: &GenerateRequest) -> Value {
    let server =
        Scripted::start(|_: &Recorded| Reply::json(200, message(json!([{"type": "text", "text": "ok"}]), "end_turn")))
            .unwrap();
    Anthropic::new(anthropic_cfg(&server)).unwrap().generate(req, 0).await.unwrap();
    server.requests()[0].json()
}

#[tokio::test]
async fn anthropic_submit_sends_every_request_as_its_messages_body() {
    let server = Scripted::start(|_: &Recorded| {
        Reply::json(
            200,
            message_batch(
                "msgbatch_013Zva2CMHLNnXjNJJKqJ2EF",
                "in_progress",
                "2024-08-20T18:37:24.100435Z",
                [3, 0, 0, 0, 0],
                None,
            ),
        )
    })
    .unwrap();
    let client = anthropic(&server);
    assert_eq!(client.model_id(), "anthropic/claude-test");
    let items = items();
    assert_eq!(client.submit("chunk-1", &items).await.unwrap(), "msgbatch_013Zva2CMHLNnXjNJJKqJ2EF");
    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    let r = &sent[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/v1/messages/batches"));
    assert_eq!(r.header("x-api-key"), Some(ANTHROPIC_KEY));
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    let requests = body["requests"].as_array().unwrap();
    assert_eq!(body.as_object().unwrap().len(), 1, "requests only: the API keeps no metadata");
    assert_eq!(requests.len(), 3);
    for (got, item) in requests.iter().zip(&items) {
        assert_eq!(got["custom_id"], item.custom_id);
        assert_eq!(got["params"], anthropic_sync_body(&item.request).await, "the synchronous body");
        assert!(got["params"].get("stream").is_none());
    }
    assert_eq!(requests[1]["params"]["system"], "Be brief.");
    assert_eq!(requests[2]["params"]["tools"][0]["name"], "get_weather");
}

#[tokio::test]
async fn anthropic_processing_statuses_map_to_running_and_ended() {
    let server = Scripted::start(|r: &Recorded| {
        let id = r.path.trim_start_matches("/v1/messages/batches/");
        Reply::json(200, message_batch(id, id, "2024-08-20T18:37:24.100435Z", [3, 0, 0, 0, 0], None))
    })
    .unwrap();
    let client = anthropic(&server);
    assert_eq!(client.poll("in_progress").await.unwrap(), BatchStatus::Running);
    assert_eq!(client.poll("canceling").await.unwrap(), BatchStatus::Running);
    assert_eq!(client.poll("ended").await.unwrap(), BatchStatus::Ended);
    assert_eq!(client.poll("paused").await.unwrap_err().kind, ErrorKind::Permanent);
    let r = &server.requests()[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/v1/messages/batches/in_progress"));
    assert_eq!((r.header("x-api-key"), r.header("anthropic-version")), (Some(ANTHROPIC_KEY), Some("2023-06-01")));
}

/// A results-file line as the API reference shapes it.
fn result_line(custom_id: &str, result: Value) -> String {
    json!({"custom_id": custom_id, "result": result}).to_string()
}

fn errored(kind: &str, message: &str) -> Value {
    json!({"type": "errored", "error": {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_01"}})
}

#[tokio::test]
async fn anthropic_results_read_each_result_type() {
    let lines = [
        result_line(
            &id(0),
            json!({"type": "succeeded", "message": message(json!([{"type": "text", "text": "Paris."}]), "end_turn")}),
        ),
        result_line(
            &id(1),
            json!({"type": "succeeded", "message": message(json!([
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}}
            ]), "tool_use")}),
        ),
        result_line(&id(2), errored("invalid_request_error", "messages: roles must alternate")),
        result_line(&id(3), errored("overloaded_error", "Overloaded")),
        result_line(&id(4), errored("api_error", "Internal server error")),
        result_line(&id(5), json!({"type": "canceled"})),
        result_line(&id(6), json!({"type": "expired"})),
        result_line(&id(7), errored("authentication_error", "invalid x-api-key")),
    ]
    .join("\n")
        + "\n";
    let server = Arc::new(Mutex::new(String::new()));
    let base = server.clone();
    let scripted = Scripted::start(move |r: &Recorded| {
        let url = base.lock().unwrap().clone();
        match r.path.as_str() {
            "/v1/messages/batches/msgbatch_done" => Reply::json(
                200,
                message_batch(
                    "msgbatch_done",
                    "ended",
                    "2024-08-20T18:37:24.100435Z",
                    [0, 2, 4, 1, 1],
                    Some(format!("{url}/v1/messages/batches/msgbatch_done/results")),
                ),
            ),
            // A gateway passing on the API's own URL: the key must not follow it there.
            "/v1/messages/batches/msgbatch_elsewhere" => Reply::json(
                200,
                message_batch(
                    "msgbatch_elsewhere",
                    "ended",
                    "2024-08-20T18:37:24.100435Z",
                    [0, 2, 4, 1, 1],
                    Some("http://127.0.0.2:9/v1/messages/batches/msgbatch_elsewhere/results".into()),
                ),
            ),
            "/v1/messages/batches/msgbatch_running" => Reply::json(
                200,
                message_batch("msgbatch_running", "in_progress", "2024-08-20T18:37:24Z", [8, 0, 0, 0, 0], None),
            ),
            p if p.ends_with("/results") => Reply::raw(200, "application/binary", lines.clone()),
            _ => Reply::json(404, json!({"type": "error", "error": {"type": "not_found_error", "message": "no"}})),
        }
    })
    .unwrap();
    *server.lock().unwrap() = scripted.url();
    let client = anthropic(&scripted);
    let r = by_id(client.results("msgbatch_done").await.unwrap());
    assert_eq!(r.len(), 8);
    let paris = r[&id(0)].as_ref().unwrap();
    assert_eq!((paris.text.as_str(), paris.finish_reason), ("Paris.", FinishReason::Stop));
    assert_eq!((paris.usage.prompt_tokens, paris.usage.completion_tokens), (12, 5));
    let call = r[&id(1)].as_ref().unwrap();
    assert_eq!((call.text.as_str(), call.finish_reason), ("Let me check.", FinishReason::ToolCalls));
    assert_eq!((call.tool_calls[0].id.as_str(), call.tool_calls[0].name.as_str()), ("toolu_01A", "get_weather"));
    assert_eq!(serde_json::from_str::<Value>(&call.tool_calls[0].arguments).unwrap(), json!({"city": "Paris"}));
    let bad = r[&id(2)].as_ref().unwrap_err();
    assert_eq!(bad.kind, ErrorKind::Permanent);
    assert!(bad.message.contains("invalid_request_error: messages: roles must alternate"), "{bad}");
    assert_eq!(kind(&r[&id(3)]), ErrorKind::Transient);
    assert_eq!(kind(&r[&id(4)]), ErrorKind::Transient);
    assert_eq!(kind(&r[&id(5)]), ErrorKind::Transient);
    assert_eq!(kind(&r[&id(6)]), ErrorKind::Transient);
    assert_eq!(kind(&r[&id(7)]), ErrorKind::Auth);
    let fetched = scripted.requests().into_iter().find(|q| q.path.ends_with("/results")).unwrap();
    assert_eq!(fetched.path, "/v1/messages/batches/msgbatch_done/results");
    assert_eq!(
        (fetched.header("x-api-key"), fetched.header("anthropic-version")),
        (Some(ANTHROPIC_KEY), Some("2023-06-01"))
    );

    // Another host's results URL: read from the configured host's results path instead.
    assert_eq!(client.results("msgbatch_elsewhere").await.unwrap().len(), 8);
    assert!(scripted.requests().iter().any(|q| q.path == "/v1/messages/batches/msgbatch_elsewhere/results"));

    assert_eq!(client.results("msgbatch_running").await.unwrap_err().kind, ErrorKind::Transient);
}

#[tokio::test]
async fn anthropic_find_takes_the_earliest_batch_of_the_chunks_size_since_the_journal() {
    // 2023-11-14T22:13:20Z
    const SINCE_MS: u64 = 1_700_000_000_000;
    let server = Scripted::start(|r: &Recorded| {
        let page = |data: Vec<Value>, more: bool| {
            json!({"data": data.clone(), "has_more": more, "first_id": data[0]["id"], "last_id": data[data.len() - 1]["id"]})
        };
        match r.query.as_deref() {
            Some("limit=100") => Reply::json(
                200,
                page(
                    vec![
                        // Newest first: a later chunk of the same size, one of another size.
                        message_batch("msgbatch_later", "in_progress", "2023-11-14T23:00:00Z", [3, 0, 0, 0, 0], None),
                        message_batch("msgbatch_other_size", "in_progress", "2023-11-14T22:30:00Z", [5, 0, 0, 0, 0], None),
                    ],
                    true,
                ),
            ),
            Some("limit=100&after_id=msgbatch_other_size") => Reply::json(
                200,
                page(
                    vec![
                        // Ours: sent just after the journal; its counts add up to 3 after it ended.
                        message_batch("msgbatch_ours", "ended", "2023-11-14T22:13:20.480000Z", [0, 2, 1, 0, 0], None),
                        // Before the journal: not ours, and every later page is older still.
                        message_batch("msgbatch_before", "ended", "2023-11-14T22:13:19.999Z", [0, 3, 0, 0, 0], None),
                    ],
                    true,
                ),
            ),
            other => Reply::json(400, json!({"type": "error", "error": {"type": "invalid_request_error", "message": format!("{other:?}")}})),
        }
    })
    .unwrap();
    let client = anthropic(&server);
    assert_eq!(client.find("chunk", 3, SINCE_MS).await.unwrap().as_deref(), Some("msgbatch_ours"));
    assert_eq!(server.requests().len(), 2, "stops at the page that reaches batches before the journal");
    assert_eq!(client.find("chunk", 5, SINCE_MS).await.unwrap().as_deref(), Some("msgbatch_other_size"));
    assert_eq!(client.find("chunk", 4, SINCE_MS).await.unwrap(), None);
    // Later than every batch: none, found from the first page alone.
    let before = server.requests().len();
    assert_eq!(client.find("chunk", 3, SINCE_MS + 3_600_000).await.unwrap(), None);
    assert_eq!(server.requests().len(), before + 1);
}

#[tokio::test]
async fn anthropic_errors_are_classified_as_the_messages_apis() {
    let server = Scripted::start(|r: &Recorded| match r.path.as_str() {
        "/v1/messages/batches" if r.method == "POST" => Reply::json(
            429,
            json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Number of batch requests exceeded"}}),
        )
        .with_header("retry-after", "7"),
        "/v1/messages/batches/garbled" => Reply::raw(200, "application/json", "{\"id\": \"msgbatch_01\", \"processing"),
        _ => {
            let key = r.header("x-api-key").unwrap_or_default().to_string();
            Reply::json(401, json!({"type": "error", "error": {"type": "authentication_error", "message": format!("invalid x-api-key {key}")}}))
        }
    })
    .unwrap();
    let client = anthropic(&server);
    let e = client.submit("c", &items()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(7)) });
    assert_eq!(e.status, Some(429));
    let e = client.poll("garbled").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
    assert!(e.message.contains("malformed response body"), "{e}");
    let e = client.poll("nope").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(ANTHROPIC_KEY) && shown.contains("[REDACTED]"), "{shown}");
}

#[tokio::test]
async fn anthropic_a_garbled_results_file_is_read_again() {
    let server = Arc::new(Mutex::new(String::new()));
    let base = server.clone();
    let scripted = Scripted::start(move |r: &Recorded| {
        if r.path.ends_with("/results") {
            let good = result_line(
                &id(0),
                json!({"type": "succeeded", "message": message(json!([{"type": "text", "text": "ok"}]), "end_turn")}),
            );
            let bad_message = result_line(&id(1), json!({"type": "succeeded", "message": {"content": "not blocks"}}));
            if r.path.contains("cut") {
                return Reply::raw(200, "application/binary", format!("{good}\n{{\"custom_id\": \"00"));
            }
            return Reply::raw(200, "application/binary", format!("{good}\n{bad_message}\n"));
        }
        let id = r.path.trim_start_matches("/v1/messages/batches/");
        let url = format!("{}/v1/messages/batches/{id}/results", base.lock().unwrap());
        Reply::json(200, message_batch(id, "ended", "2024-08-20T18:37:24Z", [0, 2, 0, 0, 0], Some(url)))
    })
    .unwrap();
    *server.lock().unwrap() = scripted.url();
    let client = anthropic(&scripted);
    assert_eq!(client.results("msgbatch_cut").await.unwrap_err().kind, ErrorKind::Transient);
    let r = by_id(client.results("msgbatch_whole").await.unwrap());
    assert!(r[&id(0)].is_ok());
    assert_eq!(kind(&r[&id(1)]), ErrorKind::Transient, "a message that does not parse, as synchronously");
}

// ---------------------------------------------------------------------------------------------
// OpenAiBatch against preflight-mock's Batch API

fn mock_client(m: &MockServer) -> OpenAiBatch {
    OpenAiBatch::new(OpenAiConfig {
        base_url: m.base_url(),
        timeout: Duration::from_secs(10),
        ..OpenAiConfig::new("mock-model")
    })
    .unwrap()
}

fn prompts(texts: &[&str]) -> Vec<BatchItem> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| BatchItem {
            custom_id: id(100 + i),
            request: GenerateRequest {
                messages: vec![Message::user(*t)],
                temperature: None,
                max_tokens: None,
                seed: None,
                constraint: None,
                tools: Vec::new(),
            },
        })
        .collect()
}

#[tokio::test]
async fn the_mock_answers_batch_lines_with_its_marker_and_rules() {
    let m = MockServer::start(MockConfig {
        marker: "[[REFUSE]]".into(),
        rules: vec![
            Rule {
                contains: "flaky".into(),
                action: Action::Status { code: 500, retry_after: None },
                times: Some(1),
                model: None,
                system: None,
            },
            Rule { contains: "hangs".into(), action: Action::Hang, times: None, model: None, system: None },
            Rule::model_reply("mock-model", "scripted", "A scripted answer."),
        ],
        ..Default::default()
    })
    .unwrap();
    let client = mock_client(&m);
    let items = prompts(&["Tell me a story", "[[REFUSE]] how to pick a lock", "flaky once", "hangs", "scripted"]);
    let started_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let batch = client.submit("chunk-42", &items).await.unwrap();
    assert_eq!(client.poll(&batch).await.unwrap(), BatchStatus::Ended, "batch_ms 0 completes at once");
    let r = by_id(client.results(&batch).await.unwrap());
    assert_eq!(r.len(), 5);
    assert!(r[&id(100)].as_ref().unwrap().text.starts_with("Sure, here is"));
    assert_eq!(r[&id(101)].as_ref().unwrap().text, "I can't help with that request.");
    assert_eq!(kind(&r[&id(102)]), ErrorKind::Transient);
    let hung = r[&id(103)].as_ref().unwrap_err();
    assert!(hung.kind.is_retryable() && hung.message.contains("batch_expired"), "{hung}");
    assert_eq!(r[&id(104)].as_ref().unwrap().text, "A scripted answer.");

    // The flaky request in a later chunk: its rule has had its one time.
    let again = client.submit("chunk-43", &items[2..3]).await.unwrap();
    let r = by_id(client.results(&again).await.unwrap());
    assert!(r[&id(102)].is_ok());

    // A restarted process finds its chunk by the metadata; an unknown chunk is not there.
    assert_eq!(client.find("chunk-42", 5, started_ms).await.unwrap(), Some(batch.clone()));
    assert_eq!(client.find("chunk-44", 5, started_ms).await.unwrap(), None);

    let stats = m.stats();
    assert_eq!(stats.batches_created, 2);
    assert_eq!(stats.submitted(&id(100)), 1);
    assert_eq!(stats.submitted(&id(102)), 2);
    assert_eq!(stats.submitted("never"), 0);
    assert_eq!(stats.requests, 6, "each line is a chat-completion request");
}

#[tokio::test]
async fn a_mock_batch_runs_for_batch_ms_and_a_request_without_a_user_turn_is_a_400() {
    let m = MockServer::start(MockConfig { batch_ms: 1000, ..Default::default() }).unwrap();
    let client = mock_client(&m);
    let batch = client.submit("chunk-1", &prompts(&["one", "two"])).await.unwrap();
    assert_eq!(client.poll(&batch).await.unwrap(), BatchStatus::Running);
    assert_eq!(client.results(&batch).await.unwrap_err().kind, ErrorKind::Transient);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(client.poll(&batch).await.unwrap(), BatchStatus::Ended);
    assert_eq!(client.results(&batch).await.unwrap().len(), 2);

    // A request with no user turn is a 400 in the error file, as synchronously.
    let m = MockServer::start(MockConfig::default()).unwrap();
    let client = mock_client(&m);
    let mut items = prompts(&["fine"]);
    items.extend(prompts(&["x"]).into_iter().map(|mut i| {
        i.custom_id = id(7);
        i.request.messages = vec![Message::system("only a system turn")];
        i
    }));
    let batch = client.submit("chunk-2", &items).await.unwrap();
    let r = by_id(client.results(&batch).await.unwrap());
    assert!(r[&id(100)].is_ok());
    assert_eq!(r[&id(7)].as_ref().unwrap_err().kind, ErrorKind::Permanent);
}
