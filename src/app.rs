//! The commands: each takes parsed options, does the work through the library, and returns an
//! exit code or a typed error. `main.rs` only maps errors to one line and an exit code.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::bench::{self, BenchContext, StrategyRun};
use crate::cli::{
    CompareArgs, Format, GenArgs, MergeArgs, MockArgs, PricesArgs, RunArgs, SweepArgs,
};
use crate::config::BenchConfig;
use crate::dataset::{self, PromptSet};
use crate::error::{EXIT_FAILURES, EXIT_OK, Error, Result};
use crate::mock::{MockConfig, MockServer, Oracle};
use crate::pricing::{Overrides, Pricing, model_limits};
use crate::provider::{Client, Endpoint, ProviderKind, Timeouts};
use crate::report::summary::RunStatus;
use crate::report::{self, RunInfo, RunReport};
use crate::runner::batch::PollConfig;
use crate::runner::progress::Progress;
use crate::runner::{RetryPolicy, Runner};
use crate::secret::Secret;
use crate::strategy::{PlanContext, StrategySpec};
use crate::tokens::Tokenizer;

/// The shipped default dataset, relative to the working directory.
pub const DEFAULT_DATASET: &str = "datasets/default.jsonl";
/// Output tokens allowed per answer by default.
pub const DEFAULT_ANSWER_TOKENS: u32 = 64;
/// The mock's latency scale for `run` unless told otherwise: fast enough for CI, same ratios.
pub const DEFAULT_TIME_SCALE: f64 = 0.02;
/// The default seed.
pub const DEFAULT_SEED: u64 = 42;

/// Everything `run` resolved from flags, config and environment.
#[derive(Debug)]
pub struct RunPlan {
    /// Options after merging flags and config.
    pub args: RunArgs,
    /// The prompt set.
    pub set: PromptSet,
    /// API family.
    pub provider: ProviderKind,
    /// Model.
    pub model: String,
    /// Strategies in run order.
    pub strategies: Vec<StrategySpec>,
    /// Seed.
    pub seed: u64,
    /// Whether the built-in mock serves the run.
    pub use_mock: bool,
    /// Output folder.
    pub out: PathBuf,
    /// Run id.
    pub run_id: String,
    /// Prices.
    pub pricing: Pricing,
    /// Where the config came from.
    pub config_path: Option<PathBuf>,
    /// `Some((i, n))` for `--shard I/N` (i 0-based).
    pub shard: Option<(usize, usize)>,
    /// `--task embed`: the embedding strategies in run order (`strategies` is then empty).
    pub embed_strategies: Vec<crate::embed::strategy::EmbedStrategy>,
}

/// The variables `--shard auto/N` reads its 0-based index from, in order: Kubernetes Indexed
/// Jobs set the first; a CI matrix sets the second (e.g. `BATCHBENCH_SHARD_INDEX: ${{ matrix.shard }}`).
pub const SHARD_INDEX_VARS: [&str; 2] = ["JOB_COMPLETION_INDEX", "BATCHBENCH_SHARD_INDEX"];

/// Parses `I/N` (1-based I), or `auto/N` with the index from the environment.
pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    parse_shard_with(s, |v| std::env::var(v).ok())
}

