//! Vector agreement: each text's cosine similarity with its `embed:sequential` vector, written
//! to the prompt rows (`vector_cosine`) so the summary's min / p01 / mean are recomputable
//! from prompts.csv.

use std::collections::HashMap;

use batchbench_core::embed::cosine;

use super::run::EmbedRun;
use crate::report::summary::EMBED_BASELINE;

/// Sets `vector_cosine` on every run's prompt rows against the baseline's vectors; without a
/// baseline in `runs`, every cosine stays empty.
pub fn mark(runs: &mut [EmbedRun]) {
    let Some(base) = runs
        .iter()
        .find(|r| r.run.strategy == EMBED_BASELINE)
        .map(|r| r.vectors.clone())
    else {
        return;
    };
    for r in runs.iter_mut() {
        let vectors: &HashMap<String, Vec<f32>> = &r.vectors;
        for p in &mut r.run.prompts {
            p.vector_cosine = match (vectors.get(&p.prompt_id), base.get(&p.prompt_id)) {
                (Some(v), Some(b)) => cosine(v, b),
                _ => None,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::StrategyRun;
    use crate::record::{PromptRecord, PromptStatus};

    fn run(label: &str, vectors: &[(&str, Vec<f32>)]) -> EmbedRun {
        let prompts = vectors
            .iter()
            .map(|(id, _)| PromptRecord {
                strategy: label.into(),
                prompt_id: (*id).into(),
                request_id: "r".into(),
                request_prompts: 1,
                status: PromptStatus::Answered,
                reasked: false,
                input_tokens: 1,
                cached_tokens: 0,
                cache_write_tokens: 0,
                output_tokens: 0,
                client_input_tokens: 1,
                cost_usd: crate::pricing::Nanodollars::ZERO,
                batch_priced: false,
                latency_ms: 0.0,
                ttft_ms: None,
                answer: None,
                gold: None,
                correct: None,
                agrees_with_sequential: None,
                error: None,
                pack_position: None,
                vector_cosine: None,
                reasoning_tokens: 0,
            })
            .collect();
        EmbedRun {
            run: StrategyRun {
                strategy: label.into(),
                batch_size: 1,
                demonstration: false,
                prompts,
                requests: Vec::new(),
                warnings: Vec::new(),
            },
            vectors: vectors
                .iter()
                .map(|(i, v)| ((*i).to_string(), v.clone()))
                .collect(),
        }
    }

    #[test]
    fn cosines_against_sequential() {
        let mut runs = vec![
            run(
                "embed:sequential",
                &[("a", vec![1.0, 0.0]), ("b", vec![0.0, 1.0])],
            ),
            run(
                "embed:array:2",
                &[("a", vec![1.0, 0.0]), ("b", vec![1.0, 1.0])],
            ),
        ];
        mark(&mut runs);
        let c: Vec<Option<f64>> = runs[1]
            .run
            .prompts
            .iter()
            .map(|p| p.vector_cosine)
            .collect();
        assert_eq!(c[0], Some(1.0));
        assert!((c[1].unwrap() - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
        assert_eq!(runs[0].run.prompts[1].vector_cosine, Some(1.0));
        let mut alone = vec![run("embed:array:2", &[("a", vec![1.0])])];
        mark(&mut alone);
        assert_eq!(alone[0].run.prompts[0].vector_cosine, None);
    }
}
