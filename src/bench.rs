//! One strategy, end to end: plan, execute (ordinary requests or a Batch API), unpack by id,
//! re-ask what the packed answers lacked, price every request, and turn it all into records.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::pricing::{Nanodollars, Pricing, ServedTier};
use crate::provider::{CallError, ChatResponse, ServiceTier, Usage};
use crate::record::{PromptRecord, PromptStatus, RequestKind, RequestRecord};
use crate::runner::batch::{self, PollConfig};
use crate::runner::progress::Progress;
use crate::runner::{JournalScope, Outcome, Runner};
use crate::strategy::{Execution, ItemResult, PlanContext, PlannedRequest, Strategy};

mod cache;

/// Everything a strategy run needs besides the strategy.
pub struct BenchContext<'a> {
    /// Planning inputs (prompts, model, limits).
    pub plan: PlanContext<'a>,
    /// The request executor.
    pub runner: &'a Runner,
    /// Prices.
    pub pricing: &'a Pricing,
    /// Batch API polling.
    pub poll: PollConfig,
    /// Progress bars.
    pub progress: Progress,
    /// `Some((i, n))`: send only planned requests whose index mod n is i (0-based shard).
    pub shard: Option<(usize, usize)>,
    /// The resume journal, when the run keeps one.
    pub journal: Option<&'a crate::runner::journal::Journal>,
    /// Whether batches the journal lists still exist at the endpoint (not so for a restarted
    /// in-process mock): then they are polled by id instead of being submitted again.
    pub resume_batches: bool,
    /// `Some(reason)`: plan the strategy but send nothing, recording every prompt failed with
    /// this reason (a Batch API strategy once the server has shown it has no Batch API).
    pub skip: Option<&'a str>,
    /// How long a provider-side prefix cache (Gemini's `cachedContents`) is kept: what its
    /// storage is billed for.
    pub cache_ttl: Duration,
}

/// The records of one strategy.
#[derive(Debug, Clone)]
pub struct StrategyRun {
    /// Strategy id.
    pub strategy: String,
    /// Prompts per request as requested (K), 1 for unbatched strategies.
    pub batch_size: usize,
    /// Whether it is shown only as a demonstration of a mistake.
    pub demonstration: bool,
    /// One per prompt.
    pub prompts: Vec<PromptRecord>,
    /// One per HTTP attempt or batch job.
    pub requests: Vec<RequestRecord>,
    /// Planning warnings.
    pub warnings: Vec<String>,
}

impl StrategyRun {
    /// Whether it finished and, unless complete, why (as summary.csv will say).
    pub fn status(&self) -> (crate::report::summary::RunStatus, Option<String>) {
        let prompts: Vec<&PromptRecord> = self.prompts.iter().collect();
        let requests: Vec<&RequestRecord> = self.requests.iter().collect();
        crate::report::summary::status_of(&prompts, &requests)
    }

    /// As [`StrategyRun::status`], except that the demonstration losing answers (what it
    /// exists to show) is not a failure to report or to stop at; it failing outright still is.
    pub fn status_as_reported(&self) -> (crate::report::summary::RunStatus, Option<String>) {
        use crate::report::summary::RunStatus;
        match self.status() {
            (RunStatus::Partial, _) if self.demonstration => (RunStatus::Complete, None),
            other => other,
        }
    }
}

