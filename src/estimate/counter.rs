//! Token counting for `estimate`: the same BPE encodings as [`crate::tokens`], through either
//! tiktoken-rs (the reference) or `bpe-openai` (the github/rust-gems BPE, about twice as fast
//! here, with counts equal to tiktoken-rs's on every shipped dataset; `tests/estimate_bpe.rs`
//! checks that). `run` and the mock count with `bpe-openai` too ([`crate::tokens`]).

use crate::tokens::{Encoding, fast};

pub use crate::tokens::CounterKind;

/// Counts tokens of plain text (no special tokens) in one encoding. Cheap to copy; the tables are
/// built once per process, on first use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    kind: CounterKind,
    encoding: Encoding,
}

impl Counter {
    /// A counter for `encoding` backed by `kind`.
    pub fn new(kind: CounterKind, encoding: Encoding) -> Counter {
        Counter { kind, encoding }
    }

    /// The encoding counted.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The implementation in use.
    pub fn kind(&self) -> CounterKind {
        self.kind
    }

    /// Tokens in `text`, as `Tokenizer::count` counts them.
    pub fn count(&self, text: &str) -> u64 {
        let n = match (self.kind, self.encoding) {
            (CounterKind::BpeOpenai, encoding) => fast::count_pieces(encoding, text),
            (CounterKind::Tiktoken, Encoding::O200kBase) => {
                tiktoken_rs::o200k_base_singleton().count_ordinary(text)
            }
            (CounterKind::Tiktoken, Encoding::Cl100kBase) => {
                tiktoken_rs::cl100k_base_singleton().count_ordinary(text)
            }
        };
        n as u64
    }
}
