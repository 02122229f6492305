//! `estimate` counts tokens with `bpe-openai` by default. It may only do so because its counts
//! equal tiktoken-rs's (what `run` and the mock use) on every shipped dataset: every prompt and
//! the instructions, in both encodings. And the packed-message counts `estimate` assembles from
//! per-item counts must equal counting the whole message, on adversarial text too.

mod estimate_common;

use std::io::Write;
use std::path::Path;

use batchbench::dataset::{self, Item};
use batchbench::estimate::{self, Counter, CounterKind};
use batchbench::provider::ProviderKind;
use batchbench::strategy::StrategySpec;
use batchbench::tokens::Encoding;
use estimate_common::{expected, got, input};

fn shipped() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl" || e == "csv"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{files:?}");
    files
}

#[test]
fn bpe_openai_counts_equal_tiktoken_on_every_shipped_dataset() {
    let mut texts = 0;
    for path in shipped() {
        // The embedding corpus holds `{"id","text"}` rows, not prompts.
        let embed = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("embed-"));
        let all: Vec<String> = if embed {
            batchbench::embed::dataset::load(Some(&path))
                .unwrap()
                .prompts
                .into_iter()
                .map(|p| p.prompt)
                .collect()
        } else {
            dataset::stream(&path)
                .unwrap()
                .map(|item| match item.unwrap() {
                    Item::Instructions(s) => s,
                    Item::Prompt(_, p) => p.prompt,
                })
                .collect()
        };
        for text in all {
            for enc in [Encoding::O200kBase, Encoding::Cl100kBase] {
                let fast = Counter::new(CounterKind::BpeOpenai, enc).count(&text);
                let reference = Counter::new(CounterKind::Tiktoken, enc).count(&text);
                assert_eq!(
                    fast,
                    reference,
                    "{} {}: {text:?}",
                    path.display(),
                    enc.name()
                );
            }
            texts += 1;
        }
    }
    assert!(texts > 250, "{texts}");
}

/// Prompts built to stress the pre-tokenizer at the seams of packed messages: trailing spaces
/// and punctuation, newlines, `<` and `/`, digits, apostrophes, non-ASCII.
fn adversarial(n: usize) -> Vec<(String, String)> {
    let atoms = [
        "a",
        "Word",
        " ",
        "  ",
        "\n",
        "\n\n",
        "\r\n",
        "\t",
        "?",
        "!",
        ".",
        "/",
        "<",
        ">",
        "</item>",
        "<item id=\"x\">",
        "\"",
        "'s",
        "'LL",
        "123",
        "4567",
        "é",
        "日本語",
        "😀",
        "{",
        "}",
        ":",
        "-",
        "_",
        "—",
        " \n",
        "x/",
        "\n/",
        "0",
        "<>",
        "&amp;",
    ];
    let ids = [
        "q1", "Item7", "_a", "b-", "x.1", "9", "Z_z", "a-b-c", "k.", "q000123",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|i| {
            let len = 1 + next() as usize % 12;
            let mut text: String = (0..len)
                .map(|_| atoms[next() as usize % atoms.len()])
                .collect();
            if text.trim().is_empty() {
                text.push('x');
            }
            (format!("{}{i}", ids[i % ids.len()]), text)
        })
        .map(|(id, text)| {
            if id.ends_with(|c: char| c.is_ascii_digit()) && id.len() % 3 == 0 {
                (format!("{id}-"), text)
            } else {
                (id, text)
            }
        })
        .collect()
}

#[test]
fn packed_counts_assembled_per_item_equal_whole_message_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("adversarial.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "{}", serde_json::json!({"instructions": "Answer.\n"})).unwrap();
    for (id, text) in adversarial(300) {
        writeln!(f, "{}", serde_json::json!({"id": id, "prompt": text})).unwrap();
    }
    drop(f);
    let strategies = [
        StrategySpec::Sequential,
        StrategySpec::Packed(1),
        StrategySpec::Packed(2),
        StrategySpec::Packed(3),
        StrategySpec::Packed(5),
        StrategySpec::BatchApi(Some(7)),
        StrategySpec::Packed(64),
    ];
    for (model, provider) in [
        ("gpt-4o-mini", ProviderKind::Openai),
        ("gpt-4", ProviderKind::Openai),
        ("claude-haiku-4-5", ProviderKind::Anthropic),
    ] {
        for counter in [CounterKind::BpeOpenai, CounterKind::Tiktoken] {
            let mut i = input(&path, model, provider, &strategies, 2);
            i.counter = counter;
            let r = estimate::estimate(&i).unwrap();
            for (spec, row) in strategies.iter().zip(&r.models[0].strategies) {
                assert_eq!(
                    got(row),
                    expected(&path, model, provider, *spec, 2),
                    "{model} {spec} {counter:?}"
                );
            }
        }
    }
}