/// Splits `total` into `n` integer shares that add up exactly (remainder to the first shares).
pub fn split_u64(total: u64, n: usize) -> Vec<u64> {
    if n == 0 {
        return Vec::new();
    }
    let base = total / n as u64;
    let rem = (total % n as u64) as usize;
    (0..n).map(|i| base + u64::from(i < rem)).collect()
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Per-prompt state while a strategy runs.
#[derive(Debug, Clone, Default)]
struct Pending {
    request_id: String,
    request_prompts: u32,
    usage: Usage,
    client_input: u64,
    cost: Nanodollars,
    batch_priced: bool,
    latency: Duration,
    ttft: Option<Duration>,
    answer: Option<String>,
    error: Option<String>,
    reask: Option<String>,
    reasked: bool,
    /// Slot in the first request that carried it, from 1 (0: none yet).
    position: u32,
}

fn share_usage(usage: &Usage, n: usize) -> Vec<Usage> {
    let i = split_u64(usage.input_tokens, n);
    let c = split_u64(usage.cached_tokens, n);
    let w = split_u64(usage.cache_write_tokens, n);
    let h = split_u64(usage.cache_write_1h_tokens, n);
    let o = split_u64(usage.output_tokens, n);
    let r = split_u64(usage.reasoning_tokens, n);
    (0..n)
        .map(|k| Usage {
            input_tokens: i[k],
            cached_tokens: c[k],
            cache_write_tokens: w[k],
            cache_write_1h_tokens: h[k],
            output_tokens: o[k],
            reasoning_tokens: r[k],
        })
        .collect()
}

struct Ctx<'a, 'b> {
    bench: &'a BenchContext<'b>,
    strategy: &'a dyn Strategy,
    label: String,
    requests: Vec<RequestRecord>,
    pending: HashMap<String, Pending>,
}

impl Ctx<'_, '_> {
    /// Prices a response at the tier that served it: `batch` for every Batch API item (OpenAI
    /// batch bodies report `default`), else what the response reports, standard when it reports
    /// nothing. A tier without rates is this strategy's failure (contained), never a silent
    /// standard price.
    fn price(&self, response: &ChatResponse, batch: bool) -> Result<(Nanodollars, ServedTier)> {
        let tier = served_tier(response, batch)?;
        let (provider, model) = (self.bench.plan.provider, self.bench.plan.model);
        let cost = self
            .bench
            .pricing
            .cost_at(provider, model, &response.usage, tier)
            .map_err(|e| match e {
                Error::Pricing(m) => Error::Provider(m),
                other => other,
            })?;
        Ok((cost, tier))
    }

    fn attempt_rows(
        &mut self,
        kind: RequestKind,
        planned: &PlannedRequest,
        outcome: &Outcome,
    ) -> Result<Option<Nanodollars>> {
        let mut cost_of_success = None;
        for a in &outcome.attempts {
            let (status, usage, cost, server_id, error, ttft, served) = match &a.result {
                Ok(r) => {
                    let (cost, tier) = self.price(r, false)?;
                    cost_of_success = Some(cost);
                    (
                        "200".to_string(),
                        r.usage,
                        cost,
                        r.request_id.clone().or(Some(r.id.clone())),
                        None,
                        r.ttft,
                        Some(tier.as_str().to_string()),
                    )
                }
                Err(e) => (
                    e.label(),
                    Usage::default(),
                    Nanodollars::ZERO,
                    e.request_id.clone(),
                    Some(e.to_string()),
                    None,
                    None,
                ),
            };
            self.requests.push(RequestRecord {
                client_input_tokens: planned.client_input_tokens,
                cost_usd: cost,
                started_ms: ms(a.started),
                latency_ms: ms(a.latency),
                ttft_ms: ttft.map(ms),
                server_id,
                error,
                asked_tier: a.asked_tier.map(|t| t.as_str().to_string()),
                served_tier: served,
                ..RequestRecord::new(
                    &self.label,
                    &planned.id,
                    kind,
                    a.attempt,
                    planned.prompt_ids.len() as u32,
                    status,
                )
                .with_usage(&usage)
            });
        }
        Ok(cost_of_success)
    }

    /// Applies one response (already priced) to the prompts it carried.
    fn apply_response(
        &mut self,
        planned: &PlannedRequest,
        response: &ChatResponse,
        cost: Nanodollars,
        batch_priced: bool,
        latency: Duration,
    ) -> (bool, u32) {
        let n = planned.prompt_ids.len();
        let usages = share_usage(&response.usage, n);
        let costs = cost.split(n);
        let clients = split_u64(planned.client_input_tokens, n);
        let unpacked = self.strategy.unpack(planned, response);
        let results: HashMap<String, ItemResult> = unpacked.items.into_iter().collect();
        for (k, id) in planned.prompt_ids.iter().enumerate() {
            let p = self.pending.entry(id.clone()).or_default();
            p.request_id = planned.id.clone();
            p.request_prompts = n as u32;
            if p.position == 0 {
                p.position = k as u32 + 1;
            }
            p.usage.add(&usages[k]);
            p.client_input += clients[k];
            p.cost += costs[k];
            p.batch_priced = batch_priced;
            p.latency += latency;
            p.ttft = response.ttft;
            match results.get(id) {
                Some(ItemResult::Answer(a)) => p.answer = Some(a.clone()),
                Some(ItemResult::Reask(why)) => p.reask = Some(why.clone()),
                Some(ItemResult::Lost(why)) => p.error = Some(why.clone()),
                None => p.reask = Some("the strategy returned no result for this prompt".into()),
            }
        }
        (unpacked.parse_failure, unpacked.extra_items as u32)
    }

    /// The strategy's records: one prompt row per carried prompt, and its warnings.
    fn into_run(self, planned: &[PlannedRequest], mut warnings: Vec<String>) -> StrategyRun {
        let carried: std::collections::HashSet<&str> = planned
            .iter()
            .flat_map(|r| r.prompt_ids.iter().map(String::as_str))
            .collect();
        let prompts = finish(&self, self.bench, &carried);
        let label = self.label.clone();
        let fallback = self.bench.runner.client().map(|c| c.schema_fallback());
        if let Some(w) = fallback.and_then(|f| f.take_warning()) {
            warnings.push(format!("{label}: {w}"));
        }
        let (dropped, dropped_cost) = crate::record::dropped_attempts(&self.requests);
        if dropped > 0 {
            warnings.push(format!(
                "{label}: {dropped} attempt(s) broke off after the server answered 2xx (status `dropped` in \
                 requests.csv) and were sent again; the provider has probably billed them too, about \
                 ${} (each priced as its request's successful attempt) beyond this report's cost",
                dropped_cost.exact()
            ));
        }
        StrategyRun {
            strategy: label,
            batch_size: self.strategy.spec().batch_size(),
            demonstration: self.strategy.is_demonstration(),
            prompts,
            requests: self.requests,
            warnings,
        }
    }

    /// Ends the strategy early: every carried prompt without an answer fails with `reason`, and
    /// an `aborted` row in requests.csv holds the reason for the strategy's status.
    fn abort(&mut self, planned: &[PlannedRequest], reason: &str) {
        for id in planned.iter().flat_map(|r| r.prompt_ids.iter()) {
            let p = self.pending.entry(id.clone()).or_default();
            if p.answer.is_none() || p.error.is_some() || p.reask.is_some() {
                p.answer = None;
                p.reask = None;
                p.error = Some(reason.to_string());
            }
        }
        self.requests.push(RequestRecord {
            error: Some(reason.to_string()),
            ..RequestRecord::new(
                &self.label,
                crate::record::ABORTED,
                RequestKind::Aborted,
                1,
                0,
                "failed".into(),
            )
        });
    }

    fn fail(&mut self, planned: &PlannedRequest, error: &CallError, latency: Duration) {
        for id in &planned.prompt_ids {
            let p = self.pending.entry(id.clone()).or_default();
            p.request_id = planned.id.clone();
            p.request_prompts = planned.prompt_ids.len() as u32;
            p.latency += latency;
            p.error = Some(error.to_string());
        }
    }
}

/// Runs one strategy on the prompt set.
pub async fn run_strategy(
    strategy: &dyn Strategy,
    bench: &BenchContext<'_>,
) -> Result<StrategyRun> {
    let label = strategy.spec().to_string();
    let mut plan = strategy.plan(&bench.plan)?;
    if let Some(j) = bench.journal {
        let n = j.in_flight(&label);
        if n > 0 {
            plan.warnings.push(format!(
                "{label}: {n} request(s) were in flight when the previous run stopped; they are sent again, \
                 and the provider may have billed them once more than this report shows"
            ));
        }
    }
    if let Some((i, n)) = bench.shard {
        plan.requests = plan
            .requests
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % n == i)
            .map(|(_, r)| r)
            .collect();
    }
    let mut ctx = Ctx {
        bench,
        strategy,
        label: label.clone(),
        requests: Vec::new(),
        pending: HashMap::new(),
    };
    let refusal = bench
        .skip
        .map(str::to_string)
        .or_else(|| {
            strategy
                .refusal(bench.plan.provider)
                .map(|why| format!("{}{why}", crate::advice::NOT_OFFERED))
        })
        .or_else(|| missing_tier_price(bench, &plan.requests));
    if let Some(reason) = refusal {
        ctx.abort(&plan.requests, &reason);
        return Ok(ctx.into_run(&plan.requests, plan.warnings));
    }
    let cache = match cache::open(&mut ctx, &mut plan.requests, &mut plan.warnings).await {
        Ok(c) => c,
        Err(e) if contained(&e) => {
            ctx.abort(&plan.requests, &e.to_string());
            return Ok(ctx.into_run(&plan.requests, plan.warnings));
        }
        Err(e) => return Err(e),
    };
    let bar = bench.progress.bar(plan.requests.len() as u64, &label);
    let sent = execute(&mut ctx, &plan.requests, &bar).await;
    bar.finish_and_clear();
    let outcome = match sent {
        Ok(()) => reask(&mut ctx, &plan.requests).await,
        Err(e) => Err(e),
    };
    if let Some(c) = &cache {
        cache::close(bench, c, &label, &mut plan.warnings).await;
    }
    match outcome {
        Err(e) if contained(&e) => ctx.abort(&plan.requests, &e.to_string()),
        other => other?,
    }
    Ok(ctx.into_run(&plan.requests, plan.warnings))
}

