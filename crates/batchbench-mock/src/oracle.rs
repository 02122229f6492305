//! The answer oracle: gold answers looked up by the exact prompt text, packed requests answered
//! as one JSON object keyed by item id, and wrong or missing items drawn from the error model.
//!
//! Every draw is seeded by (seed, model, items per request, slot, item text, sample), so the same
//! request always gets the same answer, whatever else runs concurrently.

use std::collections::{BTreeSet, HashMap};

use rand::Rng;

use batchbench_core::answer::{TaskKind, normalise};
use batchbench_core::items::parse_items;
use batchbench_core::prompt::PromptSet;

use super::config::ErrorModelConfig;
use super::error_model::item_error;
use super::seed::{Fnv, rng_for};

/// One known prompt.
#[derive(Debug, Clone)]
struct Entry {
    id: String,
    answer: Option<String>,
    task: Option<String>,
}

/// Gold answers by prompt text.
#[derive(Debug, Clone, Default)]
pub struct Oracle {
    entries: Vec<Entry>,
    by_text: HashMap<String, usize>,
    instructions: String,
    /// Distinct normalised label answers per task name, for plausible wrong labels.
    labels: HashMap<String, Vec<String>>,
}

/// What went into one answered item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemOutcome {
    /// The dataset id of the prompt, when the oracle knows it.
    pub prompt_id: Option<String>,
    /// The packed item id (packed requests only).
    pub item_id: Option<String>,
    /// The simulated model answered it wrongly.
    pub wrong: bool,
    /// The item was left out of the answer.
    pub missing: bool,
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The full answer text.
    pub text: String,
    /// Per item (one for an unpacked request).
    pub items: Vec<ItemOutcome>,
    /// Whether the request was a packed one.
    pub packed: bool,
}

/// Answer-level faults chosen for one packed answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnswerFaults {
    /// Cut the JSON short.
    pub malformed: bool,
    /// Leave one item out.
    pub drop_item: bool,
}

impl From<&super::faults::FaultPlan> for AnswerFaults {
    /// The answer-level faults a request's fault plan chose.
    fn from(plan: &super::faults::FaultPlan) -> AnswerFaults {
        AnswerFaults {
            malformed: plan.malformed,
            drop_item: plan.missing_item,
        }
    }
}

impl Oracle {
    /// An oracle that knows no prompts (every answer is a deterministic placeholder).
    pub fn empty() -> Oracle {
        Oracle::default()
    }

    /// The gold answers of a prompt set.
    pub fn from_prompt_set(set: &PromptSet) -> Oracle {
        let mut o = Oracle {
            instructions: set.instructions.trim().to_string(),
            ..Oracle::default()
        };
        let mut labels: HashMap<String, BTreeSet<String>> = HashMap::new();
        for p in &set.prompts {
            let idx = o.entries.len();
            o.entries.push(Entry {
                id: p.id.clone(),
                answer: p.answer.clone(),
                task: p.task.clone(),
            });
            o.by_text.entry(p.prompt.trim().to_string()).or_insert(idx);
            if let (Some(a), kind @ TaskKind::Label) =
                (&p.answer, TaskKind::from_task(p.task.as_deref()))
            {
                let n = normalise(kind, a);
                if !n.is_empty() {
                    labels
                        .entry(task_key(p.task.as_deref()))
                        .or_default()
                        .insert(n);
                }
            }
        }
        o.labels = labels
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect();
        o
    }

