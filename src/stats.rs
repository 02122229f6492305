//! Sampling error of the quality numbers: how sure a run of n prompts can be about an accuracy
//! and about the difference between a strategy and `sequential` on the same prompts.
//!
//! Methods (named in `docs/QUALITY.md`):
//! - one proportion: the Wilson score interval (Wilson 1927; Newcombe 1998a, Stat Med 17:857);
//! - paired difference: Newcombe's hybrid score interval for paired data, his method 10
//!   (Newcombe 1998b, Stat Med 17:2635), built from the two Wilson intervals and the phi
//!   correlation of the 2×2 table;
//! - paired test: the exact two-sided McNemar test, a binomial(b + c, ½) test on the
//!   discordant pairs;
//! - sample size: Connor's formula for the paired McNemar test (Connor 1987, Biometrics 43:207).
//!
//! The normal and binomial distributions come from `statrs`; only the formulas above are here.

use statrs::distribution::{Binomial, ContinuousCDF, DiscreteCDF, Normal};

/// Two-sided confidence level of every interval.
pub const CONFIDENCE: f64 = 0.95;
/// Power the sample sizes are computed for.
pub const POWER: f64 = 0.80;
/// Largest sample size reported; beyond it the answer is "more than this".
pub const MAX_PROMPTS: u64 = 10_000_000;

/// Standard normal quantile.
fn z(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// z for the two-sided [`CONFIDENCE`] level (1.959964…).
pub fn z_confidence() -> f64 {
    z(1.0 - (1.0 - CONFIDENCE) / 2.0)
}

/// Wilson score interval for `successes` out of `n`, as proportions; `None` when `n` is 0.
/// Chosen over the Wald interval because it stays inside 0..1 and keeps its coverage at the
/// small n and extreme accuracies that benchmark runs have.
pub fn wilson(successes: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (z, n, p) = (z_confidence(), n as f64, successes as f64 / n as f64);
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    // At 0 and n the bounds are exactly 0 and 1; the formula only reaches them up to rounding.
    let low = if successes == 0 { 0.0 } else { centre - half };
    let high = if successes as f64 == n {
        1.0
    } else {
        centre + half
    };
    Some((low, high))
}

/// The paired 2×2 table of one strategy against the baseline on the same prompts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Paired {
    /// Both right.
    pub both: u64,
    /// Baseline right, the other wrong (the other is worse here).
    pub only_baseline: u64,
    /// Baseline wrong, the other right.
    pub only_other: u64,
    /// Both wrong.
    pub neither: u64,
}

impl Paired {
    /// Counts `(baseline right, other right)` pairs.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (bool, bool)>) -> Paired {
        let mut t = Paired::default();
        for pair in pairs {
            match pair {
                (true, true) => t.both += 1,
                (true, false) => t.only_baseline += 1,
                (false, true) => t.only_other += 1,
                (false, false) => t.neither += 1,
            }
        }
        t
    }

    /// Prompts in the table.
    pub fn n(&self) -> u64 {
        self.both + self.only_baseline + self.only_other + self.neither
    }

    /// Prompts where the two disagree on correctness.
    pub fn discordant(&self) -> u64 {
        self.only_baseline + self.only_other
    }

    /// Baseline accuracy minus the other's, as a proportion (positive: the other is worse).
    pub fn drop(&self) -> Option<f64> {
        let n = self.n();
        (n > 0).then(|| (self.only_baseline as f64 - self.only_other as f64) / n as f64)
    }

    /// Exact two-sided McNemar p-value: twice the smaller binomial(b + c, ½) tail, at most 1.
    pub fn mcnemar_p(&self) -> Option<f64> {
        let n = self.n();
        if n == 0 {
            return None;
        }
        let d = self.discordant();
        if d == 0 {
            return Some(1.0);
        }
        let k = self.only_baseline.min(self.only_other);
        Some((2.0 * half_binomial_cdf(d, k)?).min(1.0))
    }

    /// Newcombe's method-10 interval for [`Paired::drop`], as proportions.
    pub fn drop_ci(&self) -> Option<(f64, f64)> {
        let n = self.n();
        let d = self.drop()?;
        let base_right = self.both + self.only_baseline;
        let other_right = self.both + self.only_other;
        let (p1, p2) = (base_right as f64 / n as f64, other_right as f64 / n as f64);
        let (l1, u1) = wilson(base_right, n)?;
        let (l2, u2) = wilson(other_right, n)?;
        let (a, b, c, dd) = (
            self.both as f64,
            self.only_baseline as f64,
            self.only_other as f64,
            self.neither as f64,
        );
        let margins = (a + b) * (c + dd) * (a + c) * (b + dd);
        let phi = if margins > 0.0 {
            (a * dd - b * c) / margins.sqrt()
        } else {
            0.0
        };
        let lower = ((p1 - l1).powi(2) - 2.0 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2).powi(2))
            .max(0.0)
            .sqrt();
        let upper = ((u1 - p1).powi(2) - 2.0 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2).powi(2))
            .max(0.0)
            .sqrt();
        Some(((d - lower).max(-1.0), (d + upper).min(1.0)))
    }

    /// Share of discordant prompts, floored at one prompt's worth so that a run with no
    /// disagreement yet does not claim that any n would do.
    fn discordance(&self) -> Option<f64> {
        let n = self.n();
        (n > 0).then(|| self.discordant().max(1) as f64 / n as f64)
    }

    /// Prompts needed for the paired McNemar test to detect a true drop of `delta` (a
    /// proportion) with [`POWER`] at the two-sided [`CONFIDENCE`] level, given the discordance
    /// observed here (Connor 1987):
    /// n = (z_{α/2}·√ψ + z_β·√(ψ − δ²))² / δ², with ψ the discordant share (at least δ).
    pub fn prompts_to_detect(&self, delta: f64) -> Option<u64> {
        let delta = delta.abs();
        if delta <= 0.0 {
            return None;
        }
        let psi = self.discordance()?.max(delta);
        let root = z_confidence() * psi.sqrt() + z(POWER) * (psi - delta * delta).max(0.0).sqrt();
        Some(ceil_prompts(root * root / (delta * delta)))
    }

    /// Prompts needed before the interval of the drop would, with [`POWER`], fall entirely on
    /// one side of `margin` (a proportion), if the true drop and discordance are what was
    /// observed: n = (z_{α/2} + z_β)² · (ψ − D²) / (D − margin)², the normal approximation of
    /// the paired difference's variance (ψ − D²)/n. `None` when the observed drop sits exactly
    /// on the margin (no n decides it).
    pub fn prompts_to_decide(&self, margin: f64) -> Option<u64> {
        let d = self.drop()?;
        let psi = self.discordance()?;
        let gap = (d - margin).abs();
        if gap < 1e-12 {
            return None;
        }
        let zs = z_confidence() + z(POWER);
        let var = (psi - d * d).max(psi / self.n() as f64);
        Some(ceil_prompts(zs * zs * var / (gap * gap)))
    }
}

