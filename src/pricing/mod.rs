//! Prices: the genai-prices database (bundled, or a newer data file), per-model TOML overrides,
//! and the exact cost of each request at the run's pinned timestamp.

mod models;
mod money;
mod overrides;
mod rates;
pub mod storage;
mod tier;

use std::path::Path;
use std::time::SystemTime;

use genai_prices::{Calculator, PriceRequest, Usage as PriceUsage, UsageKey};
use sha2::{Digest, Sha256};

pub use models::{ModelLimits, model_limits};
pub use money::Nanodollars;
pub use overrides::{Override, Overrides, toml_error_line};
pub use rates::{LongContext, Rates};
pub use tier::ServedTier;

use crate::error::{Error, Result};
use crate::provider::{ProviderKind, Usage};

/// The genai-prices crate version whose bundled data is compiled in.
pub const GENAI_PRICES_VERSION: &str = "0.2.1";

/// Where the prices come from, for every report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PriceSource {
    /// Human description, e.g. `genai-prices 0.2.1 (bundled data)`.
    pub name: String,
    /// SHA-256 of a loaded data file, if one was loaded.
    pub data_sha256: Option<String>,
    /// The override file, if any.
    pub overrides: Option<String>,
    /// The instant prices are taken at (RFC 3339): the run's start.
    pub as_of: String,
}

enum Source {
    Bundled,
    Loaded(Box<Calculator>),
}

/// The price table in use for a run.
pub struct Pricing {
    source: Source,
    overrides: Overrides,
    timestamp: SystemTime,
    description: PriceSource,
}

impl std::fmt::Debug for Pricing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pricing")
            .field("source", &self.description)
            .finish_non_exhaustive()
    }
}

impl Pricing {
    /// The bundled genai-prices data, priced at `timestamp`.
    pub fn bundled(timestamp: SystemTime) -> Pricing {
        Pricing {
            source: Source::Bundled,
            overrides: Overrides::default(),
            timestamp,
            description: PriceSource {
                name: format!("genai-prices {GENAI_PRICES_VERSION} (bundled data)"),
                data_sha256: None,
                overrides: None,
                as_of: rfc3339(timestamp),
            },
        }
    }

    /// Builds the table from the options: `--prices-data FILE` (a genai-prices v2 data file) and
    /// `--prices FILE` (TOML overrides).
    pub fn load(
        data: Option<&Path>,
        overrides: Option<&Path>,
        timestamp: SystemTime,
    ) -> Result<Pricing> {
        let mut pricing = Pricing::bundled(timestamp);
        if let Some(path) = data {
            let bytes = std::fs::read(path).map_err(|e| {
                Error::Config(format!("{}: cannot read price data: {e}", path.display()))
            })?;
            let calc = Calculator::from_json(&bytes).map_err(|e| {
                Error::Config(format!(
                    "{}: not a genai-prices data file: {e}",
                    path.display()
                ))
            })?;
            pricing.source = Source::Loaded(Box::new(calc));
            pricing.description.name = format!("genai-prices data file {}", path.display());
            pricing.description.data_sha256 = Some(hex::encode(Sha256::digest(&bytes)));
        }
        if let Some(path) = overrides {
            pricing.overrides = Overrides::load(path)?;
            pricing.description.overrides = Some(path.display().to_string());
        }
        Ok(pricing)
    }

    /// Replaces the overrides (used by `bench.toml`'s inline `[prices]` table).
    pub fn with_overrides(mut self, overrides: Overrides, origin: &str) -> Pricing {
        self.overrides.extend(overrides);
        self.description.overrides = Some(origin.to_string());
        self
    }

    fn calculator(&self) -> &Calculator {
        match &self.source {
            Source::Bundled => Calculator::bundled(),
            Source::Loaded(c) => c,
        }
    }

    /// Where the prices come from.
    pub fn source(&self) -> &PriceSource {
        &self.description
    }

    /// The pinned timestamp.
    pub fn timestamp(&self) -> SystemTime {
        self.timestamp
    }

    /// The exact cost of one request with this usage. `batch`: the request went through a
    /// provider's batch API.
    pub fn cost(
        &self,
        provider: ProviderKind,
        model: &str,
        usage: &Usage,
        batch: bool,
    ) -> Result<Nanodollars> {
        let tier = if batch {
            ServedTier::Batch
        } else {
            ServedTier::Standard
        };
        self.cost_at(provider, model, usage, tier)
    }