/// [`parse_shard`] with the environment given as a lookup, for tests.
pub fn parse_shard_with(s: &str, env: impl Fn(&str) -> Option<String>) -> Result<(usize, usize)> {
    let bad = || {
        usage(format!(
            "--shard {s:?}: expected I/N with 1 <= I <= N, e.g. 2/3, or auto/N"
        ))
    };
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let i: usize = if i.trim() == "auto" {
        let (var, value) = SHARD_INDEX_VARS
            .iter()
            .find_map(|v| env(v).filter(|x| !x.trim().is_empty()).map(|x| (*v, x)))
            .ok_or_else(|| {
                usage(format!(
                    "--shard {s:?}: set {} (0-based shard index)",
                    SHARD_INDEX_VARS.join(" or ")
                ))
            })?;
        let zero_based: usize = value
            .trim()
            .parse()
            .map_err(|_| usage(format!("{var}={value:?} is not a shard index")))?;
        zero_based.checked_add(1).ok_or_else(bad)?
    } else {
        i.trim().parse().map_err(|_| bad())?
    };
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || i == 0 || i > n || n > 10_000 {
        return Err(bad());
    }
    Ok((i - 1, n))
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

/// Resolves and validates everything before a single request is sent.
pub fn resolve_run(args: &RunArgs) -> Result<RunPlan> {
    resolve_run_at(args, None)
}

/// [`resolve_run`], keeping the run id and start time of an interrupted run being resumed (prices
/// stay pinned to the original start).
pub fn resolve_run_at(args: &RunArgs, fixed: Option<(String, SystemTime)>) -> Result<RunPlan> {
    let (config, config_path) = BenchConfig::for_run(args)?;
    let inline_prices = Overrides {
        models: config.models.clone(),
    };
    let instructions = match (&config.instructions, &config.instructions_file) {
        (Some(text), _) => Some(text.clone()),
        (None, Some(path)) => Some(std::fs::read_to_string(path).map_err(|e| {
            Error::Input(format!("{}: cannot read instructions: {e}", path.display()))
        })?),
        (None, None) => None,
    };
    let args = config.merge(args);
    let provider = args.provider.unwrap_or(ProviderKind::Openai);
    let use_mock = args.provider.is_none() || args.mock;
    if use_mock && args.base_url.is_some() {
        return Err(usage(
            "--base-url and the built-in mock exclude each other: drop --mock, or give --provider with --base-url",
        ));
    }
    let embed = args.task == Some(crate::cli::Task::Embed);
    let model = args.model.clone().unwrap_or_else(|| {
        if embed {
            crate::embed::DEFAULT_MODEL.to_string()
        } else {
            provider.default_model().to_string()
        }
    });
    if model.trim().is_empty() {
        return Err(usage("--model is empty"));
    }
    let (strategies, embed_strategies) = if embed {
        crate::embed::check_args(&args, provider)?;
        let list = match &args.strategies {
            Some(list) => crate::embed::strategy::EmbedStrategy::parse_list(list).map_err(usage)?,
            None => crate::embed::strategy::defaults(),
        };
        (Vec::new(), list)
    } else {
        let list = match &args.strategies {
            Some(list) => StrategySpec::parse_list(list)?,
            None => StrategySpec::defaults(),
        };
        (list, Vec::new())
    };
    if let Some(0) = args.limit {
        return Err(usage("--limit must be at least 1"));
    }
    match args.answer_tokens {
        Some(0) => return Err(usage("--answer-tokens must be at least 1")),
        Some(n) if n > 1_000_000 => {
            return Err(usage(
                "--answer-tokens is larger than any model's output limit",
            ));
        }
        _ => {}
    }
    if let Some(t) = args.time_scale {
        if !t.is_finite() || !(0.0..=1000.0).contains(&t) {
            return Err(usage("--time-scale must be between 0 and 1000"));
        }
    }
    if let Some(t) = args.temperature {
        if !t.is_finite() || !(0.0..=2.0).contains(&t) {
            return Err(usage("--temperature must be between 0 and 2"));
        }
    }
    if let Some(p) = args.poll_max {
        if !p.is_finite() || p <= 0.0 || p > 3600.0 {
            return Err(usage("--poll-max must be between 0 and 3600 seconds"));
        }
    }
    if args.max_retries.is_some_and(|r| r > 100) {
        return Err(usage("--max-retries must be at most 100"));
    }
    let dataset_path = args
        .dataset
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATASET));
    // Outside the batchbench folder the default dataset is the copy built into the binary
    // (the same bytes, so the same sha256 in run.json).
    let mut set = if embed {
        crate::embed::dataset::load(args.dataset.as_deref())?
    } else if args.dataset.is_none() && !dataset_path.exists() {
        dataset::parse(
            &dataset_path,
            dataset::EMBEDDED_DEFAULT,
            instructions.as_deref(),
        )?
    } else {
        dataset::load(&dataset_path, instructions.as_deref())?
    };
    if let Some(limit) = args.limit {
        set = set.filtered(|i, _| i < limit);
    }
    let started = fixed.as_ref().map_or_else(SystemTime::now, |f| f.1);
    let mut pricing = Pricing::load(args.prices_data.as_deref(), args.prices.as_deref(), started)?;
    if !inline_prices.models.is_empty() {
        let origin = config_path
            .as_ref()
            .map_or("bench.toml".to_string(), |p| p.display().to_string());
        pricing = pricing.with_overrides(inline_prices, &origin);
    }
    pricing.check_model(provider, &model)?;
    let seed = args.seed.unwrap_or(DEFAULT_SEED);
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let mut run_id = make_run_id(started, seed);
    if let Some((i, n)) = shard {
        run_id = format!("{run_id}-shard{}of{n}", i + 1);
    }
    if let Some((id, _)) = fixed {
        run_id = id;
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(&run_id));
    Ok(RunPlan {
        args,
        set,
        provider,
        model,
        strategies,
        seed,
        use_mock,
        out,
        run_id,
        pricing,
        config_path,
        shard,
        embed_strategies,
    })
}

fn make_run_id(t: SystemTime, seed: u64) -> String {
    let dt = chrono::DateTime::<chrono::Utc>::from(t);
    format!("{}-s{seed}", dt.format("%Y%m%d-%H%M%S"))
}

