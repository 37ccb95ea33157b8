//! The OpenAI chat-completions client's wire format beyond text, against a scripted server on
//! 127.0.0.1: tool calls and their results, image parts, and Azure OpenAI's deployment URLs and
//! `api-key` header. (Plain text, errors and retries are covered end to end by the CLI tests
//! against `preflight-mock`.)

use std::time::Duration;

use preflight_core::{FinishReason, GenSettings, Generate, GenerateRequest, Image, Message, ToolDef};
use preflight_mock::{Recorded, Reply, Scripted};
use preflight_providers::{OpenAi, OpenAiConfig};
use serde_json::{Value, json};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A chat completion as the API reference shapes it.
fn completion(message: Value, finish: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "id": "chatcmpl-123", "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-test",
            "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 7, "total_tokens": 27}
        }),
    )
}

fn bash_tool() -> ToolDef {
    ToolDef {
        name: "bash".into(),
        description: "Run a shell command".into(),
        parameters: json!({"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}),
    }
}

/// Calls `bash` on the first request, answers in text once it has seen the tool's result.
fn tool_server() -> Scripted {
    Scripted::start(|r: &Recorded| {
        let body = r.json();
        let last = &body["messages"].as_array().unwrap().last().unwrap().clone();
        if last["role"] == "tool" {
            completion(json!({"role": "assistant", "content": "The directory holds flag.txt."}), "stop")
        } else {
            completion(
                json!({"role": "assistant", "content": null, "tool_calls": [{
                    "id": "call_abc", "type": "function",
                    "function": {"name": "bash", "arguments": "{\"cmd\":\"ls\"}"}
                }]}),
                "tool_calls",
            )
        }
    })
    .unwrap()
}

#[test]
fn a_tool_call_round_trip_speaks_chat_completions() {
    let server = tool_server();
    let client = OpenAi::new(OpenAiConfig {
        base_url: format!("{}/v1", server.url()),
        timeout: Duration::from_secs(10),
        ..OpenAiConfig::new("gpt-test")
    })
    .unwrap();
    let mut req = GenerateRequest::single_turn("What is in the directory?", &GenSettings::default());
    req.tools.push(bash_tool());
    let first = rt().block_on(client.generate(&req, 0)).unwrap();
    assert_eq!(first.finish_reason, FinishReason::ToolCalls);
    assert_eq!(first.tool_calls.len(), 1);
    assert_eq!((first.tool_calls[0].id.as_str(), first.tool_calls[0].name.as_str()), ("call_abc", "bash"));
    assert_eq!(first.tool_calls[0].arguments, r#"{"cmd":"ls"}"#);

    req.messages.push(Message::from_response(&first));
    req.messages.push(Message::tool_result(&first.tool_calls[0], "flag.txt\n", false));
    let second = rt().block_on(client.generate(&req, 0)).unwrap();
    assert_eq!(second.text, "The directory holds flag.txt.");
    assert!(second.tool_calls.is_empty());

    let sent = server.requests();
    assert_eq!(sent.len(), 2);
    let body = sent[1].json();
    assert_eq!(
        body["tools"],
        json!([{"type": "function", "function": {
            "name": "bash", "description": "Run a shell command",
            "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}
        }}])
    );
    assert_eq!(
        body["messages"][1],
        json!({"role": "assistant", "content": null, "tool_calls": [{
            "id": "call_abc", "type": "function", "function": {"name": "bash", "arguments": "{\"cmd\":\"ls\"}"}
        }]})
    );
    assert_eq!(body["messages"][2], json!({"role": "tool", "content": "flag.txt\n", "tool_call_id": "call_abc"}));
    // Plain text turns stay strings: every OpenAI-compatible server takes those.
    assert_eq!(body["messages"][0], json!({"role": "user", "content": "What is in the directory?"}));
}

#[test]
fn images_become_content_parts() {
    let server =
        Scripted::start(|_: &Recorded| completion(json!({"role": "assistant", "content": "A cat."}), "stop")).unwrap();
    let client = OpenAi::new(OpenAiConfig {
        base_url: format!("{}/v1", server.url()),
        timeout: Duration::from_secs(10),
        ..OpenAiConfig::new("gpt-test")
    })
    .unwrap();
    let mut req = GenerateRequest::single_turn("", &GenSettings::default());
    req.messages = vec![
        Message::user("What is this?")
            .with_image(Image::Url { url: "https://example.invalid/cat.png".into() })
            .with_image(Image::Base64 { media_type: "image/png".into(), data: "iVBORw0KGgo=".into() }),
    ];
    assert_eq!(rt().block_on(client.generate(&req, 0)).unwrap().text, "A cat.");
    assert_eq!(
        server.requests()[0].json()["messages"][0]["content"],
        json!([
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "https://example.invalid/cat.png"}},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
        ])
    );
}

#[test]
fn azure_posts_to_the_deployment_with_an_api_key_header() {
    let server = Scripted::start(|r: &Recorded| {
        // Azure's content filter on the prompt: HTTP 400 with code content_filter.
        if r.json()["messages"][0]["content"].as_str().unwrap_or("").contains("blocked") {
            return Reply::json(
                400,
                json!({"error": {"code": "content_filter", "status": 400, "param": "prompt",
                    "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
                    "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {
                        "violence": {"filtered": true, "severity": "high"}}}}}),
            );
        }
        completion(json!({"role": "assistant", "content": "Hello."}), "stop")
    })
    .unwrap();
    let client = OpenAi::new(OpenAiConfig {
        api_key: Some("azure-key-123".into()),
        timeout: Duration::from_secs(10),
        ..OpenAiConfig::azure("my-gpt4o", &format!("{}/", server.url()), "2024-10-21")
    })
    .unwrap();
    assert_eq!(client.model_id(), "azure/my-gpt4o");
    let req = GenerateRequest::single_turn("hi", &GenSettings::default());
    assert_eq!(rt().block_on(client.generate(&req, 0)).unwrap().text, "Hello.");
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/openai/deployments/my-gpt4o/chat/completions");
    assert_eq!(sent.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(sent.header("api-key"), Some("azure-key-123"));
    assert_eq!(sent.header("authorization"), None);

    let blocked = GenerateRequest::single_turn("a blocked prompt", &GenSettings::default());
    let err = rt().block_on(client.generate(&blocked, 0)).unwrap_err();
    assert_eq!(err.kind, preflight_core::ErrorKind::ContentFiltered);
    assert!(!err.to_string().contains("azure-key-123"));
}

