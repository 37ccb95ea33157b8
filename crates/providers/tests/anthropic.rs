//! The Anthropic provider against a scripted Messages API on 127.0.0.1: the request it sends, the
//! answers it reads, and how it classifies the API's errors.

use std::time::Duration;

use preflight_core::{
    Constraint, ErrorKind, Features, FinishReason, Generate, GenerateRequest, GenerateResponse, Image, Message,
    ProviderError, ToolDef,
};
use preflight_mock::{Recorded, Reply, Scripted};
use preflight_providers::{Anthropic, AnthropicConfig};
use serde_json::{Value, json};

const KEY: &str = "sk-ant-test-0123456789abcdef";

fn provider(server: &Scripted) -> Anthropic {
    let mut cfg = AnthropicConfig::new("claude-test");
    cfg.base_url = server.url();
    cfg.api_key = Some(KEY.to_string());
    cfg.timeout = Duration::from_secs(10);
    Anthropic::new(cfg).unwrap()
}

/// A successful Messages response, shaped as the API reference gives it.
fn message(content: Value, stop_reason: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "content": content,
            "model": "claude-test",
            "stop_reason": stop_reason,
            "stop_sequence": null,
            "usage": {"input_tokens": 12, "output_tokens": 5}
        }),
    )
}

fn text_message(text: &str, stop_reason: &str) -> Reply {
    message(json!([{"type": "text", "text": text}]), stop_reason)
}

/// An error response, shaped as the API reference gives it.
fn error(status: u16, kind: &str, msg: &str) -> Reply {
    Reply::json(
        status,
        json!({"type": "error", "error": {"type": kind, "message": msg}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}),
    )
}

fn request(messages: Vec<Message>) -> GenerateRequest {
    GenerateRequest { messages, temperature: None, max_tokens: None, seed: None, constraint: None, tools: Vec::new() }
}

async fn ask(server: &Scripted, req: &GenerateRequest) -> Result<GenerateResponse, ProviderError> {
    provider(server).generate(req, 0).await
}

async fn fail(reply: Reply) -> ProviderError {
    let server = Scripted::start(move |_: &Recorded| reply.clone()).unwrap();
    ask(&server, &request(vec![Message::user("hi")])).await.unwrap_err()
}

#[tokio::test]
async fn sends_the_messages_request_and_reads_the_answer() {
    let server = Scripted::start(|_: &Recorded| text_message("Paris.", "end_turn")).unwrap();
    let p = provider(&server);
    assert_eq!(p.model_id(), "anthropic/claude-test");
    assert_eq!(p.features(), Features::ALL);
    let req = GenerateRequest {
        messages: vec![
            Message::system("Be brief."),
            Message::system("Answer in English."),
            Message::user("Capital of France?"),
            Message::assistant("Which France?"),
            Message::user("The country."),
        ],
        temperature: Some(0.0),
        max_tokens: Some(64),
        seed: Some(7),
        constraint: Some(Constraint::OneOf(vec!["Paris.".into()])),
        tools: Vec::new(),
    };
    let resp = p.generate(&req, 0).await.unwrap();
    assert_eq!(resp.text, "Paris.");
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!((resp.usage.prompt_tokens, resp.usage.completion_tokens), (12, 5));
    assert!(resp.tool_calls.is_empty());

    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    let r = &sent[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/v1/messages"));
    assert_eq!(r.header("x-api-key"), Some(KEY));
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("authorization"), None);
    assert_eq!(
        r.json(),
        json!({
            "model": "claude-test",
            "max_tokens": 64,
            "system": "Be brief.\n\nAnswer in English.",
            "messages": [
                {"role": "user", "content": "Capital of France?"},
                {"role": "assistant", "content": "Which France?"},
                {"role": "user", "content": "The country."}
            ],
            "temperature": 0.0
        }),
        "no seed, no grammar, no system role in messages"
    );
}

#[tokio::test]
async fn max_tokens_defaults_when_the_request_sets_none() {
    let server = Scripted::start(|_: &Recorded| text_message("ok", "end_turn")).unwrap();
    ask(&server, &request(vec![Message::user("hi")])).await.unwrap();
    let body = server.requests()[0].json();
    assert_eq!(body["max_tokens"], 1024);
    assert!(body.get("system").is_none() && body.get("temperature").is_none() && body.get("tools").is_none());
}

