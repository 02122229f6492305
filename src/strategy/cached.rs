//! `cached`: one request per prompt with the shared instructions first and marked for the
//! provider's prompt cache (Anthropic `cache_control`; OpenAI `prompt_cache_key`, on top of its
//! automatic caching of prefixes of 1,024 tokens or more). Billed at cached and cache-write prices.

use super::{
    Execution, Plan, PlanContext, PlannedRequest, Strategy, StrategySpec, Unpacked, unpack_single,
};
use crate::error::Result;
use crate::provider::ChatResponse;

/// Prompt caching of the shared prefix.
#[derive(Debug, Clone, Copy)]
pub struct Cached;

impl Strategy for Cached {
    fn spec(&self) -> StrategySpec {
        StrategySpec::Cached
    }

    fn execution(&self) -> Execution {
        Execution::Sync { concurrency: 1 }
    }

    fn plan(&self, ctx: &PlanContext<'_>) -> Result<Plan> {
        let mut warnings = Vec::new();
        let prefix = ctx.tokenizer.count(&ctx.set.instructions);
        if prefix < 1024 {
            warnings.push(format!(
                "cached: the shared instructions are {prefix} tokens; providers cache only prefixes of 1,024 tokens or more \
                 (more for some Anthropic models), so expect no cached tokens on this dataset"
            ));
        }
        let requests = ctx.planned_singles(true);
        Ok(Plan { requests, warnings })
    }

    fn unpack(&self, request: &PlannedRequest, response: &ChatResponse) -> Unpacked {
        unpack_single(request, response)
    }
}