    /// The exact cost of one request served at `tier` (the tier its response reported). A model
    /// without rates for a flex or priority tier is an error naming both, never a silent
    /// standard price.
    pub fn cost_at(
        &self,
        provider: ProviderKind,
        model: &str,
        usage: &Usage,
        tier: ServedTier,
    ) -> Result<Nanodollars> {
        if let Some(o) = self.overrides.get(model) {
            return match tier {
                ServedTier::Standard | ServedTier::Batch => {
                    Ok(o.cost(usage, tier == ServedTier::Batch))
                }
                _ => Err(no_tier_price(model, tier)),
            };
        }
        let cost = self.data_cost(provider, model, usage, tier)?;
        if matches!(tier, ServedTier::Flex | ServedTier::Priority)
            && !self.has_tier(provider, model, tier)?
        {
            return Err(no_tier_price(model, tier));
        }
        Ok(cost)
    }

    /// Whether the price data has its own rates for `tier` on this model: genai-prices falls
    /// back to the standard rates for a price context it has no variant for, so the rates of a
    /// probe are compared.
    pub fn has_tier(&self, provider: ProviderKind, model: &str, tier: ServedTier) -> Result<bool> {
        if tier == ServedTier::Standard {
            return Ok(true);
        }
        if self.overrides.get(model).is_some() {
            return Ok(tier == ServedTier::Batch);
        }
        let probe = Usage {
            input_tokens: 1_000_000,
            output_tokens: 1_000_000,
            ..Usage::default()
        };
        let standard = self.data_cost(provider, model, &probe, ServedTier::Standard)?;
        Ok(self.data_cost(provider, model, &probe, tier)? != standard)
    }

    fn data_cost(
        &self,
        provider: ProviderKind,
        model: &str,
        usage: &Usage,
        tier: ServedTier,
    ) -> Result<Nanodollars> {
        let mut u = PriceUsage::new();
        u.insert(UsageKey::INPUT_TOKENS, usage.input_tokens as f64);
        u.insert(UsageKey::OUTPUT_TOKENS, usage.output_tokens as f64);
        if usage.cached_tokens > 0 {
            u.insert(UsageKey::CACHE_READ_TOKENS, usage.cached_tokens as f64);
        }
        if usage.cache_write_tokens > 0 {
            u.insert(
                UsageKey::CACHE_WRITE_TOKENS,
                usage.cache_write_tokens as f64,
            );
        }
        if usage.cache_write_1h_tokens > 0 {
            u.insert(
                UsageKey::CACHE_WRITE_1H_TOKENS,
                usage.cache_write_1h_tokens.min(usage.cache_write_tokens) as f64,
            );
        }
        let mut request = PriceRequest::new(model, &u)
            .with_provider_id(provider.price_provider_id())
            .with_timestamp(self.timestamp);
        if let Some((key, value)) = tier.price_context() {
            request = request.with_price_context(key, value);
        }
        let price = self.calculator().calculate(&request).map_err(|e| {
            Error::Pricing(format!(
                "cannot price model {model:?} ({e}); give its rates with --prices FILE (see `batchbench prices --help`)"
            ))
        })?;
        Ok(Nanodollars::from_usd(price.total_price))
    }

    /// The cache-storage rate for `model`, USD per million tokens per hour: `--prices`'s
    /// `[cache_storage]` table, a model override's `cache_storage_mtok_hour`, else Google's
    /// published rate ([`storage`]) at the pinned timestamp.
    pub fn cache_storage_rate(&self, model: &str) -> Option<f64> {
        self.overrides
            .storage_rate(model)
            .or_else(|| storage::published_rate(model, self.timestamp))
    }

    /// What an explicit cache of `tokens` kept for `ttl` costs: its making (the tokens as
    /// cache writes, which Gemini bills at the input rate) and its storage. A model without a
    /// storage rate is an error naming it and how to give one.
    pub fn cache_cost(
        &self,
        provider: ProviderKind,
        model: &str,
        tokens: u64,
        ttl: std::time::Duration,
    ) -> Result<(Nanodollars, Nanodollars)> {
        let rate = self.cache_storage_rate(model).ok_or_else(|| {
            Error::Pricing(format!(
                "model {model:?} has no cache storage rate (batchbench lists Google's published ones \
                 for Gemini 2.x and 3.x models): give it with --prices FILE, a [cache_storage] \
                 table of USD per million tokens per hour"
            ))
        })?;
        let making = Usage {
            input_tokens: tokens,
            cache_write_tokens: tokens,
            ..Usage::default()
        };
        let made = self.cost_at(provider, model, &making, ServedTier::Standard)?;
        Ok((made, storage::storage_cost(tokens, ttl, rate)))
    }

