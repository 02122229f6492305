//! Prompt caching.
//!
//! OpenAI (automatic): a prompt of at least `openai_min_tokens` tokens is cached at every
//! `openai_increment` boundary from the minimum on; the next request reads the longest boundary
//! whose prefix was seen within the TTL (`cached_tokens`, a part of `prompt_tokens`).
//!
//! Gemini (implicit): as OpenAI's, with Google's per-model minimum
//! ([`batchbench_core::facts::GEMINI_CACHE_MIN_PREFIX`]) and its own increment and TTL; the
//! tokens read are reported in `cachedContentTokenCount`. (Explicit `cachedContents` are stored
//! by the Gemini handlers, not here.)
//!
//! Anthropic (explicit): each `cache_control` breakpoint marks a prefix. The longest prefix seen
//! within its TTL is read (`cache_read_input_tokens`); the tokens after it up to the last
//! breakpoint are written (`cache_creation_input_tokens`), each segment under the TTL of the
//! breakpoint that ends it (5 min or 1 h). Prefixes shorter than the model's minimum are never
//! cached, without an error. TTLs are wall-clock time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::config::{CacheConfig, by_prefix};
use super::seed::Fnv;

/// One Anthropic cache breakpoint: the prefix that ends at a block with `cache_control`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breakpoint {
    /// Input tokens up to and including the marked block.
    pub prefix_tokens: u64,
    /// Hash of the prefix's content (and the model).
    pub hash: u64,
    /// `"ttl": "1h"` on the marker.
    pub ttl_1h: bool,
}

/// What caching did for one Anthropic request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnthropicCacheUse {
    /// Tokens read from the cache.
    pub read: u64,
    /// Tokens written with the 5-minute TTL.
    pub write_5m: u64,
    /// Tokens written with the 1-hour TTL.
    pub write_1h: u64,
}

/// Where automatic prefix caching cuts a prompt, and for how long.
#[derive(Debug, Clone, Copy)]
struct Steps {
    min: u64,
    increment: u64,
    ttl_secs: f64,
}

/// Cached prefixes and their expiry.
#[derive(Debug)]
pub struct PromptCache {
    cfg: CacheConfig,
    entries: Mutex<HashMap<u64, Instant>>,
}

