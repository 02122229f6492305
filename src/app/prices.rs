//! `batchbench prices`: the price table in effect.

use std::time::SystemTime;

use crate::cli::PricesArgs;
use crate::error::{EXIT_OK, Error, Result};
use crate::pricing::{Pricing, ServedTier};
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
        rows.push((
            m.clone(),
            pricing.matched_model(provider, m),
            std,
            batch,
            tiers,
        ));
    }
    if args.json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(m, matched, s, b, (flex, priority))| {
                serde_json::json!({"model": m, "matched": matched, "standard": s, "batch": b,
                    "flex": flex, "priority": priority})
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
        "model", "input", "cached", "write5m", "write1h", "output", "b.input", "b.cached",
        "b.write", "b.output", "flex.in", "flex.out", "prio.in", "prio.out",
    ];
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|(m, _, s, b, (flex, priority))| {
            let mut row = vec![m.to_string()];
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
                    Some(r) => row.extend([rate(r.input_mtok), rate(r.output_mtok)]),
                    None => row.extend(["-".to_string(), "-".to_string()]),
                }
            }
            row
        })
        .collect();
    print!(
        "{}",
        report::tabular::render(&header, &table, 1, report::tabular::Style::Plain)
    );
    println!();
    println!(
        "b.* = batch API prices; flex.* and prio.* = OpenAI's flex and priority service tiers"
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

fn rate(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}
