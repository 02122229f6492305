//! Command-line definitions (clap derive) and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::provider::ProviderKind;

/// Measure what batching LLM API calls really saves: tokens, latency, price and answer quality.
#[derive(Debug, Parser)]
#[command(name = "batchbench", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a prompt set unbatched and batched several ways; write CSV, JSON and a summary.
    #[command(after_help = RUN_EXAMPLES, allow_negative_numbers = true)]
    Run(RunArgs),
    /// Print the prices in use (standard, cached, cache write, batch) with their source and date.
    #[command(after_help = PRICES_EXAMPLES)]
    Prices(PricesArgs),
    /// Write a synthetic prompt set with gold answers (arithmetic, sentiment, yes/no).
    #[command(after_help = GEN_EXAMPLES)]
    Gen(GenArgs),
    /// Serve the built-in mock OpenAI + Anthropic API on 127.0.0.1 until Ctrl-C.
    #[command(after_help = MOCK_EXAMPLES)]
    Mock(MockArgs),
    /// Try packed:K and batch-api+packed:K for several K and recommend a batch size.
    #[command(after_help = SWEEP_EXAMPLES, allow_negative_numbers = true)]
    Sweep(SweepArgs),
    /// Project costs from token counts and prices alone, sending nothing.
    #[command(after_help = ESTIMATE_EXAMPLES)]
    Estimate(EstimateArgs),
    /// The CI gate: compare a run with a baseline; exit 1 on a regression.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare(CompareArgs),
    /// Combine the folders of a sharded run (`run --shard I/N`) into one report.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(MergeArgs),
    /// Trends per strategy over the runs stored in a history file; `history import` adds run folders.
    #[command(after_help = HISTORY_EXAMPLES)]
    History(HistoryArgs),
}

