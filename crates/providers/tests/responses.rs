//! OpenAI's Responses API against a scripted server on 127.0.0.1: the request's shape
//! (`instructions`, `input` items, `max_output_tokens`, tools), the `output` items read back,
//! incomplete and failed responses, a function-call round trip, errors as chat completions';
//! and the same streamed as the API's server-sent events.

use std::time::Duration;

use preflight_core::{
    ErrorKind, FinishReason, GenSettings, Generate, GenerateRequest, GenerateResponse, Message, ProviderError, ToolDef,
};
use preflight_mock::{Recorded, Reply, Scripted};
use preflight_providers::{OpenAiConfig, OpenAiResponses};
use serde_json::{Value, json};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

const KEY: &str = "sk-resp-test-0123456789";

fn config(server: &Scripted) -> OpenAiConfig {
    OpenAiConfig {
        base_url: format!("{}/v1", server.url()),
        api_key: Some(KEY.into()),
        timeout: Duration::from_secs(10),
        ..OpenAiConfig::new("gpt-test")
    }
}

fn client(server: &Scripted) -> OpenAiResponses {
    OpenAiResponses::new(config(server)).unwrap()
}

/// A response object as the API reference shapes it.
fn response_object(status: &str, output: Value, incomplete: Value) -> Value {
    json!({"id": "resp_1", "object": "response", "created_at": 1_700_000_000, "model": "gpt-test",
        "status": status, "incomplete_details": incomplete, "error": null, "output": output,
        "usage": {"input_tokens": 21, "output_tokens": 7, "total_tokens": 28}})
}

fn response(status: &str, output: Value, incomplete: Value) -> Reply {
    Reply::json(200, response_object(status, output, incomplete))
}

fn message(text: &str) -> Value {
    json!({"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}]})
}

#[test]
fn a_request_and_its_answer_in_the_responses_shape() {
    let server = Scripted::start(|_: &Recorded| {
        response(
            "completed",
            json!([{"type": "reasoning", "id": "rs_1", "summary": []}, message("Hello there.")]),
            Value::Null,
        )
    })
    .unwrap();
    let req = GenerateRequest::single_turn(
        "Say hello.",
        &GenSettings {
            system_prompt: Some("Be brief.".into()),
            temperature: Some(0.0),
            max_tokens: Some(32),
            seed: Some(3),
        },
    );
    let r = rt().block_on(client(&server).generate(&req, 0)).unwrap();
    assert_eq!((r.text.as_str(), r.finish_reason), ("Hello there.", FinishReason::Stop));
    assert_eq!((r.usage.prompt_tokens, r.usage.completion_tokens), (21, 7));
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1/responses");
    assert_eq!(sent.header("authorization"), Some("Bearer sk-resp-test-0123456789"));
    assert_eq!(
        sent.json(),
        json!({"model": "gpt-test", "input": [{"role": "user", "content": "Say hello."}], "store": false,
            "instructions": "Be brief.", "temperature": 0.0, "max_output_tokens": 32})
    );
}

#[test]
fn incomplete_refused_and_failed_responses() {
    let server = Scripted::start(|r: &Recorded| {
        let input = r.json()["input"][0]["content"].as_str().unwrap_or("").to_string();
        match input.as_str() {
            "long" => response("incomplete", json!([message("Once upon a")]), json!({"reason": "max_output_tokens"})),
            "filtered" => response("incomplete", json!([]), json!({"reason": "content_filter"})),
            "refuse" => response(
                "completed",
                json!([{"type": "message", "role": "assistant", "content": [{"type": "refusal", "refusal": "I can't help with that."}]}]),
                Value::Null,
            ),
            "fail" => Reply::json(
                200,
                json!({"id": "resp_2", "object": "response", "status": "failed", "output": [],
                    "error": {"code": "server_error", "message": "The model failed"}}),
            ),
            _ => Reply::json(429, json!({"error": {"message": "Rate limit reached", "type": "requests"}})).with_header("retry-after", "2"),
        }
    })
    .unwrap();
    let ask =
        |p: &str| rt().block_on(client(&server).generate(&GenerateRequest::single_turn(p, &GenSettings::default()), 0));
    assert_eq!(ask("long").unwrap().finish_reason, FinishReason::Length);
    assert_eq!(ask("filtered").unwrap().finish_reason, FinishReason::ContentFilter);
    assert_eq!(ask("refuse").unwrap().text, "I can't help with that.");
    assert_eq!(ask("fail").unwrap_err().kind, ErrorKind::Transient);
    assert_eq!(ask("limit").unwrap_err().kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(2)) });
}

