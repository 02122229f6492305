//! `naive-multi-message:K`: the mistaken method of a widely copied tutorial, kept as a
//! demonstration. It puts K prompts as K user messages into one chat request and reads "one
//! choice per message". The API treats the messages as one conversation and answers once, so
//! the first prompt is handed that single answer (which replies to the last message) and the
//! other K − 1 prompts get nothing. batchbench measures the loss; it does not re-ask.

use super::{
    Execution, ItemResult, Plan, PlanContext, PlannedRequest, Strategy, StrategySpec, Unpacked,
    request_id,
};
use crate::error::Result;
use crate::provider::{ChatRequest, ChatResponse, Message, Role};

/// The demonstration of what does not work.
#[derive(Debug, Clone, Copy)]
pub struct NaiveMultiMessage {
    /// User messages per request.
    pub k: usize,
}

impl Strategy for NaiveMultiMessage {
    fn spec(&self) -> StrategySpec {
        StrategySpec::NaiveMultiMessage(self.k)
    }

    fn execution(&self) -> Execution {
        Execution::Sync { concurrency: 1 }
    }

    fn plan(&self, ctx: &PlanContext<'_>) -> Result<Plan> {
        let requests = ctx
            .set
            .prompts
            .chunks(self.k)
            .enumerate()
            .map(|(i, chunk)| {
                let request = ChatRequest {
                    messages: chunk
                        .iter()
                        .map(|p| Message {
                            role: Role::User,
                            content: p.prompt.clone(),
                        })
                        .collect(),
                    ..ctx.base_request("", ctx.answer_tokens.saturating_mul(chunk.len() as u32))
                };
                PlannedRequest {
                    id: request_id(i),
                    prompt_ids: chunk.iter().map(|p| p.id.clone()).collect(),
                    client_input_tokens: ctx.estimate_input(&request),
                    request,
                }
            })
            .collect();
        Ok(Plan {
            requests,
            warnings: Vec::new(),
        })
    }

    /// Reads choice i for message i, as the tutorial does: only choice 0 exists.
    fn unpack(&self, request: &PlannedRequest, response: &ChatResponse) -> Unpacked {
        let items = request
            .prompt_ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let result = if i < response.choices {
                    ItemResult::Answer(response.text.trim().to_string())
                } else {
                    ItemResult::Lost(format!(
                        "no choice {i} in the response ({} returned): one request gets one answer, not one per message",
                        response.choices
                    ))
                };
                (id.clone(), result)
            })
            .collect();
        Unpacked {
            items,
            ..Unpacked::default()
        }
    }

    fn is_demonstration(&self) -> bool {
        true
    }
}