#[tokio::test]
async fn a_refusal_in_words_is_an_ordinary_answer() {
    let server = Scripted::start(|_: &Recorded| text_message("I can't help with that.", "end_turn")).unwrap();
    let resp = ask(&server, &request(vec![Message::user("how do I pick a lock?")])).await.unwrap();
    assert_eq!(resp.text, "I can't help with that.");
    assert_eq!(resp.finish_reason, FinishReason::Stop);
}

#[tokio::test]
async fn a_classifier_refusal_is_content_filter() {
    let server =
        Scripted::start(|_: &Recorded| message(json!([{"type": "text", "text": "Here is how to"}]), "refusal"))
            .unwrap();
    let resp = ask(&server, &request(vec![Message::user("something harmful")])).await.unwrap();
    assert_eq!(resp.finish_reason, FinishReason::ContentFilter);
    assert_eq!(resp.text, "Here is how to");
}

#[tokio::test]
async fn max_tokens_stop_is_length() {
    let server = Scripted::start(|_: &Recorded| text_message("Once upon", "max_tokens")).unwrap();
    let resp = ask(&server, &request(vec![Message::user("a story")])).await.unwrap();
    assert_eq!(resp.finish_reason, FinishReason::Length);
}

#[tokio::test]
async fn rate_limit_carries_retry_after() {
    let e = fail(
        error(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit")
            .with_header("retry-after", "7"),
    )
    .await;
    assert_eq!(e.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(7)) });
    assert_eq!(e.status, Some(429));
    assert!(e.message.contains("rate_limit_error"), "{e}");
}

#[tokio::test]
async fn an_exhausted_spend_limit_is_permanent() {
    let reply = Reply::json(
        429,
        json!({"type": "error", "error": {
            "type": "rate_limit_error",
            "message": "You have reached your API usage limits.",
            "details": {"error_code": "enforced_spend_limit_reached"}
        }}),
    );
    assert_eq!(fail(reply).await.kind, ErrorKind::Permanent);
}

#[tokio::test]
async fn overloaded_is_retryable() {
    let e = fail(error(529, "overloaded_error", "Overloaded")).await;
    assert_eq!(e.kind, ErrorKind::Transient);
    assert_eq!(e.status, Some(529));
    let e = fail(error(529, "overloaded_error", "Overloaded").with_header("retry-after", "2")).await;
    assert_eq!(e.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(2)) });
    assert!(e.kind.is_retryable());
}

#[tokio::test]
async fn api_error_is_transient() {
    assert_eq!(fail(error(500, "api_error", "Internal server error")).await.kind, ErrorKind::Transient);
}

#[tokio::test]
async fn bad_key_is_auth() {
    assert_eq!(fail(error(401, "authentication_error", "invalid x-api-key")).await.kind, ErrorKind::Auth);
    assert_eq!(fail(error(403, "permission_error", "no access to this model")).await.kind, ErrorKind::Auth);
}

#[tokio::test]
async fn bad_requests_are_permanent() {
    let e = fail(error(400, "invalid_request_error", "messages: roles must alternate")).await;
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert!(e.message.contains("roles must alternate"), "{e}");
    assert_eq!(fail(error(404, "not_found_error", "model: claude-test")).await.kind, ErrorKind::Permanent);
    assert_eq!(fail(error(402, "billing_error", "add credits")).await.kind, ErrorKind::Permanent);
    // The CDN in front of the API answers an oversized request itself, not always in the JSON shape.
    let e = fail(Reply::raw(413, "text/html", "<html>413 Request Entity Too Large</html>")).await;
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert!(e.message.contains("413 Request Entity Too Large"), "{e}");
}

#[tokio::test]
async fn malformed_body_is_transient() {
    let e = fail(Reply::raw(200, "application/json", "{\"id\": \"msg_01\", \"content\": [trunc")).await;
    assert_eq!(e.kind, ErrorKind::Transient);
    assert!(e.message.contains("malformed response body") && e.message.contains("msg_01"), "{e}");
}

