//! Grading, in one place: whether an answer is correct against the dataset's gold answer, and
//! whether it agrees with the sequential baseline's answer to the same prompt. Both compare
//! after the same normalisation by the prompt's task type (`dataset::answer`).

use std::collections::HashMap;

use crate::dataset::{Prompt, PromptSet, answer};
use crate::record::PromptRecord;

/// Whether `given` answers `prompt` correctly: `None` without a gold answer, `Some(false)` for
/// no answer at all.
pub fn correctness(prompt: &Prompt, given: Option<&str>) -> Option<bool> {
    match (given, &prompt.answer) {
        (Some(a), Some(g)) => Some(answer::is_correct(prompt.task.as_deref(), a, g)),
        (None, Some(_)) => Some(false),
        _ => None,
    }
}

/// Fills `agrees_with_sequential` on every record from the sequential strategy's answers
/// (compared after normalisation by the prompt's task type, as correctness is).
pub fn mark_agreement(rows: &mut [PromptRecord], set: Option<&PromptSet>) {
    let baseline: HashMap<String, Option<String>> = rows
        .iter()
        .filter(|p| p.strategy == crate::strategy::BASELINE)
        .map(|p| (p.prompt_id.clone(), p.answer.clone()))
        .collect();
    if baseline.is_empty() {
        return;
    }
    let tasks: HashMap<&str, Option<&str>> = set
        .map(|s| {
            s.prompts
                .iter()
                .map(|p| (p.id.as_str(), p.task.as_deref()))
                .collect()
        })
        .unwrap_or_default();
    let kind_of = |id: &str| answer::TaskKind::from_task(tasks.get(id).copied().flatten());
    for p in rows.iter_mut() {
        p.agrees_with_sequential = match (baseline.get(&p.prompt_id), &p.answer) {
            (Some(Some(b)), Some(a)) => {
                let kind = kind_of(&p.prompt_id);
                Some(answer::normalise(kind, a) == answer::normalise(kind, b))
            }
            (Some(Some(_)), None) => Some(false),
            _ => None,
        };
    }
}
