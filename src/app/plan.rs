//! The run plan: flags, `bench.toml` and environment resolved and validated into one value
//! before a single request is sent.

use std::path::PathBuf;
use std::time::SystemTime;

use crate::cli::RunArgs;
use crate::config::BenchConfig;
use crate::dataset::{self, PromptSet};
use crate::error::{Error, Result};
use crate::pricing::{Overrides, Pricing};
use crate::provider::ProviderKind;
use crate::strategy::StrategySpec;

/// How long `cached` keeps a Gemini context cache without `--cache-ttl`: Google's own default
/// TTL (one hour), long enough for a benchmark's requests to find it.
pub const DEFAULT_CACHE_TTL_SECS: u64 = 3_600;

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

pub(super) fn usage(msg: impl Into<String>) -> Error {
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
        cache_storage: config.cache_storage.clone(),
    };
    let instructions = match (&config.instructions, &config.instructions_file) {
        (Some(text), _) => Some(text.clone()),
        (None, Some(path)) => Some(std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!("{}: cannot read instructions: {e}", path.display()))
        })?),
        (None, None) => None,
    };
    let args = config.merge(args);
    validate(&args)?;
    let provider = args.provider.unwrap_or(ProviderKind::Openai);
    let use_mock = args.provider.is_none() || args.mock;
    let embed = args.task == Some(crate::cli::Task::Embed);
    let model = args.model.clone().unwrap_or_else(|| {
        if embed {
            crate::embed::DEFAULT_MODEL.to_string()
        } else {
            provider.default_model().to_string()
        }
    });
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
    if !inline_prices.models.is_empty() || !inline_prices.cache_storage.is_empty() {
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

/// The checks on option values that need no file or network: everything `run` can refuse
/// before reading the dataset.
pub fn validate(args: &RunArgs) -> Result<()> {
    let use_mock = args.provider.is_none() || args.mock;
    if use_mock && args.base_url.is_some() {
        return Err(usage(
            "--base-url and the built-in mock exclude each other: drop --mock, or give --provider with --base-url",
        ));
    }
    if args.model.as_deref().is_some_and(|m| m.trim().is_empty()) {
        return Err(usage("--model is empty"));
    }
    let embed = args.task == Some(crate::cli::Task::Embed);
    if let (Some(list), false) = (&args.strategies, embed) {
        StrategySpec::parse_list(list)?;
    }
    if let Some(0) = args.limit {
        return Err(usage("--limit must be at least 1"));
    }
    if args.api == Some(crate::provider::WireApi::Responses)
        && matches!(
            args.provider,
            Some(ProviderKind::Anthropic | ProviderKind::Gemini)
        )
    {
        return Err(usage(
            "--api responses is OpenAI's Responses API; Anthropic and Gemini have only their own (drop --api)",
        ));
    }
    if args.cache_ttl == Some(0) {
        return Err(usage("--cache-ttl must be at least 1 second"));
    }
    if let (Some(ProviderKind::Gemini), Some(effort)) = (args.provider, &args.reasoning_effort) {
        crate::provider::gemini::wire::check_effort(effort).map_err(usage)?;
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
    Ok(())
}

fn make_run_id(t: SystemTime, seed: u64) -> String {
    let dt = chrono::DateTime::<chrono::Utc>::from(t);
    format!("{}-s{seed}", dt.format("%Y%m%d-%H%M%S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(args: RunArgs) -> String {
        match validate(&args) {
            Err(Error::Usage(m)) => m,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid() {
        validate(&RunArgs::default()).unwrap();
    }

    #[test]
    fn each_bad_value_is_refused_with_its_flag_named() {
        let base = RunArgs::default;
        let cases: Vec<(RunArgs, &str)> = vec![
            (
                RunArgs {
                    limit: Some(0),
                    ..base()
                },
                "--limit",
            ),
            (
                RunArgs {
                    answer_tokens: Some(0),
                    ..base()
                },
                "--answer-tokens",
            ),
            (
                RunArgs {
                    answer_tokens: Some(2_000_000),
                    ..base()
                },
                "--answer-tokens",
            ),
            (
                RunArgs {
                    time_scale: Some(f64::NAN),
                    ..base()
                },
                "--time-scale",
            ),
            (
                RunArgs {
                    temperature: Some(2.5),
                    ..base()
                },
                "--temperature",
            ),
            (
                RunArgs {
                    poll_max: Some(0.0),
                    ..base()
                },
                "--poll-max",
            ),
            (
                RunArgs {
                    max_retries: Some(101),
                    ..base()
                },
                "--max-retries",
            ),
            (
                RunArgs {
                    model: Some(" ".into()),
                    ..base()
                },
                "--model",
            ),
            (
                RunArgs {
                    base_url: Some("http://127.0.0.1:1".into()),
                    ..base()
                },
                "--base-url",
            ),
        ];
        for (args, flag) in cases {
            let msg = refused(args);
            assert!(msg.contains(flag), "{msg:?} does not name {flag}");
        }
    }

    #[test]
    fn a_base_url_needs_a_real_provider_not_the_mock() {
        let args = RunArgs {
            provider: Some(ProviderKind::Openai),
            base_url: Some("http://127.0.0.1:1".into()),
            ..RunArgs::default()
        };
        validate(&args).unwrap();
        let with_mock = RunArgs { mock: true, ..args };
        assert!(refused(with_mock).contains("--base-url"));
    }

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
