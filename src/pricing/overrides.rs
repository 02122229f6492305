//! Price overrides for private or missing models: a small TOML file.
//!
//! ```toml
//! [models."my-finetune"]
//! input_mtok = 0.30          # USD per million uncached input tokens (required)
//! output_mtok = 1.20         # USD per million output tokens (required)
//! cached_mtok = 0.15         # cache reads; default: input_mtok
//! cache_write_mtok = 0.375   # cache writes; default: input_mtok
//! cache_write_1h_mtok = 0.6  # 1 h cache writes; default: cache_write_mtok
//! batch_discount = 0.5       # batch price = (1 - discount) x standard; default 0.5
//! context_window = 128000    # tokens; used to keep packed requests inside it
//! max_output_tokens = 16384
//! cache_storage_mtok_hour = 1.0  # explicit context caches: USD per million tokens per hour
//!
//! [cache_storage]            # storage rates alone, for models priced from the data
//! "gemini-2.5-flash" = 1.00  # USD per million tokens per hour
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use super::Nanodollars;
use crate::error::{Error, Result};
use crate::provider::Usage;

/// One model's rates, in USD per million tokens.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Uncached input.
    pub input_mtok: f64,
    /// Output.
    pub output_mtok: f64,
    /// Cache reads (default: the input rate).
    pub cached_mtok: Option<f64>,
    /// Cache writes (default: the input rate).
    pub cache_write_mtok: Option<f64>,
    /// 1 h cache writes (default: the cache write rate).
    pub cache_write_1h_mtok: Option<f64>,
    /// Fraction taken off in batch mode (default 0.5).
    pub batch_discount: Option<f64>,
    /// Context window in tokens.
    pub context_window: Option<u64>,
    /// Maximum output tokens per request.
    pub max_output_tokens: Option<u64>,
    /// Explicit context caches' storage, USD per million tokens per hour.
    #[serde(default)]
    pub cache_storage_mtok_hour: Option<f64>,
}

impl Override {
    /// The cost of one request at these rates.
    pub fn cost(&self, usage: &Usage, batch: bool) -> Nanodollars {
        let cached = self.cached_mtok.unwrap_or(self.input_mtok);
        let write = self.cache_write_mtok.unwrap_or(self.input_mtok);
        let write_1h = self.cache_write_1h_mtok.unwrap_or(write);
        let w1h = usage.cache_write_1h_tokens.min(usage.cache_write_tokens);
        let usd = (usage.uncached_input() as f64 * self.input_mtok
            + usage.cached_tokens as f64 * cached
            + (usage.cache_write_tokens - w1h) as f64 * write
            + w1h as f64 * write_1h
            + usage.output_tokens as f64 * self.output_mtok)
            / 1e6;
        let factor = if batch {
            1.0 - self.batch_discount.unwrap_or(0.5)
        } else {
            1.0
        };
        Nanodollars::from_usd(usd * factor)
    }

    fn validate(&self, at: &str) -> Result<()> {
        let rates = [
            ("input_mtok", Some(self.input_mtok)),
            ("output_mtok", Some(self.output_mtok)),
            ("cached_mtok", self.cached_mtok),
            ("cache_write_mtok", self.cache_write_mtok),
            ("cache_write_1h_mtok", self.cache_write_1h_mtok),
            ("cache_storage_mtok_hour", self.cache_storage_mtok_hour),
        ];
        for (name, value) in rates {
            if let Some(v) = value {
                if !v.is_finite() || v < 0.0 {
                    return Err(Error::Config(format!(
                        "{at}: {name} must be a non-negative number, got {v}"
                    )));
                }
            }
        }
        if let Some(d) = self.batch_discount {
            if !(0.0..=1.0).contains(&d) {
                return Err(Error::Config(format!(
                    "{at}: batch_discount must be between 0 and 1, got {d}"
                )));
            }
        }
        Ok(())
    }
}

/// All overrides, by model id (exact, case-sensitive).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Rates per model id.
    #[serde(default)]
    pub models: BTreeMap<String, Override>,
    /// Context-cache storage rates per model id (USD per million tokens per hour), for models
    /// whose other rates come from the price data.
    #[serde(default)]
    pub cache_storage: BTreeMap<String, f64>,
}

