//! OpenAI's Responses API against a scripted server on 127.0.0.1: the request's shape
//! (`instructions`, `input` items, `max_output_tokens`, tools), the `output` items read back,
//! incomplete and failed responses, a function-call round trip, errors as chat completions'.

use std::time::Duration;

use preflight_core::{ErrorKind, FinishReason, GenSettings, Generate, GenerateRequest, Message, ToolDef};
use preflight_mock::{Recorded, Reply, Scripted};
use preflight_providers::{OpenAiConfig, OpenAiResponses};
use serde_json::{Value, json};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn client(server: &Scripted) -> OpenAiResponses {
    OpenAiResponses::new(OpenAiConfig {
        base_url: format!("{}/v1", server.url()),
        api_key: Some("sk-resp-test-0123456789".into()),
        timeout: Duration::from_secs(10),
        ..OpenAiConfig::new("gpt-test")
    })
    .unwrap()
}

/// A response object as the API reference shapes it.
fn response(status: &str, output: Value, incomplete: Value) -> Reply {
    Reply::json(
        200,
        json!({"id": "resp_1", "object": "response", "created_at": 1_700_000_000, "model": "gpt-test",
            "status": status, "incomplete_details": incomplete, "error": null, "output": output,
            "usage": {"input_tokens": 21, "output_tokens": 7, "total_tokens": 28}}),
    )
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
