//! Findings about how requests were paid for: hidden reasoning tokens (billed as output, and
//! shared across a packed request's prompts) and service tiers (flex refusals, fallbacks, and
//! responses served at another tier than asked). Computed from the summaries alone, so each
//! sentence can be checked against summary.csv and the rates `batchbench prices` prints.

use super::RunReport;
use super::economics::RunEconomics;
use super::summary::{RunStatus, StrategySummary};

/// Reasoning tokens above this share of a strategy's output are said to dominate it.
const DOMINANT_SHARE: f64 = 0.5;

/// The reasoning and tier sentences of the findings.
pub fn tier_findings(report: &RunReport) -> Vec<String> {
    let ran: Vec<&StrategySummary> = report
        .summaries
        .iter()
        .filter(|s| s.status != RunStatus::Failed)
        .collect();
    let mut out = reasoning_findings(&ran, report.info.economics.as_ref());
    out.extend(ran.iter().filter_map(|s| flex_finding(s)));
    out
}

/// Reasoning's share of each strategy's cost at the standard rates: reasoning × output rate
/// over uncached input × input rate + output × output rate (cache reads left out, so the
/// share is an upper bound when there are any).
pub fn reasoning_cost_share(s: &StrategySummary, e: &RunEconomics) -> Option<f64> {
    let whole = s.uncached_input_tokens as f64 * e.input_usd_per_mtok
        + s.output_tokens as f64 * e.output_usd_per_mtok;
    (whole > 0.0 && s.reasoning_tokens > 0)
        .then(|| s.reasoning_tokens as f64 * e.output_usd_per_mtok / whole)
}

fn reasoning_findings(ran: &[&StrategySummary], e: Option<&RunEconomics>) -> Vec<String> {
    let mut out = Vec::new();
    let Some(base) = ran
        .iter()
        .find(|s| s.strategy == crate::strategy::BASELINE)
        .or_else(|| ran.iter().find(|s| s.reasoning_tokens > 0))
    else {
        return out;
    };
    if base.reasoning_tokens == 0 || base.output_tokens == 0 {
        return out;
    }
    let share = base.reasoning_tokens as f64 / base.output_tokens as f64;
    let cost = e
        .and_then(|e| reasoning_cost_share(base, e))
        .map(|c| format!(" and about {:.0}% of its cost at standard rates", c * 100.0))
        .unwrap_or_default();
    out.push(format!(
        "Reasoning tokens {} {}: {} of its {} output tokens ({:.1}%){cost}; they are billed as output.",
        if share > DOMINANT_SHARE { "dominate" } else { "are part of" },
        base.strategy,
        base.reasoning_tokens,
        base.output_tokens,
        share * 100.0
    ));
    let per_prompt = |s: &StrategySummary| s.reasoning_tokens as f64 / s.prompts.max(1) as f64;
    for s in ran.iter().filter(|s| s.batch_size > 1 && !s.demonstration) {
        let (mine, theirs) = (per_prompt(s), per_prompt(base));
        if theirs > 0.0 {
            out.push(format!(
                "{} spent {mine:.1} reasoning tokens per prompt against {theirs:.1} for {} ({:+.0}%): one reasoning pass serves the {} prompts of a request.",
                s.strategy,
                base.strategy,
                (mine - theirs) * 100.0 / theirs,
                s.batch_size
            ));
        }
    }
    out
}

fn flex_finding(s: &StrategySummary) -> Option<String> {
    if s.flex_refused == 0 && s.flex_fallbacks == 0 {
        return None;
    }
    let served = s.served_tiers.as_deref().unwrap_or("not reported");
    Some(format!(
        "{}: flex refused {} attempt(s) for capacity (429 resource unavailable, retried with backoff); {} request(s) fell back to the default tier at standard prices. Served: {served}; each request is priced by the tier its response reported.",
        s.strategy, s.flex_refused, s.flex_fallbacks
    ))
}
