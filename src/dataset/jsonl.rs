//! The JSONL reader: one object per line, blank lines skipped, an optional instructions header.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Item, Prompt, validate};
use crate::error::{Error, Result};

/// Streams a JSONL dataset line by line.
pub(crate) struct Reader<R> {
    path: PathBuf,
    input: R,
    line: usize,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> Reader<R> {
    pub(crate) fn new(path: &Path, input: R) -> Self {
        Reader {
            path: path.to_path_buf(),
            input,
            line: 0,
            buf: Vec::new(),
            done: false,
        }
    }

    fn at(&self) -> String {
        format!("{}:{}", self.path.display(), self.line)
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Item>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            self.buf.clear();
            match self.input.read_until(b'\n', &mut self.buf) {
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(_) => self.line += 1,
                Err(e) => {
                    self.done = true;
                    return Some(Err(Error::io(&self.path, e)));
                }
            }
            let Ok(text) = std::str::from_utf8(&self.buf) else {
                self.done = true;
                return Some(Err(Error::Dataset(format!(
                    "{}: not valid UTF-8",
                    self.at()
                ))));
            };
            let text = text.trim_start_matches('\u{feff}').trim();
            if text.is_empty() {
                continue;
            }
            let result = parse_line(&self.at(), text, self.line);
            if result.is_err() {
                self.done = true;
            }
            return Some(result);
        }
        None
    }
}

fn parse_line(at: &str, text: &str, line: usize) -> Result<Item> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Error::Dataset(format!(
            "{at}: invalid JSON ({})",
            strip_position(&e.to_string())
        ))
    })?;
    let Value::Object(map) = value else {
        return Err(Error::Dataset(format!("{at}: expected a JSON object")));
    };
    if !map.contains_key("id") && !map.contains_key("prompt") {
        if let Some(instr) = map.get("instructions") {
            return match instr {
                Value::String(s) => Ok(Item::Instructions(s.clone())),
                _ => Err(Error::Dataset(format!(
                    "{at}: field \"instructions\" must be a string"
                ))),
            };
        }
    }
    let id = match map.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => {
            return Err(Error::Dataset(format!(
                "{at}: field \"id\" must be a string or a number"
            )));
        }
        None => return Err(Error::Dataset(format!("{at}: missing field \"id\""))),
    };
    let prompt = match map.get("prompt") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(Error::Dataset(format!(
                "{at}: field \"prompt\" must be a string"
            )));
        }
        None => return Err(Error::Dataset(format!("{at}: missing field \"prompt\""))),
    };
    let answer = match map.get("answer") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(if *b { "yes".into() } else { "no".into() }),
        Some(_) => {
            return Err(Error::Dataset(format!(
                "{at}: field \"answer\" must be a string, a number or a boolean"
            )));
        }
    };
    let task = match map.get("task") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(Error::Dataset(format!(
                "{at}: field \"task\" must be a string"
            )));
        }
    };
    let prompt = Prompt {
        id,
        prompt,
        answer,
        task,
    };
    validate(at, &prompt)?;
    Ok(Item::Prompt(line, prompt))
}

/// serde_json appends "at line 1 column 9"; the line is already in our prefix, so keep the column only.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => {
            let col = msg[i..].rsplit(" column ").next().unwrap_or("");
            format!("{} at column {col}", &msg[..i])
        }
        None => msg.to_string(),
    }
}
