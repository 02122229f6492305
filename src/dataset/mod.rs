//! Prompt sets: loading JSONL and CSV files with validation that names file, line and field,
//! the shared instructions every strategy can exploit, and answer matching per task type.

pub use batchbench_core::answer;
mod csv_file;
mod jsonl;
pub mod synth;

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

pub use batchbench_core::prompt::{Prompt, PromptSet};

/// The file formats batchbench reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line; an optional first record `{"instructions": "..."}`.
    Jsonl,
    /// Comma-separated with a header row naming `id`, `prompt`, and optionally `answer`, `task`.
    Csv,
}

impl Format {
    /// Chooses the format from the file extension (`.csv` is CSV, anything else JSONL).
    pub fn from_path(path: &Path) -> Format {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
        {
            Some(ext) if ext == "csv" => Format::Csv,
            _ => Format::Jsonl,
        }
    }
}

/// What a reader yields: either the shared instructions header or a prompt, with its line number.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// The shared instructions header record.
    Instructions(String),
    /// A prompt and the 1-based line it came from.
    Prompt(usize, Prompt),
}

/// Streams the items of a dataset file one at a time, in bounded memory.
///
/// Each item is validated on its own; uniqueness of ids is checked by [`load`] (or by the caller).
pub fn stream(path: &Path) -> Result<Box<dyn Iterator<Item = Result<Item>>>> {
    let file = std::fs::File::open(path).map_err(|e| open_error(path, e))?;
    let reader = std::io::BufReader::with_capacity(1 << 16, file);
    Ok(match Format::from_path(path) {
        Format::Jsonl => Box::new(jsonl::Reader::new(path, reader)),
        Format::Csv => Box::new(csv_file::Reader::new(path, reader)?),
    })
}

fn open_error(path: &Path, e: std::io::Error) -> Error {
    let what = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    Error::Dataset(format!("{}: cannot read dataset: {what}", path.display()))
}

/// Loads and validates a whole dataset: every line, unique ids, at least one prompt.
///
/// `instructions` from the configuration, when given, replaces a header record in the file.
pub fn load(path: &Path, instructions: Option<&str>) -> Result<PromptSet> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| open_error(path, e))?;
    parse(path, &bytes, instructions)
}

/// The shipped default dataset (`datasets/default.jsonl`), built into the binary so that
/// `batchbench run` works from any folder.
pub const EMBEDDED_DEFAULT: &[u8] = include_bytes!("../../datasets/default.jsonl");

/// Validates a whole dataset held in memory, as [`load`] does for a file; `path` names it in
/// messages and picks the format by its extension.
pub fn parse(path: &Path, bytes: &[u8], instructions: Option<&str>) -> Result<PromptSet> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let mut file_instructions = None;
    let mut prompts = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let items: Box<dyn Iterator<Item = Result<Item>> + '_> = match Format::from_path(path) {
        Format::Jsonl => Box::new(jsonl::Reader::new(path, bytes)),
        Format::Csv => Box::new(csv_file::Reader::new(path, bytes)?),
    };
    for item in items {
        match item? {
            Item::Instructions(text) => file_instructions = Some(text),
            Item::Prompt(line, prompt) => {
                if !seen.insert(prompt.id.clone()) {
                    return Err(Error::Dataset(format!(
                        "{}:{line}: duplicate id {:?} (ids must be unique)",
                        path.display(),
                        prompt.id
                    )));
                }
                prompts.push(prompt);
            }
        }
    }
    if prompts.is_empty() {
        return Err(Error::Dataset(format!(
            "{}: the dataset holds no prompts",
            path.display()
        )));
    }
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("dataset")
        .to_string();
    let instructions = instructions
        .map(str::to_string)
        .or(file_instructions)
        .unwrap_or_default();
    Ok(PromptSet {
        name,
        path: path.to_path_buf(),
        sha256,
        instructions,
        prompts,
    })
}

