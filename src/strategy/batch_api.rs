//! `batch-api` and `batch-api+packed:K`: the provider's Batch API (OpenAI files + batches,
//! Anthropic Message Batches), billed at batch prices; optionally with K prompts per request.

use super::packed::{plan_packed, unpack_packed};
use super::{
    Execution, Plan, PlanContext, PlannedRequest, Strategy, StrategySpec, Unpacked, request_id,
    unpack_single,
};
use crate::error::Result;
use crate::provider::ChatResponse;

/// The provider's Batch API.
#[derive(Debug, Clone, Copy)]
pub struct BatchApi {
    /// `Some(K)`: pack K prompts per batch request.
    pub packed: Option<usize>,
}

impl Strategy for BatchApi {
    fn spec(&self) -> StrategySpec {
        StrategySpec::BatchApi(self.packed)
    }

    fn execution(&self) -> Execution {
        Execution::BatchApi
    }

    fn plan(&self, ctx: &PlanContext<'_>) -> Result<Plan> {
        match self.packed {
            Some(k) => Ok(plan_packed(ctx, k, &self.spec().to_string(), false)),
            None => {
                let requests = ctx
                    .set
                    .prompts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let mut r = ctx.planned_single(request_id(i), p, false);
                        r.request.stream = false;
                        r
                    })
                    .collect();
                Ok(Plan {
                    requests,
                    warnings: Vec::new(),
                })
            }
        }
    }

    fn unpack(&self, request: &PlannedRequest, response: &ChatResponse) -> Unpacked {
        match self.packed {
            Some(_) => unpack_packed(request, response),
            None => unpack_single(request, response),
        }
    }
}
