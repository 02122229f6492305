//! The answer error model: the probability that one item of a request is answered wrongly or
//! left out, as a function of items per request (a knee curve), the item's slot (a U-shaped
//! penalty), the task's difficulty and the model's strength.
//!
//! Calibration and sources are in `docs/MOCK.md` (Cheng et al. 2023, arXiv 2301.08721; Lin et
//! al. 2023, arXiv 2309.00384).

use batchbench_core::answer::TaskKind;

use super::config::{ErrorModelConfig, by_prefix};

/// Built-in weakness multipliers by model-id prefix (1.0 = the default curve).
const MODEL_FACTORS: &[(&str, f64)] = &[
    ("gpt-3.5", 2.0),
    ("gpt-4", 0.8),
    ("gpt-4o", 0.7),
    ("gpt-4o-mini", 1.0),
    ("gpt-4.1", 0.7),
    ("gpt-4.1-mini", 1.0),
    ("gpt-4.1-nano", 1.5),
    ("gpt-5", 0.5),
    ("gpt-5-mini", 0.8),
    ("gpt-5-nano", 1.2),
    ("o1", 0.6),
    ("o3", 0.5),
    ("o4-mini", 0.7),
    ("claude-3-haiku", 1.5),
    ("claude-3-5-haiku", 1.2),
    ("claude-haiku", 1.0),
    ("claude-sonnet", 0.6),
    ("claude-opus", 0.5),
];

/// Built-in difficulty by task kind: reasoning/arithmetic degrades most, yes/no least.
pub fn kind_difficulty(kind: TaskKind) -> f64 {
    match kind {
        TaskKind::Number => 1.3,
        TaskKind::Label => 1.0,
        TaskKind::YesNo => 0.7,
        TaskKind::Text => 1.2,
    }
}

/// The model's multiplier: the longest matching prefix among the configured and built-in ones
/// (configured wins a tie), else 1.0.
pub fn model_factor(cfg: &ErrorModelConfig, model: &str) -> f64 {
    by_prefix(
        MODEL_FACTORS
            .iter()
            .copied()
            .chain(cfg.model_factor.iter().map(|(k, v)| (k.as_str(), *v))),
        model,
    )
    .unwrap_or(1.0)
}

/// The task's multiplier: configured task names first, then the kind's.
pub fn task_difficulty(cfg: &ErrorModelConfig, task: Option<&str>) -> f64 {
    if let Some(t) = task {
        if let Some(v) = cfg.task_difficulty.get(&t.trim().to_ascii_lowercase()) {
            return *v;
        }
    }
    kind_difficulty(TaskKind::from_task(task))
}

/// Extra error probability from packing `k` items in one request (before factors).
pub fn growth(cfg: &ErrorModelConfig, k: usize) -> f64 {
    let k = k.max(1);
    let knee = cfg.knee.max(1);
    let before = (k.min(knee) - 1) as f64;
    let after = k.saturating_sub(knee) as f64;
    cfg.slope_before_knee * before + cfg.slope_after_knee * after
}

/// The U-shaped slot multiplier of slot `pos` (0-based) of `k`: ends below 1, middle above,
/// mean exactly 1 over the `k` slots.
pub fn position_factor(cfg: &ErrorModelConfig, k: usize, pos: usize) -> f64 {
    if k <= 2 {
        return 1.0;
    }
    let bump = |p: usize| {
        let x = p as f64 / (k - 1) as f64;
        1.0 - (2.0 * x - 1.0).powi(2)
    };
    let mean = (0..k).map(bump).sum::<f64>() / k as f64;
    (1.0 + cfg.position_amplitude * (bump(pos.min(k - 1)) - mean)).max(0.0)
}

/// Probabilities (wrong, missing) for the item in slot `pos` of a request with `k` items.
pub fn item_error(
    cfg: &ErrorModelConfig,
    model: &str,
    task: Option<&str>,
    k: usize,
    pos: usize,
) -> (f64, f64) {
    if !cfg.enabled {
        return (0.0, 0.0);
    }
    let m = model_factor(cfg, model);
    let wrong = task_difficulty(cfg, task)
        * m
        * (cfg.base_error + growth(cfg, k) * position_factor(cfg, k, pos));
    let missing = cfg.missing_per_item * k.saturating_sub(1) as f64 * m;
    (
        wrong.clamp(0.0, cfg.max_error),
        missing.clamp(0.0, cfg.max_error),
    )
}

/// Expected accuracy over a request of `k` items (mean over slots of `1 − wrong − missing`).
pub fn expected_accuracy(cfg: &ErrorModelConfig, model: &str, task: Option<&str>, k: usize) -> f64 {
    let k = k.max(1);
    (0..k)
        .map(|p| {
            let (w, m) = item_error(cfg, model, task, k, p);
            (1.0 - m) * (1.0 - w)
        })
        .sum::<f64>()
        / k as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn knee_curve_exact() {
        let c = ErrorModelConfig::default();
        assert!(close(growth(&c, 1), 0.0));
        assert!(close(growth(&c, 4), 0.006));
        assert!(close(growth(&c, 16), 0.030));
        assert!(close(growth(&c, 32), 0.030 + 0.096));
    }

    #[test]
    fn u_shape_exact() {
        let c = ErrorModelConfig::default();
        // k = 3: bumps 0, 1, 0; mean 1/3; amplitude 0.6.
        assert!(close(position_factor(&c, 3, 0), 0.8));
        assert!(close(position_factor(&c, 3, 1), 1.4));
        assert!(close(position_factor(&c, 3, 2), 0.8));
        for k in [1, 2, 4, 7, 32] {
            let mean = (0..k).map(|p| position_factor(&c, k, p)).sum::<f64>() / k as f64;
            assert!(close(mean, 1.0), "k={k}");
        }
        assert!(position_factor(&c, 32, 0) < position_factor(&c, 32, 16));
    }

    #[test]
    fn item_probabilities_exact() {
        let c = ErrorModelConfig::default();
        // gpt-4o-mini (factor 1), sentiment (label, 1.0), one item: the base error.
        let (w, m) = item_error(&c, "gpt-4o-mini", Some("sentiment"), 1, 0);
        assert!(close(w, 0.03) && close(m, 0.0));
        // arithmetic (1.3), k = 3, middle slot: 1.3 × (0.03 + 0.004 × 1.4).
        let (w, m) = item_error(&c, "gpt-4o-mini", Some("arithmetic"), 3, 1);
        assert!(close(w, 1.3 * (0.03 + 0.004 * 1.4)), "{w}");
        assert!(close(m, 0.001));
        // gpt-5 halves everything.
        let (w, _) = item_error(&c, "gpt-5", Some("sentiment"), 1, 0);
        assert!(close(w, 0.015));
        let off = ErrorModelConfig {
            enabled: false,
            ..c
        };
        assert_eq!(item_error(&off, "gpt-4o-mini", None, 64, 3), (0.0, 0.0));
    }

    #[test]
    fn packing_32_is_clearly_worse_than_4() {
        let c = ErrorModelConfig::default();
        let a1 = expected_accuracy(&c, "gpt-4o-mini", Some("sentiment"), 1);
        let a4 = expected_accuracy(&c, "gpt-4o-mini", Some("sentiment"), 4);
        let a32 = expected_accuracy(&c, "gpt-4o-mini", Some("sentiment"), 32);
        assert!(close(a1, 0.97));
        assert!(a4 > 0.95 && a4 < a1, "{a4}");
        assert!(a4 - a32 > 0.10, "{a4} {a32}");
    }
}