#[test]
fn a_function_call_round_trip_uses_call_items() {
    let server = Scripted::start(|r: &Recorded| {
        let input = r.json()["input"].as_array().unwrap().clone();
        if input.iter().any(|i| i["type"] == "function_call_output") {
            response("completed", json!([message("It holds flag.txt.")]), Value::Null)
        } else {
            response(
                "completed",
                json!([{"type": "function_call", "id": "fc_1", "call_id": "call_9", "name": "bash",
                    "arguments": "{\"cmd\":\"ls\"}", "status": "completed"}]),
                Value::Null,
            )
        }
    })
    .unwrap();
    let c = client(&server);
    let mut req = GenerateRequest::single_turn("What is here?", &GenSettings::default());
    req.tools.push(ToolDef {
        name: "bash".into(),
        description: "Run a command".into(),
        parameters: json!({"type": "object", "properties": {"cmd": {"type": "string"}}}),
    });
    let first = rt().block_on(c.generate(&req, 0)).unwrap();
    assert_eq!(first.finish_reason, FinishReason::ToolCalls);
    assert_eq!(
        (first.tool_calls[0].id.as_str(), first.tool_calls[0].arguments.as_str()),
        ("call_9", r#"{"cmd":"ls"}"#)
    );
    req.messages.push(Message::from_response(&first));
    req.messages.push(Message::tool_result(&first.tool_calls[0], "flag.txt", false));
    assert_eq!(rt().block_on(c.generate(&req, 0)).unwrap().text, "It holds flag.txt.");
    let second = server.requests()[1].json();
    assert_eq!(
        second["tools"],
        json!([{"type": "function", "name": "bash", "description": "Run a command",
            "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}}}])
    );
    assert_eq!(
        second["input"],
        json!([
            {"role": "user", "content": "What is here?"},
            {"type": "function_call", "call_id": "call_9", "name": "bash", "arguments": "{\"cmd\":\"ls\"}"},
            {"type": "function_call_output", "call_id": "call_9", "output": "flag.txt"}
        ])
    );
}

// Streaming: `stream: true`. Events in the reference's order, each with its `event:` line, its
// `type` and `sequence_number` in the data; the last one holds the whole response.

fn streaming(server: &Scripted) -> OpenAiResponses {
    OpenAiResponses::new(OpenAiConfig { stream: true, ..config(server) }).unwrap()
}

/// Numbers the events as the API does and frames each as `event: TYPE` / `data: JSON`.
fn sse(events: &[Value]) -> String {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut e = e.clone();
            e["sequence_number"] = json!(i);
            format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap())
        })
        .collect()
}

fn event_stream(body: String) -> Reply {
    Reply::raw(200, "text/event-stream; charset=utf-8", body)
}

/// `response.created` and `response.in_progress`: the response so far, no output yet.
fn opening() -> Vec<Value> {
    let mut r = response_object("in_progress", json!([]), Value::Null);
    r["usage"] = Value::Null;
    vec![json!({"type": "response.created", "response": r}), json!({"type": "response.in_progress", "response": r})]
}

fn item_added(index: usize, item: Value) -> Value {
    json!({"type": "response.output_item.added", "output_index": index, "item": item})
}

fn item_done(index: usize, item: Value) -> Value {
    json!({"type": "response.output_item.done", "output_index": index, "item": item})
}

/// `type` with a delta, as text, refusal and arguments deltas have it.
fn delta(kind: &str, index: usize, delta: &str) -> Value {
    json!({"type": kind, "item_id": "msg_1", "output_index": index, "content_index": 0, "delta": delta,
        "logprobs": []})
}

/// The whole life of a message item at `index` whose text arrives in `pieces`.
fn message_events(index: usize, pieces: &[&str]) -> Vec<Value> {
    let text = pieces.concat();
    let mut events = vec![
        item_added(
            index,
            json!({"type": "message", "id": "msg_1", "status": "in_progress", "role": "assistant", "content": []}),
        ),
        json!({"type": "response.content_part.added", "item_id": "msg_1", "output_index": index, "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": []}}),
    ];
    events.extend(pieces.iter().map(|p| delta("response.output_text.delta", index, p)));
    events.push(json!({"type": "response.output_text.done", "item_id": "msg_1", "output_index": index,
        "content_index": 0, "text": text, "logprobs": []}));
    events.push(json!({"type": "response.content_part.done", "item_id": "msg_1", "output_index": index,
        "content_index": 0, "part": {"type": "output_text", "text": text, "annotations": []}}));
    events.push(item_done(index, message(&text)));
    events
}

