//! `estimate --task embed`: what embedding a corpus costs per strategy, from client-side token
//! counts alone (the same planning as `run`, so the request counts are the ones `run` sends).

use serde::Serialize;

use crate::cli::{EstimateArgs, Format};
use crate::error::{Error, Result};
use crate::pricing::{Nanodollars, Pricing};
use crate::provider::ProviderKind;
use crate::tokens::Tokenizer;

use super::plan::{self, Text};
use super::strategy::EmbedStrategy;

/// One (model, strategy) row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Model.
    pub model: String,
    /// Strategy.
    pub strategy: String,
    /// Requests `run` would send (batch lines for Batch API strategies).
    pub requests: usize,
    /// Input tokens, by the model's encoding.
    pub tokens: u64,
    /// Cost, exact.
    #[serde(with = "crate::record::usd_string")]
    pub cost_usd: Nanodollars,
    /// Per 1,000 texts, USD.
    pub cost_per_1k_texts: f64,
    /// Per day at `--per-day` texts, USD.
    pub cost_per_day: f64,
}

fn strategies(args: &EstimateArgs) -> Result<Vec<EmbedStrategy>> {
    if let Some(list) = &args.strategies {
        return EmbedStrategy::parse_list(list).map_err(Error::Usage);
    }
    let mut out = vec![EmbedStrategy::Sequential];
    let sizes: Vec<usize> = args
        .sizes
        .split(',')
        .map(|k| k.trim().parse::<usize>().ok().filter(|k| *k >= 1))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            Error::Usage(format!(
                "--sizes {:?}: expected K,... of whole numbers >= 1",
                args.sizes
            ))
        })?;
    out.extend(
        sizes
            .iter()
            .filter(|k| **k > 1)
            .map(|k| EmbedStrategy::Array(*k)),
    );
    out.push(EmbedStrategy::BatchApi);
    out.extend(
        sizes
            .iter()
            .filter(|k| **k > 1)
            .map(|k| EmbedStrategy::BatchApiArray(*k)),
    );
    Ok(out)
}

/// The rows for every model and strategy.
pub fn estimate(args: &EstimateArgs) -> Result<Vec<Row>> {
    let set = super::dataset::load(Some(&args.dataset))?;
    let pricing = Pricing::load(
        args.prices_data.as_deref(),
        args.prices.as_deref(),
        std::time::SystemTime::now(),
    )?;
    let models: Vec<String> = if args.model == ["gpt-4o-mini"] {
        vec![super::DEFAULT_MODEL.to_string()]
    } else {
        args.model.clone()
    };
    let provider = args.provider.unwrap_or(ProviderKind::Openai);
    let n = set.prompts.len() as f64;
    let mut rows = Vec::new();
    for model in &models {
        let tokenizer = Tokenizer::for_model(model);
        let texts: Vec<Text<'_>> = set
            .prompts
            .iter()
            .map(|p| Text {
                id: &p.id,
                text: &p.prompt,
                tokens: tokenizer.count(&p.prompt),
            })
            .collect();
        let limit = batchbench_core::embed::native_dimensions(model).is_some();
        for s in strategies(args)? {
            let planned = plan::plan(s, &texts, limit);
            let tokens: u64 = texts.iter().map(|t| t.tokens).sum();
            let mut cost = Nanodollars::ZERO;
            for r in &planned.requests {
                cost += super::price::cost(
                    &pricing,
                    provider,
                    model,
                    r.tokens.iter().sum(),
                    s.uses_batch_api(),
                )?;
            }
            rows.push(Row {
                model: model.clone(),
                strategy: s.to_string(),
                requests: planned.requests.len(),
                tokens,
                cost_usd: cost,
                cost_per_1k_texts: cost.as_usd() * 1000.0 / n,
                cost_per_day: cost.as_usd() * args.per_day as f64 / n,
            });
        }
    }
    Ok(rows)
}

fn render(rows: &[Row], format: Format) -> Result<String> {
    if format == Format::Json {
        return serde_json::to_string_pretty(rows)
            .map(|s| s + "\n")
            .map_err(|e| Error::Output(e.to_string()));
    }
    let mut table = comfy_table::Table::new();
    if format == Format::Md {
        table.load_preset(comfy_table::presets::ASCII_MARKDOWN);
    } else {
        table.load_preset(comfy_table::presets::NOTHING);
    }
    table.set_header([
        "model",
        "strategy",
        "requests",
        "tokens",
        "cost USD",
        "per 1k texts",
        "per day",
    ]);
    for r in rows {
        table.add_row([
            r.model.clone(),
            r.strategy.clone(),
            r.requests.to_string(),
            r.tokens.to_string(),
            r.cost_usd.exact(),
            format!("{:.6}", r.cost_per_1k_texts),
            format!("{:.4}", r.cost_per_day),
        ]);
    }
    Ok(format!("{table}\n"))
}

/// `batchbench estimate --task embed`.
pub fn run(args: &EstimateArgs) -> Result<i32> {
    let text = render(&estimate(args)?, args.format)?;
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(crate::error::EXIT_OK)
}