/// The tier a response is priced at: `batch` for a Batch API item, else what it reports
/// (standard when it reports nothing); a tier no price data knows (OpenAI `scale`) fails the
/// strategy with the value named.
fn served_tier(response: &ChatResponse, batch: bool) -> Result<ServedTier> {
    if batch {
        return Ok(ServedTier::Batch);
    }
    match response.served_tier.as_deref() {
        None => Ok(ServedTier::Standard),
        Some(v) => ServedTier::from_reported(v).ok_or_else(|| {
            Error::Provider(format!(
                "the response reports service tier {v:?}, which batchbench has no prices for"
            ))
        }),
    }
}

/// Why a strategy asking for flex or priority cannot be priced, checked before anything is sent:
/// the model has no rates for that tier in the price data.
fn missing_tier_price(bench: &BenchContext<'_>, planned: &[PlannedRequest]) -> Option<String> {
    let asked = planned.iter().find_map(|r| r.request.service_tier)?;
    let tier = match asked {
        ServiceTier::Flex => ServedTier::Flex,
        ServiceTier::Priority => ServedTier::Priority,
        ServiceTier::Default | ServiceTier::Auto => return None,
    };
    let (provider, model) = (bench.plan.provider, bench.plan.model);
    match bench.pricing.has_tier(provider, model, tier) {
        Ok(true) => None,
        Ok(false) => Some(format!(
            "model {model} has no {tier} price in the price data (genai-prices lists flex and priority \
             rates only for the models that offer them; see `batchbench prices --model {model}`), so its \
             {tier} requests cannot be priced"
        )),
        Err(e) => Some(e.to_string()),
    }
}