impl PromptCache {
    /// Forgets every cached prefix, so the next request starts cold.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    /// Creates an empty cache.
    pub fn new(cfg: CacheConfig) -> PromptCache {
        PromptCache {
            cfg,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Instant>> {
        match self.entries.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn insert(&self, map: &mut HashMap<u64, Instant>, key: u64, until: Instant, now: Instant) {
        if map.len() >= self.cfg.max_entries.max(1) {
            map.retain(|_, t| *t > now);
            if map.len() >= self.cfg.max_entries.max(1) {
                map.clear();
            }
        }
        let e = map.entry(key).or_insert(until);
        if *e < until {
            *e = until;
        }
    }

    /// OpenAI: the cached tokens of a prompt with this token sequence (its length is
    /// `prompt_tokens`), and records the prompt for later requests.
    pub fn openai(
        &self,
        model: &str,
        cache_key: Option<&str>,
        tokens: &[u32],
        now: Instant,
    ) -> u64 {
        let steps = Steps {
            min: self.cfg.openai_min_tokens,
            increment: self.cfg.openai_increment,
            ttl_secs: self.cfg.openai_ttl_secs,
        };
        self.prefixes(
            &["openai", model, cache_key.unwrap_or("")],
            steps,
            tokens,
            now,
        )
    }

    /// Gemini's minimum cacheable prompt for `model` (Google's table; `models/` ignored).
    pub fn gemini_min_tokens(model: &str) -> u64 {
        let model = model.strip_prefix("models/").unwrap_or(model);
        by_prefix(
            batchbench_core::facts::GEMINI_CACHE_MIN_PREFIX
                .iter()
                .copied(),
            model,
        )
        .unwrap_or(batchbench_core::facts::GEMINI_DEFAULT_CACHE_MIN_PREFIX)
    }

    /// Gemini implicit caching: the cached tokens of a prompt with this token sequence (its
    /// length is `promptTokenCount`), and records the prompt for later requests.
    pub fn gemini(&self, model: &str, tokens: &[u32], now: Instant) -> u64 {
        let steps = Steps {
            min: PromptCache::gemini_min_tokens(model),
            increment: self.cfg.gemini_increment,
            ttl_secs: self.cfg.gemini_ttl_secs,
        };
        self.prefixes(&["gemini", model], steps, tokens, now)
    }

    /// Automatic prefix caching: the longest recorded prefix boundary of `tokens` (boundaries at
    /// the minimum and every increment after it), recording every boundary for later requests.
    /// `scope` keeps providers, models and cache keys apart.
    fn prefixes(&self, scope: &[&str], steps: Steps, tokens: &[u32], now: Instant) -> u64 {
        let min = steps.min.max(1) as usize;
        let inc = steps.increment.max(1) as usize;
        if !self.cfg.enabled || tokens.len() < min {
            return 0;
        }
        let mut h = Fnv::default();
        for part in scope {
            h.str(part);
        }
        let mut boundaries = Vec::new();
        for (i, t) in tokens.iter().enumerate() {
            h.bytes(&t.to_le_bytes());
            let n = i + 1;
            if n >= min && (n - min) % inc == 0 {
                boundaries.push((n as u64, h.finish()));
            }
        }
        let ttl = Duration::from_secs_f64(steps.ttl_secs.max(0.0));
        let mut map = self.entries();
        let cached = boundaries
            .iter()
            .rev()
            .find(|(_, key)| map.get(key).is_some_and(|t| *t > now))
            .map_or(0, |(n, _)| *n);
        for (_, key) in &boundaries {
            self.insert(&mut map, *key, now + ttl, now);
        }
        cached
    }

    /// The Anthropic minimum cacheable prefix of `model`.
    pub fn anthropic_min_tokens(&self, model: &str) -> u64 {
        by_prefix(
            batchbench_core::facts::CACHE_MIN_PREFIX
                .iter()
                .copied()
                .chain(
                    self.cfg
                        .anthropic_min_tokens
                        .iter()
                        .map(|(k, v)| (k.as_str(), *v)),
                ),
            model,
        )
        .unwrap_or(self.cfg.anthropic_default_min_tokens)
    }

    /// Anthropic: reads and writes for a request with these breakpoints (in prompt order).
    pub fn anthropic(
        &self,
        model: &str,
        breakpoints: &[Breakpoint],
        now: Instant,
    ) -> AnthropicCacheUse {
        if !self.cfg.enabled {
            return AnthropicCacheUse::default();
        }
        let min = self.anthropic_min_tokens(model);
        let eligible: Vec<Breakpoint> = breakpoints
            .iter()
            .copied()
            .filter(|b| b.prefix_tokens >= min)
            .collect();
        if eligible.is_empty() {
            return AnthropicCacheUse::default();
        }
        let ttl = |b: &Breakpoint| Duration::from_secs(if b.ttl_1h { 3_600 } else { 300 });
        let mut map = self.entries();
        let hit = eligible
            .iter()
            .rposition(|b| map.get(&b.hash).is_some_and(|t| *t > now));
        let mut out = AnthropicCacheUse::default();
        let mut prev = 0;
        if let Some(i) = hit {
            let b = eligible[i];
            out.read = b.prefix_tokens;
            prev = b.prefix_tokens;
            self.insert(&mut map, b.hash, now + ttl(&b), now);
        }
        let start = hit.map_or(0, |i| i + 1);
        for b in &eligible[start..] {
            let seg = b.prefix_tokens.saturating_sub(prev);
            if b.ttl_1h {
                out.write_1h += seg;
            } else {
                out.write_5m += seg;
            }
            prev = prev.max(b.prefix_tokens);
            self.insert(&mut map, b.hash, now + ttl(b), now);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(prefix: u32, shared: usize, own: usize) -> Vec<u32> {
        (0..shared as u32)
            .chain((0..own as u32).map(|i| prefix * 100_000 + i))
            .collect()
    }

    #[test]
    fn openai_increments_exact() {
        let c = PromptCache::new(CacheConfig::default());
        let t0 = Instant::now();
        // First request: nothing cached.
        assert_eq!(c.openai("gpt-4o", None, &toks(1, 2_000, 50), t0), 0);
        // Second shares 2,000 tokens: the longest boundary inside is 1,024 + 7 × 128 = 1,920.
        assert_eq!(c.openai("gpt-4o", None, &toks(2, 2_000, 50), t0), 1_920);
        // Identical repeat: boundary 2,048 of the 2,050 was recorded by the first request.
        assert_eq!(c.openai("gpt-4o", None, &toks(1, 2_000, 50), t0), 2_048);
        // Another model or another cache key does not share.
        assert_eq!(c.openai("gpt-4o-mini", None, &toks(3, 2_000, 50), t0), 0);
        assert_eq!(c.openai("gpt-4o", Some("k"), &toks(4, 2_000, 50), t0), 0);
        // Below 1,024 tokens nothing is cached.
        assert_eq!(c.openai("gpt-4o", None, &toks(5, 1_000, 20), t0), 0);
        assert_eq!(c.openai("gpt-4o", None, &toks(6, 1_000, 20), t0), 0);
        // After the TTL (600 s) the prefix is gone.
        assert_eq!(
            c.openai(
                "gpt-4o",
                None,
                &toks(7, 2_000, 50),
                t0 + Duration::from_secs(601)
            ),
            0
        );
    }

    #[test]
    fn gemini_implicit_by_model_minimum() {
        let c = PromptCache::new(CacheConfig::default());
        let t0 = Instant::now();
        // gemini-2.5-flash needs 2,048: a 2,000-token shared prefix is never cached.
        assert_eq!(c.gemini("gemini-2.5-flash", &toks(1, 2_000, 50), t0), 0);
        assert_eq!(c.gemini("gemini-2.5-flash", &toks(2, 2_000, 50), t0), 0);
        // 3,000 shared: the longest boundary inside is 2,048 + 7 x 128 = 2,944.
        assert_eq!(c.gemini("gemini-2.5-flash", &toks(3, 3_000, 50), t0), 0);
        assert_eq!(c.gemini("gemini-2.5-flash", &toks(4, 3_000, 50), t0), 2_944);
        // Gemini 3 needs 4,096; OpenAI's cache of the same tokens is apart.
        assert_eq!(c.gemini("gemini-3-pro-preview", &toks(5, 3_000, 50), t0), 0);
        assert_eq!(
            c.openai("gemini-2.5-flash", None, &toks(6, 3_000, 50), t0),
            0
        );
        assert_eq!(
            PromptCache::gemini_min_tokens("models/gemini-3.5-flash"),
            4_096
        );
        assert_eq!(PromptCache::gemini_min_tokens("gemini-1.5-pro"), 4_096);
        // After the TTL (300 s) the prefix is gone.
        let later = t0 + Duration::from_secs(301);
        assert_eq!(c.gemini("gemini-2.5-flash", &toks(7, 3_000, 50), later), 0);
    }

    #[test]
    fn anthropic_read_write_exact() {
        let c = PromptCache::new(CacheConfig::default());
        let t0 = Instant::now();
        let sys = Breakpoint {
            prefix_tokens: 5_000,
            hash: 11,
            ttl_1h: false,
        };
        let hist = Breakpoint {
            prefix_tokens: 7_000,
            hash: 12,
            ttl_1h: true,
        };
        let m = "claude-sonnet-4-5";
        assert_eq!(
            c.anthropic(m, &[sys, hist], t0),
            AnthropicCacheUse {
                read: 0,
                write_5m: 5_000,
                write_1h: 2_000
            }
        );
        assert_eq!(
            c.anthropic(m, &[sys, hist], t0),
            AnthropicCacheUse {
                read: 7_000,
                write_5m: 0,
                write_1h: 0
            }
        );
        let other = Breakpoint {
            prefix_tokens: 9_000,
            hash: 13,
            ttl_1h: false,
        };
        assert_eq!(
            c.anthropic(m, &[sys, other], t0),
            AnthropicCacheUse {
                read: 5_000,
                write_5m: 4_000,
                write_1h: 0
            }
        );
        // 6 minutes later the 5-minute entries are gone, the 1-hour one is not.
        let later = t0 + Duration::from_secs(360);
        assert_eq!(
            c.anthropic(m, &[sys, hist], later),
            AnthropicCacheUse {
                read: 7_000,
                write_5m: 0,
                write_1h: 0
            }
        );
        let sys2 = Breakpoint {
            prefix_tokens: 5_000,
            hash: 21,
            ttl_1h: false,
        };
        assert_eq!(c.anthropic(m, &[sys2], later).write_5m, 5_000);
    }

    #[test]
    fn anthropic_minimum_per_model() {
        let c = PromptCache::new(CacheConfig::default());
        let t0 = Instant::now();
        let b = Breakpoint {
            prefix_tokens: 3_000,
            hash: 1,
            ttl_1h: false,
        };
        // Haiku 4.5 needs 4,096: nothing cached, twice.
        assert_eq!(
            c.anthropic("claude-haiku-4-5", &[b], t0),
            AnthropicCacheUse::default()
        );
        assert_eq!(
            c.anthropic("claude-haiku-4-5", &[b], t0),
            AnthropicCacheUse::default()
        );
        assert_eq!(c.anthropic_min_tokens("claude-3-5-haiku-20241022"), 2_048);
        assert_eq!(c.anthropic_min_tokens("claude-sonnet-4-5"), 1_024);
        assert_eq!(c.anthropic_min_tokens("claude-opus-4-5"), 4_096);
        assert_eq!(c.anthropic_min_tokens("claude-opus-4-1"), 1_024);
        assert_eq!(c.anthropic("claude-sonnet-4-5", &[b], t0).write_5m, 3_000);
    }
}
