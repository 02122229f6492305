//! `flex`, `flex+packed:K`, `priority` and `priority+packed:K`: ordinary requests, one at a
//! time like `sequential`, that ask for another service tier, so each differs from the baseline
//! (or from `packed:K`) in the tier alone. OpenAI flex answers synchronously at Batch API rates
//! and may refuse with 429 when it lacks capacity; priority costs more for lower latency
//! (Anthropic: `service_tier: auto`, priority capacity where the account has it). Every request
//! is priced by the tier its response reports.

use super::packed::{plan_packed, unpack_packed};
use super::{
    Execution, Plan, PlanContext, PlannedRequest, Strategy, StrategySpec, Unpacked, unpack_single,
};
use crate::error::Result;
use crate::provider::{ChatResponse, ProviderKind, ServiceTier};

/// A tier a strategy asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    /// OpenAI `service_tier: flex`; Gemini `serviceTier: flex`.
    Flex,
    /// OpenAI `service_tier: priority`; Anthropic `service_tier: auto`; Gemini `serviceTier:
    /// priority`.
    Priority,
}

impl Tier {
    /// The strategy name's stem.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Flex => "flex",
            Tier::Priority => "priority",
        }
    }

    /// What to send to this provider, or why it has no such tier.
    pub fn request_tier(self, provider: ProviderKind) -> std::result::Result<ServiceTier, String> {
        match (self, provider) {
            (Tier::Flex, ProviderKind::Openai) => Ok(ServiceTier::Flex),
            (Tier::Priority, ProviderKind::Openai) => Ok(ServiceTier::Priority),
            (Tier::Priority, ProviderKind::Anthropic) => Ok(ServiceTier::Auto),
            (Tier::Flex, ProviderKind::Gemini) => Ok(ServiceTier::Flex),
            (Tier::Priority, ProviderKind::Gemini) => Ok(ServiceTier::Priority),
            (Tier::Flex, p) => Err(format!(
                "{} has no flex tier (OpenAI's service_tier: flex); use batch-api for its batch prices",
                p.as_str()
            )),
        }
    }
}

/// Requests that ask for a service tier, optionally K prompts per request.
#[derive(Debug, Clone, Copy)]
pub struct Tiered {
    /// The tier asked for.
    pub tier: Tier,
    /// `Some(K)`: pack K prompts per request.
    pub packed: Option<usize>,
}

impl Strategy for Tiered {
    fn spec(&self) -> StrategySpec {
        StrategySpec::Tier(self.tier, self.packed)
    }

    fn execution(&self) -> Execution {
        Execution::Sync { concurrency: 1 }
    }

    fn refusal(&self, provider: ProviderKind) -> Option<String> {
        self.tier.request_tier(provider).err()
    }

    fn plan(&self, ctx: &PlanContext<'_>) -> Result<Plan> {
        let label = self.spec().to_string();
        let tier = self.tier.request_tier(ctx.provider).ok();
        let mut plan = match self.packed {
            Some(k) => plan_packed(ctx, k, &label, ctx.stream),
            None => Plan {
                requests: ctx.planned_singles(false),
                warnings: Vec::new(),
            },
        };
        for r in &mut plan.requests {
            r.request.service_tier = tier;
        }
        Ok(plan)
    }

    fn unpack(&self, request: &PlannedRequest, response: &ChatResponse) -> Unpacked {
        match self.packed {
            Some(_) => unpack_packed(request, response),
            None => unpack_single(request, response),
        }
    }
}