/// Sends a strategy's planned requests the way it says (sync or Batch API) and applies the
/// answers to its prompts.
async fn execute(
    ctx: &mut Ctx<'_, '_>,
    planned_all: &[PlannedRequest],
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    match ctx.strategy.execution() {
        Execution::Sync { concurrency } => execute_sync(ctx, planned_all, concurrency, bar).await,
        Execution::BatchApi => execute_batch(ctx, planned_all, bar).await,
    }
}

/// Sends the requests with `concurrency` in flight and records every attempt.
async fn execute_sync(
    ctx: &mut Ctx<'_, '_>,
    planned_all: &[PlannedRequest],
    concurrency: usize,
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    let outcomes =
        send_journaled(ctx.bench, &ctx.label, "main", planned_all, concurrency, bar).await?;
    for (planned, outcome) in planned_all.iter().zip(&outcomes) {
        let cost = ctx.attempt_rows(RequestKind::Chat, planned, outcome)?;
        match (outcome.result(), cost) {
            (Ok(resp), Some(cost)) => {
                let (parse_failure, extra) =
                    ctx.apply_response(planned, resp, cost, false, outcome.latency);
                if let Some(row) = ctx.requests.last_mut() {
                    row.parse_failure = parse_failure;
                    row.extra_items = extra;
                }
            }
            (Err(e), _) => ctx.fail(planned, e, outcome.latency),
            (Ok(_), None) => {}
        }
    }
    Ok(())
}

