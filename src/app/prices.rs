//! `batchbench prices`: the price table in effect.

use std::time::SystemTime;

use crate::cli::PricesArgs;
use crate::error::{EXIT_OK, Error, Result};
use crate::pricing::{LongContext, Pricing, Rates, ServedTier};
use crate::provider::ProviderKind;
use crate::report::{self};

/// `batchbench prices`.
pub fn prices(args: &PricesArgs) -> Result<i32> {
    let pricing = Pricing::load(
        args.prices_data.as_deref(),
        args.prices.as_deref(),
        SystemTime::now(),
    )?;
    let provider = args.provider.unwrap_or_else(|| {
        args.model
            .as_deref()
            .map_or(ProviderKind::Openai, ProviderKind::guess_from_model)
    });
    let models = match &args.model {
        Some(m) => {
            pricing.check_model(provider, m)?;
            vec![m.clone()]
        }
        None => pricing.models(provider),
    };
    let source = pricing.source();
    let mut rows = Vec::new();
    for m in &models {
        let (Ok(std), Ok(batch)) = (
            pricing.rates(provider, m, false),
            pricing.rates(provider, m, true),
        ) else {
            continue;
        };
        let tier = |t| {
            pricing
                .has_tier(provider, m, t)
                .unwrap_or(false)
                .then(|| pricing.rates_at(provider, m, t).ok())
                .flatten()
        };
        let tiers = (tier(ServedTier::Flex), tier(ServedTier::Priority));
        rows.push(Row {
            model: m.clone(),
            matched: pricing.matched_model(provider, m),
            standard: std,
            batch,
            tiers,
            long: (
                pricing
                    .long_context(provider, m, ServedTier::Standard)
                    .ok()
                    .flatten(),
                pricing
                    .long_context(provider, m, ServedTier::Batch)
                    .ok()
                    .flatten(),
            ),
            storage: pricing.cache_storage_rate(m),
        });
    }
    if args.json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                let (flex, priority) = r.tiers;
                let long = r.long.0.map(|l| {
                    serde_json::json!({"above_tokens": l.above_tokens, "standard": l.rates,
                        "batch": r.long.1.map(|b| b.rates)})
                });
                serde_json::json!({"model": r.model, "matched": r.matched, "standard": r.standard,
                    "batch": r.batch, "flex": flex, "priority": priority, "long_context": long,
                    "cache_storage_mtok_hour": r.storage})
            })
            .collect();
        let doc = serde_json::json!({"provider": provider.as_str(), "source": source, "models": v});
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).map_err(|e| Error::Output(e.to_string()))?
        );
        return Ok(EXIT_OK);
    }
    println!(
        "Prices in USD per million tokens, {} models",
        provider.as_str()
    );
    println!(
        "source: {}{}",
        source.name,
        source
            .data_sha256
            .as_ref()
            .map(|h| format!(" (sha256 {h})"))
            .unwrap_or_default()
    );
    if let Some(o) = &source.overrides {
        println!("overrides: {o}");
    }
    println!("prices in effect at: {}", source.as_of);
    println!();
    let header = [
        "model",
        "input",
        "cached",
        "write5m",
        "write1h",
        "output",
        "b.input",
        "b.cached",
        "b.write",
        "b.output",
        "flex.in",
        "flex.cached",
        "flex.out",
        "prio.in",
        "prio.cached",
        "prio.out",
        "storage/h",
    ];
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let (s, b, (flex, priority)) = (&r.standard, &r.batch, &r.tiers);
            let mut row = vec![r.model.to_string()];
            row.extend(
                [
                    s.input_mtok,
                    s.cached_mtok,
                    s.cache_write_mtok,
                    s.cache_write_1h_mtok,
                    s.output_mtok,
                    b.input_mtok,
                    b.cached_mtok,
                    b.cache_write_mtok,
                    b.output_mtok,
                ]
                .map(rate),
            );
            for t in [flex, priority] {
                match t {
                    Some(r) => row.extend([r.input_mtok, r.cached_mtok, r.output_mtok].map(rate)),
                    None => row.extend(["-", "-", "-"].map(str::to_string)),
                }
            }
            row.push(r.storage.map_or_else(|| "-".to_string(), rate));
            row
        })
        .collect();
    print!(
        "{}",
        report::tabular::render(&header, &table, 1, report::tabular::Style::Plain)
    );
    for r in &rows {
        if let Some(l) = r.long.0 {
            let b = r.long.1.map(|b| b.rates);
            println!(
                "{}: prompts above {} tokens pay, for the whole request: input {}, cached {}, output {}{}",
                r.model,
                l.above_tokens,
                rate(l.rates.input_mtok),
                rate(l.rates.cached_mtok),
                rate(l.rates.output_mtok),
                b.map(|b| format!(
                    "; batch input {}, cached {}, output {}",
                    rate(b.input_mtok),
                    rate(b.cached_mtok),
                    rate(b.output_mtok)
                ))
                .unwrap_or_default()
            );
        }
    }
    println!();
    println!("b.* = batch API prices; flex.* and prio.* = the flex and priority service tiers");
    println!(
        "storage/h = an explicit context cache's storage, USD per million tokens per hour of its TTL (Gemini;"
    );
    println!(
        "Google's published rates, or --prices [cache_storage]); the cache's making costs its tokens at write5m."
    );
    println!("(- where the data has none: a run that is served at that tier stops with an error).");
    println!(
        "A request is priced by the tier its response reports. Its cost = uncached input x input + cached x cached"
    );
    println!(
        "+ cache writes x write + output x output, per million, priced per request (tiers apply per request)."
    );
    Ok(EXIT_OK)
}

/// One model's line of the table.
struct Row {
    model: String,
    matched: Option<String>,
    standard: Rates,
    batch: Rates,
    tiers: (Option<Rates>, Option<Rates>),
    /// Long-context rates at standard and batch prices.
    long: (Option<LongContext>, Option<LongContext>),
    storage: Option<f64>,
}

fn rate(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}