impl Overrides {
    /// Reads and validates an override file.
    pub fn load(path: &Path) -> Result<Overrides> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!(
                "{}: cannot read price overrides: {e}",
                path.display()
            ))
        })?;
        Overrides::parse(&text, &path.display().to_string())
    }

    /// Parses override TOML; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Overrides> {
        let o: Overrides = toml::from_str(text)
            .map_err(|e| Error::Config(format!("{origin}:{}", toml_error_line(text, &e))))?;
        o.validate(origin)?;
        Ok(o)
    }

    /// Checks every rate.
    pub fn validate(&self, origin: &str) -> Result<()> {
        for (name, o) in &self.models {
            o.validate(&format!("{origin}: models.{name:?}"))?;
        }
        for (name, rate) in &self.cache_storage {
            if !rate.is_finite() || *rate < 0.0 {
                return Err(Error::Config(format!(
                    "{origin}: cache_storage.{name:?} must be a non-negative number, got {rate}"
                )));
            }
        }
        Ok(())
    }

    /// The override for a model, if any.
    pub fn get(&self, model: &str) -> Option<&Override> {
        self.models.get(model)
    }

    /// The storage rate given for a model: `[cache_storage]`, else its override's.
    pub fn storage_rate(&self, model: &str) -> Option<f64> {
        self.cache_storage
            .get(model)
            .copied()
            .or_else(|| self.get(model).and_then(|o| o.cache_storage_mtok_hour))
    }

    /// Adds (and replaces) entries from another set.
    pub fn extend(&mut self, other: Overrides) {
        self.models.extend(other.models);
        self.cache_storage.extend(other.cache_storage);
    }

    /// Model ids with overrides.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.models.keys().map(String::as_str)
    }
}

/// A TOML error as one line without the file name: "N: invalid TOML: message" (N = line).
pub fn toml_error_line(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("{line}: invalid TOML: {msg}")
        }
        None => format!("invalid TOML: {msg}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_cost_by_hand() {
        let o = Overrides::parse(
            "[models.\"mine\"]\ninput_mtok = 2.0\noutput_mtok = 8.0\ncached_mtok = 0.5\ncache_write_mtok = 2.5\n",
            "x.toml",
        )
        .unwrap();
        let m = o.get("mine").unwrap();
        // 1000 uncached * 2 + 2000 cached * 0.5 + 1000 written * 2.5 + 500 out * 8 = 2000+1000+2500+4000 = 9500 / 1e6 = $0.0095
        let u = Usage {
            input_tokens: 4000,
            cached_tokens: 2000,
            cache_write_tokens: 1000,
            cache_write_1h_tokens: 0,
            output_tokens: 500,
            reasoning_tokens: 0,
        };
        assert_eq!(m.cost(&u, false), Nanodollars(9_500_000));
        assert_eq!(m.cost(&u, true), Nanodollars(4_750_000));
    }

    #[test]
    fn bad_override_files() {
        let e = Overrides::parse(
            "[models.\"m\"]\ninput_mtok = -1.0\noutput_mtok = 1.0\n",
            "p.toml",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("input_mtok must be a non-negative number"),
            "{e}"
        );
        let e = Overrides::parse("[models.\"m\"]\ninput_mtok = 1.0\n", "p.toml").unwrap_err();
        assert!(e.to_string().starts_with("p.toml:1: invalid TOML"), "{e}");
        assert!(e.to_string().contains("output_mtok"), "{e}");
        let e = Overrides::parse(
            "[models.\"m\"]\ninput_mtok = 1.0\noutput_mtok = 1.0\nbogus = 3\n",
            "p.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = Overrides::parse(
            "[models.\"m\"]\ninput_mtok = 1.0\noutput_mtok = 1.0\nbatch_discount = 2.0\n",
            "p.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("batch_discount"), "{e}");
        assert!(!e.to_string().contains('\n'));
        let e = Overrides::parse("[cache_storage]\n\"g\" = -2.0\n", "p.toml").unwrap_err();
        assert!(e.to_string().contains("cache_storage"), "{e}");
    }

    #[test]
    fn storage_rates_alone_or_with_a_model() {
        let o = Overrides::parse(
            "[cache_storage]\n\"gemini-2.5-flash\" = 0.8\n[models.\"mine\"]\ninput_mtok = 1.0\noutput_mtok = 2.0\ncache_storage_mtok_hour = 3.0\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(o.storage_rate("gemini-2.5-flash"), Some(0.8));
        assert_eq!(o.storage_rate("mine"), Some(3.0));
        assert_eq!(o.storage_rate("other"), None);
        assert!(o.get("gemini-2.5-flash").is_none());
    }
}
