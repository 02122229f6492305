//! The CSV reader: a header row naming `id` and `prompt` (and optionally `answer`, `task`).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{Item, Prompt, validate};
use crate::error::{Error, Result};

/// Streams a CSV dataset record by record.
pub(crate) struct Reader<R: Read> {
    path: PathBuf,
    records: csv::ByteRecordsIntoIter<R>,
    id: usize,
    prompt: usize,
    answer: Option<usize>,
    task: Option<usize>,
    done: bool,
}

impl<R: Read> Reader<R> {
    pub(crate) fn new(path: &Path, input: R) -> Result<Self> {
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
        let display = path.display();
        let headers = reader
            .byte_headers()
            .map_err(|e| Error::Dataset(format!("{display}:1: {}", csv_message(&e))))?
            .clone();
        if headers.is_empty() {
            return Err(Error::Dataset(format!(
                "{display}: empty file: a CSV dataset needs a header row with an \"id\" and a \"prompt\" column"
            )));
        }
        let names: Vec<String> = headers
            .iter()
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_ascii_lowercase()
            })
            .collect();
        let find = |name: &str| names.iter().position(|n| n == name);
        let column = |name: &str| {
            find(name).ok_or_else(|| {
                Error::Dataset(format!(
                    "{display}:1: missing column \"{name}\" in the header (found: {})",
                    names
                        .iter()
                        .map(|n| n.escape_debug().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
        };
        let prompt = column("prompt")?;
        let id = column("id")?;
        Ok(Reader {
            path: path.to_path_buf(),
            id,
            prompt,
            answer: find("answer"),
            task: find("task"),
            records: reader.into_byte_records(),
            done: false,
        })
    }
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("expected {expected_len} fields, found {len}")
        }
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
        _ => e.to_string(),
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<Item>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let record = match self.records.next()? {
            Ok(r) => r,
            Err(e) => {
                self.done = true;
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                return Some(Err(Error::Dataset(format!(
                    "{}:{line}: {}",
                    self.path.display(),
                    csv_message(&e)
                ))));
            }
        };
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        let at = format!("{}:{line}", self.path.display());
        let field = |i: usize| -> Result<String> {
            let bytes = record.get(i).unwrap_or_default();
            std::str::from_utf8(bytes)
                .map(str::to_string)
                .map_err(|_| Error::Dataset(format!("{at}: not valid UTF-8")))
        };
        let optional = |i: Option<usize>| -> Result<Option<String>> {
            match i {
                None => Ok(None),
                Some(i) => field(i).map(|s| if s.trim().is_empty() { None } else { Some(s) }),
            }
        };
        let result = (|| {
            let prompt = Prompt {
                id: field(self.id)?,
                prompt: field(self.prompt)?,
                answer: optional(self.answer)?,
                task: optional(self.task)?,
            };
            validate(&at, &prompt)?;
            Ok(Item::Prompt(line, prompt))
        })();
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }
}