    /// Number of known prompts.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the oracle knows no prompt.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn lookup(&self, text: &str) -> Option<&Entry> {
        let t = text.trim();
        if let Some(i) = self.by_text.get(t) {
            return self.entries.get(*i);
        }
        // The shared instructions sent in the same message, before the prompt.
        if !self.instructions.is_empty() {
            if let Some(rest) = t.strip_prefix(self.instructions.as_str()) {
                return self
                    .by_text
                    .get(rest.trim())
                    .and_then(|i| self.entries.get(*i));
            }
        }
        None
    }

    /// The dataset id of the prompt with this exact text, if known.
    pub fn prompt_id(&self, text: &str) -> Option<&str> {
        self.lookup(text).map(|e| e.id.as_str())
    }

    /// The answer to a request whose last user message is `user_text`. `sample` distinguishes
    /// the `n` choices of one request.
    pub fn answer(
        &self,
        cfg: &ErrorModelConfig,
        seed: u64,
        model: &str,
        user_text: &str,
        sample: u32,
        faults: AnswerFaults,
    ) -> Answer {
        let items = parse_items(user_text);
        if items.is_empty() {
            let (text, outcome) = self.answer_item(cfg, seed, model, user_text, 1, 0, sample);
            let mut outcome = outcome;
            // A single question is never "missing": the model always says something.
            if outcome.missing {
                outcome.missing = false;
                outcome.wrong = true;
            }
            return Answer {
                text: text.unwrap_or_default(),
                items: vec![outcome],
                packed: false,
            };
        }
        let k = items.len();
        let mut outcomes = Vec::with_capacity(k);
        let mut pairs: Vec<(String, String)> = Vec::with_capacity(k);
        for (pos, (id, text)) in items.iter().enumerate() {
            let (answer, mut outcome) = self.answer_item(cfg, seed, model, text, k, pos, sample);
            outcome.item_id = Some(id.clone());
            if let Some(a) = answer {
                pairs.push((id.clone(), a));
            }
            outcomes.push(outcome);
        }
        if faults.drop_item && !pairs.is_empty() {
            let mut rng = rng_for(seed, &["drop", model, user_text], &[u64::from(sample)]);
            let i = rng.random_range(0..pairs.len());
            let (dropped, _) = pairs.remove(i);
            if let Some(o) = outcomes
                .iter_mut()
                .find(|o| o.item_id.as_deref() == Some(dropped.as_str()))
            {
                o.missing = true;
            }
        }
        let mut text = String::from("{");
        let mut pair_ends = Vec::with_capacity(pairs.len());
        for (i, (id, a)) in pairs.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(&serde_json::Value::String(id.clone()).to_string());
            text.push_str(": ");
            text.push_str(&serde_json::Value::String(a.clone()).to_string());
            pair_ends.push(text.len());
        }
        text.push('}');
        if faults.malformed {
            // Cut as `max_tokens` would: a client keeps the pairs followed by their comma
            // before the cut, so only the other items are missing.
            let mut cut = text.len() * 2 / 3;
            while cut > 0 && !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut.max(1));
            for o in &mut outcomes {
                let kept = pairs
                    .iter()
                    .zip(&pair_ends)
                    .any(|((id, _), end)| o.item_id.as_ref() == Some(id) && *end < cut);
                o.missing |= !kept;
            }
        }
        Answer {
            text,
            items: outcomes,
            packed: true,
        }
    }

    /// One item: `(answer or None when left out, outcome)`.
    #[allow(clippy::too_many_arguments)]
    fn answer_item(
        &self,
        cfg: &ErrorModelConfig,
        seed: u64,
        model: &str,
        text: &str,
        k: usize,
        pos: usize,
        sample: u32,
    ) -> (Option<String>, ItemOutcome) {
        let entry = self.lookup(text);
        let mut outcome = ItemOutcome {
            prompt_id: entry.map(|e| e.id.clone()),
            item_id: None,
            wrong: false,
            missing: false,
        };
        let Some(gold) = entry.and_then(|e| e.answer.as_ref()) else {
            return (Some(placeholder(text)), outcome);
        };
        let task = entry.and_then(|e| e.task.as_deref());
        let (p_wrong, p_missing) = item_error(cfg, model, task, k, pos);
        let mut rng = rng_for(
            seed,
            &["item", model, text.trim()],
            &[k as u64, pos as u64, u64::from(sample)],
        );
        let (u_missing, u_wrong): (f64, f64) = (rng.random(), rng.random());
        if u_missing < p_missing {
            outcome.missing = true;
            return (None, outcome);
        }
        if u_wrong < p_wrong {
            outcome.wrong = true;
            return (Some(self.wrong_answer(task, gold, &mut rng)), outcome);
        }
        (Some(gold.clone()), outcome)
    }

    fn wrong_answer(&self, task: Option<&str>, gold: &str, rng: &mut impl Rng) -> String {
        let kind = TaskKind::from_task(task);
        match kind {
            TaskKind::Number => {
                let n = normalise(kind, gold);
                const OFFSETS: [i64; 6] = [-10, -2, -1, 1, 2, 10];
                if let Ok(i) = n.parse::<i64>() {
                    let off = OFFSETS[rng.random_range(0..OFFSETS.len())];
                    i.saturating_add(off).to_string()
                } else if let Ok(f) = n.parse::<f64>() {
                    format!("{}", f * 1.5 + 1.0)
                } else {
                    "0".to_string()
                }
            }
            TaskKind::Label => {
                let g = normalise(kind, gold);
                let others: Vec<&String> = self
                    .labels
                    .get(&task_key(task))
                    .map(|v| v.iter().filter(|l| **l != g).collect())
                    .unwrap_or_default();
                if others.is_empty() {
                    "unknown".to_string()
                } else {
                    others[rng.random_range(0..others.len())].clone()
                }
            }
            TaskKind::YesNo => {
                if normalise(kind, gold) == "yes" {
                    "no".to_string()
                } else {
                    "yes".to_string()
                }
            }
            TaskKind::Text => "I am not sure.".to_string(),
        }
    }
}

fn task_key(task: Option<&str>) -> String {
    task.unwrap_or_default().trim().to_ascii_lowercase()
}

