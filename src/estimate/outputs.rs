//! Output tokens per answer: a fixed number, or what a previous run measured (its
//! `prompts.csv`), per prompt id when the dataset is the same file, else as a mean per prompt.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::dataset::Prompt;
use crate::error::{Error, Result};
use crate::record::PromptRecord;
use crate::report::RunInfo;
use crate::strategy::StrategySpec;

/// Output tokens per answer when neither `--output-tokens` nor `--from-run` is given: `run`'s
/// default `--answer-tokens` cap, so the estimate is an upper bound.
pub const DEFAULT_OUTPUT_TOKENS: u64 = 64;

/// Where output token counts come from.
#[derive(Debug, Clone)]
pub enum OutputTokens {
    /// This many output tokens per answer.
    PerAnswer(u64),
    /// Measured by a previous run.
    FromRun(RunOutputs),
}

/// Output tokens a previous run measured, per strategy.
#[derive(Debug, Clone)]
pub struct RunOutputs {
    /// The run folder.
    pub dir: PathBuf,
    /// The SHA-256 of the run's dataset, from its `run.json` (when present).
    pub dataset_sha256: Option<String>,
    /// The run's model, from its `run.json` (when present).
    pub model: Option<String>,
    strategies: Vec<(StrategySpec, StrategyOutputs)>,
}

#[derive(Debug, Clone, Default)]
struct StrategyOutputs {
    total: u64,
    prompts: u64,
    by_id: HashMap<String, u64>,
}

impl RunOutputs {
    /// Reads `DIR/prompts.csv` (and `DIR/run.json` when present).
    pub fn load(dir: &Path) -> Result<RunOutputs> {
        let csv = dir.join("prompts.csv");
        if !csv.is_file() {
            return Err(Error::Dataset(format!(
                "{}: no prompts.csv here (--from-run wants a run folder written by `batchbench run`)",
                dir.display()
            )));
        }
        let rows: Vec<PromptRecord> = crate::report::csv::read_rows(&csv)?;
        let mut strategies: Vec<(StrategySpec, StrategyOutputs)> = Vec::new();
        for row in &rows {
            let Ok(spec) = row.strategy.parse::<StrategySpec>() else {
                continue;
            };
            let i = match strategies.iter().position(|(s, _)| *s == spec) {
                Some(i) => i,
                None => {
                    strategies.push((spec, StrategyOutputs::default()));
                    strategies.len() - 1
                }
            };
            let s = &mut strategies[i].1;
            s.total += row.output_tokens;
            s.prompts += 1;
            *s.by_id.entry(row.prompt_id.clone()).or_insert(0) += row.output_tokens;
        }
        if strategies.is_empty() {
            return Err(Error::Dataset(format!(
                "{}: no rows with a known strategy",
                csv.display()
            )));
        }
        let info_path = dir.join("run.json");
        let info: Option<RunInfo> = match std::fs::read(&info_path) {
            Ok(bytes) => Some(serde_json::from_slice(&bytes).map_err(|e| {
                Error::Dataset(format!(
                    "{}: not a batchbench run.json: {e}",
                    info_path.display()
                ))
            })?),
            Err(_) => None,
        };
        Ok(RunOutputs {
            dir: dir.to_path_buf(),
            dataset_sha256: info.as_ref().map(|i| i.dataset_sha256.clone()),
            model: info.map(|i| i.model),
            strategies,
        })
    }

    /// The strategies the run measured, with their mean output tokens per prompt.
    pub fn means(&self) -> Vec<(StrategySpec, f64)> {
        self.strategies
            .iter()
            .map(|(s, o)| (*s, o.total as f64 / o.prompts.max(1) as f64))
            .collect()
    }

    fn get(&self, spec: StrategySpec) -> Option<&StrategyOutputs> {
        self.strategies
            .iter()
            .find(|(s, _)| *s == spec)
            .map(|(_, o)| o)
    }
}

/// The strategy families output lengths carry across.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Single,
    Packed,
    Naive,
}

fn family(spec: StrategySpec) -> Family {
    match spec {
        StrategySpec::Packed(_)
        | StrategySpec::BatchApi(Some(_))
        | StrategySpec::Tier(_, Some(_)) => Family::Packed,
        StrategySpec::NaiveMultiMessage(_) => Family::Naive,
        _ => Family::Single,
    }
}

