//! Exact money: every request's price is converted once to integer nano-dollars, and totals are
//! sums of integers. Rounding happens only when printing.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign};

/// An amount of US dollars in units of 10⁻⁹ dollars.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Nanodollars(pub u64);

impl Nanodollars {
    /// Zero dollars.
    pub const ZERO: Nanodollars = Nanodollars(0);

    /// Converts a dollar amount from a price calculation, once, to the nearest nano-dollar.
    pub fn from_usd(usd: f64) -> Nanodollars {
        if !usd.is_finite() || usd <= 0.0 {
            return Nanodollars(0);
        }
        Nanodollars((usd * 1e9).round() as u64)
    }

    /// The amount in dollars, for display and ratios only (never summed).
    pub fn as_usd(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// The exact decimal dollar string with all nine decimals, e.g. `0.000012345`: what CSV files hold.
    pub fn exact(self) -> String {
        format!("{}.{:09}", self.0 / 1_000_000_000, self.0 % 1_000_000_000)
    }

    /// Parses [`Nanodollars::exact`]'s output (or any decimal with up to nine places).
    pub fn parse_exact(s: &str) -> Option<Nanodollars> {
        let s = s.trim().trim_start_matches('$');
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if frac.len() > 9 || whole.is_empty() && frac.is_empty() {
            return None;
        }
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let frac_n: u64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<9}").parse().ok()?
        };
        whole
            .checked_mul(1_000_000_000)?
            .checked_add(frac_n)
            .map(Nanodollars)
    }

    /// Splits this amount into `parts` integer shares that add up exactly; the remainder goes to
    /// the first shares, one nano-dollar each.
    pub fn split(self, parts: usize) -> Vec<Nanodollars> {
        if parts == 0 {
            return Vec::new();
        }
        let base = self.0 / parts as u64;
        let rem = (self.0 % parts as u64) as usize;
        (0..parts)
            .map(|i| Nanodollars(base + u64::from(i < rem)))
            .collect()
    }

    /// The relative saving of `self` against `baseline`, in percent (positive: cheaper).
    pub fn saving_vs(self, baseline: Nanodollars) -> Option<f64> {
        (baseline.0 > 0).then(|| (1.0 - self.0 as f64 / baseline.0 as f64) * 100.0)
    }
}

impl Add for Nanodollars {
    type Output = Nanodollars;
    fn add(self, rhs: Nanodollars) -> Nanodollars {
        Nanodollars(self.0 + rhs.0)
    }
}

impl AddAssign for Nanodollars {
    fn add_assign(&mut self, rhs: Nanodollars) {
        self.0 += rhs.0;
    }
}

impl Sum for Nanodollars {
    fn sum<I: Iterator<Item = Nanodollars>>(iter: I) -> Nanodollars {
        Nanodollars(iter.map(|n| n.0).sum())
    }
}

impl fmt::Display for Nanodollars {
    /// Dollars rounded for people: 2 decimals from $100, 4 from $1, else 6.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let usd = self.as_usd();
        if usd >= 100.0 {
            write!(f, "${usd:.2}")
        } else if usd >= 1.0 {
            write!(f, "${usd:.4}")
        } else {
            write!(f, "${usd:.6}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_and_exact_strings() {
        assert_eq!(Nanodollars::from_usd(0.315), Nanodollars(315_000_000));
        assert_eq!(Nanodollars::from_usd(1.5225).exact(), "1.522500000");
        assert_eq!(Nanodollars::from_usd(0.000_000_000_4), Nanodollars(0));
        assert_eq!(Nanodollars::from_usd(f64::NAN), Nanodollars(0));
        assert_eq!(
            Nanodollars::parse_exact("0.000012345"),
            Some(Nanodollars(12_345))
        );
        assert_eq!(
            Nanodollars::parse_exact("3.5"),
            Some(Nanodollars(3_500_000_000))
        );
        assert_eq!(Nanodollars::parse_exact("x"), None);
        assert_eq!(Nanodollars::parse_exact("0.0000000001"), None);
        assert_eq!(format!("{}", Nanodollars(12_345)), "$0.000012");
        assert_eq!(format!("{}", Nanodollars(1_522_500_000)), "$1.5225");
    }

    #[test]
    fn split_adds_up() {
        let shares = Nanodollars(10).split(3);
        assert_eq!(shares, vec![Nanodollars(4), Nanodollars(3), Nanodollars(3)]);
        assert_eq!(shares.into_iter().sum::<Nanodollars>(), Nanodollars(10));
        assert!(Nanodollars(5).split(0).is_empty());
        assert_eq!(Nanodollars(50).saving_vs(Nanodollars(100)), Some(50.0));
        assert_eq!(Nanodollars(50).saving_vs(Nanodollars(0)), None);
    }
}