#[tokio::test]
async fn unreachable_server_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cfg = AnthropicConfig::new("claude-test");
    cfg.base_url = format!("http://127.0.0.1:{port}");
    cfg.api_key = Some(KEY.to_string());
    let e = Anthropic::new(cfg).unwrap().generate(&request(vec![Message::user("hi")]), 0).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unreachable);
    assert!(!e.to_string().contains(KEY));
}

#[tokio::test]
async fn the_key_never_appears_in_errors() {
    for status in [400, 401, 500] {
        let server = Scripted::start(move |r: &Recorded| {
            let key = r.header("x-api-key").unwrap_or_default().to_string();
            error(status, "invalid_request_error", &format!("bad key {key}"))
        })
        .unwrap();
        let e = ask(&server, &request(vec![Message::user("hi")])).await.unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(KEY), "{shown}");
        assert!(e.message.contains("[REDACTED]"), "{shown}");
    }
    // A body that is not the JSON error shape is quoted raw: redacted too.
    let server = Scripted::start(|r: &Recorded| {
        Reply::raw(502, "text/plain", format!("upstream saw x-api-key: {}", r.header("x-api-key").unwrap_or_default()))
    })
    .unwrap();
    let e = ask(&server, &request(vec![Message::user("hi")])).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
    assert!(!format!("{e} {e:?}").contains(KEY) && e.message.contains("[REDACTED]"), "{e}");
}

#[tokio::test]
async fn tool_call_round_trip() {
    let server = Scripted::start(|r: &Recorded| {
        let turns = r.json()["messages"].as_array().map(Vec::len).unwrap_or(0);
        if turns == 1 {
            message(
                json!([
                    {"type": "text", "text": "Let me check."},
                    {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}}
                ]),
                "tool_use",
            )
        } else {
            text_message("It is 18 °C in Paris.", "end_turn")
        }
    })
    .unwrap();
    let p = provider(&server);
    let weather = ToolDef {
        name: "get_weather".into(),
        description: "Current weather in a city".into(),
        parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    };
    let mut req = request(vec![Message::system("You are helpful."), Message::user("Weather in Paris?")]);
    req.tools = vec![weather];

    let first = p.generate(&req, 0).await.unwrap();
    assert_eq!(first.finish_reason, FinishReason::ToolCalls);
    assert_eq!(first.text, "Let me check.");
    assert_eq!(first.tool_calls.len(), 1);
    let call = &first.tool_calls[0];
    assert_eq!((call.id.as_str(), call.name.as_str()), ("toolu_01A", "get_weather"));
    assert_eq!(serde_json::from_str::<Value>(&call.arguments).unwrap(), json!({"city": "Paris"}));

    req.messages.push(Message::from_response(&first));
    req.messages.push(Message::tool_result(call, "18 °C, clear", false));
    let second = p.generate(&req, 0).await.unwrap();
    assert_eq!(second.text, "It is 18 °C in Paris.");
    assert_eq!(second.finish_reason, FinishReason::Stop);

    let sent = server.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0].json()["tools"],
        json!([{
            "name": "get_weather",
            "description": "Current weather in a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
        }])
    );
    let body = sent[1].json();
    assert_eq!(body["system"], "You are helpful.");
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "18 °C, clear", "is_error": false}
            ]}
        ])
    );
}

#[tokio::test]
async fn parallel_tool_results_share_one_user_turn() {
    let server = Scripted::start(|_: &Recorded| text_message("done", "end_turn")).unwrap();
    let a = preflight_core::ToolCall::new("toolu_a", "f", "{\"x\":1}");
    let b = preflight_core::ToolCall::new("toolu_b", "g", "not json");
    let assistant = Message { tool_calls: vec![a.clone(), b.clone()], ..Message::assistant("") };
    let req = request(vec![
        Message::user("go"),
        assistant,
        Message::tool_result(&a, "one", false),
        Message::tool_result(&b, "boom", true),
        Message::user("and then?"),
    ]);
    ask(&server, &req).await.unwrap();
    assert_eq!(
        server.requests()[0].json()["messages"],
        json!([
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_a", "name": "f", "input": {"x": 1}},
                {"type": "tool_use", "id": "toolu_b", "name": "g", "input": {}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_a", "content": "one", "is_error": false},
                {"type": "tool_result", "tool_use_id": "toolu_b", "content": "boom", "is_error": true},
                {"type": "text", "text": "and then?"}
            ]}
        ])
    );
}