/// Sends the requests through the Batch API (journaling each batch so a crash can adopt it),
/// records one row per batch job and one per item, and queues failed or missing items for one
/// ordinary re-ask.
async fn execute_batch(
    ctx: &mut Ctx<'_, '_>,
    planned_all: &[PlannedRequest],
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    let bench = ctx.bench;
    let label = ctx.label.clone();
    let keyed: Vec<_> = planned_all
        .iter()
        .map(|r| (r.id.clone(), r.request.clone()))
        .collect();
    let on_poll = move |msg: &str| bar.set_message(msg.to_string());
    let on_submit = |batch_id: &str, custom_ids: &[String], submitted_ms: f64| {
        if let Some(j) = bench.journal {
            let _ = j.append_durable(crate::runner::journal::Event::BatchSubmitted {
                strategy: label.clone(),
                batch_id: batch_id.to_string(),
                custom_ids: custom_ids.to_vec(),
                submitted_ms,
            });
        }
    };
    let on_creating = |input_file_id: &str, custom_ids: &[String]| {
        if let Some(j) = bench.journal {
            let _ = j.append_durable(crate::runner::journal::Event::BatchCreating {
                strategy: label.clone(),
                input_file_id: input_file_id.to_string(),
                custom_ids: custom_ids.to_vec(),
            });
        }
    };
    let resumed = bench.journal.filter(|_| bench.resume_batches);
    let creating = resumed.map_or_else(Vec::new, |j| j.pending_creations(&ctx.label));
    let resume = batch::Resume {
        previous: resumed.map_or(&[], |j| j.batches(&ctx.label)),
        on_submit: &on_submit,
        creating: &creating,
        on_creating: &on_creating,
    };
    let run = batch::execute(
        bench.runner.batch_api(),
        &keyed,
        bench.poll,
        bench.runner.run_start(),
        &on_poll,
        resume,
    )
    .await?;
    bar.set_position(planned_all.len() as u64);
    for job in &run.jobs {
        ctx.requests.push(job_row(&ctx.label, job));
    }
    for planned in planned_all {
        batch_item(ctx, planned, &run)?;
    }
    Ok(())
}

/// The requests.csv row of one Batch API job: its final status, submit-to-results time and the
/// states polls saw it in.
pub(crate) fn job_row(label: &str, job: &batch::JobLog) -> RequestRecord {
    RequestRecord {
        started_ms: ms(job.submitted),
        latency_ms: ms(job.wall),
        server_id: Some(job.batch_id.clone()),
        error: job.error.clone(),
        batch_states: job.states_text(),
        ..RequestRecord::new(
            label,
            &job.batch_id,
            RequestKind::BatchJob,
            1,
            0,
            job.status.clone(),
        )
    }
}

