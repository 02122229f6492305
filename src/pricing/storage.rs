//! Context-cache storage: Gemini bills an explicit cache per token-hour of its TTL, beside the
//! cache's making (its tokens once, at the input rate) and its reads (the cached rate).
//! genai-prices has no storage rates, so Google's published ones are listed here, by model-id
//! prefix (longest wins), and `--prices` can give any model's (`[cache_storage]`).
//!
//! Source: Google's Gemini Developer API pricing page,
//! <https://ai.google.dev/gemini-api/docs/pricing>, "Context caching price" rows, as recorded
//! from the live page on 2026-09-20 and 2026-10-07 (read 2026-12 through the `search` corpus):
//! Gemini 2.5 Pro and the 3.x Pro previews "$4.50 / 1,000,000 tokens per hour (storage
//! price)"; Gemini 2.5 Flash and 2.5 Flash-Lite "$1.00 / 1,000,000 tokens per hour"; Gemini
//! 3.6 and 3.8 Flash "$0.50 … through December 31, 2026", "$1.00 … starting January 1, 2027".

use std::time::{Duration, SystemTime};

use super::Nanodollars;

/// One model family's storage rate, USD per million tokens per hour: `rate` until
/// `until_unix` (exclusive), `after` from then on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StorageRate {
    /// Model-id prefix.
    pub prefix: &'static str,
    /// The rate.
    pub rate: f64,
    /// A scheduled change: (from this instant, seconds since the epoch; the new rate).
    pub change: Option<(u64, f64)>,
}

/// 2027-01-01T00:00:00Z, when the 3.x Flash promotional storage rate ends.
const JAN_2027: u64 = 1_798_761_600;

/// Google's published storage rates (see the module's source note).
pub const STORAGE_RATES: &[StorageRate] = &[
    StorageRate {
        prefix: "gemini-2.0-flash",
        rate: 1.00,
        change: None,
    },
    StorageRate {
        prefix: "gemini-2.5-flash",
        rate: 1.00,
        change: None,
    },
    StorageRate {
        prefix: "gemini-2.5-pro",
        rate: 4.50,
        change: None,
    },
    StorageRate {
        prefix: "gemini-3-pro",
        rate: 4.50,
        change: None,
    },
    StorageRate {
        prefix: "gemini-3.1-pro",
        rate: 4.50,
        change: None,
    },
    StorageRate {
        prefix: "gemini-3.6-flash",
        rate: 0.50,
        change: Some((JAN_2027, 1.00)),
    },
    StorageRate {
        prefix: "gemini-3.8-flash",
        rate: 0.50,
        change: Some((JAN_2027, 1.00)),
    },
];

/// Google's storage rate for `model` at `at`, USD per million tokens per hour.
pub fn published_rate(model: &str, at: SystemTime) -> Option<f64> {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m);
    let found = STORAGE_RATES
        .iter()
        .filter(|r| m.starts_with(r.prefix))
        .max_by_key(|r| r.prefix.len())?;
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Some(match found.change {
        Some((from, later)) if secs >= from => later,
        _ => found.rate,
    })
}

/// The storage cost of `tokens` kept for `ttl` at `usd_per_mtok_hour`: tokens × seconds ×
/// rate / (3,600 × 10⁶), in integer nano-dollars, rounded half up once.
pub fn storage_cost(tokens: u64, ttl: Duration, usd_per_mtok_hour: f64) -> Nanodollars {
    if !usd_per_mtok_hour.is_finite() || usd_per_mtok_hour <= 0.0 {
        return Nanodollars::ZERO;
    }
    let rate_nano = (usd_per_mtok_hour * 1e9).round() as u128;
    let ttl_ms = ttl.as_millis();
    let denominator: u128 = 3_600_000 * 1_000_000;
    let numerator = u128::from(tokens) * ttl_ms * rate_nano;
    let nano = (numerator + denominator / 2) / denominator;
    Nanodollars(u64::try_from(nano).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn published_rates_by_family_and_date() {
        let dec_2026 = at(1_795_564_800);
        assert_eq!(published_rate("gemini-2.5-flash", dec_2026), Some(1.00));
        assert_eq!(
            published_rate("gemini-2.5-flash-lite", dec_2026),
            Some(1.00)
        );
        assert_eq!(
            published_rate("models/gemini-2.5-pro", dec_2026),
            Some(4.50)
        );
        assert_eq!(published_rate("gemini-3.6-flash", dec_2026), Some(0.50));
        assert_eq!(published_rate("gemini-3.6-flash", at(JAN_2027)), Some(1.00));
        assert_eq!(published_rate("gpt-4o-mini", dec_2026), None);
    }

    #[test]
    fn storage_by_hand() {
        // 4,700 tokens for one hour at $1.00 per million per hour: $0.0047.
        assert_eq!(
            storage_cost(4_700, Duration::from_secs(3600), 1.00),
            Nanodollars(4_700_000)
        );
        // 100,000 tokens for 5 minutes at $4.50: 0.1 x 4.5 / 12 = $0.0375.
        assert_eq!(
            storage_cost(100_000, Duration::from_secs(300), 4.50),
            Nanodollars(37_500_000)
        );
        // 1 token for 1 s at $1: 1e-6 / 3600 dollars = 0.28 nano-dollars, rounded to 0.
        assert_eq!(storage_cost(1, Duration::from_secs(1), 1.0), Nanodollars(0));
        assert_eq!(
            storage_cost(10, Duration::from_secs(3600), 0.0),
            Nanodollars(0)
        );
    }
}