/// `response.completed` / `.incomplete` / `.failed` holding the whole response.
fn terminal(kind: &str, response: Value) -> Value {
    json!({"type": kind, "response": response})
}

/// The reference's text stream: "Hello there." in three deltas.
fn hello_events() -> Vec<Value> {
    let mut events = opening();
    events.extend(message_events(0, &["Hello", " there", "."]));
    events.push(terminal(
        "response.completed",
        response_object("completed", json!([message("Hello there.")]), Value::Null),
    ));
    events
}

fn ask_streamed(server: &Scripted, prompt: &str) -> Result<GenerateResponse, ProviderError> {
    rt().block_on(streaming(server).generate(&GenerateRequest::single_turn(prompt, &GenSettings::default()), 0))
}

fn stream_fail(body: String) -> ProviderError {
    let server = Scripted::start(move |_: &Recorded| event_stream(body.clone())).unwrap();
    ask_streamed(&server, "hi").unwrap_err()
}

#[test]
fn a_streamed_answer_is_its_deltas_with_the_terminal_usage_and_token_times() {
    let server = Scripted::start(|_: &Recorded| event_stream(sse(&hello_events()))).unwrap();
    let req = GenerateRequest::single_turn(
        "Say hello.",
        &GenSettings { system_prompt: Some("Be brief.".into()), max_tokens: Some(32), ..GenSettings::default() },
    );
    let r = rt().block_on(streaming(&server).generate(&req, 0)).unwrap();
    assert_eq!(r.text, ["Hello", " there", "."].concat());
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!((r.usage.prompt_tokens, r.usage.completion_tokens), (21, 7), "usage from response.completed");
    assert!(r.tool_calls.is_empty());
    let (first, last) = (r.first_token_ms.expect("time to first token"), r.last_token_ms.expect("stream's end"));
    assert!(first <= last);

    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1/responses");
    assert_eq!(sent.header("authorization"), Some("Bearer sk-resp-test-0123456789"));
    assert_eq!(
        sent.json(),
        json!({"model": "gpt-test", "input": [{"role": "user", "content": "Say hello."}], "store": false,
            "instructions": "Be brief.", "max_output_tokens": 32, "stream": true})
    );
    // Unstreamed, the request says nothing of streams.
    let unstreamed =
        Scripted::start(|_: &Recorded| response("completed", json!([message("Hi.")]), Value::Null)).unwrap();
    rt().block_on(client(&unstreamed).generate(&req, 0)).unwrap();
    assert_eq!(unstreamed.requests()[0].json().get("stream"), None);
}

#[test]
fn a_stream_without_event_lines_is_read_by_the_types_in_its_data() {
    // A proxy that drops `event:` lines leaves the SSE default name, `message`.
    let body: String =
        sse(&hello_events()).lines().filter(|l| !l.starts_with("event:")).map(|l| format!("{l}\n")).collect();
    let server = Scripted::start(move |_: &Recorded| event_stream(body.clone())).unwrap();
    let r = ask_streamed(&server, "hi").unwrap();
    assert_eq!((r.text.as_str(), r.finish_reason), ("Hello there.", FinishReason::Stop));
    assert!(r.first_token_ms.is_some());
}