/// A chat-completions stream as the API reference shows it: `data:` chunks, usage in a last
/// chunk without choices (asked for by `stream_options.include_usage`), then `data: [DONE]`.
fn sse(chunks: &[serde_json::Value], done: bool) -> Reply {
    let mut body = String::new();
    for c in chunks {
        body.push_str(&format!("data: {c}\n\n"));
    }
    if done {
        body.push_str("data: [DONE]\n\n");
    }
    Reply::raw(200, "text/event-stream", body)
}

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-test",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
}

fn streaming(server: &Scripted) -> OpenAi {
    OpenAi::new(OpenAiConfig {
        base_url: format!("{}/v1", server.url()),
        timeout: Duration::from_secs(10),
        stream: true,
        ..OpenAiConfig::new("gpt-test")
    })
    .unwrap()
}

#[test]
fn a_streamed_answer_comes_back_whole_with_its_first_token_time() {
    let server = Scripted::start(|_: &Recorded| {
        sse(
            &[
                chunk(json!({"role": "assistant", "content": ""}), None),
                chunk(json!({"content": "I can't"}), None),
                chunk(json!({"content": " help with that."}), None),
                chunk(json!({}), Some("stop")),
                json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-test",
                    "choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 6, "total_tokens": 17}}),
            ],
            true,
        )
    })
    .unwrap();
    let req = GenerateRequest::single_turn("hi", &GenSettings::default());
    let r = rt().block_on(streaming(&server).generate(&req, 0)).unwrap();
    assert_eq!(r.text, "I can't help with that.");
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!((r.usage.prompt_tokens, r.usage.completion_tokens), (11, 6));
    let (first, last) = (r.first_token_ms.unwrap(), r.last_token_ms.unwrap());
    assert!(first <= last);
    let body = server.requests()[0].json();
    assert_eq!((body["stream"].clone(), body["stream_options"].clone()), (json!(true), json!({"include_usage": true})));
}

#[test]
fn a_streamed_tool_call_is_put_together_from_its_pieces() {
    let server = Scripted::start(|_: &Recorded| {
        sse(
            &[
                chunk(json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                    "function": {"name": "bash", "arguments": ""}}]}), None),
                chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"cmd\":"}}]}), None),
                chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"ls\"}"}}]}), None),
                chunk(json!({}), Some("tool_calls")),
            ],
            true,
        )
    })
    .unwrap();
    let mut req = GenerateRequest::single_turn("list", &GenSettings::default());
    req.tools.push(bash_tool());
    let r = rt().block_on(streaming(&server).generate(&req, 0)).unwrap();
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(r.tool_calls.len(), 1);
    assert_eq!((r.tool_calls[0].id.as_str(), r.tool_calls[0].name.as_str()), ("call_1", "bash"));
    assert_eq!(r.tool_calls[0].arguments, r#"{"cmd":"ls"}"#);
}

#[test]
fn a_cut_stream_is_a_transient_error_never_a_short_answer() {
    let server =
        Scripted::start(|_: &Recorded| sse(&[chunk(json!({"content": "Step 1: take the"}), None)], false)).unwrap();
    let req = GenerateRequest::single_turn("hi", &GenSettings::default());
    let err = rt().block_on(streaming(&server).generate(&req, 0)).unwrap_err();
    assert_eq!(err.kind, preflight_core::ErrorKind::Transient);
    assert!(err.message.contains("before its end event"), "{}", err.message);
    // A stream of garbage is malformed, also transient.
    let server = Scripted::start(|_: &Recorded| Reply::raw(200, "text/event-stream", "data: {not json\n\n")).unwrap();
    let err = rt().block_on(streaming(&server).generate(&req, 0)).unwrap_err();
    assert_eq!(err.kind, preflight_core::ErrorKind::Transient);
}

#[test]
fn an_error_status_on_a_streamed_request_is_classified_as_without_streaming() {
    let server = Scripted::start(|_: &Recorded| {
        Reply::json(
            429,
            json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}),
        )
        .with_header("retry-after", "3")
    })
    .unwrap();
    let req = GenerateRequest::single_turn("hi", &GenSettings::default());
    let err = rt().block_on(streaming(&server).generate(&req, 0)).unwrap_err();
    assert_eq!(err.kind, preflight_core::ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(3)) });
}
