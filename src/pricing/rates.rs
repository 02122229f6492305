//! The rates in use, as `prices` prints them and the reports quote them: probed from the price
//! data itself (so overrides, price variants and dated prices all show as they are applied).
//! A small prompt gives the base rates; a model whose rates change with the prompt's size
//! (Gemini 2.5 Pro above 200,000 prompt tokens) also gets the threshold and the long-context
//! rates, since genai-prices prices a whole request at the tier its input reaches.

use super::{Nanodollars, Pricing, ServedTier};
use crate::error::Result;
use crate::provider::{ProviderKind, Usage};

/// Per-million-token rates for one model, as used (probed from the price data itself).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Rates {
    /// Uncached input.
    pub input_mtok: f64,
    /// Cache reads.
    pub cached_mtok: f64,
    /// Cache writes (5 min TTL; Gemini: a context cache's making, at the input rate).
    pub cache_write_mtok: f64,
    /// Cache writes (1 h TTL).
    pub cache_write_1h_mtok: f64,
    /// Output.
    pub output_mtok: f64,
}

/// Rates that apply to a whole request once its prompt passes a size.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LongContext {
    /// Requests whose input is above this many tokens pay [`LongContext::rates`].
    pub above_tokens: u64,
    /// The rates above it.
    pub rates: Rates,
}

/// The prompt size the base rates are probed at (scaled up to a million): below every
/// long-context threshold in the data.
const SMALL: u64 = 1_000;
/// The prompt size long-context rates are probed at, and the largest threshold looked for.
const LARGE: u64 = 1_000_000;

impl Pricing {
    /// The rates in use at standard or batch prices.
    pub fn rates(&self, provider: ProviderKind, model: &str, batch: bool) -> Result<Rates> {
        let tier = if batch {
            ServedTier::Batch
        } else {
            ServedTier::Standard
        };
        self.rates_at(provider, model, tier)
    }

    /// The base rates of one served tier (an error where the model has none for it).
    pub fn rates_at(&self, provider: ProviderKind, model: &str, tier: ServedTier) -> Result<Rates> {
        self.probe_rates(provider, model, tier, SMALL)
    }

    /// The long-context threshold and rates of one served tier, when the model has them.
    pub fn long_context(
        &self,
        provider: ProviderKind,
        model: &str,
        tier: ServedTier,
    ) -> Result<Option<LongContext>> {
        let per_mtok = |n: u64| -> Result<u128> {
            let usage = Usage {
                input_tokens: n,
                ..Usage::default()
            };
            let cost = self.cost_at(provider, model, &usage, tier)?;
            Ok(u128::from(cost.0) * u128::from(LARGE) / u128::from(n))
        };
        let base = per_mtok(SMALL)?;
        if per_mtok(LARGE)? == base {
            return Ok(None);
        }
        let (mut low, mut high) = (SMALL, LARGE);
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            if per_mtok(mid)? == base {
                low = mid;
            } else {
                high = mid;
            }
        }
        let rates = self.probe_rates(provider, model, tier, LARGE)?;
        Ok(Some(LongContext {
            above_tokens: low,
            rates,
        }))
    }

    /// Rates from a prompt of `n` input tokens (whose size sets the tier) priced plainly, all
    /// cached, all written, and with `n` output tokens added, each scaled to a million.
    fn probe_rates(
        &self,
        provider: ProviderKind,
        model: &str,
        tier: ServedTier,
        n: u64,
    ) -> Result<Rates> {
        let cost = |usage: Usage| self.cost_at(provider, model, &usage, tier);
        let prompt = Usage {
            input_tokens: n,
            ..Usage::default()
        };
        let plain = cost(prompt)?;
        let per_mtok = |c: Nanodollars| c.0 as f64 * (LARGE / n) as f64 / 1e9;
        Ok(Rates {
            input_mtok: per_mtok(plain),
            cached_mtok: per_mtok(cost(Usage {
                cached_tokens: n,
                ..prompt
            })?),
            cache_write_mtok: per_mtok(cost(Usage {
                cache_write_tokens: n,
                ..prompt
            })?),
            cache_write_1h_mtok: per_mtok(cost(Usage {
                cache_write_tokens: n,
                cache_write_1h_tokens: n,
                ..prompt
            })?),
            output_mtok: per_mtok(Nanodollars(
                cost(Usage {
                    output_tokens: n,
                    ..prompt
                })?
                .0
                .saturating_sub(plain.0),
            )),
        })
    }
}
