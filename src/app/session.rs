//! A started run: the endpoint and key (or the built-in mock), the runner over the provider
//! traits, the tokenizer, and the run's metadata.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::bench::{self, BenchContext, StrategyRun};
use crate::error::{Error, Result};
use crate::mock::{MockConfig, MockServer, Oracle};
use crate::pricing::model_limits;
use crate::provider::{Client, Endpoint, ProviderKind, Timeouts};
use crate::report::summary::RunStatus;
use crate::report::{self, RunInfo};
use crate::runner::batch::PollConfig;
use crate::runner::progress::Progress;
use crate::runner::{RetryPolicy, Runner};
use crate::secret::Secret;
use crate::strategy::{PlanContext, StrategySpec};
use crate::tokens::Tokenizer;

use super::plan::{
    DEFAULT_ANSWER_TOKENS, DEFAULT_CACHE_TTL_SECS, DEFAULT_TIME_SCALE, RunPlan, usage,
};

fn api_key(kind: ProviderKind, file: Option<&Path>) -> Result<Secret> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!(
                "{}: cannot read the API key file: {e}",
                path.display()
            ))
        })?;
        let key = Secret::new(text);
        if key.is_empty() {
            return Err(Error::Config(format!(
                "{}: the API key file is empty",
                path.display()
            )));
        }
        return Ok(key);
    }
    let names = std::iter::once(kind.key_env()).chain(kind.key_env_fallbacks().iter().copied());
    let key = names
        .map(|name| Secret::new(std::env::var(name).unwrap_or_default()))
        .find(|k| !k.is_empty());
    key.ok_or_else(|| {
        let also = kind
            .key_env_fallbacks()
            .iter()
            .map(|n| format!(" (or {n})"))
            .collect::<String>();
        usage(format!(
            "{}{also} is not set: export it, give --api-key-file PATH, or add --mock to use the built-in mock",
            kind.key_env()
        ))
    })
}

/// A started run: the endpoint (the mock, when used), the runner and the run's metadata.
pub struct Session {
    /// The in-process mock, when used.
    pub mock: Option<MockServer>,
    /// The request executor.
    pub runner: Runner,
    /// Run metadata, filled as the run goes.
    pub info: RunInfo,
    pub(crate) tokenizer: Tokenizer,
    limits: crate::pricing::ModelLimits,
    pub(crate) poll: PollConfig,
    pub(crate) progress: Progress,
    answer_tokens: u32,
    journal: Option<crate::runner::journal::Journal>,
    use_mock: bool,
}

impl Session {
    /// Starts the mock if the plan uses it, builds the client, and prints the run's header line.
    pub async fn start(plan: &RunPlan) -> Result<Session> {
        Session::start_with(plan, None).await
    }

    /// [`Session::start`] with a resume journal.
    pub async fn start_with(
        plan: &RunPlan,
        journal: Option<crate::runner::journal::Journal>,
    ) -> Result<Session> {
        let time_scale = plan.args.time_scale.unwrap_or(DEFAULT_TIME_SCALE);
        let (mock, base_url, key) = endpoint(plan, time_scale).await?;
        let endpoint_label = if plan.use_mock {
            "mock".to_string()
        } else {
            base_url.clone()
        };
        let client = Client::with_pool(
            Endpoint {
                kind: plan.provider,
                base_url,
                key,
                timeouts: Timeouts::default(),
            },
            pool_size(&plan.strategies),
        )
        .map_err(|e| Error::Provider(e.to_string()))?
        .with_api(plan.args.api.unwrap_or_default());
        let retry = RetryPolicy {
            max_retries: plan.args.max_retries.unwrap_or(4),
            ..RetryPolicy::default()
        };
        let (tokenizer, tokenizer_warning) = crate::tokens::server::for_run(
            &plan.model,
            client.endpoint(),
            plan.use_mock,
            plan.args.tokenizer == Some(crate::cli::TokenizerSource::Server),
        )
        .await;
        let runner = Runner::new(client, retry, Instant::now(), plan.seed)
            .with_flex_fallback(plan.args.flex_fallback == Some(crate::cli::FlexFallback::Default));
        let limits = model_limits(
            &plan.model,
            plan.pricing.context_window(plan.provider, &plan.model),
        );
        let mut info = run_info(plan, &endpoint_label, &tokenizer, retry.max_retries);
        info.mock_time_scale = plan.use_mock.then_some(time_scale);
        info.warnings.extend(tokenizer_warning);
        print_header(plan, &info, time_scale);
        Ok(Session {
            mock,
            runner,
            info,
            tokenizer,
            limits,
            poll: poll_config(plan),
            progress: Progress::new(plan.args.quiet),
            answer_tokens: plan.args.answer_tokens.unwrap_or(DEFAULT_ANSWER_TOKENS),
            journal,
            use_mock: plan.use_mock,
        })
    }

