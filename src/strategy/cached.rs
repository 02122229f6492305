//! `cached`, `cached:1h`, `cached:24h`: one request per prompt with the shared instructions
//! first and marked for the provider's prompt cache (Anthropic `cache_control`, with `ttl: 1h`
//! for `cached:1h`; OpenAI `prompt_cache_key`, on top of its automatic caching of prefixes of
//! 1,024 tokens or more, with `prompt_cache_retention: 24h` for `cached:24h`; Gemini an explicit
//! context cache the bench makes before the requests, see `bench/cache.rs`, kept for
//! `--cache-ttl`, 1 hour or 24 hours). Billed at cached and cache-write prices, plus a Gemini
//! cache's storage; a TTL the provider lacks fails the strategy before anything is sent.

use super::{
    Execution, Plan, PlanContext, PlannedRequest, Strategy, StrategySpec, Unpacked, unpack_single,
};
use crate::error::Result;
use crate::provider::overheads::{CacheStyle, Overheads};
use crate::provider::{CacheTtl, ChatResponse, ProviderKind};

/// Prompt caching of the shared prefix.
#[derive(Debug, Clone, Copy)]
pub struct Cached {
    /// How long the provider is asked to keep the prefix.
    pub ttl: CacheTtl,
}

impl Strategy for Cached {
    fn spec(&self) -> StrategySpec {
        StrategySpec::Cached(self.ttl)
    }

    fn refusal(&self, provider: ProviderKind) -> Option<String> {
        self.ttl.wire_value(provider).err()
    }

    fn execution(&self) -> Execution {
        Execution::Sync { concurrency: 1 }
    }

    fn plan(&self, ctx: &PlanContext<'_>) -> Result<Plan> {
        let mut warnings = Vec::new();
        let prefix = ctx.tokenizer.count(&ctx.set.instructions);
        let overheads = Overheads::new(ctx.provider, ctx.model, &ctx.set.instructions, |t| {
            ctx.tokenizer.count(t)
        });
        let min = match overheads.cache {
            CacheStyle::Automatic { min, .. }
            | CacheStyle::Explicit { min }
            | CacheStyle::Stored { min } => min,
        };
        if prefix < min {
            warnings.push(format!(
                "cached: the shared instructions are about {prefix} tokens; {} caches only prefixes of {min} tokens \
                 or more, so expect no cached tokens on this dataset",
                ctx.model
            ));
        }
        let mut requests = ctx.planned_singles(true);
        for r in &mut requests {
            r.request.cache_ttl = self.ttl;
        }
        Ok(Plan { requests, warnings })
    }

    fn unpack(&self, request: &PlannedRequest, response: &ChatResponse) -> Unpacked {
        unpack_single(request, response)
    }
}
