//! The prompt types: what a dataset loads into and what the mock's oracle reads its gold
//! answers from.

use std::path::PathBuf;

/// One prompt of a set: its id (unique), its text, and optionally the gold answer and task type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Prompt {
    /// Unique id; results are joined to prompts by it, never by position.
    pub id: String,
    /// The item's own text (the shared instructions are kept apart in [`PromptSet::instructions`]).
    pub prompt: String,
    /// The gold answer, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// The task type, which selects how answers are normalised (see [`crate::answer::TaskKind`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

/// A validated prompt set.
#[derive(Debug, Clone)]
pub struct PromptSet {
    /// Short name (the file stem).
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes (hex), so reports can tell whether two runs used the same data.
    pub sha256: String,
    /// Shared instructions: sent once per request, the common prefix packing and caching exploit.
    pub instructions: String,
    /// The prompts, in file order.
    pub prompts: Vec<Prompt>,
}

impl PromptSet {
    /// Looks a prompt up by id.
    pub fn get(&self, id: &str) -> Option<&Prompt> {
        self.prompts.iter().find(|p| p.id == id)
    }

    /// A copy holding only the prompts for which `keep` is true (used by `--limit` and `--shard`).
    pub fn filtered(&self, mut keep: impl FnMut(usize, &Prompt) -> bool) -> PromptSet {
        let prompts = self
            .prompts
            .iter()
            .enumerate()
            .filter(|(i, p)| keep(*i, p))
            .map(|(_, p)| p.clone())
            .collect();
        PromptSet {
            prompts,
            ..self.clone()
        }
    }
}