    /// Runs one strategy and records its warnings in the run's metadata.
    pub async fn run_strategy(
        &mut self,
        plan: &RunPlan,
        spec: StrategySpec,
        skip: Option<&str>,
    ) -> Result<StrategyRun> {
        let ctx = BenchContext {
            plan: PlanContext {
                set: &plan.set,
                provider: plan.provider,
                model: &plan.model,
                tokenizer: self.tokenizer,
                limits: self.limits,
                answer_tokens: self.answer_tokens,
                stream: plan.args.stream,
                temperature: crate::sampling::choose(plan.args.temperature, &plan.model).0,
                json_schema: !plan.args.no_json_schema,
                reasoning_effort: plan.args.reasoning_effort.as_deref(),
            },
            runner: &self.runner,
            pricing: &plan.pricing,
            poll: self.poll,
            progress: self.progress,
            shard: plan.shard,
            journal: self.journal.as_ref(),
            resume_batches: !self.use_mock,
            skip,
            cache_ttl: Duration::from_secs(plan.args.cache_ttl.unwrap_or(DEFAULT_CACHE_TTL_SECS)),
        };
        if let Some(mock) = &self.mock {
            mock.clear_caches();
        }
        let t = Instant::now();
        let run = bench::run_strategy(spec.build().as_ref(), &ctx).await?;
        for w in &run.warnings {
            eprintln!("warning: {w}");
            self.info.warnings.push(w.clone());
        }
        let answered = run.prompts.iter().filter(|p| p.answered()).count();
        // The demonstration loses answers by design: that is its result, not a failure to report.
        let (status, failure) = run.status_as_reported();
        let flag = match status {
            RunStatus::Complete => "",
            RunStatus::Partial => "  (partial)",
            RunStatus::Failed => "  FAILED",
        };
        eprintln!(
            "  {:<24} {answered}/{} answered in {:.1} s{flag}",
            run.strategy,
            run.prompts.len(),
            t.elapsed().as_secs_f64()
        );
        if let Some(reason) = failure {
            eprintln!("    error: {reason}");
            for step in crate::advice::next_steps(&reason, plan.provider, &plan.run_id) {
                eprintln!("    next: {step}");
            }
        }
        Ok(run)
    }

