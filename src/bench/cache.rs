//! A provider-side cache of the shared prefix, around the requests that name it: made before
//! them (Gemini's `cachedContents`, through [`crate::provider::api::ChatApi`]), recorded as a
//! `cache_create` row whose cost (the making plus the storage for its TTL) the strategy's
//! prompts share, and deleted after them. Providers that cache inside each request make none.

use std::time::Instant;

use super::{Ctx, ms, share_usage, split_u64};
use crate::error::{Error, Result};
use crate::provider::Usage;
use crate::provider::api::PrefixCache;
use crate::record::{RequestKind, RequestRecord};
use crate::strategy::PlannedRequest;

/// Makes the cache the planned requests' shared prefix asks for, names it in them, and records
/// its making. A cache the provider would not make is a warning (the requests then go whole);
/// one that cannot be priced is this strategy's failure (after the cache is deleted again).
pub(super) async fn open(
    ctx: &mut Ctx<'_, '_>,
    planned: &mut [PlannedRequest],
    warnings: &mut Vec<String>,
) -> Result<Option<PrefixCache>> {
    let Some(template) = planned.iter().find(|r| r.request.cache_prefix) else {
        return Ok(None);
    };
    let bench = ctx.bench;
    let api = bench.runner.chat_api();
    let started = bench.runner.run_start().elapsed();
    let t = Instant::now();
    let cache = match api
        .open_prefix_cache(
            &template.request,
            template
                .request
                .cache_ttl
                .duration()
                .unwrap_or(bench.cache_ttl),
        )
        .await
    {
        Ok(Some(c)) => c,
        Ok(None) => return Ok(None),
        Err(e) => {
            warnings.push(format!(
                "{}: no context cache was made ({e}); the requests carried the whole prompt, so only \
                 the provider's implicit caching could apply",
                ctx.label
            ));
            return Ok(None);
        }
    };
    let latency = t.elapsed();
    let (provider, model) = (bench.plan.provider, bench.plan.model);
    let priced = bench
        .pricing
        .cache_cost(provider, model, cache.tokens, cache.ttl);
    let (made, stored) = match priced {
        Ok(costs) => costs,
        Err(e) => {
            let _ = api.close_prefix_cache(&cache).await;
            return Err(match e {
                Error::Pricing(m) => Error::Provider(m),
                other => other,
            });
        }
    };
    for r in planned.iter_mut().filter(|r| r.request.cache_prefix) {
        r.request.cached_content = Some(cache.name.clone());
    }
    let system = planned
        .iter()
        .find_map(|r| r.request.system.as_deref())
        .unwrap_or_default();
    let client_tokens = bench.plan.tokenizer.count(system);
    record(ctx, planned, &cache, made + stored, client_tokens);
    if let Some(row) = ctx.requests.last_mut() {
        row.started_ms = ms(started);
        row.latency_ms = ms(latency);
    }
    Ok(Some(cache))
}

/// The `cache_create` row, and every carried prompt's share of its tokens and cost.
fn record(
    ctx: &mut Ctx<'_, '_>,
    planned: &[PlannedRequest],
    cache: &PrefixCache,
    cost: crate::pricing::Nanodollars,
    client_tokens: u64,
) {
    let usage = Usage {
        input_tokens: cache.tokens,
        cache_write_tokens: cache.tokens,
        ..Usage::default()
    };
    let ids: Vec<&String> = planned.iter().flat_map(|r| r.prompt_ids.iter()).collect();
    let usages = share_usage(&usage, ids.len());
    let costs = cost.split(ids.len());
    let clients = split_u64(client_tokens, ids.len());
    for (k, id) in ids.into_iter().enumerate() {
        let p = ctx.pending.entry(id.clone()).or_default();
        p.usage.add(&usages[k]);
        p.cost += costs[k];
        p.client_input += clients[k];
    }
    ctx.requests.push(RequestRecord {
        client_input_tokens: client_tokens,
        cost_usd: cost,
        server_id: Some(cache.name.clone()),
        served_tier: Some(crate::pricing::ServedTier::Standard.as_str().to_string()),
        cache_ttl_s: Some(cache.ttl.as_secs()),
        ..RequestRecord::new(
            &ctx.label,
            "cache",
            RequestKind::CacheCreate,
            1,
            0,
            "200".into(),
        )
        .with_usage(&usage)
    });
}

/// Deletes the cache once the strategy's requests are done; a failure is a warning (the cache
/// then lapses at its TTL, which its priced storage already covers).
pub(super) async fn close(
    bench: &super::BenchContext<'_>,
    cache: &PrefixCache,
    label: &str,
    warnings: &mut Vec<String>,
) {
    if let Err(e) = bench.runner.chat_api().close_prefix_cache(cache).await {
        warnings.push(format!(
            "{label}: the context cache {} could not be deleted ({e}); it lapses after its TTL",
            cache.name
        ));
    }
}