/// Checks the fields every format shares; `at` is the `file:line` prefix for messages.
pub(crate) fn validate(at: &str, prompt: &Prompt) -> Result<()> {
    if prompt.id.trim().is_empty() {
        return Err(Error::Dataset(format!("{at}: field \"id\" is empty")));
    }
    if prompt.id.len() > 64 {
        return Err(Error::Dataset(format!(
            "{at}: field \"id\" is longer than 64 characters"
        )));
    }
    if !prompt
        .id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    {
        return Err(Error::Dataset(format!(
            "{at}: field \"id\" {:?} may only hold letters, digits, '_', '-' and '.'",
            prompt.id
        )));
    }
    if prompt.prompt.trim().is_empty() {
        return Err(Error::Dataset(format!("{at}: field \"prompt\" is empty")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::PathBuf;

    fn write(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(bytes)
            .unwrap();
        (dir, path)
    }

    fn err(name: &str, bytes: &[u8]) -> String {
        let (_d, path) = write(name, bytes);
        let e = load(&path, None).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let msg = e.to_string();
        assert!(!msg.contains('\n'), "one line: {msg}");
        msg.replace(&path.display().to_string(), "F")
    }

    #[test]
    fn jsonl_with_header_loads() {
        let (_d, path) = write(
            "x.jsonl",
            b"{\"instructions\":\"Answer briefly.\"}\n{\"id\":\"a\",\"prompt\":\"1+1?\",\"answer\":\"2\",\"task\":\"arithmetic\"}\n\n{\"id\":7,\"prompt\":\"hi\",\"answer\":3}\n",
        );
        let set = load(&path, None).unwrap();
        assert_eq!(set.instructions, "Answer briefly.");
        assert_eq!(set.prompts.len(), 2);
        assert_eq!(set.prompts[1].id, "7");
        assert_eq!(set.prompts[1].answer.as_deref(), Some("3"));
        assert_eq!(set.sha256.len(), 64);
    }

    #[test]
    fn broken_line_three_is_named() {
        let msg = err(
            "x.jsonl",
            b"{\"id\":\"a\",\"prompt\":\"p\"}\n{\"id\":\"b\",\"prompt\":\"p\"}\n{\"id\":\"c\"}\n",
        );
        assert_eq!(msg, "F:3: missing field \"prompt\"");
        let msg = err(
            "x.jsonl",
            b"{\"id\":\"a\",\"prompt\":\"p\"}\n{\"id\":\"b\",\"prompt\":\"p\"}\n{\"id\":\"c\",\n",
        );
        assert!(msg.starts_with("F:3: invalid JSON"), "{msg}");
    }

    #[test]
    fn duplicate_id_is_named() {
        let msg = err(
            "x.jsonl",
            b"{\"id\":\"a\",\"prompt\":\"p\"}\n{\"id\":\"a\",\"prompt\":\"q\"}\n",
        );
        assert_eq!(msg, "F:2: duplicate id \"a\" (ids must be unique)");
    }

    #[test]
    fn empty_missing_and_non_utf8_files() {
        assert_eq!(err("x.jsonl", b""), "F: the dataset holds no prompts");
        assert_eq!(
            err("x.csv", b""),
            "F: empty file: a CSV dataset needs a header row with an \"id\" and a \"prompt\" column"
        );
        let e = load(Path::new("/nonexistent/x.jsonl"), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/nonexistent/x.jsonl: cannot read dataset: no such file"
        );
        assert_eq!(e.exit_code(), 2);
        let msg = err(
            "x.jsonl",
            b"{\"id\":\"a\",\"prompt\":\"p\"}\n{\"id\":\"b\",\"prompt\":\"\xff\xfe\"}\n",
        );
        assert_eq!(msg, "F:2: not valid UTF-8");
        let msg = err("x.csv", b"id,prompt\na,p\nb,\xff\n");
        assert_eq!(msg, "F:3: not valid UTF-8");
    }

    #[test]
    fn csv_without_prompt_column() {
        let msg = err("x.csv", b"id,question\na,b\n");
        assert_eq!(
            msg,
            "F:1: missing column \"prompt\" in the header (found: id, question)"
        );
    }

    #[test]
    fn csv_loads_with_optional_columns() {
        let (_d, path) = write(
            "x.csv",
            b"id,prompt,answer,task\na,\"1+1, twice?\",4,arithmetic\nb,hello,,\n",
        );
        let set = load(&path, Some("Be brief.")).unwrap();
        assert_eq!(set.instructions, "Be brief.");
        assert_eq!(set.prompts[0].prompt, "1+1, twice?");
        assert_eq!(set.prompts[1].answer, None);
        assert_eq!(set.prompts[1].task, None);
    }

    #[test]
    fn wrong_types_are_named() {
        let msg = err("x.jsonl", b"{\"id\":\"a\",\"prompt\":5}\n");
        assert_eq!(msg, "F:1: field \"prompt\" must be a string");
        let msg = err("x.jsonl", b"[1,2]\n");
        assert_eq!(msg, "F:1: expected a JSON object");
        let msg = err("x.jsonl", b"{\"id\":\"a b\",\"prompt\":\"p\"}\n");
        assert!(msg.starts_with("F:1: field \"id\""), "{msg}");
    }
}