/// The deterministic answer to a prompt the oracle does not know.
fn placeholder(text: &str) -> String {
    format!(
        "Simulated answer {:06x}.",
        Fnv::default().str(text.trim()).finish() & 0xff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use batchbench_core::items::pack_user_message;
    use batchbench_core::prompt::Prompt;

    /// The answers of a packed reply by id (the mock's replies are one JSON object; the
    /// client's tolerant unpacker is not needed here).
    fn answers_by_id(text: &str) -> std::collections::HashMap<String, String> {
        serde_json::from_str(text).unwrap_or_default()
    }

    pub(crate) fn set(n: usize) -> PromptSet {
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

    fn accuracy(o: &Oracle, s: &PromptSet, k: usize, model: &str) -> f64 {
        let cfg = ErrorModelConfig::default();
        let mut correct = 0usize;
        for chunk in s.prompts.chunks(k) {
            let msg = pack_user_message(chunk.iter().map(|p| (p.id.as_str(), p.prompt.as_str())));
            let a = o.answer(
                &cfg,
                42,
                model,
                if k == 1 { &chunk[0].prompt } else { &msg },
                0,
                AnswerFaults::default(),
            );
            if k == 1 {
                let p = &chunk[0];
                correct += usize::from(batchbench_core::answer::is_correct(
                    p.task.as_deref(),
                    &a.text,
                    p.answer.as_deref().unwrap_or(""),
                ));
                continue;
            }
            let answers = answers_by_id(&a.text);
            for p in chunk {
                if let Some(got) = answers.get(&p.id) {
                    correct += usize::from(batchbench_core::answer::is_correct(
                        p.task.as_deref(),
                        got,
                        p.answer.as_deref().unwrap_or(""),
                    ));
                }
            }
        }
        correct as f64 / s.prompts.len() as f64
    }

    #[test]
    fn gold_answers_and_placeholders() {
        let s = set(30);
        let o = Oracle::from_prompt_set(&s);
        let cfg = ErrorModelConfig {
            enabled: false,
            ..ErrorModelConfig::default()
        };
        let a = o.answer(
            &cfg,
            1,
            "gpt-4o-mini",
            "  What is 3 times 7?\n",
            0,
            AnswerFaults::default(),
        );
        assert_eq!(a.text, "21");
        assert_eq!(a.items[0].prompt_id.as_deref(), Some("q0003"));
        let a = o.answer(
            &cfg,
            1,
            "gpt-4o-mini",
            "Answer briefly.\n\nWhat is 3 times 7?",
            0,
            AnswerFaults::default(),
        );
        assert_eq!(a.text, "21");
        let u1 = o.answer(
            &cfg,
            1,
            "gpt-4o-mini",
            "Who are you?",
            0,
            AnswerFaults::default(),
        );
        let u2 = o.answer(
            &cfg,
            9,
            "gpt-4o",
            "Who are you?",
            0,
            AnswerFaults::default(),
        );
        assert_eq!(u1.text, u2.text);
        assert!(u1.text.starts_with("Simulated answer"));
        let msg = pack_user_message([
            ("a", "What is 3 times 7?"),
            ("b", "Is 5 even?"),
            ("c", "???"),
        ]);
        let a = o.answer(&cfg, 1, "gpt-4o-mini", &msg, 0, AnswerFaults::default());
        assert!(a.packed);
        assert!(
            a.text
                .starts_with("{\"a\": \"21\", \"b\": \"no\", \"c\": \"Simulated answer "),
            "{}",
            a.text
        );
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
        // Cut short: not a JSON object any more, and some but not all items are reported missing
        // (the client's unpacker salvaging the complete pairs is tested in tests/mock_faults.rs).
        assert!(serde_json::from_str::<serde_json::Value>(&a.text).is_err());
        let missing = a.items.iter().filter(|o| o.missing).count();
        assert!(missing > 0 && missing < ids.len(), "{missing}");
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
        assert_eq!(answers_by_id(&a.text).len(), ids.len() - 1);
        assert_eq!(a.items.iter().filter(|i| i.missing).count(), 1);
    }

    #[test]
    fn deterministic_and_degrading() {
        let s = set(240);
        let o = Oracle::from_prompt_set(&s);
        let a1 = accuracy(&o, &s, 1, "gpt-4o-mini");
        let a4 = accuracy(&o, &s, 4, "gpt-4o-mini");
        let a32 = accuracy(&o, &s, 32, "gpt-4o-mini");
        assert_eq!(a1, accuracy(&o, &s, 1, "gpt-4o-mini"));
        assert!(a1 >= 0.93, "K=1 accuracy {a1}");
        assert!(a4 - a32 >= 0.06, "K=4 {a4} vs K=32 {a32}");
    }
}