    /// Whether `--prices` (or bench.toml) gives this model's rates, batch discount included.
    pub fn has_override(&self, model: &str) -> bool {
        self.overrides.get(model).is_some()
    }

    /// Checks up front that a model can be priced, so a run fails before sending anything.
    pub fn check_model(&self, provider: ProviderKind, model: &str) -> Result<()> {
        self.cost(
            provider,
            model,
            &Usage {
                input_tokens: 1,
                output_tokens: 1,
                ..Usage::default()
            },
            false,
        )
        .map(|_| ())
    }

    /// The model id the price data matched (e.g. a dated snapshot maps to its family).
    pub fn matched_model(&self, provider: ProviderKind, model: &str) -> Option<String> {
        if self.overrides.get(model).is_some() {
            return Some(model.to_string());
        }
        let u = PriceUsage::from([(UsageKey::INPUT_TOKENS, 1.0)]);
        let request = PriceRequest::new(model, &u)
            .with_provider_id(provider.price_provider_id())
            .with_timestamp(self.timestamp);
        self.calculator()
            .calculate(&request)
            .ok()
            .map(|p| p.model_id)
    }

    /// The model's context window, from overrides or the price data.
    pub fn context_window(&self, provider: ProviderKind, model: &str) -> Option<u64> {
        if let Some(w) = self.overrides.get(model).and_then(|o| o.context_window) {
            return Some(w);
        }
        let id = self.matched_model(provider, model)?;
        let p = self
            .calculator()
            .find_provider(Some(provider.price_provider_id()), None)
            .ok()??;
        p.models()
            .find(|m| m.id() == id)
            .and_then(|m| m.context_window())
    }

    /// Every model id the data knows for a provider (for `prices` without `--model`).
    pub fn models(&self, provider: ProviderKind) -> Vec<String> {
        let mut ids: Vec<String> = self.overrides.names().map(str::to_string).collect();
        if let Ok(Some(p)) = self
            .calculator()
            .find_provider(Some(provider.price_provider_id()), None)
        {
            ids.extend(p.models().map(|m| m.id().to_string()));
        }
        ids
    }
}

fn no_tier_price(model: &str, tier: ServedTier) -> Error {
    Error::Pricing(format!(
        "model {model:?} has no {tier} price in the price data (genai-prices lists flex and \
         priority rates for some OpenAI models only): leave the {tier} strategies out or use a \
         model that has them"
    ))
}