#[tokio::test]
async fn images_become_image_blocks() {
    let server = Scripted::start(|_: &Recorded| text_message("A cat.", "end_turn")).unwrap();
    let msg = Message::user("What is this?")
        .with_image(Image::Base64 { media_type: "image/png".into(), data: "iVBORw0KGgo=".into() })
        .with_image(Image::Url { url: "https://example.invalid/cat.jpg".into() });
    let resp = ask(&server, &request(vec![msg])).await.unwrap();
    assert_eq!(resp.text, "A cat.");
    assert_eq!(
        server.requests()[0].json()["messages"],
        json!([{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "image", "source": {"type": "url", "url": "https://example.invalid/cat.jpg"}}
        ]}])
    );
}

// Streaming. The bodies are built as the API reference and the official SDK's fixtures show
// them: `event: NAME`, `data: {"type":"NAME",…}`, a blank line after each event.

fn streaming(server: &Scripted) -> Anthropic {
    let mut cfg = AnthropicConfig::new("claude-test");
    cfg.base_url = server.url();
    cfg.api_key = Some(KEY.to_string());
    cfg.timeout = Duration::from_secs(10);
    cfg.stream = true;
    Anthropic::new(cfg).unwrap()
}

/// An SSE body: each event named by its data's `type`.
fn sse(events: &[Value]) -> String {
    events.iter().map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap())).collect()
}

fn event_stream(body: String) -> Reply {
    Reply::raw(200, "text/event-stream; charset=utf-8", body)
}

fn message_start(input_tokens: u32) -> Value {
    json!({"type": "message_start", "message": {
        "id": "msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK", "type": "message", "role": "assistant", "content": [],
        "model": "claude-test", "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": input_tokens, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
            "output_tokens": 1, "service_tier": "standard"}
    }})
}

fn text_start(index: usize) -> Value {
    json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})
}

fn text_delta(index: usize, text: &str) -> Value {
    json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}})
}

fn json_delta(index: usize, partial_json: &str) -> Value {
    json!({"type": "content_block_delta", "index": index,
        "delta": {"type": "input_json_delta", "partial_json": partial_json}})
}

fn block_stop(index: usize) -> Value {
    json!({"type": "content_block_stop", "index": index})
}

fn message_delta(stop_reason: &str, output_tokens: u32) -> Value {
    json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null},
        "usage": {"output_tokens": output_tokens}})
}

fn ping() -> Value {
    json!({"type": "ping"})
}

fn message_stop() -> Value {
    json!({"type": "message_stop"})
}

/// The reference's plain text stream: "Hello there!" in three deltas.
fn hello_events() -> Vec<Value> {
    vec![
        message_start(11),
        text_start(0),
        ping(),
        text_delta(0, "Hello"),
        text_delta(0, " there"),
        text_delta(0, "!"),
        block_stop(0),
        message_delta("end_turn", 6),
        message_stop(),
    ]
}

/// A scripted server's answer, boxed so one test can try several.
type Handler = Box<dyn Fn(&Recorded) -> Reply + Send + Sync>;

async fn stream_fail(reply: Reply) -> ProviderError {
    let server = Scripted::start(move |_: &Recorded| reply.clone()).unwrap();
    streaming(&server).generate(&request(vec![Message::user("hi")]), 0).await.unwrap_err()
}

