//! Prompt-cache economics: when a cache write has paid for itself, and whether this run's
//! dataset got there. Computed from summary.csv's token columns and the cache rates in run.json
//! (`economics.cache`, the same rates `batchbench prices` prints), so every figure can be
//! checked by hand.
//!
//! Writing a token to the cache costs `W − I` more than sending it uncached (W the write rate, I
//! the input rate; Anthropic W = 1.25 I for the 5-minute TTL and 2 I for 1 hour, OpenAI GPT-5.6+
//! 1.25 I, older OpenAI models and Gemini W = I), plus, for a Gemini context cache, its storage
//! `S × T` (S per million tokens per hour, T the TTL in hours, from the `cache_create` row's
//! `cache_ttl_s`); every later read of it saves `I − R` (R the read rate). A write has paid for
//! itself after the smallest n reuses with n (I − R) ≥ W − I + S × T.

use super::RunReport;
use super::economics::CacheRates;
use super::format::fmt_int;
use super::summary::{RunStatus, StrategySummary};
use crate::record::{RequestKind, RequestRecord};

/// Reuses after which a cache write pays for itself, for a strategy that wrote `write` tokens of
/// which `write_1h` with the 1-hour TTL: `Some(0)` when writes cost no more than input, `None`
/// when reads save nothing (caching cannot pay).
pub fn break_even_reuses(
    input_mtok: f64,
    rates: &CacheRates,
    write: u64,
    write_1h: u64,
    stored_hours: f64,
) -> Option<u64> {
    let saving = input_mtok - rates.read_usd_per_mtok;
    if saving <= 0.0 {
        return None;
    }
    let storage = rates.storage_usd_per_mtok_hour.unwrap_or(0.0) * stored_hours;
    let premium = storage
        + if write == 0 {
            rates.write_usd_per_mtok - input_mtok
        } else {
            let one_hour = write_1h.min(write) as f64;
            let default = (write as f64) - one_hour;
            (default * (rates.write_usd_per_mtok - input_mtok)
                + one_hour * (rates.write_1h_usd_per_mtok - input_mtok))
                / write as f64
        };
    if premium <= 0.0 {
        return Some(0);
    }
    // The rates are decimal prices held in f64: shave rounding noise before rounding up, so that
    // a premium of exactly two savings is 2 reuses, not 3.
    Some((premium / saving - 1e-9).ceil().max(1.0) as u64)
}

/// Hours a strategy's context caches were stored for: the longest `cache_ttl_s` of its
/// `cache_create` rows (0 where the provider stores nothing).
pub fn stored_hours(requests: &[RequestRecord], strategy: &str) -> f64 {
    requests
        .iter()
        .filter(|r| r.strategy == strategy && r.kind == RequestKind::CacheCreate)
        .filter_map(|r| r.cache_ttl_s)
        .max()
        .map_or(0.0, |s| s as f64 / 3_600.0)
}

/// Fills `cache_break_even_reuses` for every strategy that read or wrote cached tokens.
pub fn fill_break_even(
    summaries: &mut [StrategySummary],
    requests: &[RequestRecord],
    input_mtok: f64,
    rates: &CacheRates,
) {
    for s in summaries
        .iter_mut()
        .filter(|s| s.cached_tokens > 0 || s.cache_write_tokens > 0)
    {
        s.cache_break_even_reuses = break_even_reuses(
            input_mtok,
            rates,
            s.cache_write_tokens,
            s.cache_write_1h_tokens,
            stored_hours(requests, &s.strategy),
        );
    }
}

/// One sentence per caching strategy: its break-even, the reuses this run reached, and whether
/// that is enough.
pub fn cache_findings(report: &RunReport) -> Vec<String> {
    let Some(e) = report.info.economics.as_ref() else {
        return Vec::new();
    };
    let Some(rates) = e.cache.as_ref() else {
        return Vec::new();
    };
    report
        .summaries
        .iter()
        .filter(|s| s.status != RunStatus::Failed)
        .filter_map(|s| {
            let hours = stored_hours(&report.requests, &s.strategy);
            let line = finding(s, e.input_usd_per_mtok, rates, hours)?;
            Some(match dearer_than_automatic(s, report) {
                Some(note) => format!("{line} {note}"),
                None => line,
            })
        })
        .collect()
}

/// A caching strategy that wrote a cache and still cost more than `sequential`, when the
/// provider's automatic caching already served `sequential` from the cache: the break-even is
/// measured against no caching at all, so say what it was really up against.
fn dearer_than_automatic(s: &StrategySummary, report: &RunReport) -> Option<String> {
    let base = report
        .summaries
        .iter()
        .find(|b| b.strategy == crate::strategy::BASELINE && b.status != RunStatus::Failed)?;
    let dearer = -s.saving_vs_sequential_pct.filter(|p| *p < 0.0)?;
    (s.cache_write_tokens > 0 && base.cached_tokens > 0).then(|| {
        format!(
            "Still, it cost {dearer:.1}% more than {}, which the provider's automatic caching already \
             served {:.1}% from the cache without any write.",
            base.strategy,
            100.0 * base.cached_tokens as f64 / base.input_tokens.max(1) as f64
        )
    })
}