#[test]
fn a_streamed_function_call_takes_its_arguments_from_the_terminal_event() {
    let call = |arguments: &str, status: &str| {
        json!({"type": "function_call", "id": "fc_1", "call_id": "call_9", "name": "bash",
            "arguments": arguments, "status": status})
    };
    let mut events = opening();
    events.push(item_added(0, call("", "in_progress")));
    events.push(delta("response.function_call_arguments.delta", 0, "{\"cmd\":"));
    events.push(delta("response.function_call_arguments.delta", 0, "\"ls\"}"));
    events.push(json!({"type": "response.function_call_arguments.done", "item_id": "fc_1", "output_index": 0,
        "name": "bash", "arguments": "{\"cmd\":\"ls\"}"}));
    events.push(item_done(0, call("{\"cmd\":\"ls\"}", "completed")));
    events.push(terminal(
        "response.completed",
        response_object("completed", json!([call("{\"cmd\":\"ls\"}", "completed")]), Value::Null),
    ));
    let body = sse(&events);
    let server = Scripted::start(move |_: &Recorded| event_stream(body.clone())).unwrap();
    let mut req = GenerateRequest::single_turn("What is here?", &GenSettings::default());
    req.tools.push(ToolDef {
        name: "bash".into(),
        description: "Run a command".into(),
        parameters: json!({"type": "object"}),
    });
    let r = rt().block_on(streaming(&server).generate(&req, 0)).unwrap();
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(r.tool_calls.len(), 1);
    let c = &r.tool_calls[0];
    assert_eq!((c.id.as_str(), c.name.as_str(), c.arguments.as_str()), ("call_9", "bash", r#"{"cmd":"ls"}"#));
    assert!(r.first_token_ms.is_some());
}

#[test]
fn a_streamed_incomplete_response_is_length_or_content_filter() {
    let server = Scripted::start(|r: &Recorded| {
        let filtered = r.json()["input"][0]["content"] == "filtered";
        let mut events = opening();
        let response = if filtered {
            response_object("incomplete", json!([]), json!({"reason": "content_filter"}))
        } else {
            events.extend(message_events(0, &["Once", " upon a"]));
            response_object("incomplete", json!([message("Once upon a")]), json!({"reason": "max_output_tokens"}))
        };
        events.push(terminal("response.incomplete", response));
        event_stream(sse(&events))
    })
    .unwrap();
    let long = ask_streamed(&server, "long").unwrap();
    assert_eq!((long.text.as_str(), long.finish_reason), ("Once upon a", FinishReason::Length));
    let filtered = ask_streamed(&server, "filtered").unwrap();
    assert_eq!((filtered.text.as_str(), filtered.finish_reason), ("", FinishReason::ContentFilter));
    assert_eq!(filtered.first_token_ms, None, "no token was streamed");
}

#[test]
fn a_streamed_refusal_is_the_answer_text() {
    let refusal = json!({"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
        "content": [{"type": "refusal", "refusal": "I can't help with that."}]});
    let mut events = opening();
    events.push(item_added(
        0,
        json!({"type": "message", "id": "msg_1", "status": "in_progress", "role": "assistant", "content": []}),
    ));
    events.push(delta("response.refusal.delta", 0, "I can't"));
    events.push(delta("response.refusal.delta", 0, " help with that."));
    events.push(json!({"type": "response.refusal.done", "item_id": "msg_1", "output_index": 0, "content_index": 0,
        "refusal": "I can't help with that."}));
    events.push(item_done(0, refusal.clone()));
    events.push(terminal("response.completed", response_object("completed", json!([refusal]), Value::Null)));
    let body = sse(&events);
    let server = Scripted::start(move |_: &Recorded| event_stream(body.clone())).unwrap();
    let r = ask_streamed(&server, "something harmful").unwrap();
    assert_eq!((r.text.as_str(), r.finish_reason), ("I can't help with that.", FinishReason::Stop));
    assert!(r.first_token_ms.is_some());
}

#[test]
fn a_streamed_failed_response_is_transient() {
    let mut failed = response_object("failed", json!([]), Value::Null);
    failed["error"] = json!({"code": "server_error", "message": "The model failed"});
    let mut events = opening();
    events.push(terminal("response.failed", failed));
    let e = stream_fail(sse(&events));
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    assert!(e.message.contains("The model failed"), "{e}");
}

#[test]
fn a_terminal_response_without_its_output_is_answered_from_the_finished_items() {
    // What gateways send: every item streamed whole, then `output: []` (or no output at all).
    for keep_output in [true, false] {
        let mut events = opening();
        events.extend(message_events(0, &["Hello", " there", "."]));
        let mut done = response_object("completed", json!([]), Value::Null);
        if !keep_output {
            done.as_object_mut().unwrap().remove("output");
        }
        events.push(terminal("response.completed", done));
        let body = sse(&events);
        let server = Scripted::start(move |_: &Recorded| event_stream(body.clone())).unwrap();
        assert_eq!(ask_streamed(&server, "hi").unwrap().text, "Hello there.");
    }
}

#[test]
fn a_cut_stream_is_transient_never_a_short_answer() {
    // Cut after some text, after the whole item, and in the middle of the terminal event.
    let events = hello_events();
    let whole = sse(&events);
    let cut_mid_event = whole[..whole.find("event: response.completed").unwrap() + 60].to_string();
    for body in [sse(&events[..5]), sse(&events[..events.len() - 1]), cut_mid_event] {
        let e = stream_fail(body);
        assert_eq!(e.kind, ErrorKind::Transient, "{e}");
        assert!(e.message.contains("before its end event"), "{e}");
    }
    // A garbled event is malformed, also transient.
    let mut body = sse(&events[..4]);
    body.push_str("event: response.output_text.delta\ndata: {\"delta\": trunc\n\n");
    let e = stream_fail(body);
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    assert!(e.message.contains("malformed"), "{e}");
}

#[test]
fn an_error_event_mid_stream_is_classified_by_its_code() {
    let fail_with = |error: Value| {
        let mut events = hello_events()[..5].to_vec();
        events.push(error);
        stream_fail(sse(&events))
    };
    // As the API sends it: the fields nested in `error`.
    let e = fail_with(json!({"type": "error", "error": {"type": "tokens", "code": "rate_limit_exceeded",
        "message": "Rate limit reached for gpt-test", "param": null}}));
    assert_eq!(e.kind, ErrorKind::RateLimited { retry_after: None }, "{e}");
    assert!(e.message.contains("rate_limit_exceeded") && e.message.contains("Rate limit reached"), "{e}");
    let e =
        fail_with(json!({"type": "error", "error": {"type": "insufficient_quota", "code": "credit_balance_exhausted",
        "message": "You have no credits remaining.", "param": null}}));
    assert_eq!(e.kind, ErrorKind::Permanent, "waiting will not add credits: {e}");
    // As the reference documents it: the fields at the top.
    let e = fail_with(
        json!({"type": "error", "code": "server_error", "message": "The server had an error", "param": null}),
    );
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    assert!(e.message.contains("The server had an error"), "{e}");
    let e =
        fail_with(json!({"type": "error", "code": "too_many_requests", "message": "Too Many Requests", "param": null}));
    assert_eq!(e.kind, ErrorKind::RateLimited { retry_after: None }, "{e}");
    let e =
        fail_with(json!({"type": "error", "code": "invalid_api_key", "message": "Incorrect API key", "param": null}));
    assert_eq!(e.kind, ErrorKind::Auth, "{e}");
    let e =
        fail_with(json!({"type": "error", "code": "context_length_exceeded", "message": "Too long", "param": "input"}));
    assert_eq!(e.kind, ErrorKind::Permanent, "{e}");
    let e = fail_with(json!({"type": "error", "code": null, "message": "An error occurred", "param": null}));
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    // An error event that is not JSON.
    let mut body = sse(&hello_events()[..5]);
    body.push_str("event: error\ndata: upstream went away\n\n");
    let e = stream_fail(body);
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    assert!(e.message.contains("upstream went away"), "{e}");
}

#[test]
fn an_error_status_on_a_streamed_request_is_classified_as_without_streaming() {
    let server = Scripted::start(|r: &Recorded| match r.json()["input"][0]["content"].as_str() {
        Some("limit") => Reply::json(
            429,
            json!({"error": {"message": "Rate limit reached", "type": "requests",
            "code": "rate_limit_exceeded"}}),
        )
        .with_header("retry-after", "2"),
        _ => Reply::json(
            401,
            json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
            "code": "invalid_api_key"}}),
        ),
    })
    .unwrap();
    let e = ask_streamed(&server, "limit").unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(2)) }, Some(429)));
    assert_eq!(ask_streamed(&server, "key").unwrap_err().kind, ErrorKind::Auth);
}