fn api_key(kind: ProviderKind, file: Option<&Path>) -> Result<Secret> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Input(format!(
                "{}: cannot read the API key file: {e}",
                path.display()
            ))
        })?;
        let key = Secret::new(text);
        if key.is_empty() {
            return Err(Error::Input(format!(
                "{}: the API key file is empty",
                path.display()
            )));
        }
        return Ok(key);
    }
    let key = Secret::new(std::env::var(kind.key_env()).unwrap_or_default());
    if key.is_empty() {
        return Err(usage(format!(
            "{} is not set: export it, give --api-key-file PATH, or add --mock to use the built-in mock",
            kind.key_env()
        )));
    }
    Ok(key)
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
        let progress = Progress::new(plan.args.quiet);
        let time_scale = plan.args.time_scale.unwrap_or(DEFAULT_TIME_SCALE);
        let mut mock = None;
        let (base_url, key) = if plan.use_mock {
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
            };
            mock = Some(server);
            (url, Secret::new("batchbench-mock-key"))
        } else {
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
            (
                url,
                api_key(plan.provider, plan.args.api_key_file.as_deref())?,
            )
        };
        let endpoint_label = if plan.use_mock {
            "mock".to_string()
        } else {
            base_url.clone()
        };
        let client = Client::new(Endpoint {
            kind: plan.provider,
            base_url,
            key,
            timeouts: Timeouts::default(),
        })
        .map_err(|e| Error::Provider(e.to_string()))?;
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
        let runner = Runner::new(client, retry, Instant::now(), plan.seed);
        let limits = model_limits(
            &plan.model,
            plan.pricing.context_window(plan.provider, &plan.model),
        );
        let poll = if plan.use_mock {
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
        };
        let answer_tokens = plan.args.answer_tokens.unwrap_or(DEFAULT_ANSWER_TOKENS);
        let source = plan.pricing.source().clone();
        let info = RunInfo {
            schema_version: report::run_info::SCHEMA_VERSION,
            run_id: plan.run_id.clone(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: source.as_of.clone(),
            seed: plan.seed,
            provider: plan.provider.as_str().to_string(),
            model: plan.model.clone(),
            endpoint: endpoint_label.clone(),
            simulated: plan.use_mock,
            mock_time_scale: plan.use_mock.then_some(time_scale),
            dataset: plan.set.name.clone(),
            dataset_path: plan.set.path.display().to_string(),
            dataset_sha256: plan.set.sha256.clone(),
            prompts: plan.set.prompts.len(),
            shard: plan.shard.map(|(i, n)| format!("{}/{n}", i + 1)),
            strategies: plan.strategies.iter().map(ToString::to_string).collect(),
            answer_tokens,
            price_source: source.name.clone(),
            price_data_sha256: source.data_sha256.clone(),
            price_overrides: source.overrides.clone(),
            tokenizer: tokenizer.label(),
            options: report::run_info::RunOptions {
                stream: plan.args.stream,
                temperature: crate::sampling::choose(plan.args.temperature, &plan.model).0,
                json_schema: !plan.args.no_json_schema,
                max_retries: retry.max_retries,
                temperature_source: Some(
                    crate::sampling::choose(plan.args.temperature, &plan.model)
                        .1
                        .to_string(),
                ),
                price_per_hour_usd: plan.args.price_per_hour,
            },
            warnings: tokenizer_warning.into_iter().collect(),
            economics: report::economics::RunEconomics::for_run(
                &plan.set.instructions,
                plan.provider,
                &tokenizer,
                plan.pricing.rates(plan.provider, &plan.model, false).ok(),
            ),
            task: None,
            vector_tolerance: None,
            dimensions: None,
        };
        for w in &info.warnings {
            eprintln!("warning: {w}");
        }
        eprintln!(
            "batchbench {}: {} prompts from {} | {} {} via {} | seed {} | prices: {} at {}",
            env!("CARGO_PKG_VERSION"),
            plan.set.prompts.len(),
            plan.set.path.display(),
            plan.provider.as_str(),
            plan.model,
            if plan.use_mock {
                format!("built-in mock (simulated quality, time scale {time_scale})")
            } else {
                endpoint_label
            },
            plan.seed,
            source.name,
            source.as_of
        );
        Ok(Session {
            mock,
            runner,
            info,
            tokenizer,
            limits,
            poll,
            progress,
            answer_tokens,
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
            },
            runner: &self.runner,
            pricing: &plan.pricing,
            poll: self.poll,
            progress: self.progress,
            shard: plan.shard,
            journal: self.journal.as_ref(),
            resume_batches: !self.use_mock,
            skip,
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
            Some(j) => j.append(&crate::runner::journal::Event::StrategyDone {
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

/// What `run` saves to resume an interrupted run with the same options.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ResumeState {
    run_id: String,
    started_at: String,
    args: RunArgs,
}

const RESUME_FILE: &str = "resume.json";

fn resume_dir(id: &str) -> PathBuf {
    let p = PathBuf::from(id);
    if p.join(RESUME_FILE).is_file() {
        p
    } else {
        PathBuf::from("reports").join(id)
    }
}

/// Rebuilds a finished strategy's records from the run folder's CSV files.
fn load_done(out: &Path, strategy: &str) -> Result<StrategyRun> {
    let prompts: Vec<crate::record::PromptRecord> =
        report::csv::read_rows(&out.join("prompts.csv"))?;
    let requests: Vec<crate::record::RequestRecord> =
        report::csv::read_rows(&out.join("requests.csv"))?;
    let spec: StrategySpec = strategy.parse()?;
    Ok(StrategyRun {
        strategy: strategy.to_string(),
        batch_size: spec.batch_size(),
        demonstration: spec.build().is_demonstration(),
        prompts: prompts
            .into_iter()
            .filter(|p| p.strategy == strategy)
            .collect(),
        requests: requests
            .into_iter()
            .filter(|r| r.strategy == strategy)
            .collect(),
        warnings: Vec::new(),
    })
}

/// Runs every strategy of the plan in order, rewriting the run folder after each one (so a crash
/// loses nothing finished) and skipping strategies a resumed journal marks done. A strategy that
/// fails is recorded failed with its reason and the others still run (unless `--fail-fast`);
/// once the Batch API is found missing, later Batch API strategies are recorded failed unsent.
/// On an error that stops the run, the rows so far are still written before it is returned.
async fn run_all(mut session: Session, plan: &RunPlan) -> Result<(Vec<StrategyRun>, RunReport)> {
    let mut runs: Vec<StrategyRun> = Vec::new();
    let mut outcome = Ok(());
    let mut failed: Vec<String> = Vec::new();
    let mut no_batch_api: Option<String> = None;
    // Read every finished strategy before the folder is rewritten: one that ran after a failed
    // one is in the files now, but would not be after the next rewrite.
    let mut finished: std::collections::HashMap<String, StrategyRun> = plan
        .strategies
        .iter()
        .map(ToString::to_string)
        .filter(|label| session.is_done(label))
        .map(|label| load_done(&plan.out, &label).map(|run| (label, run)))
        .collect::<Result<_>>()?;
    for spec in &plan.strategies {
        let label = spec.to_string();
        if let Some(run) = finished.remove(&label) {
            runs.push(run);
            eprintln!("  {label:<24} already finished (from the run folder)");
            continue;
        }
        let skip = no_batch_api.as_deref().filter(|_| spec.uses_batch_api());
        match session.run_strategy(plan, *spec, skip).await {
            Ok(run) => {
                let (status, failure) = run.status_as_reported();
                let stop = plan.args.fail_fast && status != RunStatus::Complete;
                if let Some(reason) = failure.filter(|r| crate::advice::no_batch_api(r)) {
                    no_batch_api = Some(reason);
                }
                runs.push(run);
                write_report(&plan.out, &session.info, &runs, &plan.set, false)?;
                if status == RunStatus::Failed {
                    failed.push(label);
                } else {
                    session.strategy_done(&label)?;
                }
                if stop {
                    outcome = Err(Error::Provider(format!(
                        "--fail-fast: {spec} did not complete"
                    )));
                    break;
                }
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    if !failed.is_empty() && outcome.is_ok() {
        let others = if failed.len() < plan.strategies.len() {
            "; the others ran"
        } else {
            ""
        };
        eprintln!(
            "{} of {} strategies failed ({}){others}. Fix the cause and run \
             `batchbench run --resume {}` to finish them.",
            failed.len(),
            plan.strategies.len(),
            failed.join(", "),
            plan.run_id
        );
    }
    if outcome.is_ok() && plan.args.repeat_baseline {
        outcome = repeat_baseline(&mut session, plan, &mut runs).await;
    }
    let info = session.info.clone();
    session.finish().await;
    let report = write_report(&plan.out, &info, &runs, &plan.set, true)?;
    outcome.map_err(|e| match e {
        Error::Fatal(m) | Error::Provider(m) => Error::Fatal(format!(
            "{m}; once the cause is fixed, `batchbench run --resume {}` runs what did not finish",
            plan.run_id
        )),
        other => other,
    })?;
    Ok((runs, report))
}

/// `--repeat-baseline`: sends `sequential` once more and records it as
/// [`report::summary::REPEAT`], so that its agreement with the first is the noise floor.
async fn repeat_baseline(
    session: &mut Session,
    plan: &RunPlan,
    runs: &mut Vec<StrategyRun>,
) -> Result<()> {
    let label = report::summary::REPEAT;
    if !plan.strategies.contains(&StrategySpec::Sequential) {
        return Ok(());
    }
    if session.is_done(label) {
        runs.push(load_done(&plan.out, label)?);
        return Ok(());
    }
    let mut run = session
        .run_strategy(plan, StrategySpec::Sequential, None)
        .await?;
    run.strategy = label.to_string();
    run.prompts
        .iter_mut()
        .for_each(|p| p.strategy = label.to_string());
    run.requests
        .iter_mut()
        .for_each(|r| r.strategy = label.to_string());
    runs.push(run);
    write_report(&plan.out, &session.info, runs, &plan.set, false)?;
    session.strategy_done(label)
}

/// `batchbench run`.
pub async fn run(args: &RunArgs) -> Result<i32> {
    let (plan, journal) = match &args.resume {
        Some(id) => {
            let dir = resume_dir(id);
            let state_path = dir.join(RESUME_FILE);
            let text = std::fs::read_to_string(&state_path).map_err(|e| {
                Error::Input(format!(
                    "{}: cannot resume run {id:?}: {e}",
                    state_path.display()
                ))
            })?;
            let state: ResumeState = serde_json::from_str(&text).map_err(|e| {
                Error::Input(format!(
                    "{}: not a batchbench resume file: {e}",
                    state_path.display()
                ))
            })?;
            let started = chrono::DateTime::parse_from_rfc3339(&state.started_at).map_err(|e| {
                Error::Input(format!("{}: bad started_at: {e}", state_path.display()))
            })?;
            let mut saved = state.args;
            saved.out = Some(dir.clone());
            saved.quiet |= args.quiet;
            let plan = resolve_run_at(&saved, Some((state.run_id, SystemTime::from(started))))?;
            let journal = crate::runner::journal::Journal::resume(&dir)?;
            eprintln!("resuming run {} in {}", plan.run_id, dir.display());
            (plan, journal)
        }
        None => {
            let plan = resolve_run(args)?;
            std::fs::create_dir_all(&plan.out).map_err(|e| Error::write(&plan.out, e))?;
            let mut saved = plan.args.clone();
            saved.out = Some(plan.out.clone());
            let state = ResumeState {
                run_id: plan.run_id.clone(),
                started_at: plan.pricing.source().as_of.clone(),
                args: saved,
            };
            let bytes =
                serde_json::to_vec_pretty(&state).map_err(|e| Error::Output(e.to_string()))?;
            report::write_atomic(&plan.out.join(RESUME_FILE), &bytes)?;
            let journal = crate::runner::journal::Journal::create(&plan.out)?;
            (plan, journal)
        }
    };
    let journal = (plan.embed_strategies.is_empty()).then_some(journal);
    let session = Session::start_with(&plan, journal).await?;
    std::fs::create_dir_all(&plan.out).map_err(|e| Error::write(&plan.out, e))?;
    let report = if plan.embed_strategies.is_empty() {
        run_all(session, &plan).await?.1
    } else {
        crate::embed::run_all(session, &plan).await?
    };
    print_summary(&report, plan.args.format.unwrap_or(Format::Table))?;
    eprintln!("wrote {}", plan.out.display());
    record_history(&plan.args, &plan.out)?;
    let failed = report
        .summaries
        .iter()
        .filter(|s| !s.demonstration)
        .any(|s| s.failed > 0);
    Ok(if failed { EXIT_FAILURES } else { EXIT_OK })
}

/// Appends a finished run folder to `--history`, when given.
fn record_history(args: &RunArgs, out: &Path) -> Result<()> {
    if let Some(h) = &args.history {
        crate::history::record(h, out, args.commit.as_deref(), args.branch.as_deref())?;
    }
    Ok(())
}

/// Writes a run's files from its strategies' records; `full`: every exporter (charts, HTML,
/// Markdown), else only the row files and `run.json`.
pub fn write_report(
    out: &Path,
    info: &RunInfo,
    runs: &[StrategyRun],
    set: &PromptSet,
    full: bool,
) -> Result<RunReport> {
    let mut prompts: Vec<_> = runs
        .iter()
        .flat_map(|r| r.prompts.iter().cloned())
        .collect();
    crate::grade::mark_agreement(&mut prompts, Some(set));
    let requests = runs
        .iter()
        .flat_map(|r| r.requests.iter().cloned())
        .collect();
    write_rows(out, info.clone(), prompts, requests, full)
}

/// Builds the report from rows and writes the exporters' files into `out` (`full`: all of them,
/// else the row files and `run.json`).
pub fn write_rows(
    out: &Path,
    info: RunInfo,
    prompts: Vec<crate::record::PromptRecord>,
    requests: Vec<crate::record::RequestRecord>,
    full: bool,
) -> Result<RunReport> {
    let report = RunReport::new(info, prompts, requests);
    let exporters = if full {
        report::standard_exporters()
    } else {
        report::row_exporters()
    };
    let refs: Vec<&dyn report::Exporter> = exporters.iter().map(|e| e.as_ref()).collect();
    report::write_all(out, &report, &refs)?;
    Ok(report)
}

/// Prints the per-strategy summary on stdout in the chosen format.
pub fn print_summary(report: &RunReport, format: Format) -> Result<()> {
    let text = match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&report.summaries)
                .map_err(|e| Error::Output(e.to_string()))?;
            s.push('\n');
            s
        }
        Format::Table => crate::report::table::render(report, false),
        Format::Md => crate::report::table::render(report, true),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    Ok(())
}

/// `batchbench prices`.
pub fn prices(args: &PricesArgs) -> Result<i32> {
    let pricing = Pricing::load(
        args.prices_data.as_deref(),
        args.prices.as_deref(),
        SystemTime::now(),
    )?;
    let provider = args.provider.unwrap_or_else(|| match &args.model {
        Some(m) if m.to_ascii_lowercase().contains("claude") => ProviderKind::Anthropic,
        _ => ProviderKind::Openai,
    });
    let models = match &args.model {
        Some(m) => {
            pricing.check_model(provider, m)?;
            vec![m.clone()]
        }
        None => pricing.models(provider),
    };
    let source = pricing.source();
    let mut rows = Vec::new();
    for m in &models {
        let (Ok(std), Ok(batch)) = (
            pricing.rates(provider, m, false),
            pricing.rates(provider, m, true),
        ) else {
            continue;
        };
        rows.push((m.clone(), pricing.matched_model(provider, m), std, batch));
    }
    if args.json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(m, matched, s, b)| serde_json::json!({"model": m, "matched": matched, "standard": s, "batch": b}))
            .collect();
        let doc = serde_json::json!({"provider": provider.as_str(), "source": source, "models": v});
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).map_err(|e| Error::Output(e.to_string()))?
        );
        return Ok(EXIT_OK);
    }
    println!(
        "Prices in USD per million tokens, {} models",
        provider.as_str()
    );
    println!(
        "source: {}{}",
        source.name,
        source
            .data_sha256
            .as_ref()
            .map(|h| format!(" (sha256 {h})"))
            .unwrap_or_default()
    );
    if let Some(o) = &source.overrides {
        println!("overrides: {o}");
    }
    println!("prices in effect at: {}", source.as_of);
    println!();
    let header = [
        "model", "input", "cached", "write5m", "write1h", "output", "b.input", "b.cached",
        "b.write", "b.output",
    ];
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|(m, _, s, b)| {
            let mut row = vec![m.to_string()];
            row.extend(
                [
                    s.input_mtok,
                    s.cached_mtok,
                    s.cache_write_mtok,
                    s.cache_write_1h_mtok,
                    s.output_mtok,
                    b.input_mtok,
                    b.cached_mtok,
                    b.cache_write_mtok,
                    b.output_mtok,
                ]
                .map(rate),
            );
            row
        })
        .collect();
    print!(
        "{}",
        report::tabular::render(&header, &table, 1, report::tabular::Style::Plain)
    );
    println!();
    println!("b.* = batch API prices. A request's cost = uncached input x input + cached x cached");
    println!(
        "+ cache writes x write + output x output, per million, priced per request (tiers apply per request)."
    );
    Ok(EXIT_OK)
}