/// Records one Batch API item's result; a failed, expired or missing one is retried once as an
/// ordinary request.
fn batch_item(
    ctx: &mut Ctx<'_, '_>,
    planned: &PlannedRequest,
    run: &batch::BatchRun,
) -> Result<()> {
    let latency = run
        .result_latency
        .get(&planned.id)
        .copied()
        .unwrap_or_default();
    let submitted = run.jobs.first().map(|j| j.submitted).unwrap_or_default();
    let mut defects = (false, 0);
    let (status, usage, cost, server_id, error) = match run.results.get(&planned.id) {
        Some(Ok(resp)) => {
            let (cost, _) = ctx.price(resp, true)?;
            defects = ctx.apply_response(planned, resp, cost, true, latency);
            (
                "200".to_string(),
                resp.usage,
                cost,
                resp.request_id.clone().or(Some(resp.id.clone())),
                None,
            )
        }
        Some(Err(e)) => (
            e.code.clone().unwrap_or_else(|| e.label()),
            Usage::default(),
            Nanodollars::ZERO,
            None,
            Some(e.to_string()),
        ),
        None => (
            "missing".to_string(),
            Usage::default(),
            Nanodollars::ZERO,
            None,
            Some("no result".to_string()),
        ),
    };
    if error.is_some() {
        for id in &planned.prompt_ids {
            let p = ctx.pending.entry(id.clone()).or_default();
            p.latency += latency;
            p.reask = Some("failed in the batch; retried once as an ordinary request".into());
        }
    }
    ctx.requests.push(RequestRecord {
        client_input_tokens: planned.client_input_tokens,
        cost_usd: cost,
        started_ms: ms(submitted),
        latency_ms: ms(latency),
        served_tier: (status == "200").then(|| ServedTier::Batch.as_str().to_string()),
        server_id,
        error,
        parse_failure: defects.0,
        extra_items: defects.1,
        ..RequestRecord::new(
            &ctx.label,
            &planned.id,
            RequestKind::BatchItem,
            1,
            planned.prompt_ids.len() as u32,
            status,
        )
        .with_usage(&usage)
    });
    Ok(())
}

/// Whether an error ends only the strategy it happened in: a server that cannot do what the
/// strategy needs (a missing endpoint, a refused key, a malformed reply). Quota, Ctrl-C, I/O and
/// pricing errors stop the run.
fn contained(e: &Error) -> bool {
    matches!(e, Error::Provider(_))
}

/// Sends planned chat requests, `concurrency` at a time, journaled under (strategy, phase), one
/// tick of `bar` per request; stops the run when the provider reports the quota exhausted.
async fn send_journaled(
    bench: &BenchContext<'_>,
    strategy: &str,
    phase: &str,
    planned: &[PlannedRequest],
    concurrency: usize,
    bar: &indicatif::ProgressBar,
) -> Result<Vec<Outcome>> {
    let chat: Arc<[_]> = planned.iter().map(|r| r.request.clone()).collect();
    let ids: Vec<String> = planned.iter().map(|r| r.id.clone()).collect();
    let scope = bench.journal.map(|journal| JournalScope {
        journal,
        strategy,
        phase,
        ids: &ids,
    });
    let outcomes = bench
        .runner
        .execute_journaled(chat, concurrency, scope, |_| bar.inc(1))
        .await;
    if bench.runner.quota_exhausted() {
        return Err(Error::Fatal(
            "the provider reports the account's quota is exhausted (429 insufficient_quota)".into(),
        ));
    }
    Ok(outcomes)
}

