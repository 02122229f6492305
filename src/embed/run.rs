//! One embedding strategy, end to end: plan the arrays, send them (ordinary requests through the
//! shared runner, or the shared Batch API lifecycle with `/v1/embeddings` lines), price every
//! request, and turn it all into the same prompt and request rows chat runs write. The vectors
//! stay in memory (they are large and only needed for the agreement check), keyed by text id.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::bench::StrategyRun;
use crate::dataset::PromptSet;
use crate::error::{Error, Result};
use crate::pricing::{Nanodollars, Pricing};
use crate::provider::embeddings::{EmbedRequest, EmbedResponse};
use crate::provider::{CallError, ProviderKind};
use crate::record::{PromptRecord, PromptStatus, RequestKind, RequestRecord};
use crate::runner::batch::{self, Job, PollConfig};
use crate::runner::progress::Progress;
use crate::runner::{Outcome, Runner};
use crate::tokens::Tokenizer;

use super::plan::{self, Planned, Text};
use super::price;
use super::strategy::EmbedStrategy;

/// Everything an embedding strategy needs besides the strategy.
pub struct EmbedContext<'a> {
    /// The texts (as prompts).
    pub set: &'a PromptSet,
    /// API family (for prices).
    pub provider: ProviderKind,
    /// Model.
    pub model: &'a str,
    /// Client-side token counts.
    pub tokenizer: Tokenizer,
    /// The request executor.
    pub runner: &'a Runner,
    /// Prices.
    pub pricing: &'a Pricing,
    /// Batch API polling.
    pub poll: PollConfig,
    /// Progress bars.
    pub progress: Progress,
    /// `--dimensions`.
    pub dimensions: Option<u32>,
    /// `encoding_format: base64`.
    pub base64: bool,
}

/// A strategy's rows and the vectors it got, by text id.
#[derive(Debug, Clone)]
pub struct EmbedRun {
    /// The rows, as chat strategies produce them.
    pub run: StrategyRun,
    /// One vector per answered text.
    pub vectors: HashMap<String, Vec<f32>>,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Per-text state while a strategy runs.
#[derive(Debug, Clone, Default)]
struct Pending {
    request_id: String,
    request_prompts: u32,
    position: u32,
    tokens: u64,
    client: u64,
    cost: Nanodollars,
    latency: Duration,
    error: Option<String>,
    answered: bool,
}

struct Ctx<'a, 'b> {
    bench: &'a EmbedContext<'b>,
    strategy: EmbedStrategy,
    label: String,
    requests: Vec<RequestRecord>,
    pending: HashMap<String, Pending>,
    vectors: HashMap<String, Vec<f32>>,
}

impl Ctx<'_, '_> {
    fn request(&self, p: &Planned) -> EmbedRequest {
        EmbedRequest {
            model: self.bench.model.to_string(),
            inputs: p.inputs.clone(),
            dimensions: self.bench.dimensions,
            base64: self.bench.base64,
        }
    }

    /// Tokens billed for a response: the server's count, else the client's.
    fn billed(planned: &Planned, response: &EmbedResponse) -> u64 {
        response
            .prompt_tokens
            .unwrap_or_else(|| planned.tokens.iter().sum())
    }

    fn price(&self, tokens: u64, batch: bool) -> Result<Nanodollars> {
        price::cost(
            self.bench.pricing,
            self.bench.provider,
            self.bench.model,
            tokens,
            batch,
        )
    }

    /// Why a response cannot be used, if it cannot: a vector missing or of the wrong width.
    fn defect(&self, response: &EmbedResponse) -> Option<String> {
        let empty = response.vectors.iter().position(Vec::is_empty);
        if let Some(i) = empty {
            return Some(format!("the server returned an empty vector for input {i}"));
        }
        let want = self.bench.dimensions? as usize;
        let got = response.vectors.iter().find(|v| v.len() != want)?.len();
        Some(format!(
            "asked for {want} dimensions, the server returned vectors of {got}"
        ))
    }

    /// Applies an answered request to its texts: token and cost shares by client tokens,
    /// the vectors, the latency.
    fn apply(
        &mut self,
        planned: &Planned,
        response: &EmbedResponse,
        cost: Nanodollars,
        latency: Duration,
    ) {
        let defect = self.defect(response);
        let tokens = price::shares(Self::billed(planned, response), &planned.tokens);
        let costs = price::shares(cost.0, &planned.tokens);
        for (k, id) in planned.ids.iter().enumerate() {
            let p = self.pending.entry(id.clone()).or_default();
            p.tokens += tokens[k];
            p.cost += Nanodollars(costs[k]);
            p.latency = latency;
            match &defect {
                Some(why) => p.error = Some(why.clone()),
                None => {
                    p.answered = true;
                    p.error = None;
                    self.vectors.insert(id.clone(), response.vectors[k].clone());
                }
            }
        }
    }

    fn carry(&mut self, planned: &Planned) {
        let k = self.strategy.inputs_per_request();
        for (slot, id) in planned.ids.iter().enumerate() {
            let p = self.pending.entry(id.clone()).or_default();
            p.request_id = planned.id.clone();
            p.request_prompts = planned.ids.len() as u32;
            p.position = if k > 1 { slot as u32 + 1 } else { 0 };
            p.client = planned.tokens[slot];
        }
    }