fn rate(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// `batchbench gen`.
pub fn gen_command(args: &GenArgs) -> Result<i32> {
    if args.count == 0 {
        return Err(usage("--count must be at least 1"));
    }
    let write = |mut w: &mut dyn Write| -> std::io::Result<()> {
        match args.kind {
            crate::cli::GenKind::Chat => dataset::synth::generate_to(&mut w, args.count, args.seed),
            crate::cli::GenKind::Embed => {
                crate::embed::dataset::generate_to(&mut w, args.count, args.seed)
            }
        }
    };
    let what = match args.kind {
        crate::cli::GenKind::Chat => "prompts",
        crate::cli::GenKind::Embed => "texts",
    };
    match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|e| Error::write(path, e))?;
            let mut w = std::io::BufWriter::new(file);
            write(&mut w).map_err(|e| Error::io(path, e))?;
            w.flush().map_err(|e| Error::write(path, e))?;
            eprintln!(
                "wrote {} {what} (seed {}) to {}",
                args.count,
                args.seed,
                path.display()
            );
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            let _ = write(&mut w).and_then(|_| w.flush());
        }
    }
    Ok(EXIT_OK)
}

/// `batchbench mock`.
pub async fn mock_command(args: &MockArgs) -> Result<i32> {
    let mut config = match &args.config {
        Some(p) => MockConfig::load(p)?,
        None => MockConfig::default(),
    };
    if let Some(k) = &args.api_key {
        config.api_key = Some(k.clone());
    }
    if let Some(t) = args.time_scale {
        if !t.is_finite() || t < 0.0 {
            return Err(usage("--time-scale must be 0 or more"));
        }
        config.time_scale = t;
    }
    if let Some(s) = args.seed {
        config.seed = s;
    }
    let oracle = match &args.dataset {
        Some(p) => Oracle::from_prompt_set(&dataset::load(p, None)?),
        None => Oracle::empty(),
    };
    crate::mock::run_standalone(config, oracle, args.port).await?;
    Ok(EXIT_OK)
}