/// Formats a timestamp as RFC 3339 (UTC, seconds).
pub fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// 2026-11-25T00:00:00Z: after the batch rates' verification date (2026-10-14).
    fn at() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_795_564_800)
    }

    fn cost(p: ProviderKind, model: &str, usage: Usage, batch: bool) -> Nanodollars {
        Pricing::bundled(at())
            .cost(p, model, &usage, batch)
            .unwrap()
    }

    const M: u64 = 1_000_000;

    #[test]
    fn gpt_4o_mini_by_hand() {
        // $0.15 / M input, $0.60 / M output, $0.075 / M cached.
        let u = Usage {
            input_tokens: 1_000,
            output_tokens: 100,
            ..Usage::default()
        };
        // 1000 * 0.15e-6 + 100 * 0.6e-6 = 0.00015 + 0.00006 = $0.00021
        assert_eq!(
            cost(ProviderKind::Openai, "gpt-4o-mini", u, false),
            Nanodollars(210_000)
        );
        // batch: half, $0.000105
        assert_eq!(
            cost(ProviderKind::Openai, "gpt-4o-mini", u, true),
            Nanodollars(105_000)
        );
        // API-NOTES table: 1M input of which 0.5M cached: $0.1125 standard, $0.075 batch.
        let c = Usage {
            input_tokens: M,
            cached_tokens: M / 2,
            ..Usage::default()
        };
        assert_eq!(
            cost(ProviderKind::Openai, "gpt-4o-mini", c, false),
            Nanodollars(112_500_000)
        );
        assert_eq!(
            cost(ProviderKind::Openai, "gpt-4o-mini", c, true),
            Nanodollars(75_000_000)
        );
    }

    #[test]
    fn table_of_api_notes() {
        let both = Usage {
            input_tokens: M,
            output_tokens: M,
            ..Usage::default()
        };
        let half_cached = Usage {
            input_tokens: M,
            cached_tokens: M / 2,
            ..Usage::default()
        };
        for (model, std, batch, cstd, cbatch) in [
            ("gpt-4o", 12.50, 6.25, 1.875, 1.25),
            ("gpt-4.1", 10.00, 5.00, 1.25, 0.75),
            ("gpt-5", 11.25, 5.625, 0.6875, 0.34375),
            ("gpt-5-mini", 2.25, 1.125, 0.1375, 0.06875),
        ] {
            assert_eq!(
                cost(ProviderKind::Openai, model, both, false),
                Nanodollars::from_usd(std),
                "{model}"
            );
            assert_eq!(
                cost(ProviderKind::Openai, model, both, true),
                Nanodollars::from_usd(batch),
                "{model}"
            );
            assert_eq!(
                cost(ProviderKind::Openai, model, half_cached, false),
                Nanodollars::from_usd(cstd),
                "{model}"
            );
            assert_eq!(
                cost(ProviderKind::Openai, model, half_cached, true),
                Nanodollars::from_usd(cbatch),
                "{model}"
            );
        }
    }

    #[test]
    fn anthropic_cache_write_and_read() {
        // claude-haiku-4-5: $1 in, $5 out, write 1.25, read 0.1. 3M input of which 1M write + 1M read:
        // 1M*1 + 1M*1.25 + 1M*0.1 = $2.35; batch halves: $1.175.
        let u = Usage {
            input_tokens: 3 * M,
            cache_write_tokens: M,
            cached_tokens: M,
            ..Usage::default()
        };
        assert_eq!(
            cost(ProviderKind::Anthropic, "claude-haiku-4-5", u, false),
            Nanodollars(2_350_000_000)
        );
        assert_eq!(
            cost(ProviderKind::Anthropic, "claude-haiku-4-5", u, true),
            Nanodollars(1_175_000_000)
        );
        // 1 h writes cost 2x input: 1M of them on haiku = $2.
        let h = Usage {
            input_tokens: M,
            cache_write_tokens: M,
            cache_write_1h_tokens: M,
            ..Usage::default()
        };
        assert_eq!(
            cost(ProviderKind::Anthropic, "claude-haiku-4-5", h, false),
            Nanodollars(2_000_000_000)
        );
        let both = Usage {
            input_tokens: M,
            output_tokens: M,
            ..Usage::default()
        };
        assert_eq!(
            cost(ProviderKind::Anthropic, "claude-sonnet-5", both, false),
            Nanodollars(12_000_000_000)
        );
        assert_eq!(
            cost(ProviderKind::Anthropic, "claude-sonnet-5", both, true),
            Nanodollars(6_000_000_000)
        );
    }

    #[test]
    fn long_context_tier_is_per_request() {
        // claude-sonnet-4-5: 100k in + 1k out = 0.3 + 0.015 = $0.315; 250k + 1k (>200k tier) =
        // 250k*6e-6 + 1k*22.5e-6 = 1.5 + 0.0225 = $1.5225.
        let small = Usage {
            input_tokens: 100_000,
            output_tokens: 1_000,
            ..Usage::default()
        };
        let big = Usage {
            input_tokens: 250_000,
            output_tokens: 1_000,
            ..Usage::default()
        };
        assert_eq!(
            cost(ProviderKind::Anthropic, "claude-sonnet-4-5", small, false),
            Nanodollars(315_000_000)
        );
        assert_eq!(
            cost(ProviderKind::Anthropic, "claude-sonnet-4-5", big, false),
            Nanodollars(1_522_500_000)
        );
    }

    #[test]
    fn rates_are_probed_from_the_data() {
        let p = Pricing::bundled(at());
        let r = p.rates(ProviderKind::Openai, "gpt-4o-mini", false).unwrap();
        assert_eq!(
            (r.input_mtok, r.cached_mtok, r.output_mtok),
            (0.15, 0.075, 0.6)
        );
        let b = p.rates(ProviderKind::Openai, "gpt-4o-mini", true).unwrap();
        assert_eq!(
            (b.input_mtok, b.cached_mtok, b.output_mtok),
            (0.075, 0.075, 0.3)
        );
        let a = p
            .rates(ProviderKind::Anthropic, "claude-haiku-4-5", false)
            .unwrap();
        assert_eq!(
            (a.cache_write_mtok, a.cache_write_1h_mtok, a.cached_mtok),
            (1.25, 2.0, 0.1)
        );
        assert_eq!(
            p.context_window(ProviderKind::Openai, "gpt-4o-mini"),
            Some(128_000)
        );
        // Models with a long-context tier print their base rates (gpt-5.6-sol: $4 input below
        // 272k tokens, $8 above), and their priced cache writes (1.25× input).
        let sol = p.rates(ProviderKind::Openai, "gpt-5.6-sol", false).unwrap();
        assert_eq!(
            (
                sol.input_mtok,
                sol.cache_write_mtok,
                sol.cached_mtok,
                sol.output_mtok
            ),
            (4.0, 5.0, 0.4, 20.0)
        );
    }

    #[test]
    fn gemini_flash_by_hand() {
        // Google's published rates for gemini-2.5-flash (ai.google.dev/gemini-api/docs/pricing):
        // $0.30 / M input, $2.50 / M output (thinking included), $0.03 / M cache reads; Batch
        // halves input and output, cache reads stay at $0.03.
        let g = |u: Usage, batch| cost(ProviderKind::Gemini, "gemini-2.5-flash", u, batch);
        let plain = Usage {
            input_tokens: 1_000,
            output_tokens: 100,
            ..Usage::default()
        };
        // 1,000 x 0.30e-6 + 100 x 2.50e-6 = 0.0003 + 0.00025 = $0.00055; batch $0.000275.
        assert_eq!(g(plain, false), Nanodollars(550_000));
        assert_eq!(g(plain, true), Nanodollars(275_000));
        let cached = Usage {
            input_tokens: 10_000,
            cached_tokens: 8_000,
            output_tokens: 200,
            reasoning_tokens: 50,
            ..Usage::default()
        };
        // 2,000 x 0.30e-6 + 8,000 x 0.03e-6 + 200 x 2.50e-6 = 0.0006 + 0.00024 + 0.0005.
        assert_eq!(g(cached, false), Nanodollars(1_340_000));
        // Batch: 2,000 x 0.15e-6 + 8,000 x 0.03e-6 + 200 x 1.25e-6 = 0.0003 + 0.00024 + 0.00025.
        assert_eq!(g(cached, true), Nanodollars(790_000));
    }

    #[test]
    fn gemini_pro_long_context_tier_by_hand() {
        // gemini-2.5-pro: $1.25 / $10 per M for prompts up to 200,000 tokens, $2.50 / $15
        // above (the whole request); batch halves both.
        let g = |input, batch| {
            let u = Usage {
                input_tokens: input,
                output_tokens: 1_000,
                ..Usage::default()
            };
            cost(ProviderKind::Gemini, "gemini-2.5-pro", u, batch)
        };
        // 200,000 x 1.25e-6 + 1,000 x 10e-6 = 0.25 + 0.01.
        assert_eq!(g(200_000, false), Nanodollars(260_000_000));
        // 200,001 x 2.50e-6 + 1,000 x 15e-6 = 0.5000025 + 0.015.
        assert_eq!(g(200_001, false), Nanodollars(515_002_500));
        assert_eq!(g(200_000, true), Nanodollars(130_000_000));
        // 200,001 x 1.25e-6 + 1,000 x 7.5e-6 = 0.25000125 + 0.0075.
        assert_eq!(g(200_001, true), Nanodollars(257_501_250));
        let p = Pricing::bundled(at());
        let r = p
            .rates(ProviderKind::Gemini, "gemini-2.5-pro", false)
            .unwrap();
        assert_eq!(
            (r.input_mtok, r.cached_mtok, r.output_mtok),
            (1.25, 0.125, 10.0)
        );
        let long = p
            .long_context(ProviderKind::Gemini, "gemini-2.5-pro", ServedTier::Standard)
            .unwrap()
            .unwrap();
        assert_eq!(long.above_tokens, 200_000);
        let l = long.rates;
        assert_eq!(
            (l.input_mtok, l.cached_mtok, l.output_mtok),
            (2.5, 0.25, 15.0)
        );
        let b = p
            .long_context(ProviderKind::Gemini, "gemini-2.5-pro", ServedTier::Batch)
            .unwrap()
            .unwrap()
            .rates;
        assert_eq!(
            (b.input_mtok, b.cached_mtok, b.output_mtok),
            (1.25, 0.25, 7.5)
        );
        assert_eq!(
            p.long_context(
                ProviderKind::Gemini,
                "gemini-2.5-flash",
                ServedTier::Standard
            )
            .unwrap(),
            None
        );
    }

    #[test]
    fn gemini_cache_making_and_storage_by_hand() {
        // A 4,700-token cache on gemini-2.5-flash kept one hour: made at the input rate,
        // 4,700 x 0.30e-6 = $0.00141; stored at $1.00 per M per hour, 4,700 x 1e-6 = $0.0047.
        let p = Pricing::bundled(at());
        let hour = std::time::Duration::from_secs(3600);
        assert_eq!(
            p.cache_cost(ProviderKind::Gemini, "gemini-2.5-flash", 4_700, hour)
                .unwrap(),
            (Nanodollars(1_410_000), Nanodollars(4_700_000))
        );
        // gemini-2.5-pro stores at $4.50: 100,000 tokens for 5 minutes is $0.0375.
        let (_, stored) = p
            .cache_cost(
                ProviderKind::Gemini,
                "gemini-2.5-pro",
                100_000,
                std::time::Duration::from_secs(300),
            )
            .unwrap();
        assert_eq!(stored, Nanodollars(37_500_000));
        let e = p
            .cache_cost(ProviderKind::Openai, "gpt-4o-mini", 10, hour)
            .unwrap_err();
        assert!(e.to_string().contains("[cache_storage]"), "{e}");
        // Flex and priority: the bundled data has no such rates for gemini-2.5-flash.
        assert!(
            !p.has_tier(ProviderKind::Gemini, "gemini-2.5-flash", ServedTier::Flex)
                .unwrap()
        );
    }

    #[test]
    fn claude_rates_are_the_base_tier_and_the_long_tier_apart() {
        let p = Pricing::bundled(at());
        let r = p
            .rates(ProviderKind::Anthropic, "claude-sonnet-4-5", false)
            .unwrap();
        assert_eq!((r.input_mtok, r.output_mtok), (3.0, 15.0));
        let long = p
            .long_context(
                ProviderKind::Anthropic,
                "claude-sonnet-4-5",
                ServedTier::Standard,
            )
            .unwrap()
            .unwrap();
        assert_eq!(long.above_tokens, 200_000);
        assert_eq!((long.rates.input_mtok, long.rates.output_mtok), (6.0, 22.5));
    }

    #[test]
    fn unknown_model_is_a_clear_error() {
        let e = Pricing::bundled(at())
            .check_model(ProviderKind::Openai, "my-private-model")
            .unwrap_err();
        assert!(e.to_string().contains("--prices FILE"), "{e}");
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn served_tiers_priced_by_their_own_rates() {
        let p = Pricing::bundled(at());
        let u = Usage {
            input_tokens: 1_000_000,
            output_tokens: 1_000_000,
            ..Usage::default()
        };
        let cost = |model: &str, tier| p.cost_at(ProviderKind::Openai, model, &u, tier);
        // gpt-5-mini (genai-prices bundled data): standard $0.25 + $2; flex $0.125 + $1;
        // priority $0.45 + $3.60 per million input + output tokens.
        assert_eq!(
            cost("gpt-5-mini", ServedTier::Standard).unwrap(),
            Nanodollars::from_usd(2.25)
        );
        assert_eq!(
            cost("gpt-5-mini", ServedTier::Flex).unwrap(),
            Nanodollars::from_usd(1.125)
        );
        assert_eq!(
            cost("gpt-5-mini", ServedTier::Priority).unwrap(),
            Nanodollars::from_usd(4.05)
        );
        // Flex costs what the Batch API costs for the same usage.
        assert_eq!(
            cost("gpt-5-mini", ServedTier::Batch).unwrap(),
            Nanodollars::from_usd(1.125)
        );
        // gpt-4o-mini has priority rates ($0.25 + $1) but no flex rates: an error naming both.
        assert_eq!(
            cost("gpt-4o-mini", ServedTier::Priority).unwrap(),
            Nanodollars::from_usd(1.25)
        );
        let e = cost("gpt-4o-mini", ServedTier::Flex)
            .unwrap_err()
            .to_string();
        assert!(e.contains("gpt-4o-mini") && e.contains("flex"), "{e}");
        assert!(
            !p.has_tier(ProviderKind::Openai, "gpt-4o-mini", ServedTier::Flex)
                .unwrap()
        );
    }
}
