//! `packed:K`: K prompts in one request. The shared instructions are sent once per request, the
//! items follow with their ids, and the answer is one JSON object keyed by item id (OpenAI: a
//! strict `json_schema` response format; Anthropic: an instructed JSON object). Items missing,
//! duplicated or unparsable in the answer are re-asked on their own.

use super::{
    Execution, ItemResult, Plan, PlanContext, PlannedRequest, Strategy, StrategySpec, Unpacked,
    request_id,
};
use crate::error::Result;
use crate::packing;
use crate::provider::{ChatRequest, ChatResponse, JsonSchema};

/// K prompts per request.
#[derive(Debug, Clone, Copy)]
pub struct Packed {
    /// Prompts per request (may be lowered to fit the model's limits).
    pub k: usize,
}

impl Strategy for Packed {
    fn spec(&self) -> StrategySpec {
        StrategySpec::Packed(self.k)
    }

    fn execution(&self) -> Execution {
        Execution::Sync { concurrency: 1 }
    }

    fn plan(&self, ctx: &PlanContext<'_>) -> Result<Plan> {
        Ok(plan_packed(
            ctx,
            self.k,
            &self.spec().to_string(),
            ctx.stream,
        ))
    }

    fn unpack(&self, request: &PlannedRequest, response: &ChatResponse) -> Unpacked {
        unpack_packed(request, response)
    }
}

/// Builds one packed request for these prompts.
pub(crate) fn packed_request(
    ctx: &PlanContext<'_>,
    prompts: &[&crate::dataset::Prompt],
    stream: bool,
) -> ChatRequest {
    let user =
        packing::pack_user_message(prompts.iter().map(|p| (p.id.as_str(), p.prompt.as_str())));
    let id_tokens: Vec<u64> = prompts.iter().map(|p| ctx.tokenizer.count(&p.id)).collect();
    let max_tokens = packing::packed_max_tokens(u64::from(ctx.answer_tokens), &id_tokens);
    let json_schema = (ctx.json_schema && ctx.provider.structured_outputs()).then(|| JsonSchema {
        name: "answers".to_string(),
        schema: packing::answer_schema(prompts.iter().map(|p| p.id.as_str())),
    });
    ChatRequest {
        json_schema,
        stream,
        ..ctx.base_request(&user, u32::try_from(max_tokens).unwrap_or(u32::MAX))
    }
}

/// Plans packed requests of K prompts, lowering K (with a warning) until every request fits the
/// model's context window and maximum output tokens.
pub(crate) fn plan_packed(ctx: &PlanContext<'_>, k: usize, label: &str, stream: bool) -> Plan {
    let prompts: Vec<&crate::dataset::Prompt> = ctx.set.prompts.iter().collect();
    let mut warnings = Vec::new();
    let mut k_eff = k.min(prompts.len().max(1));
    if k_eff < k {
        warnings.push(format!(
            "{label}: the dataset has only {} prompts, so requests carry {k_eff}",
            prompts.len()
        ));
    }
    loop {
        let requests: Vec<PlannedRequest> = prompts
            .chunks(k_eff)
            .enumerate()
            .map(|(i, chunk)| {
                let request = packed_request(ctx, chunk, stream);
                PlannedRequest {
                    id: request_id(i),
                    prompt_ids: chunk.iter().map(|p| p.id.clone()).collect(),
                    client_input_tokens: ctx.estimate_input(&request),
                    request,
                }
            })
            .collect();
        let too_big = requests.iter().find(|r| {
            let out = u64::from(r.request.max_tokens);
            out > ctx.limits.max_output_tokens
                || r.client_input_tokens + out > ctx.limits.context_window
        });
        match too_big {
            Some(r) if k_eff > 1 => {
                let out = u64::from(r.request.max_tokens);
                let next = (k_eff * 3 / 4).max(1).min(k_eff - 1);
                warnings.push(format!(
                    "{label}: a request of {k_eff} prompts needs {} input + {out} output tokens, over the model's limits \
                     ({} context, {} output); lowering K to {next}",
                    r.client_input_tokens, ctx.limits.context_window, ctx.limits.max_output_tokens
                ));
                k_eff = next;
            }
            _ => return Plan { requests, warnings },
        }
    }
}