/// `batchbench compare`.
pub fn compare_command(args: &CompareArgs) -> Result<i32> {
    use crate::compare::{Thresholds, compare, load_side, parse_pct, render};
    let t = Thresholds {
        max_cost_increase_pct: parse_pct(&args.max_cost_increase)
            .map_err(|e| usage(format!("--max-cost-increase: {e}")))?,
        max_accuracy_drop_pts: parse_pct(&args.max_accuracy_drop)
            .map_err(|e| usage(format!("--max-accuracy-drop: {e}")))?,
        max_p95_increase_pct: parse_pct(&args.max_p95_increase)
            .map_err(|e| usage(format!("--max-p95-increase: {e}")))?,
    };
    // A folder baseline is read first, so that with both sides missing the error names it; a
    // history baseline needs the current run's dataset to be found.
    let (base, current) = match args
        .baseline
        .to_str()
        .and_then(|b| b.strip_prefix("history:"))
    {
        None => {
            let base = load_side(&args.baseline)?;
            (base, load_side(&args.current)?)
        }
        Some(branch) => {
            let current = load_side(&args.current)?;
            let base = {
                let file = args
                    .history
                    .as_ref()
                    .ok_or_else(|| usage("a history:BRANCH baseline needs --history FILE"))?;
                let run = crate::history::baseline(file, branch, &current)?;
                let commit = run.git.commit_sha.as_deref().unwrap_or("unknown commit");
                run.to_side(&format!(
                    "history:{branch} run {} (commit {})",
                    run.id,
                    &commit[..commit.len().min(10)]
                ))?
            };
            (base, current)
        }
    };
    let rows = compare(&base, &current, t, args.allow_dataset_change)?;
    let text = match args.format {
        Format::Json => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "strategy": r.strategy,
                        "cost_change_pct": r.cost_change_pct,
                        "accuracy_change_pts": r.accuracy_change_pts,
                        "p95_change_pct": r.p95_change_pct,
                        "regressions": r.regressions,
                    })
                })
                .collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&v).map_err(|e| Error::Output(e.to_string()))?
            )
        }
        Format::Md => render(&rows, &base, &current, true),
        Format::Table => render(&rows, &base, &current, false),
    };
    print!("{text}");
    let regressed = rows.iter().any(|r| !r.regressions.is_empty());
    Ok(if regressed { EXIT_FAILURES } else { EXIT_OK })
}