fn finding(s: &StrategySummary, input: f64, rates: &CacheRates, hours: f64) -> Option<String> {
    let n = s.cache_break_even_reuses?;
    let read_share = 100.0 * s.cached_tokens as f64 / s.input_tokens.max(1) as f64;
    if s.cache_write_tokens == 0 {
        return Some(format!(
            "{}: {} input tokens ({read_share:.1}%) were read from the cache at ${}/M instead of ${input}/M; \
             the server reported no cache writes, so {}.",
            s.strategy,
            fmt_int(s.cached_tokens),
            rates.read_usd_per_mtok,
            if n == 0 {
                "every read is a saving"
            } else {
                "writes could not be weighed against reads"
            }
        ));
    }
    let reuses = s.cache_reuses.unwrap_or(0.0);
    let verdict = if reuses >= n as f64 {
        "the break-even was reached and the writes paid for themselves".to_string()
    } else {
        format!(
            "the break-even was not reached, so the writes cost more than their reads saved; a written prefix \
             must be read {n} times within its TTL (more prompts sharing it, or sent closer together)"
        )
    };
    let one_hour = if s.cache_write_1h_tokens > 0 {
        format!(
            " ({} with the 1-hour TTL)",
            fmt_int(s.cache_write_1h_tokens)
        )
    } else {
        String::new()
    };
    let write_rates = if s.cache_write_1h_tokens > 0 {
        format!(
            "write ${}/M, 1-hour write ${}/M",
            rates.write_usd_per_mtok, rates.write_1h_usd_per_mtok
        )
    } else {
        format!("write ${}/M", rates.write_usd_per_mtok)
    };
    let write_rates = match rates.storage_usd_per_mtok_hour.filter(|_| hours > 0.0) {
        Some(storage) => format!("{write_rates}, storage ${storage}/M per hour for {hours} h"),
        None => write_rates,
    };
    Some(format!(
        "{}: {} tokens written to the cache{one_hour} and {} read ({read_share:.1}% of input); a write pays \
         for itself after {n} {} at these rates ({write_rates}, read ${}/M, input ${input}/M). This run reused \
         each written token {reuses:.2} times: {verdict}.",
        s.strategy,
        fmt_int(s.cache_write_tokens),
        fmt_int(s.cached_tokens),
        if n == 1 { "reuse" } else { "reuses" },
        rates.read_usd_per_mtok,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// claude-haiku-4-5: input $1, 5-minute write $1.25, 1-hour write $2, read $0.10 per M.
    const HAIKU: CacheRates = CacheRates {
        read_usd_per_mtok: 0.10,
        write_usd_per_mtok: 1.25,
        write_1h_usd_per_mtok: 2.0,
        storage_usd_per_mtok_hour: None,
    };

    #[test]
    fn break_even_by_hand() {
        // 5 minutes: premium 0.25, saving 0.90 → 0.28 → 1 reuse.
        assert_eq!(break_even_reuses(1.0, &HAIKU, 1_000, 0, 0.0), Some(1));
        // 1 hour: premium 1.00, saving 0.90 → 1.11 → 2 reuses.
        assert_eq!(break_even_reuses(1.0, &HAIKU, 1_000, 1_000, 0.0), Some(2));
        // Half and half: premium (0.25 + 1.00) / 2 = 0.625 → 0.69 → 1 reuse.
        assert_eq!(break_even_reuses(1.0, &HAIKU, 1_000, 500, 0.0), Some(1));
        // Older OpenAI models bill writes as input (W = I): any read is a saving.
        let gpt4o_mini = CacheRates {
            read_usd_per_mtok: 0.075,
            write_usd_per_mtok: 0.15,
            write_1h_usd_per_mtok: 0.15,
            storage_usd_per_mtok_hour: None,
        };
        assert_eq!(break_even_reuses(0.15, &gpt4o_mini, 0, 0, 0.0), Some(0));
        // A premium of exactly two savings: 2, not 3 (input 1, read 0.5, write 2).
        let exact = CacheRates {
            read_usd_per_mtok: 0.5,
            write_usd_per_mtok: 2.0,
            write_1h_usd_per_mtok: 2.0,
            storage_usd_per_mtok_hour: None,
        };
        assert_eq!(break_even_reuses(1.0, &exact, 10, 0, 0.0), Some(2));
        // gemini-2.5-flash: writes at input ($0.30), reads $0.03, storage $1.00/M per hour: a
        // one-hour cache needs 1.00 / 0.27 = 3.7 → 4 reuses; a day, 24 / 0.27 = 88.9 → 89.
        let flash = CacheRates {
            read_usd_per_mtok: 0.03,
            write_usd_per_mtok: 0.30,
            write_1h_usd_per_mtok: 0.30,
            storage_usd_per_mtok_hour: Some(1.0),
        };
        assert_eq!(break_even_reuses(0.30, &flash, 4_741, 0, 1.0), Some(4));
        assert_eq!(break_even_reuses(0.30, &flash, 4_741, 0, 24.0), Some(89));
        // Reads that save nothing never pay.
        assert_eq!(break_even_reuses(0.1, &HAIKU, 10, 0, 0.0), None);
    }

    #[test]
    fn finding_says_whether_the_dataset_reached_it() {
        let mut s = StrategySummary {
            strategy: "cached:1h".into(),
            input_tokens: 100_000,
            cached_tokens: 1_000,
            cache_write_tokens: 1_000,
            cache_write_1h_tokens: 1_000,
            cache_reuses: Some(1.0),
            ..StrategySummary::default()
        };
        fill_break_even(std::slice::from_mut(&mut s), &[], 1.0, &HAIKU);
        assert_eq!(s.cache_break_even_reuses, Some(2));
        let f = finding(&s, 1.0, &HAIKU, 0.0).unwrap();
        assert!(f.contains("after 2 reuses"), "{f}");
        assert!(
            f.contains("reused each written token 1.00 times: the break-even was not reached"),
            "{f}"
        );
        s.cache_reuses = Some(79.0);
        assert!(
            finding(&s, 1.0, &HAIKU, 0.0)
                .unwrap()
                .contains("the break-even was reached")
        );
    }
}