/// Sends the prompts that need it again, one per request, at standard prices.
async fn reask(ctx: &mut Ctx<'_, '_>, planned: &[PlannedRequest]) -> Result<()> {
    let order: Vec<&String> = planned.iter().flat_map(|r| r.prompt_ids.iter()).collect();
    let ids: Vec<String> = order
        .into_iter()
        .filter(|id| ctx.pending.get(*id).is_some_and(|p| p.reask.is_some()))
        .cloned()
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let bench = ctx.bench;
    let by_id: HashMap<&str, &crate::dataset::Prompt> = bench
        .plan
        .set
        .prompts
        .iter()
        .map(|p| (p.id.as_str(), p))
        .collect();
    let singles: Vec<PlannedRequest> = ids
        .iter()
        .filter_map(|id| by_id.get(id.as_str()).copied())
        .map(|p| {
            let mut r = bench
                .plan
                .planned_single(format!("reask-{}", p.id), p, false);
            r.request.stream = false;
            r
        })
        .collect();
    let concurrency = match ctx.strategy.execution() {
        Execution::Sync { concurrency } => concurrency,
        Execution::BatchApi => 8,
    };
    let bar = bench
        .progress
        .bar(singles.len() as u64, &format!("{} re-asks", ctx.label));
    let outcomes = send_journaled(bench, &ctx.label, "reask", &singles, concurrency, &bar).await;
    bar.finish_and_clear();
    let outcomes = outcomes?;
    for (planned, outcome) in singles.iter().zip(&outcomes) {
        let cost = ctx.attempt_rows(RequestKind::Reask, planned, outcome)?;
        let id = &planned.prompt_ids[0];
        let p = ctx.pending.entry(id.clone()).or_default();
        p.reasked = true;
        p.request_id = planned.id.clone();
        p.latency += outcome.latency;
        p.client_input += planned.client_input_tokens;
        match (outcome.result(), cost) {
            (Ok(resp), Some(cost)) => {
                p.usage.add(&resp.usage);
                p.cost += cost;
                p.answer = Some(resp.text.trim().to_string());
                p.reask = None;
            }
            (Err(e), _) => {
                p.error = Some(format!("re-ask failed: {e}"));
                p.answer = None;
            }
            (Ok(_), None) => {}
        }
    }
    Ok(())
}

fn finish(
    ctx: &Ctx<'_, '_>,
    bench: &BenchContext<'_>,
    carried: &std::collections::HashSet<&str>,
) -> Vec<PromptRecord> {
    bench
        .plan
        .set
        .prompts
        .iter()
        .filter(|p| carried.contains(p.id.as_str()))
        .map(|prompt| {
            let p = ctx
                .pending
                .get(&prompt.id)
                .cloned()
                .unwrap_or_else(|| Pending {
                    error: Some("no request carried this prompt".into()),
                    ..Pending::default()
                });
            let answered = p.answer.is_some() && p.error.is_none() && p.reask.is_none();
            let answer = if answered { p.answer.clone() } else { None };
            let correct = crate::grade::correctness(prompt, answer.as_deref());
            PromptRecord {
                strategy: ctx.label.clone(),
                prompt_id: prompt.id.clone(),
                request_id: p.request_id.clone(),
                request_prompts: p.request_prompts,
                status: PromptStatus::from_answered(answered),
                reasked: p.reasked,
                input_tokens: p.usage.input_tokens,
                cached_tokens: p.usage.cached_tokens,
                cache_write_tokens: p.usage.cache_write_tokens,
                output_tokens: p.usage.output_tokens,
                client_input_tokens: p.client_input,
                cost_usd: p.cost,
                batch_priced: p.batch_priced,
                latency_ms: ms(p.latency),
                ttft_ms: p.ttft.map(ms),
                answer,
                gold: prompt.answer.clone(),
                correct,
                agrees_with_sequential: None,
                error: if answered {
                    None
                } else {
                    p.error
                        .clone()
                        .or(p.reask.clone())
                        .or(Some("no answer".into()))
                },
                pack_position: (p.position > 0 && ctx.strategy.spec().batch_size() > 1)
                    .then_some(p.position),
                vector_cosine: None,
                reasoning_tokens: p.usage.reasoning_tokens,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up() {
        assert_eq!(split_u64(10, 4), vec![3, 3, 2, 2]);
        assert_eq!(split_u64(0, 3), vec![0, 0, 0]);
        let u = Usage {
            input_tokens: 1001,
            cached_tokens: 7,
            cache_write_tokens: 0,
            cache_write_1h_tokens: 0,
            output_tokens: 50,
            reasoning_tokens: 9,
        };
        let shares = share_usage(&u, 3);
        let mut sum = Usage::default();
        for s in &shares {
            sum.add(s);
        }
        assert_eq!(sum, u);
    }
}
