//! `batchbench merge`: shard or run folders combined into one run.

use std::path::{Path, PathBuf};

use crate::cli::MergeArgs;
use crate::dataset::{self};
use crate::error::{EXIT_OK, Error, Result};
use crate::report::RunInfo;

use super::plan::usage;
use super::run::{print_summary, write_rows};

/// `batchbench merge`.
pub fn merge_command(args: &MergeArgs) -> Result<i32> {
    use crate::record::{PromptRecord, RequestRecord};
    let mut infos: Vec<RunInfo> = Vec::new();
    let mut prompts: Vec<PromptRecord> = Vec::new();
    let mut requests: Vec<RequestRecord> = Vec::new();
    for dir in &args.dirs {
        let side = crate::compare::load_side(dir)?;
        if !dir.is_dir() {
            return Err(usage(format!(
                "{}: merge needs run folders (with prompts.csv and requests.csv)",
                dir.display()
            )));
        }
        if let Some(first) = infos.first() {
            let same = first.dataset_sha256 == side.info.dataset_sha256
                && first.model == side.info.model
                && first.provider == side.info.provider
                && first.seed == side.info.seed
                && first.strategies == side.info.strategies;
            if !same {
                return Err(Error::RunFiles(format!(
                    "{}: not a shard of the same run as {} (dataset, model, provider, seed and strategies must match)",
                    dir.display(),
                    args.dirs[0].display()
                )));
            }
        }
        prompts.extend(crate::report::csv::read_rows::<PromptRecord>(
            &dir.join("prompts.csv"),
        )?);
        requests.extend(crate::report::csv::read_rows::<RequestRecord>(
            &dir.join("requests.csv"),
        )?);
        infos.push(side.info);
    }
    let first = infos[0].clone();
    let shards: Vec<String> = infos.iter().filter_map(|i| i.shard.clone()).collect();
    let mut seen = std::collections::HashSet::new();
    for p in &prompts {
        if !seen.insert((p.strategy.clone(), p.prompt_id.clone())) {
            return Err(Error::RunFiles(format!(
                "prompt {:?} of strategy {} appears in more than one shard: the same shard was given twice?",
                p.prompt_id, p.strategy
            )));
        }
    }
    let set = dataset::load(Path::new(&first.dataset_path), None)
        .ok()
        .filter(|s| s.sha256 == first.dataset_sha256);
    let order: std::collections::HashMap<String, usize> = match &set {
        Some(s) => s
            .prompts
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect(),
        None => std::collections::HashMap::new(),
    };
    let strat_pos = |s: &str| {
        first
            .strategies
            .iter()
            .position(|x| x == s)
            .unwrap_or(usize::MAX)
    };
    prompts.sort_by(|a, b| {
        (
            strat_pos(&a.strategy),
            order.get(&a.prompt_id).copied().unwrap_or(usize::MAX),
            &a.prompt_id,
        )
            .cmp(&(
                strat_pos(&b.strategy),
                order.get(&b.prompt_id).copied().unwrap_or(usize::MAX),
                &b.prompt_id,
            ))
    });
    requests.sort_by(|a, b| {
        (strat_pos(&a.strategy), &a.kind, &a.request_id, a.attempt).cmp(&(
            strat_pos(&b.strategy),
            &b.kind,
            &b.request_id,
            b.attempt,
        ))
    });
    crate::grade::mark_agreement(&mut prompts, set.as_ref());
    let mut info = first.clone();
    info.run_id = format!(
        "{}-merged",
        first.run_id.split("-shard").next().unwrap_or(&first.run_id)
    );
    info.shard = None;
    info.prompts = order.len().max(
        prompts
            .iter()
            .map(|p| p.prompt_id.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len(),
    );
    info.warnings = infos
        .iter()
        .flat_map(|i| i.warnings.iter().cloned())
        .collect();
    info.warnings.dedup();
    info.warnings
        .push(format!("merged from shards {}", shards.join(", ")));
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(&info.run_id));
    let report = write_rows(&out, info, prompts, requests, true)?;
    print_summary(&report, args.format)?;
    eprintln!("wrote {}", out.display());
    if let Some(h) = &args.history {
        crate::history::record(h, &out, args.commit.as_deref(), args.branch.as_deref())?;
    }
    Ok(EXIT_OK)
}
