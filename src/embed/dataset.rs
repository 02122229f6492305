//! Texts to embed: `{"id","text"}` JSONL or CSV with an `id,text` header, read into the same
//! [`PromptSet`] chat runs use (the text is the prompt; there is no gold answer), the shipped
//! corpus built into the binary, and the generator behind `gen --kind embed`.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::dataset::{Prompt, PromptSet};
use crate::error::{Error, Result};

/// The shipped corpus (written by `gen --kind embed --count 200 --seed 7`).
pub const DEFAULT_PATH: &str = "datasets/embed-default.jsonl";

/// Its bytes, for runs outside the batchbench folder.
pub const EMBEDDED_DEFAULT: &[u8] = include_bytes!("../../datasets/embed-default.jsonl");

#[derive(serde::Deserialize)]
struct Row {
    id: serde_json::Value,
    text: String,
}

fn id_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn rows(path: &Path, bytes: &[u8]) -> Result<Vec<(usize, Row)>> {
    let bad =
        |line: usize, why: String| Error::Dataset(format!("{}:{line}: {why}", path.display()));
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        let mut reader = csv::Reader::from_reader(bytes);
        return reader
            .deserialize::<Row>()
            .enumerate()
            .map(|(i, r)| {
                r.map(|row| (i + 2, row))
                    .map_err(|e| bad(i + 2, format!("expected columns id,text: {e}")))
            })
            .collect();
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Error::Dataset(format!("{}: not UTF-8: {e}", path.display())))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str::<Row>(l)
                .map(|row| (i + 1, row))
                .map_err(|e| bad(i + 1, format!("expected {{\"id\", \"text\"}}: {e}")))
        })
        .collect()
}

/// Reads texts from bytes named `path`; every id unique and every text non-empty.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<PromptSet> {
    let mut seen = HashSet::new();
    let mut prompts = Vec::new();
    for (line, row) in rows(path, bytes)? {
        let where_ = format!("{}:{line}", path.display());
        let id = id_text(&row.id).ok_or_else(|| {
            Error::Dataset(format!(
                "{where_}: id must be a non-empty string or a number"
            ))
        })?;
        if row.text.trim().is_empty() {
            return Err(Error::Dataset(format!(
                "{where_}: text of {id:?} is empty (the API refuses empty inputs)"
            )));
        }
        if !seen.insert(id.clone()) {
            return Err(Error::Dataset(format!("{where_}: id {id:?} appears twice")));
        }
        prompts.push(Prompt {
            id,
            prompt: row.text,
            answer: None,
            task: None,
        });
    }
    if prompts.is_empty() {
        return Err(Error::Dataset(format!("{}: no texts", path.display())));
    }
    Ok(PromptSet {
        name: path
            .file_stem()
            .map_or("texts".into(), |s| s.to_string_lossy().into_owned()),
        path: path.to_path_buf(),
        sha256: hex::encode(Sha256::digest(bytes)),
        instructions: String::new(),
        prompts,
    })
}

/// Reads a texts file, or the built-in corpus when `path` is the default and absent here.
pub fn load(path: Option<&Path>) -> Result<PromptSet> {
    let default = Path::new(DEFAULT_PATH);
    match path {
        None if !default.exists() => parse(default, EMBEDDED_DEFAULT),
        _ => {
            let p = path.unwrap_or(default);
            let bytes = std::fs::read(p).map_err(|e| Error::io(p, e))?;
            parse(p, &bytes)
        }
    }
}

const SUBJECTS: &[&str] = &[
    "The night train to the coast",
    "A sourdough starter",
    "The community garden",
    "Our billing service",
    "The river ferry",
    "A cast-iron pan",
    "The school choir",
    "The warehouse robot",
    "A hiking boot",
    "The city library",
    "The weather station",
    "A vintage synthesiser",
    "The support queue",
    "The orchard",
    "A second-hand bicycle",
    "The search index",
    "The lighthouse",
    "A wool sweater",
];
const VERBS: &[&str] = &[
    "needs attention after",
    "works best with",
    "was redesigned around",
    "keeps failing during",
    "became popular because of",
    "costs more than expected for",
    "is quieter than",
    "depends on",
    "improves noticeably with",
    "was moved closer to",
];
const OBJECTS: &[&str] = &[
    "the first frost",
    "a longer warm-up",
    "weekly maintenance",
    "heavy rain",
    "the new timetable",
    "careful seasoning",
    "volunteer shifts",
    "peak traffic on Mondays",
    "a firmware update",
    "the late opening hours",
    "strong winds from the west",
    "a cheaper supplier",
    "the holiday rush",
    "fresh batteries",
    "a shorter feedback loop",
];
const DETAILS: &[&str] = &[
    "Nobody measured it properly until last spring.",
    "The manual says nothing about this.",
    "Two neighbours reported the same thing.",
    "It took three attempts to get right.",
    "The numbers were checked twice.",
    "A small change made a large difference.",
    "Most people never notice.",
    "It is cheaper to fix early than late.",
    "The old notes disagree with the new ones.",
    "Everyone agreed to try again next month.",
];

/// One generated text: one to six sentences, so lengths vary from a line to a paragraph.
fn text(rng: &mut ChaCha8Rng) -> String {
    let pick = |rng: &mut ChaCha8Rng, bank: &[&'static str]| bank[rng.random_range(0..bank.len())];
    let mut s = format!(
        "{} {} {}.",
        pick(rng, SUBJECTS),
        pick(rng, VERBS),
        pick(rng, OBJECTS)
    );
    for _ in 0..rng.random_range(0..6) {
        s.push(' ');
        s.push_str(pick(rng, DETAILS));
    }
    s
}

/// Writes `count` generated texts as `{"id","text"}` JSONL, the same for the same seed.
pub fn generate_to(out: &mut impl Write, count: usize, seed: u64) -> std::io::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for i in 0..count {
        let line = serde_json::json!({"id": format!("t{:04}", i + 1), "text": text(&mut rng)});
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_and_csv_read_the_same_texts() {
        let a = parse(
            Path::new("a.jsonl"),
            b"{\"id\":\"x\",\"text\":\"hi there\"}\n{\"id\":2,\"text\":\"b\"}\n",
        )
        .unwrap();
        let b = parse(Path::new("a.csv"), b"id,text\nx,hi there\n2,b\n").unwrap();
        assert_eq!(a.prompts, b.prompts);
        assert_eq!(a.prompts[1].id, "2");
    }

    #[test]
    fn bad_files_name_the_line() {
        let e = parse(
            Path::new("a.jsonl"),
            b"{\"id\":\"x\",\"text\":\"a\"}\n{\"id\":\"x\",\"text\":\"b\"}\n",
        );
        assert!(
            e.unwrap_err()
                .to_string()
                .contains("a.jsonl:2: id \"x\" appears twice")
        );
        let e = parse(Path::new("a.jsonl"), b"{\"id\":\"x\",\"text\":\" \"}\n");
        assert!(e.unwrap_err().to_string().contains("empty"));
        let e = parse(Path::new("a.jsonl"), b"{\"id\":\"x\",\"prompt\":\"a\"}\n");
        assert!(e.unwrap_err().to_string().contains("a.jsonl:1"));
    }

    #[test]
    fn generation_is_seeded_and_the_shipped_corpus_is_its_output() {
        let mut a = Vec::new();
        generate_to(&mut a, 200, 7).unwrap();
        assert_eq!(a, EMBEDDED_DEFAULT);
        let set = parse(Path::new(DEFAULT_PATH), &a).unwrap();
        assert_eq!(set.prompts.len(), 200);
    }
}