const HISTORY_EXAMPLES: &str = "\
Examples:
  batchbench run --history bench-history.sqlite
  batchbench history --history bench-history.sqlite --branch main --last 20
  batchbench history --history bench-history.sqlite --format md --charts reports/trend
  batchbench history import reports/* --history bench-history.sqlite --branch main
  batchbench compare history:main reports/pr --history bench-history.sqlite

Each table lists a strategy's cost per 1,000 prompts, accuracy and p95 latency per run, with the
change against the previous run that ran it. --charts DIR writes trend charts (SVG and PNG) and
a self-contained history.html. The file's schema is in docs/HISTORY.md.";

/// Options of `history`.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// `import`: load run folders; without it the trends are shown.
    #[command(subcommand)]
    pub action: Option<HistoryAction>,
    /// The history file [default: `history` in ./bench.toml].
    #[arg(long, value_name = "FILE", global = true)]
    pub history: Option<PathBuf>,
    /// Show the last N runs.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub last: usize,
    /// Only runs on this branch.
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// Only runs of this model.
    #[arg(long, value_name = "M")]
    pub model: Option<String>,
    /// Only runs on this dataset (its name or a prefix of its sha256).
    #[arg(long, value_name = "NAME")]
    pub dataset: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: HistoryFormat,
    /// Also write trend charts (SVG, PNG) and history.html into this folder.
    #[arg(long, value_name = "DIR")]
    pub charts: Option<PathBuf>,
}

/// The subcommands of `history`.
#[derive(Debug, Clone, Subcommand)]
pub enum HistoryAction {
    /// Append existing run folders to the history file, in the order given.
    Import {
        /// Run folders (with run.json and summary.csv).
        #[arg(required = true, num_args = 1..)]
        dirs: Vec<PathBuf>,
        /// Commit SHA to record [default: git rev-parse HEAD].
        #[arg(long, value_name = "SHA")]
        commit: Option<String>,
        /// Branch to record [default: from CI variables or git].
        #[arg(long, value_name = "NAME")]
        branch: Option<String>,
    },
}

/// Output format of `history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    /// Aligned text tables.
    Table,
    /// One JSON array of points.
    Json,
    /// One CSV row per strategy and run.
    Csv,
    /// Markdown tables.
    Md,
    /// Markdown tables followed by a Mermaid line chart of cost per strategy (drawn by GitHub
    /// in PR comments and step summaries).
    Mermaid,
}

const SWEEP_EXAMPLES: &str = "\
Examples:
  batchbench sweep --sizes 1,2,4,8,16,32
  batchbench sweep --sizes 4,8,16 --max-accuracy-drop 1 --latency-slo 2s
  batchbench sweep --provider anthropic --mock --sizes 1,4,16 --no-batch-api

Runs sequential (the accuracy reference), then packed:K and batch-api+packed:K for every K, and
recommends the one with the lowest cost per prompt whose accuracy stays within
--max-accuracy-drop points of sequential, whose p95 latency is under --latency-slo, and whose
requests fit the model's context window as asked. Every other K is listed with the reason it
lost. Writes the usual run files plus sweep.csv.";

const ESTIMATE_EXAMPLES: &str = "\
Examples:
  batchbench estimate --per-day 1000000
  batchbench estimate --dataset big.jsonl --model gpt-4o-mini,gpt-5-mini,claude-haiku-4-5 --sizes 4,8,16
  batchbench estimate --from-run reports/20261125-120000-s42 --per-day 50000 --format md

Tokenises the dataset (streaming: any size in bounded memory, on every core) and prices every
strategy and K for each model, projected per day and per 30-day month at --per-day prompts.
Output tokens per answer come from a previous run's prompts.csv (--from-run) or --output-tokens.";

const COMPARE_EXAMPLES: &str = "\
Examples:
  batchbench compare baseline/ reports/latest/
  batchbench compare baseline/report.json reports/latest/ --max-cost-increase 2% --format md >> \"$GITHUB_STEP_SUMMARY\"

Each run is a run folder or its report.json. Costs are compared per 1,000 prompts.
Exit codes: 0 no regression, 1 regression, 2 bad input (missing file, other schema version,
different datasets unless --allow-dataset-change).";

const MERGE_EXAMPLES: &str = "\
Examples:
  batchbench run --shard 1/3 --out shard1 && batchbench run --shard 2/3 --out shard2 && batchbench run --shard 3/3 --out shard3
  batchbench merge shard1 shard2 shard3 --out merged

Shards split each strategy's planned requests (request i goes to shard i mod N), so a merged run
holds the same requests, tokens and costs as an unsharded one with the same seed.";

/// Options of `sweep`.
#[derive(Debug, Clone, Args)]
pub struct SweepArgs {
    /// Batch sizes to try.
    #[arg(long, value_name = "LIST", default_value = "1,2,4,8,16,32")]
    pub sizes: String,
    /// Largest allowed accuracy drop from sequential, in percentage points.
    #[arg(long, value_name = "PTS", default_value_t = 2.0)]
    pub max_accuracy_drop: f64,
    /// Largest allowed p95 latency per prompt, e.g. 2s or 1500ms [default: none].
    #[arg(long, value_name = "DUR")]
    pub latency_slo: Option<String>,
    /// Skip batch-api+packed:K (only packed:K).
    #[arg(long)]
    pub no_batch_api: bool,
    /// The options of `run` (dataset, model, provider, seed, out, ...).
    #[command(flatten)]
    pub run: RunArgs,
}

/// Options of `compare`.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// The baseline run (folder or report.json), or `history:BRANCH`: the latest run on that
    /// branch in the --history file with the current run's dataset.
    pub baseline: PathBuf,
    /// The current run (folder or report.json).
    pub current: PathBuf,
    /// Largest allowed increase of cost per 1,000 prompts.
    #[arg(long, value_name = "PCT", default_value = "5%")]
    pub max_cost_increase: String,
    /// Largest allowed drop of accuracy, in percentage points.
    #[arg(long, value_name = "PTS", default_value = "1")]
    pub max_accuracy_drop: String,
    /// Largest allowed increase of p95 latency.
    #[arg(long, value_name = "PCT", default_value = "20%")]
    pub max_p95_increase: String,
    /// Compare runs made on different datasets.
    #[arg(long)]
    pub allow_dataset_change: bool,
    /// History file for a `history:BRANCH` baseline.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// Options of `merge`.
#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// The shard run folders.
    #[arg(required = true, num_args = 1..)]
    pub dirs: Vec<PathBuf>,
    /// Output folder [default: reports/<run-id>-merged].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Format of the summary on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Append the merged run to this history file.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Commit SHA to record in the history [default: git rev-parse HEAD].
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// Branch to record in the history [default: from CI variables or git].
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
}

const RUN_EXAMPLES: &str = "\
Examples:
  batchbench run
      The shipped default dataset through the default strategies, against the built-in mock.
  batchbench run --strategies sequential,packed:4,packed:16,batch-api --seed 7
  batchbench run --dataset datasets/long-context.jsonl --strategies sequential,cached
  batchbench run --provider anthropic --mock --model claude-haiku-4-5
      Same, speaking Anthropic's API to the built-in mock.
  OPENAI_API_KEY=sk-... batchbench run --provider openai --model gpt-4o-mini --limit 50
      Against the real OpenAI API (costs money: start small with --limit).
  batchbench run --provider openai --base-url http://localhost:8000/v1 --model my-model --prices my-prices.toml
      Against any OpenAI-compatible server.

  batchbench run --task embed --strategies embed:sequential,embed:array:64,embed:batch-api
      Embeddings: requests, cost and vector agreement with sequential, on the mock.

Strategies: sequential, concurrent:C, packed:K, cached, batch-api, batch-api+packed:K,
naive-multi-message:K (a demonstration of a mistake; it loses answers).
With --task embed: embed:sequential, embed:concurrent:C, embed:array:K (K texts per request,
lowered to the 2,048-input and 300,000-token request limits), embed:batch-api,
embed:batch-api+array:K [default: all five, K = 64, C = 8].
Options may also come from bench.toml (see bench.example.toml); flags override the file.
Exit codes: 0 all prompts answered, 1 some prompts failed, 2 usage or input error.";

const PRICES_EXAMPLES: &str = "\
Examples:
  batchbench prices --model gpt-4o-mini
  batchbench prices --provider anthropic
  batchbench prices --model my-finetune --prices my-prices.toml

The override file (--prices) is TOML:
  [models.\"my-finetune\"]
  input_mtok = 0.30      # USD per million input tokens
  output_mtok = 1.20
  cached_mtok = 0.15     # optional; cache_write_mtok, cache_write_1h_mtok, batch_discount,
                         # context_window, max_output_tokens also optional";

const GEN_EXAMPLES: &str = "\
Examples:
  batchbench gen --count 240 --seed 42 --out datasets/default.jsonl
  batchbench gen --count 1000000 --seed 1 --out /tmp/million.jsonl
  batchbench gen --kind embed --count 200 --seed 7 --out datasets/embed-default.jsonl";

const MOCK_EXAMPLES: &str = "\
Examples:
  batchbench mock --port 8080
  batchbench mock --port 8080 --dataset datasets/default.jsonl --time-scale 0.1
  batchbench mock --config mock.example.toml --api-key secret

Point a client at http://127.0.0.1:8080/v1 (OpenAI) or http://127.0.0.1:8080 (Anthropic).";

/// Output format of the stdout summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// An aligned table.
    Table,
    /// The summaries as JSON.
    Json,
    /// A Markdown table.
    Md,
}

/// What a run measures.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Chat completions: prompts with answers.
    #[default]
    Chat,
    /// Embeddings: texts to vectors (`/v1/embeddings`), strategies `embed:*`.
    Embed,
}

/// How embedding vectors travel on the wire.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum VectorEncoding {
    /// Little-endian float32 in base64 (what the official SDKs ask for).
    #[default]
    Base64,
    /// JSON numbers.
    Float,
}

/// Where a flex request goes when flex has no capacity for it (`--flex-fallback`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum FlexFallback {
    /// Record it failed.
    Never,
    /// Send it once more at the default tier.
    Default,
}

/// Options of `run`.
#[derive(Debug, Clone, Args, Default, serde::Serialize, serde::Deserialize)]
pub struct RunArgs {
    /// `chat` (prompts and answers) or `embed` (texts to vectors: strategies embed:sequential,
    /// embed:concurrent:C, embed:array:K, embed:batch-api, embed:batch-api+array:K; dataset
    /// `{"id","text"}` JSONL or CSV; see docs/EMBEDDINGS.md) [default: chat].
    #[arg(long, value_enum)]
    #[serde(default)]
    pub task: Option<Task>,
    /// Embedding runs: ask for vectors this wide (`dimensions`; text-embedding-3 and later).
    #[arg(long, value_name = "N")]
    #[serde(default)]
    pub dimensions: Option<u32>,
    /// Embedding runs: flag a strategy whose lowest cosine with embed:sequential's vectors is
    /// below this [default: 0.9999].
    #[arg(long, value_name = "COS")]
    #[serde(default)]
    pub vector_tolerance: Option<f64>,
    /// Embedding runs: `encoding_format` to ask for [default: base64].
    #[arg(long, value_enum, value_name = "ENC")]
    #[serde(default)]
    pub encoding: Option<VectorEncoding>,
    /// Prompt set: JSONL (`{"id","prompt","answer"?,"task"?}` per line) or CSV with a header.
    /// Default: datasets/default.jsonl, or the copy of it built into batchbench when that file
    /// is not in the current folder.
    #[arg(long, value_name = "FILE")]
    pub dataset: Option<PathBuf>,
    /// Model id [default: gpt-4o-mini for openai, claude-haiku-4-5 for anthropic,
    /// gemini-2.5-flash for gemini].
    #[arg(long, value_name = "M")]
    pub model: Option<String>,
    /// Comma-separated strategies [default: sequential,concurrent:8,packed:8,cached,batch-api,batch-api+packed:8,naive-multi-message:4].
    #[arg(long, value_name = "LIST")]
    pub strategies: Option<String>,
    /// API to speak. Given alone, talks to the real API (key from OPENAI_API_KEY /
    /// ANTHROPIC_API_KEY / GEMINI_API_KEY or GOOGLE_API_KEY); without it, the built-in mock is
    /// used with the OpenAI API.
    #[arg(long, value_enum)]
    pub provider: Option<ProviderKind>,
    /// Use the built-in mock even though --provider is given.
    #[arg(long)]
    pub mock: bool,
    /// Base URL of the API (OpenAI: including /v1; Gemini: without /v1beta) [env:
    /// OPENAI_BASE_URL / ANTHROPIC_BASE_URL / GEMINI_BASE_URL].
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Read the API key from this file instead of the environment.
    #[arg(long, value_name = "PATH")]
    pub api_key_file: Option<PathBuf>,
    /// Seed for every random choice (the mock's included) [default: 42].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Folder to write the run's files into [default: reports/<run-id>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Configuration file [default: ./bench.toml when present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run only the first N prompts.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Output tokens allowed per answer [default: 64].
    #[arg(long, value_name = "N")]
    pub answer_tokens: Option<u32>,
    /// Stream sequential, concurrent and cached requests (records time to first token).
    #[arg(long)]
    pub stream: bool,
    /// Packed requests to OpenAI: leave out the strict `json_schema` response format, for
    /// OpenAI-compatible servers without structured outputs (the message itself still asks for
    /// one JSON object of answers, as for Anthropic).
    #[arg(long)]
    pub no_json_schema: bool,
    /// OpenAI: the API that carries chat requests: `chat` (chat completions, every
    /// OpenAI-compatible server) or `responses` (the Responses API, also inside the Batch API
    /// with `url: /v1/responses`) [default: chat].
    #[arg(long, value_enum, value_name = "API")]
    #[serde(default)]
    pub api: Option<crate::provider::WireApi>,
    /// Reasoning models: `reasoning_effort` to send on every request (none, minimal, low,
    /// medium, high, xhigh; passed through as given, the server decides what it accepts).
    /// Gemini: a whole number is `thinkingConfig.thinkingBudget` (Gemini 2.5; 0 turns thinking
    /// off), a word `thinkingLevel` (Gemini 3). Reasoning tokens are recorded apart and priced
    /// as output.
    #[arg(long, value_name = "EFFORT")]
    #[serde(default)]
    pub reasoning_effort: Option<String>,
    /// `cached` on Gemini: how long the explicit context cache of the shared instructions is
    /// kept (its `ttl`; `cached:1h` and `cached:24h` keep it an hour and a day); Google bills its
    /// storage per token-hour of this TTL [default: 3600].
    #[arg(long, value_name = "SECS")]
    #[serde(default)]
    pub cache_ttl: Option<u64>,
    /// The flex strategies: what to do with a request flex still refuses for capacity (429
    /// "resource unavailable") after its retries: `never` records it failed, `default` sends it
    /// once more at the default tier (standard prices; counted as a fallback) [default: never].
    #[arg(long, value_enum, value_name = "TIER")]
    #[serde(default)]
    pub flex_fallback: Option<FlexFallback>,
    /// How to count tokens for estimates and packing budgets: `local` (the model's BPE encoding,
    /// o200k_base for unknown models) or `server` (the server's `POST /tokenize`: llama.cpp,
    /// vLLM; falls back to local with a warning where there is none) [default: local].
    #[arg(long, value_name = "HOW")]
    pub tokenizer: Option<TokenizerSource>,
    /// The hourly cost of a self-hosted server (USD): prices each strategy by its wall time
    /// (`time_cost_usd` and per 1,000 prompts in summary.csv and report.md).
    #[arg(long, value_name = "USD")]
    pub price_per_hour: Option<f64>,
    /// Sampling temperature [default: 0 where the model accepts it, so that answers compare;
    /// not sent to models that take only their default].
    #[arg(long, value_name = "T")]
    pub temperature: Option<f32>,
    /// Run `sequential` a second time (reported as `sequential-repeat`) to measure the noise
    /// floor: its self-agreement and self-accuracy difference. For sampling temperatures and
    /// models that take no temperature.
    #[arg(long)]
    #[serde(default)]
    pub repeat_baseline: bool,
    /// TOML file of price overrides for private or missing models.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// A newer genai-prices data file (JSON) to use instead of the bundled one.
    #[arg(long, value_name = "FILE")]
    pub prices_data: Option<PathBuf>,
    /// Mock only: multiply simulated latencies by F (0 = no delay) [default: 0.02].
    #[arg(long, value_name = "F")]
    pub time_scale: Option<f64>,
    /// Mock only: a mock.toml with latency, rate-limit, fault and error-model settings.
    #[arg(long, value_name = "FILE")]
    pub mock_config: Option<PathBuf>,
    /// Retries per request after the first attempt [default: 4].
    #[arg(long, value_name = "N")]
    pub max_retries: Option<u32>,
    /// Longest wait between two polls of a batch, in seconds [default: 30; 1 against the mock].
    #[arg(long, value_name = "SECS")]
    pub poll_max: Option<f64>,
    /// Run shard I of N (1-based): each strategy sends only its planned requests i with
    /// i mod N = I - 1. `auto/N` takes the 0-based index from JOB_COMPLETION_INDEX (Kubernetes
    /// Indexed Jobs) or BATCHBENCH_SHARD_INDEX. Combine the shard folders with `batchbench merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Stop at the first strategy that fails, instead of recording it failed and going on
    /// with the others.
    #[arg(long)]
    #[serde(default)]
    pub fail_fast: bool,
    /// Append the finished run to this SQLite history file (see `batchbench history`).
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Commit SHA to record in the history [default: git rev-parse HEAD].
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// Branch to record in the history [default: from CI variables or git].
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
    /// Format of the summary on stdout.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Continue an interrupted run (a run id under reports/, or a run folder): requests it
    /// completed are not sent again and its submitted batches are polled, not resubmitted.
    /// The run's own options are used; other flags are ignored.
    #[arg(long, value_name = "RUN_ID")]
    #[serde(skip)]
    pub resume: Option<String>,
}

/// Where token counts come from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum TokenizerSource {
    /// The model's BPE encoding, on this machine.
    Local,
    /// The server's tokenize endpoint.
    Server,
}

/// Options of `prices`.
#[derive(Debug, Clone, Args)]
pub struct PricesArgs {
    /// Only this model.
    #[arg(long, value_name = "M")]
    pub model: Option<String>,
    /// Provider whose models to list [default: openai, or inferred from the model name].
    #[arg(long, value_enum)]
    pub provider: Option<ProviderKind>,
    /// TOML file of price overrides.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// A newer genai-prices data file.
    #[arg(long, value_name = "FILE")]
    pub prices_data: Option<PathBuf>,
    /// Output as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `gen` writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum GenKind {
    /// Prompts with gold answers (`{"id","prompt","answer","task"}`).
    #[default]
    Chat,
    /// Texts to embed (`{"id","text"}`).
    Embed,
}

/// Options of `gen`.
#[derive(Debug, Clone, Args)]
pub struct GenArgs {
    /// `chat` prompts or `embed` texts.
    #[arg(long, value_enum, default_value = "chat")]
    pub kind: GenKind,
    /// Number of prompts.
    #[arg(long, value_name = "N")]
    pub count: usize,
    /// Seed.
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub seed: u64,
    /// Output file (JSONL) [default: stdout].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Options of `mock`.
#[derive(Debug, Clone, Args)]
pub struct MockArgs {
    /// Port on 127.0.0.1 (0 picks a free one and prints it).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// mock.toml with latency, rate-limit, fault and error-model settings.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Dataset whose gold answers the mock answers with.
    #[arg(long, value_name = "FILE")]
    pub dataset: Option<PathBuf>,
    /// Require this API key (any non-empty key is accepted otherwise).
    #[arg(long, value_name = "K")]
    pub api_key: Option<String>,
    /// Multiply simulated latencies by F (0 = no delay).
    #[arg(long, value_name = "F")]
    pub time_scale: Option<f64>,
    /// Seed of the mock's random choices.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

/// Options of `batchbench estimate`.
#[derive(Debug, Clone, clap::Args)]
pub struct EstimateArgs {
    /// `chat`, or `embed` to price a corpus of `{"id","text"}` texts for embedding (models
    /// default to text-embedding-3-small; strategies to embed:sequential, embed:array:K for
    /// each --sizes, embed:batch-api, embed:batch-api+array:K).
    #[arg(long, value_enum, default_value = "chat")]
    pub task: Task,
    /// Prompt set (JSONL or CSV); streamed, so any size works.
    #[arg(long, value_name = "FILE", default_value = "datasets/default.jsonl")]
    pub dataset: PathBuf,
    /// Models to price, comma-separated.
    #[arg(
        long,
        value_name = "M,...",
        value_delimiter = ',',
        default_value = "gpt-4o-mini"
    )]
    pub model: Vec<String>,
    /// API whose request format and prices apply [default: anthropic for claude-*, gemini for
    /// gemini-* and gemma-*, else openai].
    #[arg(long, value_enum)]
    pub provider: Option<ProviderKind>,
    /// Strategies [default: sequential, concurrent:8, packed:K for each --sizes, cached,
    /// batch-api, batch-api+packed:K for each --sizes].
    #[arg(long, value_name = "LIST")]
    pub strategies: Option<String>,
    /// Batch sizes K for the default strategies.
    #[arg(long, value_name = "K,...", default_value = "1,2,4,8,16,32")]
    pub sizes: String,
    /// Prompts per day for the projection (a month is 30 days).
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub per_day: u64,
    /// Output tokens per answer [default: 64, run's --answer-tokens cap: an upper bound].
    #[arg(long, value_name = "N", conflicts_with = "from_run")]
    pub output_tokens: Option<u64>,
    /// Take output tokens per answer from a previous run's prompts.csv (per prompt id when the
    /// dataset is the run's, else the mean per prompt of each strategy).
    #[arg(long, value_name = "DIR")]
    pub from_run: Option<PathBuf>,
    /// Price overrides (TOML), as for `run`.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// A newer genai-prices data file, as for `run`.
    #[arg(long, value_name = "FILE")]
    pub prices_data: Option<PathBuf>,
    /// Shared instructions replacing the dataset's header record.
    #[arg(long, value_name = "FILE")]
    pub instructions_file: Option<PathBuf>,
    /// Output tokens `run` would allow per answer (only used to check packed requests against the
    /// model's limits, as `run` plans them).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub answer_tokens: u32,
    /// Worker threads [default: one per core].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Token counter: bpe-openai (fast) or tiktoken-rs; the counts are the same.
    #[arg(long, value_enum, default_value = "bpe-openai")]
    pub counter: crate::tokens::CounterKind,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}
