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
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct BenchConfig {
    /// Prompt set.
    pub dataset: Option<PathBuf>,
    /// Shared instructions (replace a header record in the dataset; the only way for CSV files).
    /// Read by the plan, not a flag: left out of the merge.
    #[serde(skip_serializing)]
    pub instructions: Option<String>,
    /// Shared instructions from a text file (read by the plan, not a flag).
    #[serde(skip_serializing)]
    pub instructions_file: Option<PathBuf>,
    /// Model id.
    pub model: Option<String>,
    /// Strategies, as a list or one comma-separated string.
    #[serde(skip_serializing)]
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
    /// Gemini `cached`: the context cache's TTL, seconds.
    pub cache_ttl: Option<u64>,
    /// Summary format on stdout.
    pub format: Option<Format>,
    /// SQLite history file every run is appended to.
    pub history: Option<PathBuf>,
    /// Inline price overrides, as in a `--prices` file.
    #[serde(default, skip_serializing)]
    pub models: BTreeMap<String, Override>,
    /// Inline context-cache storage rates, as in a `--prices` file's `[cache_storage]`.
    #[serde(default, skip_serializing)]
    pub cache_storage: BTreeMap<String, f64>,
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
            .map_err(|e| Error::Config(format!("{}: cannot read config: {e}", path.display())))?;
        let mut c: BenchConfig = toml::from_str(&text).map_err(|e| {
            Error::Config(format!(
                "{}:{}",
                path.display(),
                crate::pricing::toml_error_line(&text, &e)
            ))
        })?;
        Overrides {
            models: c.models.clone(),
            cache_storage: c.cache_storage.clone(),
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

    /// Flags win over the file: every option the file sets is taken unless its flag was given
    /// (a value, or a switch turned on). Merged by field name through serde, so that an option
    /// added to both `RunArgs` and the file needs no line here; options only a flag can set
    /// (`--shard`, `--resume`, `--quiet`, ...) are not fields of the file and pass through.
    pub fn merge(self, args: &RunArgs) -> RunArgs {
        // Through TOML values, not JSON: they keep an infinite or NaN float (`--time-scale 1e400`)
        // for validation to refuse, where JSON would turn it into a silent null.
        let Ok(toml::Value::Table(mut merged)) = toml::Value::try_from(args) else {
            return args.clone();
        };
        for (key, value) in self.settings() {
            let given = merged
                .get(key.as_str())
                .is_some_and(|v| *v != toml::Value::Boolean(false));
            if !given {
                merged.insert(key, value);
            }
        }
        let mut out =
            RunArgs::deserialize(toml::Value::Table(merged)).unwrap_or_else(|_| args.clone());
        out.resume = args.resume.clone();
        out
    }

    /// The options this file sets, by `RunArgs` field name.
    fn settings(self) -> toml::Table {
        let strategies = self.strategies.as_ref().map(StrategyList::joined);
        match toml::Value::try_from(Settings {
            config: self,
            strategies,
        }) {
            Ok(toml::Value::Table(t)) => t,
            _ => toml::Table::new(),
        }
    }
}

/// A config's options as `RunArgs` spells them (strategies as one string).
#[derive(serde::Serialize)]
struct Settings {
    #[serde(flatten)]
    config: BenchConfig,
    strategies: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVERY_OPTION: &str = r#"
dataset = "d.jsonl"
model = "m"
strategies = ["sequential", "packed:4"]
provider = "anthropic"
mock = true
base_url = "http://127.0.0.1:9"
api_key_file = "k"
seed = 7
out = "o"
limit = 3
answer_tokens = 9
stream = true
no_json_schema = true
temperature = 0.5
prices = "p.toml"
prices_data = "pd.json"
time_scale = 0.25
mock_config = "m.toml"
max_retries = 2
poll_max = 1.5
format = "json"
history = "h.db"
"#;

    #[test]
    fn every_file_option_reaches_the_run_unless_its_flag_is_given() {
        let file: BenchConfig = toml::from_str(EVERY_OPTION).unwrap();
        let m = file.clone().merge(&RunArgs::default());
        assert_eq!(m.dataset, Some(PathBuf::from("d.jsonl")));
        assert_eq!(m.model.as_deref(), Some("m"));
        assert_eq!(m.strategies.as_deref(), Some("sequential,packed:4"));
        assert_eq!(m.provider, Some(ProviderKind::Anthropic));
        assert!(m.mock && m.stream && m.no_json_schema);
        assert_eq!(m.base_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(m.api_key_file, Some(PathBuf::from("k")));
        assert_eq!(
            (m.seed, m.limit, m.answer_tokens),
            (Some(7), Some(3), Some(9))
        );
        assert_eq!(m.out, Some(PathBuf::from("o")));
        assert_eq!(m.temperature, Some(0.5));
        assert_eq!(m.prices, Some(PathBuf::from("p.toml")));
        assert_eq!(m.prices_data, Some(PathBuf::from("pd.json")));
        assert_eq!((m.time_scale, m.poll_max), (Some(0.25), Some(1.5)));
        assert_eq!(m.mock_config, Some(PathBuf::from("m.toml")));
        assert_eq!(m.max_retries, Some(2));
        assert_eq!(m.format, Some(Format::Json));
        assert_eq!(m.history, Some(PathBuf::from("h.db")));

        let flags = RunArgs {
            model: Some("f".into()),
            seed: Some(1),
            quiet: true,
            shard: Some("1/2".into()),
            resume: Some("r".into()),
            ..RunArgs::default()
        };
        let m = file.merge(&flags);
        assert_eq!((m.model.as_deref(), m.seed), (Some("f"), Some(1)));
        assert!(m.quiet);
        assert_eq!(m.shard.as_deref(), Some("1/2"));
        assert_eq!(
            m.resume.as_deref(),
            Some("r"),
            "--resume is not serialised but kept"
        );
        assert_eq!(
            m.limit,
            Some(3),
            "options without a flag still come from the file"
        );
    }

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
