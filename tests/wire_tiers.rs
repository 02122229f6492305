//! Service tiers and reasoning on the wire: what a request asks for and what a response
//! reports, in the field names of openai-python (`ChatCompletion.service_tier`,
//! `CompletionUsage.completion_tokens_details.reasoning_tokens`, `reasoning_effort`) and
//! anthropic-sdk-python (`Usage.service_tier`, `MessageCreateParams.service_tier`).

use batchbench::provider::{ChatRequest, ServiceTier, anthropic, openai};
use serde_json::json;

fn request(tier: Option<ServiceTier>, effort: Option<&str>) -> ChatRequest {
    ChatRequest {
        service_tier: tier,
        reasoning_effort: effort.map(str::to_string),
        ..ChatRequest::new("gpt-5-mini", None, "hi", 8)
    }
}

#[test]
fn openai_requests_carry_the_tier_and_effort_only_when_asked() {
    let url = "https://api.openai.com/v1";
    let b = openai::request_body(&request(Some(ServiceTier::Flex), Some("low")), url);
    assert_eq!(b["service_tier"], "flex");
    assert_eq!(b["reasoning_effort"], "low");
    let b = openai::request_body(&request(Some(ServiceTier::Priority), None), url);
    assert_eq!(b["service_tier"], "priority");
    assert!(b.get("reasoning_effort").is_none());
    let b = openai::request_body(&request(None, None), url);
    assert!(b.get("service_tier").is_none());
}

#[test]
fn openai_responses_report_the_serving_tier_and_reasoning_tokens() {
    let v = json!({"id": "chatcmpl-1", "object": "chat.completion", "service_tier": "flex",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "4"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 300, "total_tokens": 320,
                  "completion_tokens_details": {"reasoning_tokens": 256}}});
    let r = openai::parse_completion(&v).unwrap();
    assert_eq!(r.served_tier.as_deref(), Some("flex"));
    assert_eq!(
        (r.usage.output_tokens, r.usage.reasoning_tokens),
        (300, 256)
    );
}

#[test]
fn anthropic_asks_auto_and_reads_usage_service_tier() {
    let mut r = request(Some(ServiceTier::Auto), None);
    r.model = "claude-haiku-4-5".into();
    assert_eq!(anthropic::request_body(&r)["service_tier"], "auto");
    let v = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": "yes"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "output_tokens": 1, "service_tier": "priority"}});
    let m = anthropic::parse_message(&v).unwrap();
    assert_eq!(m.served_tier.as_deref(), Some("priority"));
}