    /// Notes in the journal that a strategy's rows are all written.
    pub fn strategy_done(&self, strategy: &str) -> Result<()> {
        match &self.journal {
            Some(j) => j.append(crate::runner::journal::Event::StrategyDone {
                strategy: strategy.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Whether the journal says a strategy already finished.
    pub fn is_done(&self, strategy: &str) -> bool {
        self.journal.as_ref().is_some_and(|j| j.is_done(strategy))
    }

    /// Stops the mock, if one runs.
    pub async fn finish(self) {
        if let Some(server) = self.mock {
            server.shutdown().await;
        }
    }
}

/// The server a run talks to: the built-in mock (started here) with its fixed key, or the base
/// URL from `--base-url`, the provider's environment variable or its default, with the key.
async fn endpoint(plan: &RunPlan, time_scale: f64) -> Result<(Option<MockServer>, String, Secret)> {
    if plan.use_mock {
        let mut config = match &plan.args.mock_config {
            Some(p) => MockConfig::load(p)?,
            None => MockConfig::default(),
        };
        config.seed = plan.seed;
        config.time_scale = time_scale;
        let server = MockServer::start(
            config,
            Oracle::from_prompt_set(&plan.set),
            ([127, 0, 0, 1], 0).into(),
        )
        .await?;
        let url = match plan.provider {
            ProviderKind::Openai => server.openai_base_url(),
            ProviderKind::Anthropic => server.anthropic_base_url(),
            ProviderKind::Gemini => server.gemini_base_url(),
        };
        return Ok((Some(server), url, Secret::new("batchbench-mock-key")));
    }
    let url = plan
        .args
        .base_url
        .clone()
        .or_else(|| {
            std::env::var(plan.provider.base_url_env())
                .ok()
                .filter(|u| !u.trim().is_empty())
        })
        .unwrap_or_else(|| plan.provider.default_base_url().to_string());
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(usage(format!(
            "base URL {url:?} must start with http:// or https://"
        )));
    }
    let key = api_key(plan.provider, plan.args.api_key_file.as_deref())?;
    Ok((None, url, key))
}

/// How often Batch API jobs are polled: quickly on the mock, patiently on a real server.
/// Idle connections the client keeps: the default, or more when a strategy has more requests
/// in flight, so every request of `concurrent:C` reuses a connection after the first round.
fn pool_size(strategies: &[StrategySpec]) -> usize {
    strategies
        .iter()
        .filter_map(|s| match s.build().execution() {
            crate::strategy::Execution::Sync { concurrency } => Some(concurrency),
            crate::strategy::Execution::BatchApi => None,
        })
        .fold(Client::DEFAULT_IDLE_CONNECTIONS, usize::max)
}

fn poll_config(plan: &RunPlan) -> PollConfig {
    if plan.use_mock {
        PollConfig {
            initial: Duration::from_millis(20),
            max: Duration::from_secs_f64(plan.args.poll_max.unwrap_or(0.5)),
            ..PollConfig::default()
        }
    } else {
        PollConfig {
            max: Duration::from_secs_f64(plan.args.poll_max.unwrap_or(30.0)),
            ..PollConfig::default()
        }
    }
}

/// The run's metadata (`run.json`) as far as it is known before the first request.
fn run_info(plan: &RunPlan, endpoint: &str, tokenizer: &Tokenizer, max_retries: u32) -> RunInfo {
    let source = plan.pricing.source().clone();
    let (temperature, temperature_source) =
        crate::sampling::choose(plan.args.temperature, &plan.model);
    RunInfo {
        schema_version: report::run_info::SCHEMA_VERSION,
        run_id: plan.run_id.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: source.as_of.clone(),
        seed: plan.seed,
        provider: plan.provider.as_str().to_string(),
        model: plan.model.clone(),
        endpoint: endpoint.to_string(),
        simulated: plan.use_mock,
        mock_time_scale: None,
        dataset: plan.set.name.clone(),
        dataset_path: plan.set.path.display().to_string(),
        dataset_sha256: plan.set.sha256.clone(),
        prompts: plan.set.prompts.len(),
        shard: plan.shard.map(|(i, n)| format!("{}/{n}", i + 1)),
        strategies: plan.strategies.iter().map(ToString::to_string).collect(),
        answer_tokens: plan.args.answer_tokens.unwrap_or(DEFAULT_ANSWER_TOKENS),
        price_source: source.name.clone(),
        price_data_sha256: source.data_sha256.clone(),
        price_overrides: source.overrides.clone(),
        tokenizer: tokenizer.label(),
        options: report::run_info::RunOptions {
            stream: plan.args.stream,
            temperature,
            json_schema: !plan.args.no_json_schema,
            max_retries,
            temperature_source: Some(temperature_source.to_string()),
            price_per_hour_usd: plan.args.price_per_hour,
            api: (plan.args.api == Some(crate::provider::WireApi::Responses))
                .then(|| "responses".to_string()),
            reasoning_effort: plan.args.reasoning_effort.clone(),
        },
        warnings: Vec::new(),
        economics: report::economics::RunEconomics::for_run(
            &plan.set.instructions,
            plan.provider,
            tokenizer,
            plan.pricing.rates(plan.provider, &plan.model, false).ok(),
            plan.pricing.cache_storage_rate(&plan.model),
        ),
        task: None,
        vector_tolerance: None,
        dimensions: None,
    }
}

/// The warnings so far and the one header line on stderr: what runs, against what, with which
/// seed and prices.
fn print_header(plan: &RunPlan, info: &RunInfo, time_scale: f64) {
    for w in &info.warnings {
        eprintln!("warning: {w}");
    }
    let via = if plan.use_mock {
        format!("built-in mock (simulated quality, time scale {time_scale})")
    } else {
        info.endpoint.clone()
    };
    eprintln!(
        "batchbench {}: {} prompts from {} | {} {} via {} | seed {} | prices: {} at {}",
        info.tool_version,
        plan.set.prompts.len(),
        plan.set.path.display(),
        plan.provider.as_str(),
        plan.model,
        via,
        plan.seed,
        info.price_source,
        info.started_at
    );
}