/// How one strategy's output tokens are computed.
#[derive(Debug, Clone)]
pub(crate) struct OutputRule<'a> {
    source: Source<'a>,
    /// Add the JSON allowance around each packed answer (`tokens(id) + 6` per item, 2 per request).
    pub json_allowance: bool,
    /// Naive requests: the whole request's output is the sum over its prompts (from a naive run),
    /// else one answer.
    pub whole_request: bool,
    /// What the report says about it.
    pub description: String,
}

#[derive(Debug, Clone)]
enum Source<'a> {
    Fixed(u64),
    Mean {
        total: u64,
        prompts: u64,
        by_id: Option<&'a HashMap<String, u64>>,
    },
}

impl OutputRule<'_> {
    /// Output tokens for the prompt at global index `index`.
    pub fn prompt(&self, index: u64, prompt: &Prompt) -> u64 {
        match &self.source {
            Source::Fixed(n) => *n,
            Source::Mean {
                total,
                prompts,
                by_id,
            } => {
                if let Some(n) = by_id.and_then(|m| m.get(&prompt.id)) {
                    return *n;
                }
                spread(*total, *prompts, index + 1) - spread(*total, *prompts, index)
            }
        }
    }

    /// Output tokens of the prompts at global indices `start..`, summed.
    pub fn sum(&self, start: u64, prompts: &[&Prompt]) -> u64 {
        prompts
            .iter()
            .enumerate()
            .map(|(i, p)| self.prompt(start + i as u64, p))
            .sum()
    }
}

/// `floor(total * i / n)`: a mean spread over prompts so that any range sums exactly.
fn spread(total: u64, n: u64, i: u64) -> u64 {
    (u128::from(total) * u128::from(i) / u128::from(n.max(1))) as u64
}

/// Chooses the output rule of `target`. `by_id`: the dataset is the run's dataset, so prompt
/// ids can be joined.
pub(crate) fn resolve<'a>(
    target: StrategySpec,
    output: &'a OutputTokens,
    by_id: bool,
) -> OutputRule<'a> {
    let fam = family(target);
    let run = match output {
        OutputTokens::PerAnswer(n) => {
            return OutputRule {
                source: Source::Fixed(*n),
                json_allowance: fam == Family::Packed,
                whole_request: false,
                description: format!(
                    "{n} per answer (--output-tokens){}",
                    if fam == Family::Packed {
                        " + JSON allowance per item"
                    } else {
                        ""
                    }
                ),
            };
        }
        OutputTokens::FromRun(run) => run,
    };
    // Exact strategy, then the same family (packed: the same K first, then the nearest K), then
    // single-request strategies.
    let mut candidates: Vec<StrategySpec> = vec![target];
    let mut same: Vec<StrategySpec> = run
        .strategies
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| *s != target && family(*s) == fam)
        .collect();
    same.sort_by_key(|s| (s.batch_size().abs_diff(target.batch_size()), *s));
    candidates.extend(same);
    if fam != Family::Single {
        let mut single: Vec<StrategySpec> = run
            .strategies
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| family(*s) == Family::Single)
            .collect();
        single.sort();
        candidates.extend(single);
    }
    for spec in candidates {
        let Some(o) = run.get(spec) else { continue };
        let src_fam = family(spec);
        let per_id =
            by_id && (src_fam == fam || fam == Family::Single || src_fam == Family::Packed);
        let json_allowance = fam == Family::Packed && src_fam != Family::Packed;
        let whole_request = fam == Family::Naive && src_fam == Family::Naive;
        let mean = o.total as f64 / o.prompts.max(1) as f64;
        let description = format!(
            "{} from {} {spec}{}",
            if per_id {
                "per prompt id"
            } else {
                "mean per prompt"
            },
            run.dir.display(),
            if per_id {
                String::new()
            } else {
                format!(" ({mean:.2})")
            }
        ) + if json_allowance {
            " + JSON allowance per item"
        } else {
            ""
        };
        return OutputRule {
            source: Source::Mean {
                total: o.total,
                prompts: o.prompts,
                by_id: per_id.then_some(&o.by_id),
            },
            json_allowance,
            whole_request,
            description,
        };
    }
    OutputRule {
        source: Source::Fixed(DEFAULT_OUTPUT_TOKENS),
        json_allowance: fam == Family::Packed,
        whole_request: false,
        description: format!(
            "{DEFAULT_OUTPUT_TOKENS} per answer (default; the run measured no comparable strategy)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_sums_exactly() {
        let parts: Vec<u64> = (0..7)
            .map(|i| spread(10, 7, i + 1) - spread(10, 7, i))
            .collect();
        assert_eq!(parts.iter().sum::<u64>(), 10);
        assert!(parts.iter().all(|p| *p == 1 || *p == 2));
    }
}
