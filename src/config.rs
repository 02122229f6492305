//! `bench.toml`: the same options as `run`'s flags, so a team can commit its benchmark set-up.
//! Flags override the file; relative paths in the file are relative to the file's folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::{Format, RunArgs};
use crate::error::{Error, Result};
use crate::pricing::{Override, Overrides};
use crate::provider::ProviderKind;

/// The contents of a `bench.toml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchConfig {
    /// Prompt set.
    pub dataset: Option<PathBuf>,
    /// Shared instructions (replace a header record in the dataset; the only way for CSV files).
    pub instructions: Option<String>,
    /// Shared instructions from a text file.
    pub instructions_file: Option<PathBuf>,
    /// Model id.
    pub model: Option<String>,
    /// Strategies, as a list or one comma-separated string.
    pub strategies: Option<StrategyList>,
    /// `openai` or `anthropic`.
    pub provider: Option<ProviderKind>,
    /// Use the built-in mock even with a provider set.
    pub mock: Option<bool>,
    /// API base URL.
    pub base_url: Option<String>,
    /// File holding the API key.
    pub api_key_file: Option<PathBuf>,
    /// Seed.
    pub seed: Option<u64>,
    /// Output folder.
    pub out: Option<PathBuf>,
    /// Only the first N prompts.
    pub limit: Option<usize>,
    /// Output tokens per answer.
    pub answer_tokens: Option<u32>,
    /// Stream requests.
    pub stream: Option<bool>,
    /// Packed OpenAI requests without the strict `json_schema` response format.
    pub no_json_schema: Option<bool>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Price override file.
    pub prices: Option<PathBuf>,
    /// genai-prices data file.
    pub prices_data: Option<PathBuf>,
    /// Mock latency scale.
    pub time_scale: Option<f64>,
    /// mock.toml.
    pub mock_config: Option<PathBuf>,
    /// Retries per request.
    pub max_retries: Option<u32>,
    /// Longest poll interval, seconds.
    pub poll_max: Option<f64>,
    /// Summary format on stdout.
    pub format: Option<Format>,
    /// SQLite history file every run is appended to.
    pub history: Option<PathBuf>,
    /// Inline price overrides, as in a `--prices` file.
    #[serde(default)]
    pub models: BTreeMap<String, Override>,
}

/// Strategies as `["sequential", "packed:8"]` or `"sequential,packed:8"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum StrategyList {
    /// A TOML array.
    List(Vec<String>),
    /// One comma-separated string.
    Joined(String),
}

impl StrategyList {
    /// As one comma-separated string.
    pub fn joined(&self) -> String {
        match self {
            StrategyList::List(v) => v.join(","),
            StrategyList::Joined(s) => s.clone(),
        }
    }
}

impl BenchConfig {
    /// Reads a config file; errors name the file.
    pub fn load(path: &Path) -> Result<BenchConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Input(format!("{}: cannot read config: {e}", path.display())))?;
        let mut c: BenchConfig = toml::from_str(&text).map_err(|e| {
            Error::Input(format!(
                "{}:{}",
                path.display(),
                crate::pricing::toml_error_line(&text, &e)
            ))
        })?;
        Overrides {
            models: c.models.clone(),
        }
        .validate(&path.display().to_string())?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut c.dataset,
            &mut c.instructions_file,
            &mut c.api_key_file,
            &mut c.out,
            &mut c.prices,
            &mut c.prices_data,
            &mut c.mock_config,
            &mut c.history,
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(c)
    }

    /// The config for a run: `--config FILE`, else `./bench.toml` when it exists, else empty.
    pub fn for_run(args: &RunArgs) -> Result<(BenchConfig, Option<PathBuf>)> {
        match &args.config {
            Some(p) => Ok((BenchConfig::load(p)?, Some(p.clone()))),
            None => {
                let p = PathBuf::from("bench.toml");
                if p.is_file() {
                    Ok((BenchConfig::load(&p)?, Some(p)))
                } else {
                    Ok((BenchConfig::default(), None))
                }
            }
        }
    }

    /// Flags win over the file.
    pub fn merge(self, args: &RunArgs) -> RunArgs {
        RunArgs {
            dataset: args.dataset.clone().or(self.dataset),
            model: args.model.clone().or(self.model),
            strategies: args
                .strategies
                .clone()
                .or(self.strategies.map(|s| s.joined())),
            provider: args.provider.or(self.provider),
            mock: args.mock || self.mock.unwrap_or(false),
            base_url: args.base_url.clone().or(self.base_url),
            api_key_file: args.api_key_file.clone().or(self.api_key_file),
            seed: args.seed.or(self.seed),
            out: args.out.clone().or(self.out),
            config: args.config.clone(),
            limit: args.limit.or(self.limit),
            answer_tokens: args.answer_tokens.or(self.answer_tokens),
            stream: args.stream || self.stream.unwrap_or(false),
            no_json_schema: args.no_json_schema || self.no_json_schema.unwrap_or(false),
            tokenizer: args.tokenizer,
            price_per_hour: args.price_per_hour,
            temperature: args.temperature.or(self.temperature),
            repeat_baseline: args.repeat_baseline,
            prices: args.prices.clone().or(self.prices),
            prices_data: args.prices_data.clone().or(self.prices_data),
            time_scale: args.time_scale.or(self.time_scale),
            mock_config: args.mock_config.clone().or(self.mock_config),
            max_retries: args.max_retries.or(self.max_retries),
            poll_max: args.poll_max.or(self.poll_max),
            shard: args.shard.clone(),
            history: args.history.clone().or(self.history),
            commit: args.commit.clone(),
            branch: args.branch.clone(),
            resume: args.resume.clone(),
            fail_fast: args.fail_fast,
            quiet: args.quiet,
            format: args.format.or(self.format),
            task: args.task,
            dimensions: args.dimensions,
            vector_tolerance: args.vector_tolerance,
            encoding: args.encoding,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_parses_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.toml");
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/bench.example.toml"),
            &path,
        )
        .unwrap();
        let c = BenchConfig::load(&path).unwrap();
        assert!(c.dataset.as_ref().unwrap().starts_with(dir.path()));
        let args = RunArgs {
            model: Some("gpt-4.1".into()),
            ..RunArgs::default()
        };
        let merged = c.clone().merge(&args);
        assert_eq!(merged.model.as_deref(), Some("gpt-4.1"));
        assert_eq!(merged.seed, c.seed);
    }

    #[test]
    fn bad_config_names_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.toml");
        std::fs::write(&path, "model = \"gpt-4o\"\nsede = 3\n").unwrap();
        let e = BenchConfig::load(&path).unwrap_err().to_string();
        assert!(e.contains("bench.toml:2") && e.contains("sede"), "{e}");
        std::fs::write(&path, "seed = -3\n").unwrap();
        let e = BenchConfig::load(&path).unwrap_err().to_string();
        assert!(e.contains("bench.toml:1"), "{e}");
        std::fs::write(
            &path,
            "strategies = [\"sequential\", \"packed:8\"]\nprovider = \"anthropic\"\n",
        )
        .unwrap();
        let c = BenchConfig::load(&path).unwrap();
        assert_eq!(c.strategies.unwrap().joined(), "sequential,packed:8");
        assert_eq!(c.provider, Some(ProviderKind::Anthropic));
    }
}
