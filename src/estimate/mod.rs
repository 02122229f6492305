//! `batchbench estimate`: the cost of every strategy from token counts and prices alone, sending
//! nothing. Input tokens are counted client-side exactly as `run` would send them (the same
//! request bodies: system instructions, user message, packed items and their JSON schema), every
//! request is priced on its own with [`Pricing::cost`] so that tiers and rounding match `run`,
//! and the total is projected to a stated daily volume.
//!
//! It streams: the dataset is read once per pass and split into chunks that worker threads
//! count, so 1,000,000 prompts take bounded memory and every core (see `engine`).

mod counter;
mod engine;
mod outputs;
mod render;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub use counter::{Counter, CounterKind};
pub use outputs::{DEFAULT_OUTPUT_TOKENS, OutputTokens, RunOutputs};

use crate::cli::{EstimateArgs, Format};
use crate::error::{Error, Result};
use crate::pricing::{Nanodollars, PriceSource, Pricing, ServedTier, model_limits};
use crate::provider::overheads::{CacheStyle, Overheads};
use crate::provider::{CacheTtl, ProviderKind};
use crate::strategy::{StrategySpec, Tier};
use crate::tokens::{Encoding, Exactness, Tokenizer};
use engine::{EncCtx, ModelCtx, Pass, Shape, Task};

/// The schema version of `estimate --format json`.
pub const SCHEMA_VERSION: u32 = 1;

pub use crate::provider::overheads::{OPENAI_CACHE_MIN, OPENAI_CACHE_STEP, openai_cached_tokens};

/// The smallest prefix Anthropic caches for `model`.
pub fn anthropic_cache_min(model: &str) -> u64 {
    crate::provider::anthropic::min_cacheable_prefix(model)
}

/// Everything [`estimate`] needs.
#[derive(Debug)]
pub struct EstimateInput {
    /// The dataset file (streamed).
    pub dataset: PathBuf,
    /// Replaces the dataset's instructions when set.
    pub instructions: Option<String>,
    /// Models, each with the API it is priced for.
    pub models: Vec<(String, ProviderKind)>,
    /// Strategies, in report order.
    pub strategies: Vec<StrategySpec>,
    /// Output tokens per answer.
    pub output: OutputTokens,
    /// Prices.
    pub pricing: Pricing,
    /// Prompts per day for the projection.
    pub per_day: u64,
    /// `run`'s output allowance per answer (for the limits check of packed requests).
    pub answer_tokens: u32,
    /// Worker threads.
    pub threads: usize,
    /// Token counter.
    pub counter: CounterKind,
    /// Show a progress bar on stderr (hidden anyway when stderr is not a terminal).
    pub progress: bool,
}

impl EstimateInput {
    /// Defaults: the default strategies with sizes 1..32, gpt-4o-mini on OpenAI, 64 output
    /// tokens per answer, bundled prices now, one thread per core.
    pub fn new(dataset: impl Into<PathBuf>) -> EstimateInput {
        EstimateInput {
            dataset: dataset.into(),
            instructions: None,
            models: vec![("gpt-4o-mini".to_string(), ProviderKind::Openai)],
            strategies: default_strategies(&[1, 2, 4, 8, 16, 32]),
            output: OutputTokens::PerAnswer(DEFAULT_OUTPUT_TOKENS),
            pricing: Pricing::bundled(SystemTime::now()),
            per_day: 1_000_000,
            answer_tokens: 64,
            threads: default_threads(),
            counter: CounterKind::default(),
            progress: false,
        }
    }
}

/// One thread per core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// sequential, concurrent:8, packed:K for each size, cached, batch-api, batch-api+packed:K.
pub fn default_strategies(sizes: &[usize]) -> Vec<StrategySpec> {
    let mut out = vec![StrategySpec::Sequential, StrategySpec::Concurrent(8)];
    out.extend(sizes.iter().map(|&k| StrategySpec::Packed(k)));
    out.extend([
        StrategySpec::Cached(CacheTtl::Default),
        StrategySpec::BatchApi(None),
    ]);
    out.extend(sizes.iter().map(|&k| StrategySpec::BatchApi(Some(k))));
    out
}