fn ceil_prompts(x: f64) -> u64 {
    if x.is_finite() {
        (x.ceil() as u64).min(MAX_PROMPTS)
    } else {
        MAX_PROMPTS
    }
}

/// P(X ≤ k) for X ~ binomial(n, ½): summed in integers while the binomial coefficients fit in
/// a `u128` (n ≤ 120, every paired comparison of a usual run), so that a tail of exactly ½ is
/// ½ and a two-sided p of 1 is 1; statrs' regularised beta function above that.
fn half_binomial_cdf(n: u64, k: u64) -> Option<f64> {
    if n > 120 {
        return Binomial::new(0.5, n).ok().map(|b| b.cdf(k));
    }
    let (mut coefficient, mut sum) = (1u128, 0u128);
    for i in 0..=k.min(n) {
        sum += coefficient;
        coefficient = coefficient * u128::from(n - i) / u128::from(i + 1);
    }
    Some(sum as f64 / 2f64.powi(n as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn wilson_matches_newcombes_published_examples() {
        // Newcombe 1998a, Table II, method 3 (score without continuity correction).
        let (l, u) = wilson(81, 263).unwrap();
        close(l, 0.2553, 5e-5);
        close(u, 0.3662, 5e-5);
        let (l, u) = wilson(15, 148).unwrap();
        close(l, 0.0624, 5e-5);
        close(u, 0.1605, 5e-5);
        let (l, u) = wilson(0, 20).unwrap();
        assert_eq!(l, 0.0);
        close(u, 0.1611, 5e-5);
        let (l, u) = wilson(1, 29).unwrap();
        close(l, 0.0061, 5e-5);
        close(u, 0.1718, 5e-5);
        assert_eq!(wilson(0, 0), None);
    }

    #[test]
    fn wilson_by_hand() {
        // 8 of 10 with z = 1.959964: centre (0.8 + z²/20)/(1 + z²/10) = 0.716738,
        // half z·√(0.016 + z²/400)/(1 + z²/10) = 0.226576.
        let (l, u) = wilson(8, 10).unwrap();
        close(l, 0.490162, 1e-5);
        close(u, 0.943318, 1e-5);
        // All right: the upper bound is exactly 1, the lower n/(n + z²).
        let (l, u) = wilson(24, 24).unwrap();
        close(l, 24.0 / (24.0 + 1.959964f64.powi(2)), 1e-6);
        assert_eq!(u, 1.0);
    }

    #[test]
    fn mcnemar_exact() {
        // 2 vs 9 discordant: 2·(C(11,0) + C(11,1) + C(11,2))/2¹¹ = 2·67/2048 = 0.065430.
        let t = Paired {
            both: 30,
            only_baseline: 9,
            only_other: 2,
            neither: 5,
        };
        close(t.mcnemar_p().unwrap(), 134.0 / 2048.0, 1e-9);
        // Symmetric in the two discordant cells, 1 when they are equal or absent.
        let swapped = Paired {
            only_baseline: 2,
            only_other: 9,
            ..t
        };
        close(swapped.mcnemar_p().unwrap(), 134.0 / 2048.0, 1e-9);
        let even = Paired {
            only_baseline: 3,
            only_other: 3,
            ..t
        };
        assert_eq!(even.mcnemar_p(), Some(1.0));
        let none = Paired {
            only_baseline: 0,
            only_other: 0,
            ..t
        };
        assert_eq!(none.mcnemar_p(), Some(1.0));
        // 0 vs 6: 2/2⁶ = 0.03125.
        let all_one_way = Paired {
            both: 0,
            only_baseline: 6,
            only_other: 0,
            neither: 0,
        };
        close(all_one_way.mcnemar_p().unwrap(), 0.03125, 1e-12);
        assert_eq!(Paired::default().mcnemar_p(), None);
    }

    #[test]
    fn mcnemar_p_is_exact_where_the_coefficients_fit() {
        // 2 vs 1 (a real 48-prompt run): 2·(1 + 3)/2³ = 1 exactly, where the regularised beta
        // function gave 0.9999999999999991.
        let t = Paired {
            both: 19,
            only_baseline: 2,
            only_other: 1,
            neither: 26,
        };
        assert_eq!(t.mcnemar_p(), Some(1.0));
        let t = Paired {
            only_baseline: 9,
            only_other: 2,
            ..t
        };
        assert_eq!(t.mcnemar_p(), Some(134.0 / 2048.0));
        // Above 120 discordant prompts the beta function takes over, continuously: 60 vs 70.
        let big = half_binomial_cdf(130, 60).unwrap();
        let exact_below = half_binomial_cdf(120, 55).unwrap();
        assert!(big > 0.0 && big < 0.5 && exact_below < 0.5);
    }

    #[test]
    fn counts_pairs() {
        let t = Paired::from_pairs([(true, true), (true, false), (true, false), (false, true)]);
        assert_eq!(
            t,
            Paired {
                both: 1,
                only_baseline: 2,
                only_other: 1,
                neither: 0
            }
        );
        assert_eq!((t.n(), t.discordant()), (4, 3));
        assert_eq!(t.drop(), Some(0.25));
    }

    #[test]
    fn newcombe_paired_interval_by_hand() {
        // a=36 b=12 c=2 d=0, n=50 (Newcombe 1998b's first example). p1 = 0.96, p2 = 0.76,
        // D = 0.2. Wilson 48/50 = (0.865399, 0.988961), 38/50 = (0.625873, 0.857026);
        // phi = (0·36 − 12·2)/√(48·2·38·12) = −24/209.23 = −0.114708;
        // δ = √(0.094601² + 2·0.114708·0.094601·0.097026 + 0.097026²) = 0.143070,
        // ε = √(0.028961² + 2·0.114708·0.028961·0.134127 + 0.134127²) = 0.140428,
        // so (0.056930, 0.340428), Newcombe's 0.0569 to 0.3404.
        let t = Paired {
            both: 36,
            only_baseline: 12,
            only_other: 2,
            neither: 0,
        };
        let (l, u) = t.drop_ci().unwrap();
        close(l, 0.056930, 1e-5);
        close(u, 0.340428, 1e-5);
        // No discordance at all: the interval still has width from the Wilson bounds.
        let same = Paired {
            both: 20,
            only_baseline: 0,
            only_other: 0,
            neither: 4,
        };
        let (l, u) = same.drop_ci().unwrap();
        assert!(l < 0.0 && u > 0.0, "{l} {u}");
        close(l, -u, 1e-12);
        assert_eq!(Paired::default().drop_ci(), None);
    }

    #[test]
    fn sample_sizes_by_hand() {
        // ψ = 0.10, δ = 0.05: (1.959964·√0.1 + 0.841621·√0.0975)²/0.0025
        // = (0.619795 + 0.262792)²/0.0025 = 0.778967/0.0025 = 311.59 → 312.
        let t = Paired {
            both: 80,
            only_baseline: 6,
            only_other: 4,
            neither: 10,
        };
        assert_eq!(t.prompts_to_detect(0.05), Some(312));
        // ψ is never below δ: ψ = 0.02 < δ = 0.05 is taken as 0.05:
        // (1.959964·√0.05 + 0.841621·√0.0475)²/0.0025 = (0.438258 + 0.183426)²/0.0025 = 154.6 → 155.
        let rare = Paired {
            both: 88,
            only_baseline: 1,
            only_other: 1,
            neither: 10,
        };
        assert_eq!(rare.prompts_to_detect(0.05), Some(155));
        assert_eq!(t.prompts_to_detect(0.0), None);
        // Decide: D = 0.02, ψ = 0.1, margin 0.05: 7.848879·(0.1 − 0.0004)/0.0009 = 868.6 → 869.
        assert_eq!(t.prompts_to_decide(0.05), Some(869));
        let on_margin = Paired {
            both: 80,
            only_baseline: 7,
            only_other: 2,
            neither: 11,
        };
        assert_eq!(on_margin.prompts_to_decide(0.05), None);
    }
}
