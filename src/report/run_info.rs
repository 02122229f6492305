//! `run.json`: what a run was (seed, model, provider, dataset and its hash, prices, tool version),
//! so that it can be repeated and compared.

use serde::{Deserialize, Serialize};

use super::{Exporter, RunReport};
use crate::error::{Error, Result};

/// The schema version of `run.json` and `report.json`.
pub const SCHEMA_VERSION: u32 = 1;

/// Run metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Schema version of this file.
    pub schema_version: u32,
    /// The run's id (its folder name).
    pub run_id: String,
    /// batchbench version.
    pub tool_version: String,
    /// When it started (RFC 3339); prices are taken at this instant.
    pub started_at: String,
    /// The seed of every random choice (the mock's included).
    pub seed: u64,
    /// `openai` or `anthropic`.
    pub provider: String,
    /// Model id.
    pub model: String,
    /// `mock` (built-in, simulated) or the base URL of the real API.
    pub endpoint: String,
    /// Whether answer quality and latency are simulated by the built-in mock.
    pub simulated: bool,
    /// The mock's time scale, when the mock ran.
    pub mock_time_scale: Option<f64>,
    /// Dataset name.
    pub dataset: String,
    /// Dataset path as given.
    pub dataset_path: String,
    /// SHA-256 of the dataset file.
    pub dataset_sha256: String,
    /// Prompts run (after `--limit` / `--shard`).
    pub prompts: usize,
    /// `I/N` when sharded.
    pub shard: Option<String>,
    /// Strategies, in run order.
    pub strategies: Vec<String>,
    /// Output tokens allowed per answer.
    pub answer_tokens: u32,
    /// Price data description.
    pub price_source: String,
    /// SHA-256 of a loaded price data file.
    pub price_data_sha256: Option<String>,
    /// Price override file, if any.
    pub price_overrides: Option<String>,
    /// Token counting: encoding and whether counts are exact or estimates.
    pub tokenizer: String,
    /// Request options that change what is sent (absent in files written before they were
    /// recorded).
    #[serde(default)]
    pub options: RunOptions,
    /// Warnings raised while planning and running.
    pub warnings: Vec<String>,
    /// Shared prefix and prices, for the findings on why packing wins or loses (absent in
    /// older files and when the model's prices are unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub economics: Option<super::economics::RunEconomics>,
    /// `embed` for `run --task embed` (absent: a chat run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// Embedding runs: a strategy whose lowest vector cosine with `embed:sequential` is below
    /// this is flagged (`--vector-tolerance`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector_tolerance: Option<f64>,
    /// Embedding runs: `--dimensions`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
}

/// The options of a run that shape its requests, so that its numbers can be reproduced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    /// Synchronous requests were streamed.
    pub stream: bool,
    /// Sampling temperature sent (none: the provider's default).
    pub temperature: Option<f32>,
    /// Packed OpenAI requests carried the strict `json_schema` response format.
    pub json_schema: bool,
    /// Retries allowed per request.
    pub max_retries: u32,
    /// Why that temperature: given, the default 0 for comparable answers, or not sent because
    /// the model accepts only its default.
    #[serde(default)]
    pub temperature_source: Option<String>,
    /// `--price-per-hour`: the hourly cost of the (self-hosted) server, USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_per_hour_usd: Option<f64>,
    /// OpenAI: `responses` when chat requests went through the Responses API (absent: chat
    /// completions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// `--reasoning-effort`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            stream: false,
            temperature: None,
            json_schema: true,
            // Only for run.json files written before the field existed: every such version
            // allowed 4 retries.
            max_retries: 4,
            price_per_hour_usd: None,
            api: None,
            reasoning_effort: None,
            temperature_source: None,
        }
    }
}

/// Writes `run.json`.
#[derive(Debug, Clone, Copy)]
pub struct RunJson;

impl Exporter for RunJson {
    fn file_name(&self) -> &'static str {
        "run.json"
    }
    fn serialize(&self, report: &RunReport) -> Result<Vec<u8>> {
        let mut v = serde_json::to_vec_pretty(&report.info)
            .map_err(|e| Error::Output(format!("cannot write run.json: {e}")))?;
        v.push(b'\n');
        Ok(v)
    }
}