/// `batchbench merge`.
pub fn merge_command(args: &MergeArgs) -> Result<i32> {
    use crate::record::{PromptRecord, RequestRecord};
    let mut infos: Vec<RunInfo> = Vec::new();
    let mut prompts: Vec<PromptRecord> = Vec::new();
    let mut requests: Vec<RequestRecord> = Vec::new();
    for dir in &args.dirs {
        let side = crate::compare::load_side(dir)?;
        if !dir.is_dir() {
            return Err(usage(format!(
                "{}: merge needs run folders (with prompts.csv and requests.csv)",
                dir.display()
            )));
        }
        if let Some(first) = infos.first() {
            let same = first.dataset_sha256 == side.info.dataset_sha256
                && first.model == side.info.model
                && first.provider == side.info.provider
                && first.seed == side.info.seed
                && first.strategies == side.info.strategies;
            if !same {
                return Err(Error::Input(format!(
                    "{}: not a shard of the same run as {} (dataset, model, provider, seed and strategies must match)",
                    dir.display(),
                    args.dirs[0].display()
                )));
            }
        }
        prompts.extend(crate::report::csv::read_rows::<PromptRecord>(
            &dir.join("prompts.csv"),
        )?);
        requests.extend(crate::report::csv::read_rows::<RequestRecord>(
            &dir.join("requests.csv"),
        )?);
        infos.push(side.info);
    }
    let first = infos[0].clone();
    let shards: Vec<String> = infos.iter().filter_map(|i| i.shard.clone()).collect();
    let mut seen = std::collections::HashSet::new();
    for p in &prompts {
        if !seen.insert((p.strategy.clone(), p.prompt_id.clone())) {
            return Err(Error::Input(format!(
                "prompt {:?} of strategy {} appears in more than one shard: the same shard was given twice?",
                p.prompt_id, p.strategy
            )));
        }
    }
    let set = dataset::load(Path::new(&first.dataset_path), None)
        .ok()
        .filter(|s| s.sha256 == first.dataset_sha256);
    let order: std::collections::HashMap<String, usize> = match &set {
        Some(s) => s
            .prompts
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect(),
        None => std::collections::HashMap::new(),
    };
    let strat_pos = |s: &str| {
        first
            .strategies
            .iter()
            .position(|x| x == s)
            .unwrap_or(usize::MAX)
    };
    prompts.sort_by(|a, b| {
        (
            strat_pos(&a.strategy),
            order.get(&a.prompt_id).copied().unwrap_or(usize::MAX),
            &a.prompt_id,
        )
            .cmp(&(
                strat_pos(&b.strategy),
                order.get(&b.prompt_id).copied().unwrap_or(usize::MAX),
                &b.prompt_id,
            ))
    });
    requests.sort_by(|a, b| {
        (strat_pos(&a.strategy), &a.kind, &a.request_id, a.attempt).cmp(&(
            strat_pos(&b.strategy),
            &b.kind,
            &b.request_id,
            b.attempt,
        ))
    });
    crate::grade::mark_agreement(&mut prompts, set.as_ref());
    let mut info = first.clone();
    info.run_id = format!(
        "{}-merged",
        first.run_id.split("-shard").next().unwrap_or(&first.run_id)
    );
    info.shard = None;
    info.prompts = order.len().max(
        prompts
            .iter()
            .map(|p| p.prompt_id.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len(),
    );
    info.warnings = infos
        .iter()
        .flat_map(|i| i.warnings.iter().cloned())
        .collect();
    info.warnings.dedup();
    info.warnings
        .push(format!("merged from shards {}", shards.join(", ")));
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(&info.run_id));
    let report = write_rows(&out, info, prompts, requests, true)?;
    print_summary(&report, args.format)?;
    eprintln!("wrote {}", out.display());
    if let Some(h) = &args.history {
        crate::history::record(h, &out, args.commit.as_deref(), args.branch.as_deref())?;
    }
    Ok(EXIT_OK)
}

