//! The latency model: `overhead + input_tokens / prefill_tps + output_tokens / decode_tps`, per
//! model profile, times a seeded jitter factor `1 ± jitter`, times the time scale.
//!
//! When streaming, the first token arrives after `overhead + input / prefill` and each further
//! token after `1 / decode`; the non-streamed total is the same sum.

use std::time::Duration;

use super::config::{LatencyConfig, LatencyProfile, by_prefix};

const fn p(overhead_ms: f64, prefill_tps: f64, decode_tps: f64) -> LatencyProfile {
    LatencyProfile {
        overhead_ms,
        prefill_tps,
        decode_tps,
        jitter: 0.1,
    }
}

/// Built-in profiles by model-id prefix (rough public throughput figures; simulated).
pub const BUILTIN_PROFILES: &[(&str, LatencyProfile)] = &[
    ("gpt-3.5", p(250.0, 10_000.0, 90.0)),
    ("gpt-4", p(500.0, 4_000.0, 30.0)),
    ("gpt-4o", p(350.0, 6_000.0, 70.0)),
    ("gpt-4o-mini", p(250.0, 8_000.0, 85.0)),
    ("gpt-4.1", p(350.0, 6_000.0, 70.0)),
    ("gpt-4.1-mini", p(250.0, 8_000.0, 90.0)),
    ("gpt-4.1-nano", p(200.0, 10_000.0, 120.0)),
    ("gpt-5", p(900.0, 5_000.0, 60.0)),
    ("gpt-5-mini", p(600.0, 7_000.0, 80.0)),
    ("gpt-5-nano", p(400.0, 9_000.0, 110.0)),
    ("o1", p(2_000.0, 4_000.0, 50.0)),
    ("o3", p(1_500.0, 4_000.0, 55.0)),
    ("o4-mini", p(1_000.0, 6_000.0, 80.0)),
    ("claude-haiku", p(300.0, 8_000.0, 100.0)),
    ("claude-3-haiku", p(250.0, 9_000.0, 120.0)),
    ("claude-3-5-haiku", p(300.0, 8_000.0, 65.0)),
    ("claude-sonnet", p(600.0, 4_000.0, 55.0)),
    ("claude-opus", p(900.0, 3_000.0, 35.0)),
];

/// The profile for `model`: the longest matching prefix among the configured and built-in
/// profiles (configured wins a tie), else `default`.
pub fn profile(cfg: &LatencyConfig, model: &str) -> LatencyProfile {
    // Built-ins first, so a configured prefix of the same length wins the tie.
    by_prefix(
        BUILTIN_PROFILES
            .iter()
            .copied()
            .chain(cfg.profiles.iter().map(|(k, v)| (k.as_str(), *v))),
        model,
    )
    .unwrap_or(cfg.default)
}

/// When the parts of one response are due.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Time to the first output token (overhead + prefill).
    pub ttft: Duration,
    /// Time between two output tokens.
    pub per_token: Duration,
    /// Whole response: `ttft + output_tokens × per_token`.
    pub total: Duration,
}

/// The timing of one response. `jitter_u` is a uniform draw in `[-1, 1]`; the factor applied is
/// `1 + profile.jitter × jitter_u`; `scale` is the time scale (0 = everything zero).
pub fn timing(
    profile: &LatencyProfile,
    input_tokens: u64,
    output_tokens: u64,
    jitter_u: f64,
    scale: f64,
) -> Timing {
    let factor = (1.0 + profile.jitter * jitter_u.clamp(-1.0, 1.0)) * scale.max(0.0);
    let ms = |v: f64| Duration::from_secs_f64((v * factor / 1000.0).max(0.0));
    let ttft_ms = profile.overhead_ms + input_tokens as f64 * 1000.0 / profile.prefill_tps;
    let per_token_ms = 1000.0 / profile.decode_tps;
    Timing {
        ttft: ms(ttft_ms),
        per_token: ms(per_token_ms),
        total: ms(ttft_ms + output_tokens as f64 * per_token_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_numbers() {
        let prof = LatencyProfile {
            overhead_ms: 200.0,
            prefill_tps: 5_000.0,
            decode_tps: 50.0,
            jitter: 0.1,
        };
        // 200 ms + 1000/5000 s + 10/50 s = 200 + 200 + 200 ms.
        let t = timing(&prof, 1_000, 10, 0.0, 1.0);
        assert_eq!(t.ttft, Duration::from_millis(400));
        assert_eq!(t.per_token, Duration::from_millis(20));
        assert_eq!(t.total, Duration::from_millis(600));
        // Full positive jitter (+10%) and a 0.5 time scale: 600 × 1.1 × 0.5 = 330 ms.
        let t = timing(&prof, 1_000, 10, 1.0, 0.5);
        assert_eq!(t.total.as_micros(), 330_000);
        let t = timing(&prof, 1_000, 10, -1.0, 1.0);
        assert_eq!(t.total.as_micros(), 540_000);
        assert_eq!(
            timing(&prof, 1_000_000, 1_000, 0.3, 0.0).total,
            Duration::ZERO
        );
    }

    #[test]
    fn profiles_by_prefix() {
        let mut cfg = LatencyConfig::default();
        assert_eq!(profile(&cfg, "gpt-4o-mini-2024-07-18").decode_tps, 85.0);
        assert_eq!(profile(&cfg, "gpt-4o").decode_tps, 70.0);
        assert_eq!(profile(&cfg, "unknown-model"), cfg.default);
        cfg.profiles.insert(
            "gpt-4o".into(),
            LatencyProfile {
                overhead_ms: 1.0,
                prefill_tps: 1.0,
                decode_tps: 1.0,
                jitter: 0.0,
            },
        );
        assert_eq!(profile(&cfg, "gpt-4o").decode_tps, 1.0);
        // The built-in, longer prefix still wins for gpt-4o-mini.
        assert_eq!(profile(&cfg, "gpt-4o-mini").decode_tps, 85.0);
    }
}