    fn fail(&mut self, planned: &Planned, error: &str, latency: Duration) {
        for id in &planned.ids {
            let p = self.pending.entry(id.clone()).or_default();
            p.latency = latency;
            p.error = Some(error.to_string());
        }
    }

    fn row(
        &self,
        planned: &Planned,
        kind: RequestKind,
        attempt: u32,
        status: String,
    ) -> RequestRecord {
        RequestRecord {
            client_input_tokens: planned.tokens.iter().sum(),
            ..RequestRecord::new(
                &self.label,
                &planned.id,
                kind,
                attempt,
                planned.ids.len() as u32,
                status,
            )
        }
    }
}

/// Runs one embedding strategy over the texts.
pub async fn run_strategy(strategy: EmbedStrategy, bench: &EmbedContext<'_>) -> Result<EmbedRun> {
    let texts: Vec<Text<'_>> = bench
        .set
        .prompts
        .iter()
        .map(|p| Text {
            id: &p.id,
            text: &p.prompt,
            tokens: bench.tokenizer.count(&p.prompt),
        })
        .collect();
    let per_input_limit = batchbench_core::embed::native_dimensions(bench.model).is_some();
    let planned = plan::plan(strategy, &texts, per_input_limit);
    let mut ctx = Ctx {
        bench,
        strategy,
        label: strategy.to_string(),
        requests: Vec::new(),
        pending: HashMap::new(),
        vectors: HashMap::new(),
    };
    for p in &planned.requests {
        ctx.carry(p);
    }
    let bar = bench
        .progress
        .bar(planned.requests.len() as u64, &ctx.label);
    let sent = if strategy.uses_batch_api() {
        send_batch(&mut ctx, &planned.requests, &bar).await
    } else {
        send_sync(&mut ctx, &planned.requests, &bar).await
    };
    bar.finish_and_clear();
    match sent {
        Err(Error::Provider(reason)) => abort(&mut ctx, &planned.requests, &reason),
        other => other?,
    }
    Ok(finish(ctx, planned.warnings))
}

/// Sends the planned requests `concurrency` at a time and records every attempt.
async fn send_sync(
    ctx: &mut Ctx<'_, '_>,
    planned: &[Planned],
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    let runner = ctx.bench.runner;
    let requests: Arc<[EmbedRequest]> = planned.iter().map(|p| ctx.request(p)).collect();
    let outcomes = runner
        .execute_embeddings(requests, ctx.strategy.concurrency(), |_| bar.inc(1))
        .await;
    if runner.quota_exhausted() {
        return Err(Error::Fatal(
            "the provider reports the account's quota is exhausted (429 insufficient_quota)".into(),
        ));
    }
    for (p, outcome) in planned.iter().zip(&outcomes) {
        record_attempts(ctx, p, outcome)?;
    }
    Ok(())
}

fn record_attempts(
    ctx: &mut Ctx<'_, '_>,
    planned: &Planned,
    outcome: &Outcome<EmbedResponse>,
) -> Result<()> {
    for a in &outcome.attempts {
        let mut row = match &a.result {
            Ok(r) => {
                let tokens = Ctx::billed(planned, r);
                RequestRecord {
                    input_tokens: tokens,
                    cost_usd: ctx.price(tokens, false)?,
                    server_id: r.request_id.clone(),
                    ..ctx.row(planned, RequestKind::Embed, a.attempt, "200".into())
                }
                .with_limits(r.rate_limit.as_ref())
            }
            Err(e) => RequestRecord {
                server_id: e.request_id.clone(),
                error: Some(e.to_string()),
                ..ctx.row(planned, RequestKind::Embed, a.attempt, e.label())
            }
            .with_limits(e.rate_limit.as_ref()),
        };
        row.started_ms = ms(a.started);
        row.latency_ms = ms(a.latency);
        ctx.requests.push(row);
    }
    match outcome.result() {
        Ok(r) => {
            let cost = ctx.price(Ctx::billed(planned, r), false)?;
            ctx.apply(planned, r, cost, outcome.latency);
        }
        Err(e) => ctx.fail(planned, &e.to_string(), outcome.latency),
    }
    Ok(())
}

/// Sends the planned requests as `/v1/embeddings` lines through the Batch API.
async fn send_batch(
    ctx: &mut Ctx<'_, '_>,
    planned: &[Planned],
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    let runner = ctx.bench.runner;
    let Some(api) = runner.embed_api().cloned() else {
        return Err(Error::Provider(
            "this provider has no embeddings API in batchbench".into(),
        ));
    };
    let mut lines = Vec::with_capacity(planned.len());
    for p in planned {
        let line = api.encode_batch(&p.id, &ctx.request(p)).ok_or_else(|| {
            Error::Provider("this provider's Batch API takes no embeddings requests".into())
        })?;
        lines.push((p.id.clone(), line));
    }
    let k = planned.iter().map(|p| p.ids.len()).max().unwrap_or(1);
    let job = Job {
        endpoint: crate::provider::api::BatchEndpoint::Embeddings,
        max_requests: batchbench_core::embed::MAX_INPUTS_PER_BATCH / k,
    };
    let parse = |line: &str| api.parse_batch(line);
    let on_poll = |msg: &str| bar.set_message(msg.to_string());
    let resume = batch::Resume {
        previous: &[],
        on_submit: &|_, _, _| {},
        creating: &[],
        on_creating: &|_, _| {},
    };
    let run = batch::execute_encoded(
        runner.batch_api(),
        job,
        &lines,
        ctx.bench.poll,
        runner.run_start(),
        &on_poll,
        resume,
        &parse,
    )
    .await?;
    bar.set_position(planned.len() as u64);
    for job in &run.jobs {
        ctx.requests.push(crate::bench::job_row(&ctx.label, job));
    }
    let submitted = run
        .jobs
        .iter()
        .map(|j| j.submitted)
        .min()
        .unwrap_or_default();
    for p in planned {
        let latency = run.result_latency.get(&p.id).copied().unwrap_or_default();
        let mut row = match run.results.get(&p.id) {
            Some(Ok(r)) if r.vectors.len() == p.ids.len() => {
                let tokens = Ctx::billed(p, r);
                let cost = ctx.price(tokens, true)?;
                ctx.apply(p, r, cost, latency);
                RequestRecord {
                    input_tokens: tokens,
                    cost_usd: cost,
                    server_id: r.request_id.clone(),
                    ..ctx.row(p, RequestKind::BatchItem, 1, "200".into())
                }
            }
            Some(Ok(r)) => {
                let why = format!(
                    "the batch line has {} embeddings for {} inputs",
                    r.vectors.len(),
                    p.ids.len()
                );
                ctx.fail(p, &why, latency);
                RequestRecord {
                    error: Some(why),
                    ..ctx.row(p, RequestKind::BatchItem, 1, "decode".into())
                }
            }
            Some(Err(e)) => failed_line(ctx, p, e, latency),
            None => {
                let e = CallError::new(crate::provider::CallErrorKind::Status, "no result");
                failed_line(ctx, p, &e, latency)
            }
        };
        row.started_ms = ms(submitted);
        row.latency_ms = ms(latency);
        ctx.requests.push(row);
    }
    Ok(())
}

fn failed_line(
    ctx: &mut Ctx<'_, '_>,
    p: &Planned,
    e: &CallError,
    latency: Duration,
) -> RequestRecord {
    ctx.fail(p, &e.to_string(), latency);
    RequestRecord {
        error: Some(e.to_string()),
        ..ctx.row(
            p,
            RequestKind::BatchItem,
            1,
            e.code.clone().unwrap_or_else(|| e.label()),
        )
    }
}

/// Ends the strategy early: every unanswered text fails with `reason`, and an `aborted` row
/// holds it.
fn abort(ctx: &mut Ctx<'_, '_>, planned: &[Planned], reason: &str) {
    for id in planned.iter().flat_map(|r| r.ids.iter()) {
        let p = ctx.pending.entry(id.clone()).or_default();
        if !p.answered {
            p.error = Some(reason.to_string());
        }
    }
    ctx.requests.push(RequestRecord {
        error: Some(reason.to_string()),
        ..RequestRecord::new(
            &ctx.label,
            crate::record::ABORTED,
            RequestKind::Aborted,
            1,
            0,
            "failed".into(),
        )
    });
}

fn finish(ctx: Ctx<'_, '_>, warnings: Vec<String>) -> EmbedRun {
    let batch = ctx.strategy.uses_batch_api();
    let prompts = ctx
        .bench
        .set
        .prompts
        .iter()
        .map(|prompt| {
            let p = ctx.pending.get(&prompt.id).cloned().unwrap_or_default();
            let answered = p.answered && p.error.is_none();
            PromptRecord {
                strategy: ctx.label.clone(),
                prompt_id: prompt.id.clone(),
                request_id: p.request_id.clone(),
                request_prompts: p.request_prompts,
                status: PromptStatus::from_answered(answered),
                reasked: false,
                input_tokens: p.tokens,
                cached_tokens: 0,
                cache_write_tokens: 0,
                output_tokens: 0,
                client_input_tokens: p.client,
                cost_usd: p.cost,
                batch_priced: batch,
                latency_ms: ms(p.latency),
                ttft_ms: None,
                answer: None,
                gold: None,
                correct: None,
                agrees_with_sequential: None,
                error: if answered {
                    None
                } else {
                    p.error.clone().or(Some("no vector".into()))
                },
                pack_position: (p.position > 0).then_some(p.position),
                vector_cosine: None,
                reasoning_tokens: 0,
            }
        })
        .collect();
    EmbedRun {
        run: StrategyRun {
            strategy: ctx.label.clone(),
            batch_size: ctx.strategy.inputs_per_request(),
            demonstration: false,
            prompts,
            requests: ctx.requests,
            warnings,
        },
        vectors: ctx.vectors,
    }
}