/// `batchbench sweep`.
pub async fn sweep_command(args: &SweepArgs) -> Result<i32> {
    use crate::sweep;
    if args.run.strategies.is_some() {
        return Err(usage(
            "sweep chooses its own strategies from --sizes; drop --strategies",
        ));
    }
    if args.run.shard.is_some() {
        return Err(usage("sweep cannot be sharded; drop --shard"));
    }
    if !args.max_accuracy_drop.is_finite() || args.max_accuracy_drop < 0.0 {
        return Err(usage("--max-accuracy-drop must be 0 or more points"));
    }
    let sizes = sweep::parse_sizes(&args.sizes)?;
    let slo = args
        .latency_slo
        .as_deref()
        .map(|s| sweep::parse_duration(s).map_err(|e| usage(format!("--latency-slo: {e}"))))
        .transpose()?;
    let specs = sweep::strategies(&sizes, !args.no_batch_api);
    let mut run_args = args.run.clone();
    run_args.strategies = Some(
        specs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
    );
    let mut plan = resolve_run(&run_args)?;
    if args.run.out.is_none() {
        plan.out = PathBuf::from("reports").join(format!("{}-sweep", plan.run_id));
    }
    let session = Session::start(&plan).await?;
    std::fs::create_dir_all(&plan.out).map_err(|e| Error::write(&plan.out, e))?;
    let (runs, report) = run_all(session, &plan).await?;
    let lowered: Vec<String> = runs
        .iter()
        .filter(|r| r.warnings.iter().any(|w| w.contains("lowering K")))
        .map(|r| r.strategy.clone())
        .collect();
    let constraints = sweep::Constraints {
        max_accuracy_drop_pts: args.max_accuracy_drop,
        latency_slo: slo,
    };
    let candidates = sweep::recommend(&report.summaries, constraints, &lowered);
    sweep::write_csv(&plan.out, &candidates)?;
    let batchless = report.summaries.iter().any(|s| {
        s.failure
            .as_deref()
            .is_some_and(crate::advice::no_batch_api)
    });
    if batchless {
        eprintln!(
            "the server has no Batch API: batch-api+packed:K are reported failed and the sweep \
             stands on packed:K alone (pass --no-batch-api to skip them)"
        );
    }
    let other_failures = report.summaries.iter().any(|s| {
        s.status == RunStatus::Failed
            && !s
                .failure
                .as_deref()
                .is_some_and(crate::advice::no_batch_api)
    });
    let markdown = plan.args.format == Some(Format::Md);
    if plan.args.format == Some(Format::Json) {
        println!(
            "{}",
            serde_json::to_string_pretty(&candidates).map_err(|e| Error::Output(e.to_string()))?
        );
    } else {
        print!("{}", sweep::render(&candidates, constraints, markdown));
    }
    eprintln!("wrote {}", plan.out.display());
    record_history(&plan.args, &plan.out)?;
    Ok(if other_failures {
        EXIT_FAILURES
    } else {
        EXIT_OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_auto_reads_the_zero_based_index() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |v: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == v)
                    .map(|(_, x)| x.to_string())
            }
        };
        assert_eq!(parse_shard_with("2/3", env(&[])).unwrap(), (1, 3));
        assert_eq!(
            parse_shard_with("auto/3", env(&[("JOB_COMPLETION_INDEX", "0")])).unwrap(),
            (0, 3)
        );
        assert_eq!(
            parse_shard_with("auto/3", env(&[("BATCHBENCH_SHARD_INDEX", "2")])).unwrap(),
            (2, 3)
        );
        // Kubernetes' variable wins over the CI one.
        assert_eq!(
            parse_shard_with(
                "auto/4",
                env(&[
                    ("JOB_COMPLETION_INDEX", "1"),
                    ("BATCHBENCH_SHARD_INDEX", "3")
                ])
            )
            .unwrap(),
            (1, 4)
        );
        // Index 3 of 3 shards (0-based) is out of range; so is garbage.
        assert!(parse_shard_with("auto/3", env(&[("JOB_COMPLETION_INDEX", "3")])).is_err());
        assert!(parse_shard_with("auto/3", env(&[("JOB_COMPLETION_INDEX", "x")])).is_err());
        assert!(parse_shard_with("auto/3", env(&[])).is_err());
    }
}