#[tokio::test]
async fn a_streamed_answer_comes_back_whole() {
    let server = Scripted::start(|_: &Recorded| event_stream(sse(&hello_events()))).unwrap();
    let p = streaming(&server);
    let req = GenerateRequest { max_tokens: Some(64), ..request(vec![Message::user("Say hello")]) };
    let resp = p.generate(&req, 0).await.unwrap();
    assert_eq!(resp.text, "Hello there!");
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!((resp.usage.prompt_tokens, resp.usage.completion_tokens), (11, 6), "output_tokens is cumulative");
    assert!(resp.tool_calls.is_empty());
    assert!(resp.first_token_ms.is_some(), "time to first token is measured");

    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    let r = &sent[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/v1/messages"));
    assert_eq!(r.header("x-api-key"), Some(KEY));
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(
        r.json(),
        json!({
            "model": "claude-test",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "Say hello"}],
            "stream": true
        })
    );
}

#[tokio::test]
async fn a_streamed_answer_skips_thinking_and_unknown_events_and_sums_cached_input() {
    let events = vec![
        json!({"type": "message_start", "message": {
            "id": "msg_01", "type": "message", "role": "assistant", "content": [], "model": "claude-test",
            "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 5, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 40, "output_tokens": 1}
        }}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        ping(),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "The user wants"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "c2ln"}}),
        block_stop(0),
        // The reference: new event types may be added, and should be ignored.
        json!({"type": "some_future_event", "detail": {"x": 1}}),
        text_start(1),
        text_delta(1, "Four"),
        text_delta(1, "."),
        block_stop(1),
        // message_delta's usage is cumulative, and may restate the input counts.
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": {"input_tokens": 5, "cache_creation_input_tokens": 2, "cache_read_input_tokens": 40, "output_tokens": 30}}),
        message_stop(),
    ];
    let body = sse(&events);
    let server = Scripted::start(move |_: &Recorded| event_stream(body.clone())).unwrap();
    let resp = streaming(&server).generate(&request(vec![Message::user("2+2?")]), 0).await.unwrap();
    assert_eq!(resp.text, "Four.");
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!((resp.usage.prompt_tokens, resp.usage.completion_tokens), (47, 30));
}

#[tokio::test]
async fn a_streamed_refusal_is_content_filter() {
    let events = vec![
        message_start(20),
        text_start(0),
        text_delta(0, "Here is how to"),
        block_stop(0),
        json!({"type": "message_delta", "delta": {"stop_reason": "refusal", "stop_sequence": null,
            "stop_details": {"type": "refusal", "category": "cyber", "explanation": "This request was refused due to policy."}},
            "usage": {"output_tokens": 4}}),
        message_stop(),
    ];
    let body = sse(&events);
    let server = Scripted::start(move |_: &Recorded| event_stream(body.clone())).unwrap();
    let resp = streaming(&server).generate(&request(vec![Message::user("something harmful")]), 0).await.unwrap();
    assert_eq!(resp.finish_reason, FinishReason::ContentFilter);
    assert_eq!(resp.text, "Here is how to");
}