/// The estimate of one strategy for one model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StrategyEstimate {
    /// Strategy id, as on the command line.
    pub strategy: String,
    /// Prompts per request in force (K, lowered as `run` would to fit the model's limits).
    pub prompts_per_request: usize,
    /// Requests for the dataset.
    pub requests: u64,
    /// Input tokens, all of them (cached and cache-write included).
    pub input_tokens: u64,
    /// Of those, read from the prompt cache.
    pub cached_tokens: u64,
    /// Of those, written to the prompt cache.
    pub cache_write_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Billed at the provider's batch prices.
    pub batch_priced: bool,
    /// Cost of the dataset, exact to the nano-dollar (the sum of each request's price).
    #[serde(with = "crate::record::usd_string")]
    pub cost_usd: Nanodollars,
    /// Cost per 1,000 prompts.
    #[serde(with = "crate::record::usd_string")]
    pub cost_per_1k_prompts_usd: Nanodollars,
    /// Saving versus `sequential`, in percent (when sequential is estimated too).
    pub saving_vs_sequential_pct: Option<f64>,
    /// Cost of `per_day` prompts.
    #[serde(with = "crate::record::usd_string")]
    pub per_day_usd: Nanodollars,
    /// Cost of 30 days at `per_day`.
    #[serde(with = "crate::record::usd_string")]
    pub per_month_usd: Nanodollars,
    /// Where the output token counts come from.
    pub output_tokens_source: String,
}

/// The estimates for one model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelEstimate {
    /// Model id.
    pub model: String,
    /// `openai` or `anthropic`.
    pub provider: String,
    /// BPE encoding used for counting.
    pub encoding: String,
    /// `exact` (the provider's tokenizer) or `estimate` (Anthropic: a stand-in).
    pub token_counts: String,
    /// One row per strategy, in the order asked.
    pub strategies: Vec<StrategyEstimate>,
}

/// What `estimate` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EstimateReport {
    /// Schema version of this JSON.
    pub schema_version: u32,
    /// The dataset path.
    pub dataset: String,
    /// Prompts in it.
    pub prompts: u64,
    /// Prompts per day of the projection.
    pub per_day: u64,
    /// Where prices come from, and their date.
    pub price_source: PriceSource,
    /// Token counter implementation.
    pub counter: String,
    /// Per model.
    pub models: Vec<ModelEstimate>,
    /// What the numbers assume, in words.
    pub assumptions: Vec<String>,
    /// Things to know (e.g. K lowered to fit a context window).
    pub warnings: Vec<String>,
}

fn scale(cost: Nanodollars, num: u64, den: u64) -> Nanodollars {
    if den == 0 {
        return Nanodollars::ZERO;
    }
    let v = (u128::from(cost.0) * u128::from(num) + u128::from(den) / 2) / u128::from(den);
    Nanodollars(u64::try_from(v).unwrap_or(u64::MAX))
}

fn shape_of(spec: StrategySpec) -> (Shape, ServedTier) {
    let single = Shape::Single { cached: None };
    match spec {
        StrategySpec::Sequential | StrategySpec::Concurrent(_) => (single, ServedTier::Standard),
        StrategySpec::Cached(ttl) => (Shape::Single { cached: Some(ttl) }, ServedTier::Standard),
        StrategySpec::BatchApi(None) => (single, ServedTier::Batch),
        StrategySpec::Packed(k) => (Shape::Packed(k), ServedTier::Standard),
        StrategySpec::BatchApi(Some(k)) => (Shape::Packed(k), ServedTier::Batch),
        StrategySpec::Tier(t, packed) => {
            let tier = match t {
                Tier::Flex => ServedTier::Flex,
                Tier::Priority => ServedTier::Priority,
            };
            (packed.map_or(single, Shape::Packed), tier)
        }
        StrategySpec::NaiveMultiMessage(k) => (Shape::Naive(k), ServedTier::Standard),
    }
}

