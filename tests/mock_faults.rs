//! The mock's answer faults as the client sees them: a cut-short packed answer and a dropped
//! item are reported by `packing::unpack` exactly as the mock's outcomes say (moved here from
//! the mock's unit tests, which no longer see the client).

use batchbench::dataset::{Prompt, PromptSet};
use batchbench::mock::config::ErrorModelConfig;
use batchbench::mock::oracle::{AnswerFaults, Oracle};
use batchbench::packing::{pack_user_message, unpack};

fn set(n: usize) -> PromptSet {
    let prompts = (0..n)
        .map(|i| {
            let (task, answer, prompt) = match i % 3 {
                0 => (
                    "arithmetic",
                    format!("{}", i * 7),
                    format!("What is {i} times 7?"),
                ),
                1 => (
                    "sentiment",
                    ["positive", "negative", "neutral"][i % 3].to_string(),
                    format!("Review {i}: it was fine."),
                ),
                _ => (
                    "yesno",
                    if i % 2 == 0 { "yes" } else { "no" }.to_string(),
                    format!("Is {i} even?"),
                ),
            };
            Prompt {
                id: format!("q{i:04}"),
                prompt,
                answer: Some(answer),
                task: Some(task.to_string()),
            }
        })
        .collect();
    PromptSet {
        name: "t".into(),
        path: "t.jsonl".into(),
        sha256: String::new(),
        instructions: "Answer briefly.".into(),
        prompts,
    }
}

#[test]
fn answer_faults() {
    let s = set(10);
    let o = Oracle::from_prompt_set(&s);
    let cfg = ErrorModelConfig {
        enabled: false,
        ..ErrorModelConfig::default()
    };
    let msg = pack_user_message(s.prompts.iter().map(|p| (p.id.as_str(), p.prompt.as_str())));
    let ids: Vec<&str> = s.prompts.iter().map(|p| p.id.as_str()).collect();
    let a = o.answer(
        &cfg,
        1,
        "gpt-4o-mini",
        &msg,
        0,
        AnswerFaults {
            malformed: true,
            drop_item: false,
        },
    );
    let u = unpack(&a.text, &ids);
    assert!(u.truncated);
    let missing: Vec<&str> = a
        .items
        .iter()
        .filter(|o| o.missing)
        .filter_map(|o| o.item_id.as_deref())
        .collect();
    assert!(
        !missing.is_empty() && missing.len() < ids.len(),
        "{missing:?}"
    );
    assert_eq!(u.missing, missing);
    let a = o.answer(
        &cfg,
        1,
        "gpt-4o-mini",
        &msg,
        0,
        AnswerFaults {
            malformed: false,
            drop_item: true,
        },
    );
    let u = unpack(&a.text, &ids);
    assert_eq!(u.missing.len(), 1);
    assert_eq!(a.items.iter().filter(|i| i.missing).count(), 1);
}