/// Splits a packed answer back to its prompts by id.
pub(crate) fn unpack_packed(request: &PlannedRequest, response: &ChatResponse) -> Unpacked {
    let ids: Vec<&str> = request.prompt_ids.iter().map(String::as_str).collect();
    let u = packing::unpack(&response.text, &ids);
    let truncated = response.finish_reason == "length" || response.finish_reason == "max_tokens";
    let items = request
        .prompt_ids
        .iter()
        .map(|id| {
            let result = match u.answers.get(id) {
                Some(a) => ItemResult::Answer(a.trim().to_string()),
                None if u.parse_error.is_some() => ItemResult::Reask(format!(
                    "packed answer unparsable{}: {}",
                    if truncated {
                        " (cut at max tokens)"
                    } else {
                        ""
                    },
                    u.parse_error.as_deref().unwrap_or_default()
                )),
                None if u.duplicated.contains(id) => ItemResult::Reask(
                    "answered more than once, differently, in the packed answer".into(),
                ),
                None if u.truncated || truncated => ItemResult::Reask(
                    "missing from the packed answer, which was cut at max tokens".into(),
                ),
                None => ItemResult::Reask("missing from the packed answer".into()),
            };
            (id.clone(), result)
        })
        .collect();
    Unpacked {
        items,
        parse_failure: u.parse_error.is_some(),
        extra_items: u.extra.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Prompt, PromptSet};
    use crate::pricing::ModelLimits;
    use crate::tokens::Tokenizer;

    fn set(n: usize) -> PromptSet {
        PromptSet {
            name: "t".into(),
            path: "t.jsonl".into(),
            sha256: String::new(),
            instructions: "Answer with a number.".into(),
            prompts: (0..n)
                .map(|i| Prompt {
                    id: format!("q{i}"),
                    prompt: format!("What is {i} + 1?"),
                    answer: Some((i + 1).to_string()),
                    task: None,
                })
                .collect(),
        }
    }

    fn ctx<'a>(set: &'a PromptSet, limits: ModelLimits) -> PlanContext<'a> {
        PlanContext {
            set,
            provider: crate::provider::ProviderKind::Openai,
            model: "gpt-4o-mini",
            tokenizer: Tokenizer::for_model("gpt-4o-mini"),
            limits,
            answer_tokens: 16,
            stream: false,
            temperature: None,
            json_schema: true,
            reasoning_effort: None,
        }
    }

    #[test]
    fn no_json_schema_leaves_the_response_format_out() {
        let set = set(3);
        let limits = ModelLimits {
            context_window: 128_000,
            max_output_tokens: 16_384,
        };
        let mut c = ctx(&set, limits);
        let prompts: Vec<&crate::dataset::Prompt> = set.prompts.iter().collect();
        assert!(packed_request(&c, &prompts, false).json_schema.is_some());
        c.json_schema = false;
        let r = packed_request(&c, &prompts, false);
        assert!(r.json_schema.is_none());
        assert!(
            r.messages[0]
                .content
                .contains("Reply with only a JSON object")
        );
    }

    #[test]
    fn ceil_n_over_k_requests() {
        let s = set(10);
        let plan = plan_packed(
            &ctx(
                &s,
                ModelLimits {
                    context_window: 128_000,
                    max_output_tokens: 16_384,
                },
            ),
            4,
            "packed:4",
            false,
        );
        assert_eq!(plan.requests.len(), 3);
        assert_eq!(plan.requests[2].prompt_ids, vec!["q8", "q9"]);
        assert!(plan.warnings.is_empty());
        let r = &plan.requests[0].request;
        assert_eq!(
            r.json_schema.as_ref().unwrap().schema["required"],
            serde_json::json!(["q0", "q1", "q2", "q3"])
        );
        // 4 items x (16 + tokens("q0") + 6) + 8; "q0" is 2 tokens in o200k_base -> 4 * 24 + 8 = 104
        assert_eq!(r.max_tokens, 104);
    }

    #[test]
    fn k_is_lowered_to_fit_output_limit() {
        let s = set(40);
        let plan = plan_packed(
            &ctx(
                &s,
                ModelLimits {
                    context_window: 128_000,
                    max_output_tokens: 200,
                },
            ),
            32,
            "packed:32",
            false,
        );
        assert!(plan.requests.iter().all(|r| r.request.max_tokens <= 200));
        assert!(!plan.warnings.is_empty());
        let total: usize = plan.requests.iter().map(|r| r.prompt_ids.len()).sum();
        assert_eq!(total, 40);
    }

    #[test]
    fn unpack_by_id_marks_reasks() {
        let s = set(3);
        let plan = plan_packed(
            &ctx(
                &s,
                ModelLimits {
                    context_window: 128_000,
                    max_output_tokens: 16_384,
                },
            ),
            3,
            "p",
            false,
        );
        let resp = ChatResponse {
            id: "x".into(),
            text: "{\"q2\": \"3\", \"q0\": \"1\"}".into(),
            choices: 1,
            finish_reason: "stop".into(),
            usage: Default::default(),
            request_id: None,
            ttft: None,
            served_tier: None,
            rate_limit: None,
        };
        let u = unpack_packed(&plan.requests[0], &resp);
        assert_eq!(u.items[0].1, ItemResult::Answer("1".into()));
        assert!(matches!(u.items[1].1, ItemResult::Reask(_)));
        assert_eq!(u.items[2].1, ItemResult::Answer("3".into()));

        // Cut at max_tokens: the complete pairs are kept, the rest re-asked with the reason.
        let cut = ChatResponse {
            text: "```json\n{\"q0\": \"1\", \"Q1\": {\"answer\": 2}, \"q2\": \"".into(),
            finish_reason: "length".into(),
            ..resp
        };
        let u = unpack_packed(&plan.requests[0], &cut);
        assert_eq!(u.items[0].1, ItemResult::Answer("1".into()));
        assert_eq!(u.items[1].1, ItemResult::Answer("2".into()));
        assert_eq!(
            u.items[2].1,
            ItemResult::Reask("missing from the packed answer, which was cut at max tokens".into())
        );
        assert!(!u.parse_failure);
    }
}