#[tokio::test]
async fn a_streamed_tool_call_joins_its_json_pieces() {
    let events = vec![
        message_start(377),
        text_start(0),
        ping(),
        text_delta(0, "I"),
        text_delta(0, "'ll check the current weather in Paris for you."),
        block_stop(0),
        json!({"type": "content_block_start", "index": 1, "content_block": {
            "type": "tool_use", "id": "toolu_01NRLabsLyVHZPKxbKvkfSMn", "name": "get_weather",
            "caller": {"type": "direct"}, "input": {}}}),
        json_delta(1, ""),
        json_delta(1, "{\"locati"),
        json_delta(1, "on\": \"P"),
        json_delta(1, "ar"),
        json_delta(1, "is\"}"),
        block_stop(1),
        // A tool that takes no input: no pieces, so `{}`.
        json!({"type": "content_block_start", "index": 2, "content_block": {
            "type": "tool_use", "id": "toolu_02", "name": "get_time", "input": {}}}),
        json_delta(2, ""),
        block_stop(2),
        message_delta("tool_use", 65),
        message_stop(),
    ];
    let body = sse(&events);
    let server = Scripted::start(move |_: &Recorded| event_stream(body.clone())).unwrap();
    let resp = streaming(&server).generate(&request(vec![Message::user("Weather in Paris?")]), 0).await.unwrap();
    assert_eq!(resp.text, "I'll check the current weather in Paris for you.");
    assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
    assert_eq!((resp.usage.prompt_tokens, resp.usage.completion_tokens), (377, 65));
    assert!(resp.first_token_ms.is_some());
    assert_eq!(resp.tool_calls.len(), 2);
    let call = &resp.tool_calls[0];
    assert_eq!((call.id.as_str(), call.name.as_str()), ("toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather"));
    assert_eq!(serde_json::from_str::<Value>(&call.arguments).unwrap(), json!({"location": "Paris"}));
    assert_eq!(call.arguments, r#"{"location":"Paris"}"#, "the same text a whole response gives");
    assert_eq!((resp.tool_calls[1].name.as_str(), resp.tool_calls[1].arguments.as_str()), ("get_time", "{}"));
}

#[tokio::test]
async fn a_cut_stream_is_transient_never_a_short_answer() {
    // Cut after some text, after the stop reason, and in the middle of an event.
    let events = hello_events();
    let whole = sse(&events);
    let cut_mid_event = whole[..whole.find("event: message_stop").unwrap() + "event: message_st".len()].to_string();
    for body in [sse(&events[..5]), sse(&events[..events.len() - 1]), cut_mid_event] {
        let e = stream_fail(event_stream(body)).await;
        assert_eq!(e.kind, ErrorKind::Transient, "{e}");
        assert!(e.kind.is_retryable());
    }
}

#[tokio::test]
async fn an_error_event_mid_stream_is_classified_like_an_error_body() {
    let mut events = hello_events()[..4].to_vec();
    events.push(json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}));
    let e = stream_fail(event_stream(sse(&events))).await;
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    assert!(e.kind.is_retryable());
    assert!(e.message.contains("overloaded_error") && e.message.contains("Overloaded"), "{e}");

    let mut events = hello_events()[..4].to_vec();
    events.push(json!({"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}));
    assert_eq!(stream_fail(event_stream(sse(&events))).await.kind, ErrorKind::Transient);
}

#[tokio::test]
async fn an_error_status_on_a_streaming_request_is_classified_as_without_streaming() {
    let e = stream_fail(
        error(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit")
            .with_header("retry-after", "7"),
    )
    .await;
    assert_eq!(e.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(7)) });
    assert_eq!(e.status, Some(429));
    assert!(e.message.contains("rate_limit_error"), "{e}");
    let e = stream_fail(error(529, "overloaded_error", "Overloaded")).await;
    assert_eq!((e.kind, e.status), (ErrorKind::Transient, Some(529)));
    assert_eq!(stream_fail(error(401, "authentication_error", "invalid x-api-key")).await.kind, ErrorKind::Auth);
    assert_eq!(stream_fail(error(400, "invalid_request_error", "bad")).await.kind, ErrorKind::Permanent);
}

#[tokio::test]
async fn the_key_never_appears_in_streaming_errors() {
    let key_of = |r: &Recorded| r.header("x-api-key").unwrap_or_default().to_string();
    let replies: Vec<Handler> = vec![
        // An error status echoing the key.
        Box::new(move |r| error(401, "authentication_error", &format!("bad key {}", key_of(r)))),
        // An error event echoing it.
        Box::new(move |r| {
            let mut events = hello_events()[..3].to_vec();
            events.push(json!({"type": "error", "error": {"type": "overloaded_error", "message": format!("key {}", key_of(r))}}));
            event_stream(sse(&events))
        }),
        // A garbled event echoing it.
        Box::new(move |r| {
            let mut body = sse(&hello_events()[..3]);
            body.push_str(&format!("event: content_block_delta\ndata: {{\"key\": \"{}\", trunc\n\n", key_of(r)));
            event_stream(body)
        }),
        // An error event that is not the JSON error shape.
        Box::new(move |r| event_stream(format!("event: error\ndata: upstream saw {}\n\n", key_of(r)))),
    ];
    for reply in replies {
        let server = Scripted::start(reply).unwrap();
        let e = streaming(&server).generate(&request(vec![Message::user("hi")]), 0).await.unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(KEY), "{shown}");
        assert!(e.message.contains("[REDACTED]"), "{shown}");
    }
}