#[test]
fn the_key_never_appears_in_streaming_errors() {
    let key_of = |r: &Recorded| r.header("authorization").unwrap_or_default().to_string();
    type Handler = Box<dyn Fn(&Recorded) -> Reply + Send + Sync>;
    let replies: Vec<Handler> = vec![
        // An error event echoing it, in either shape.
        Box::new(move |r| {
            let mut events = hello_events()[..3].to_vec();
            events.push(json!({"type": "error", "code": "server_error", "message": format!("saw {}", key_of(r))}));
            event_stream(sse(&events))
        }),
        Box::new(move |r| {
            let mut events = hello_events()[..3].to_vec();
            events.push(
                json!({"type": "error", "error": {"code": "server_error", "message": format!("saw {}", key_of(r))}}),
            );
            event_stream(sse(&events))
        }),
        // A garbled event echoing it.
        Box::new(move |r| {
            let mut body = sse(&hello_events()[..3]);
            body.push_str(&format!("event: response.output_text.delta\ndata: {{\"key\": \"{}\", trunc\n\n", key_of(r)));
            event_stream(body)
        }),
        // A failed response echoing it.
        Box::new(move |r| {
            let mut failed = response_object("failed", json!([]), Value::Null);
            failed["error"] = json!({"code": "server_error", "message": format!("saw {}", key_of(r))});
            event_stream(sse(&[terminal("response.failed", failed)]))
        }),
    ];
    for reply in replies {
        let server = Scripted::start(reply).unwrap();
        let e = ask_streamed(&server, "hi").unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(KEY), "{shown}");
        assert!(e.message.contains("[REDACTED]"), "{shown}");
    }
}
