//! What embedding tokens cost, exact to the nano-dollar: genai-prices' input rate per model
//! (text-embedding-3-small $0.02, -large $0.13, ada-002 $0.10 per million tokens), and the Batch
//! API's half price, which genai-prices does not list for embedding models.

use crate::error::Result;
use crate::pricing::{Nanodollars, Pricing};
use crate::provider::{ProviderKind, Usage};

/// The cost of `tokens` embedded, at batch prices when `batch`. An override (`--prices`) decides
/// its own batch rate; otherwise a batch price equal to the standard one means the data lists
/// none, and OpenAI's 50% Batch API discount applies (source: OpenAI's pricing page, "Batch
/// API: save 50% on inputs and outputs"; text-embedding-3-small batch $0.01 per million).
pub fn cost(
    pricing: &Pricing,
    provider: ProviderKind,
    model: &str,
    tokens: u64,
    batch: bool,
) -> Result<Nanodollars> {
    let usage = Usage {
        input_tokens: tokens,
        ..Usage::default()
    };
    let standard = pricing.cost(provider, model, &usage, false)?;
    if !batch {
        return Ok(standard);
    }
    let listed = pricing.cost(provider, model, &usage, true)?;
    if pricing.has_override(model) || listed != standard {
        return Ok(listed);
    }
    Ok(Nanodollars(standard.0.div_ceil(2)))
}

/// Splits `total` in proportion to `weights` so the shares add up exactly (largest remainder;
/// ties to the earlier share); evenly when every weight is 0.
pub fn shares(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    if sum == 0 {
        return crate::bench::split_u64(total, weights.len());
    }
    let exact: Vec<(u64, u128)> = weights
        .iter()
        .map(|w| {
            let x = u128::from(total) * u128::from(*w);
            ((x / sum) as u64, x % sum)
        })
        .collect();
    let mut out: Vec<u64> = exact.iter().map(|(q, _)| *q).collect();
    let left = total - out.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
    for &i in order.iter().take(left as usize) {
        out[i] += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pricing() -> Pricing {
        Pricing::bundled(std::time::SystemTime::now())
    }

    #[test]
    fn embedding_rates_and_the_batch_half() {
        let p = pricing();
        let o = ProviderKind::Openai;
        // 1,000 tokens × $0.02 / 1M = $0.00002 = 20,000 nano-dollars; batch: 10,000.
        assert_eq!(
            cost(&p, o, "text-embedding-3-small", 1000, false).unwrap(),
            Nanodollars(20_000)
        );
        assert_eq!(
            cost(&p, o, "text-embedding-3-small", 1000, true).unwrap(),
            Nanodollars(10_000)
        );
        // -large: $0.13 / 1M → 130 per token; ada-002: $0.10 → 100.
        assert_eq!(
            cost(&p, o, "text-embedding-3-large", 7, false).unwrap(),
            Nanodollars(910)
        );
        assert_eq!(
            cost(&p, o, "text-embedding-3-large", 7, true).unwrap(),
            Nanodollars(455)
        );
        assert_eq!(
            cost(&p, o, "text-embedding-ada-002", 3, true).unwrap(),
            Nanodollars(150)
        );
    }

    #[test]
    fn shares_follow_the_weights_and_add_up() {
        assert_eq!(shares(100, &[1, 1, 2]), vec![25, 25, 50]);
        assert_eq!(shares(10, &[1, 1, 1]), vec![4, 3, 3]);
        assert_eq!(shares(7, &[0, 0]), vec![4, 3]);
        assert_eq!(shares(0, &[5]), vec![0]);
        let s = shares(1_000_003, &[3, 7, 11, 13]);
        assert_eq!(s.iter().sum::<u64>(), 1_000_003);
    }
}