/// SHA-256 of a file, streamed.
fn file_sha256(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Computes the estimate: streams the dataset (once, plus once more for each strategy whose K
/// must be lowered to fit a model's limits) and prices every request.
pub fn estimate(input: &EstimateInput) -> Result<EstimateReport> {
    if input.models.is_empty() {
        return Err(Error::Usage("no model given".into()));
    }
    if input.strategies.is_empty() {
        return Err(Error::Usage("no strategies given".into()));
    }
    for (model, provider) in &input.models {
        input.pricing.check_model(*provider, model)?;
        for spec in &input.strategies {
            if let Some(why) = spec.build().refusal(*provider) {
                return Err(Error::Usage(format!(
                    "{spec} for {model}: {why}; leave it out of --strategies"
                )));
            }
        }
    }
    // Instructions first: they are part of every request.
    let instructions = match &input.instructions {
        Some(s) => s.clone(),
        None => engine::read_instructions(&input.dataset)?.unwrap_or_default(),
    };
    let by_id = match &input.output {
        OutputTokens::FromRun(run) => match &run.dataset_sha256 {
            Some(sha) => *sha == file_sha256(&input.dataset)?,
            None => false,
        },
        OutputTokens::PerAnswer(_) => false,
    };

    let (encodings, models, exactness) = model_contexts(input, &instructions);

    // One task per (model, strategy); output rules per strategy.
    let rules: Vec<outputs::OutputRule<'_>> = input
        .strategies
        .iter()
        .map(|s| outputs::resolve(*s, &input.output, by_id))
        .collect();
    let mut tasks: Vec<Task<'_>> = Vec::new();
    let mut index: Vec<(usize, usize)> = Vec::new(); // (model, strategy) of each task
    for m in 0..models.len() {
        for (s, spec) in input.strategies.iter().enumerate() {
            let (shape, tier) = shape_of(*spec);
            tasks.push(Task {
                model: m,
                shape,
                tier,
                output: rules[s].clone(),
            });
            index.push((m, s));
        }
    }
    let make_encs = |tasks: &[Task<'_>]| -> Vec<EncCtx> {
        (0..encodings.len())
            .map(|e| {
                let mut ks: Vec<usize> = tasks
                    .iter()
                    .filter(|t| models[t.model].enc == e)
                    .filter_map(|t| match t.shape {
                        Shape::Packed(k) => Some(k),
                        _ => None,
                    })
                    .collect();
                ks.sort_unstable();
                ks.dedup();
                let schema = tasks.iter().any(|t| {
                    models[t.model].enc == e
                        && models[t.model].provider.structured_outputs()
                        && matches!(t.shape, Shape::Packed(_))
                });
                EncCtx::new(Counter::new(input.counter, encodings[e]), &ks, schema)
            })
            .collect()
    };

    let progress = progress_bar(input.progress);
    let pass = Pass {
        encs: make_encs(&tasks),
        models: models.clone(),
        tasks: tasks.clone(),
        pricing: &input.pricing,
        answer_tokens: u64::from(input.answer_tokens),
    };
    let result = engine::run_pass(&pass, &input.dataset, input.threads, progress.as_ref())?;
    let prompts = result.prompts;
    if prompts == 0 {
        return Err(Error::Dataset(format!(
            "{}: the dataset holds no prompts",
            input.dataset.display()
        )));
    }
    let mut accs = result.accs;
    let mut k_in_force: Vec<usize> = tasks
        .iter()
        .map(|t| t.shape.k().map_or(1, |k| k.min(prompts as usize)))
        .collect();
    let mut warnings = Vec::new();

    // Lower K where a packed request would not fit, as `run` does, and estimate again.
    loop {
        let redo: Vec<usize> = (0..tasks.len())
            .filter(|&t| accs[t].overflow && k_in_force[t] > 1)
            .collect();
        if redo.is_empty() {
            break;
        }
        let mut again = Vec::new();
        for &t in &redo {
            let k = k_in_force[t];
            let next = (k * 3 / 4).max(1).min(k - 1);
            let m = &models[tasks[t].model];
            warnings.push(format!(
                "{} on {}: a request of {k} prompts needs {} tokens (input + allowed output), over the model's limits \
                 ({} context, {} output); run would lower K to {next}",
                input.strategies[index[t].1], m.name, accs[t].largest, m.limits.context_window, m.limits.max_output_tokens
            ));
            k_in_force[t] = next;
            let mut task = tasks[t].clone();
            task.shape = Shape::Packed(next);
            again.push(task);
        }
        let pass = Pass {
            encs: make_encs(&again),
            models: models.clone(),
            tasks: again,
            pricing: &input.pricing,
            answer_tokens: u64::from(input.answer_tokens),
        };
        let r = engine::run_pass(&pass, &input.dataset, input.threads, progress.as_ref())?;
        for (i, &t) in redo.iter().enumerate() {
            accs[t] = r.accs[i];
        }
    }
    if let Some(p) = &progress {
        p.finish_and_clear();
    }

    let out_models = model_rows(
        input,
        &models,
        &encodings,
        &exactness,
        &tasks,
        &index,
        &accs,
        &k_in_force,
        prompts,
    );
    let assumptions = assumptions(input, &instructions, &models, &rules, &exactness);
    Ok(EstimateReport {
        schema_version: SCHEMA_VERSION,
        dataset: input.dataset.display().to_string(),
        prompts,
        per_day: input.per_day,
        price_source: input.pricing.source().clone(),
        counter: input.counter.name().to_string(),
        models: out_models,
        assumptions,
        warnings,
    })
}

/// Per model: its context (overheads, limits, which encoding counts it) and how exact its
/// counts are; the distinct encodings, each counted once per prompt.
fn model_contexts(
    input: &EstimateInput,
    instructions: &str,
) -> (Vec<Encoding>, Vec<ModelCtx>, Vec<Exactness>) {
    let mut encodings: Vec<Encoding> = Vec::new();
    let mut models: Vec<ModelCtx> = Vec::new();
    let mut exactness: Vec<Exactness> = Vec::new();
    for (name, provider) in &input.models {
        let tokenizer = Tokenizer::for_model(name);
        let enc = tokenizer.encoding();
        let e = match encodings.iter().position(|x| *x == enc) {
            Some(i) => i,
            None => {
                encodings.push(enc);
                encodings.len() - 1
            }
        };
        let c = Counter::new(input.counter, enc);
        let o = Overheads::new(*provider, name, instructions, |t| c.count(t));
        let ctx = ModelCtx {
            name: name.clone(),
            provider: *provider,
            enc: e,
            limits: model_limits(name, input.pricing.context_window(*provider, name)),
            single_base: o.single_base,
            packed_base: o.packed_base,
            naive_base: o.naive_base,
            naive_per_message: o.naive_per_message,
            cache_read: o.cache_read,
            cache_write: o.cache_write,
            cache: o.cache,
        };
        models.push(ctx);
        exactness.push(tokenizer.exactness());
    }

    (encodings, models, exactness)
}

/// The estimate's rows: per model, one per strategy, with the saving against its sequential.
#[allow(clippy::too_many_arguments)]
fn model_rows(
    input: &EstimateInput,
    models: &[ModelCtx],
    encodings: &[Encoding],
    exactness: &[Exactness],
    tasks: &[Task<'_>],
    index: &[(usize, usize)],
    accs: &[engine::Acc],
    k_in_force: &[usize],
    prompts: u64,
) -> Vec<ModelEstimate> {
    let mut out_models = Vec::new();
    for (m, ctx) in models.iter().enumerate() {
        let seq = (0..tasks.len())
            .find(|&t| index[t].0 == m && input.strategies[index[t].1] == StrategySpec::Sequential);
        let baseline = seq.map(|t| Nanodollars(accs[t].cost));
        let rows = (0..tasks.len())
            .filter(|&t| index[t].0 == m)
            .map(|t| {
                let a = &accs[t];
                let cost = Nanodollars(a.cost);
                StrategyEstimate {
                    strategy: input.strategies[index[t].1].to_string(),
                    prompts_per_request: k_in_force[t],
                    requests: a.requests,
                    input_tokens: a.input,
                    cached_tokens: a.cached,
                    cache_write_tokens: a.cache_write,
                    output_tokens: a.output,
                    batch_priced: tasks[t].tier == ServedTier::Batch,
                    cost_usd: cost,
                    cost_per_1k_prompts_usd: scale(cost, 1_000, prompts),
                    saving_vs_sequential_pct: baseline.and_then(|b| cost.saving_vs(b)),
                    per_day_usd: scale(cost, input.per_day, prompts),
                    per_month_usd: scale(cost, input.per_day.saturating_mul(30), prompts),
                    output_tokens_source: tasks[t].output.description.clone(),
                }
            })
            .collect();
        out_models.push(ModelEstimate {
            model: ctx.name.clone(),
            provider: ctx.provider.as_str().to_string(),
            encoding: encodings[ctx.enc].name().to_string(),
            token_counts: match exactness[m] {
                Exactness::Exact => "exact".to_string(),
                Exactness::Estimate => "estimate".to_string(),
            },
            strategies: rows,
        });
    }
    out_models
}

/// One sentence on how the model's provider caches the shared prefix of its requests.
fn caching_assumption(m: &ModelCtx, instructions: bool) -> String {
    use crate::report::markdown::fmt_int;
    match m.cache {
        CacheStyle::Automatic { min, step } => {
            let prefix = m.single_base - crate::tokens::REPLY_PRIMING_TOKENS;
            let outcome = if m.cache_read > 0 {
                format!(
                    "the first request writes, every later one reads {} tokens (all within the cache's lifetime).",
                    fmt_int(m.cache_read)
                )
            } else {
                "too short, so nothing is cached.".to_string()
            };
            format!(
                "Caching ({}): OpenAI's automatic caching of the shared prefix (instructions and message framing: {} \
                 tokens) when it is at least {} tokens, in steps of {step}: {outcome}",
                m.name,
                fmt_int(prefix),
                fmt_int(min),
            )
        }
        CacheStyle::Explicit { min } => {
            let system = if instructions {
                m.single_base - crate::tokens::TOKENS_PER_MESSAGE
            } else {
                0
            };
            let outcome = if m.cache_read > 0 {
                "the first request writes it at 1.25x input, every later one reads it at 0.1x (5-minute lifetime, never lapsing)."
            } else {
                "too short, so nothing is cached."
            };
            format!(
                "Caching ({}): Anthropic's explicit cache on the system prompt ({} tokens; this model caches prefixes of \
                 {} tokens or more): {outcome}",
                m.name,
                fmt_int(system),
                fmt_int(min),
            )
        }
        CacheStyle::Stored { min } => {
            let outcome = if m.cache_read > 0 {
                "one cache is made at the input rate and every request reads it at the cached rate; its storage \
                 (per token-hour of its TTL, see `batchbench prices`) is not in these figures."
            } else {
                "too short, so no cache is made."
            };
            format!(
                "Caching ({}): Gemini's explicit context cache of the system instruction ({} tokens; this model \
                 caches {} tokens or more): {outcome}",
                m.name,
                fmt_int(m.single_base),
                fmt_int(min),
            )
        }
    }
}

fn assumptions(
    input: &EstimateInput,
    instructions: &str,
    models: &[ModelCtx],
    rules: &[outputs::OutputRule<'_>],
    exactness: &[Exactness],
) -> Vec<String> {
    let mut out = Vec::new();
    // Output tokens.
    let mut sources: Vec<&str> = rules.iter().map(|r| r.description.as_str()).collect();
    sources.dedup();
    match &input.output {
        OutputTokens::PerAnswer(n) if *n == DEFAULT_OUTPUT_TOKENS => out.push(format!(
            "Output tokens: {n} per answer, the default (run's --answer-tokens cap, so an upper bound); \
             set --output-tokens N or --from-run DIR for measured lengths."
        )),
        OutputTokens::PerAnswer(n) => out.push(format!("Output tokens: {n} per answer (--output-tokens).")),
        OutputTokens::FromRun(run) => {
            out.push(format!("Output tokens: measured by the run in {}{}.", run.dir.display(), match &run.model {
                Some(m) => format!(" (model {m})"),
                None => String::new(),
            }));
            for (spec, rule) in input.strategies.iter().zip(rules) {
                out.push(format!("  {spec}: {}", rule.description));
            }
        }
    }
    if input
        .strategies
        .iter()
        .any(|s| s.batch_size() > 1 && !matches!(s, StrategySpec::NaiveMultiMessage(_)))
    {
        out.push(
            "Packed answers: where output lengths are per answer, each packed request adds the JSON around its answers \
             as run budgets it (tokens(id) + 6 per item, 2 per request). Re-asks of items missing from a packed answer \
             are not modelled (a run adds them)."
                .into(),
        );
    }
    out.push(format!(
        "Input tokens: counted client-side as run sends them (system instructions, user message, packed items and \
         their JSON schema), with {}.{}",
        input.counter.name(),
        if exactness.contains(&Exactness::Estimate) {
            " Anthropic and Gemini models: their tokenizers are not public, so their counts are estimates \
             (batchbench's stand-in rules; Gemini's countTokens gives exact counts, `--tokenizer server` on a run). \
             Gemini thinking models also bill their thoughts as output, which these output figures leave out."
        } else {
            ""
        }
    ));
    if input
        .strategies
        .iter()
        .any(|s| matches!(s, StrategySpec::Cached(_)))
    {
        for m in models {
            let line = caching_assumption(m, !instructions.is_empty());
            out.push(line);
        }
    }
    if input
        .strategies
        .iter()
        .any(|s| matches!(s, StrategySpec::BatchApi(_)))
    {
        out.push("Batch API: billed at the price data's batch rates.".into());
    }
    if input
        .strategies
        .iter()
        .any(|s| matches!(s, StrategySpec::Concurrent(_)))
    {
        out.push(
            "concurrent:C sends the same requests as sequential: the same cost, less wall time."
                .into(),
        );
    }
    let src = input.pricing.source();
    out.push(format!(
        "Prices: {}{}, as of {}; every request is priced on its own, as run prices it.",
        src.name,
        src.overrides
            .as_deref()
            .map(|o| format!(" with overrides from {o}"))
            .unwrap_or_default(),
        src.as_of
    ));
    out.push(format!(
        "Projection: {} prompts per day; a month is 30 days.",
        crate::report::markdown::fmt_int(input.per_day)
    ));
    out
}

fn progress_bar(show: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !show || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} estimate: {pos} prompts read ({per_sec})",
    ) {
        pb.set_style(style);
    }
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(pb)
}

impl EstimateArgs {
    /// Turns the options into an [`EstimateInput`] (reading the price, instructions and run files).
    pub fn to_input(&self) -> Result<EstimateInput> {
        let strategies = match &self.strategies {
            Some(list) => StrategySpec::parse_list(list)?,
            None => default_strategies(&crate::strategy::parse_sizes(&self.sizes)?),
        };
        let mut models = Vec::new();
        for m in self
            .model
            .iter()
            .map(|m| m.trim())
            .filter(|m| !m.is_empty())
        {
            let provider = self
                .provider
                .unwrap_or_else(|| ProviderKind::guess_from_model(m));
            models.push((m.to_string(), provider));
        }
        if models.is_empty() {
            return Err(Error::Usage("--model: no model given".into()));
        }
        let instructions = match &self.instructions_file {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                Error::Config(format!("{}: cannot read instructions: {e}", path.display()))
            })?),
            None => None,
        };
        let output = match (&self.from_run, self.output_tokens) {
            (Some(dir), _) => OutputTokens::FromRun(RunOutputs::load(dir)?),
            (None, Some(n)) => OutputTokens::PerAnswer(n),
            (None, None) => OutputTokens::PerAnswer(DEFAULT_OUTPUT_TOKENS),
        };
        if self.threads == Some(0) {
            return Err(Error::Usage("--threads must be at least 1".into()));
        }
        Ok(EstimateInput {
            dataset: self.dataset.clone(),
            instructions,
            models,
            strategies,
            output,
            pricing: Pricing::load(
                self.prices_data.as_deref(),
                self.prices.as_deref(),
                SystemTime::now(),
            )?,
            per_day: self.per_day,
            answer_tokens: self.answer_tokens,
            threads: self.threads.unwrap_or_else(default_threads),
            counter: self.counter,
            progress: !self.quiet,
        })
    }
}

/// Renders a report in a format.
pub fn render(report: &EstimateReport, format: Format) -> Result<String> {
    match format {
        Format::Table => Ok(render::text(report, false)),
        Format::Md => Ok(render::text(report, true)),
        Format::Json => serde_json::to_string_pretty(report)
            .map(|s| s + "\n")
            .map_err(|e| Error::Output(format!("cannot write the estimate as JSON: {e}"))),
    }
}

/// `batchbench estimate`: prints the estimate to stdout (progress on stderr); exit code 0.
pub fn run(args: &EstimateArgs) -> crate::Result<i32> {
    if args.task == crate::cli::Task::Embed {
        return crate::embed::estimate::run(args);
    }
    let input = args.to_input()?;
    let report = estimate(&input)?;
    let text = render(&report, args.format)?;
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is not an error worth reporting.
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    Ok(crate::error::EXIT_OK)
}
