//! Token counting for `estimate`: the same BPE encodings as [`crate::tokens`], through either
//! tiktoken-rs (what `run` uses) or `bpe-openai` (the github/rust-gems BPE, about twice as fast
//! here, with counts equal to tiktoken-rs's on every shipped dataset; `tests/estimate_bpe.rs`
//! checks that).

use std::cell::RefCell;
use std::collections::HashMap;

use crate::tokens::Encoding;

/// Pre-tokenizer pieces remembered per thread and encoding (then new pieces are counted afresh).
const MEMO_CAP: usize = 1 << 17;
/// Pieces longer than this are not remembered.
const MEMO_MAX_PIECE: usize = 32;

/// Piece -> token count, hashed with [`Fx`].
type PieceMap = HashMap<Box<[u8]>, u32, std::hash::BuildHasherDefault<Fx>>;

/// The multiply-rotate hash of rustc (FxHash): fast on short keys; no DoS concern here (the
/// map is private, bounded and per thread).
#[derive(Default)]
struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.0 =
                (self.0.rotate_left(5) ^ u64::from_le_bytes(w) ^ rest.len() as u64).wrapping_mul(K);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(5) ^ n as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

thread_local! {
    /// Token counts of pre-tokenizer pieces, per encoding: natural text repeats its words, and a
    /// hash lookup is cheaper than a BPE pass. Exact: a text's count is the sum of its pieces'.
    static MEMO: RefCell<[PieceMap; 2]> = RefCell::new([PieceMap::default(), PieceMap::default()]);
}

/// Which BPE implementation counts tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CounterKind {
    /// `bpe-openai` (the default: faster, same counts).
    #[default]
    BpeOpenai,
    /// tiktoken-rs's `CoreBPE::count_ordinary`, as `run` counts.
    Tiktoken,
}

impl CounterKind {
    /// The name as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            CounterKind::BpeOpenai => "bpe-openai",
            CounterKind::Tiktoken => "tiktoken-rs",
        }
    }
}

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
            (CounterKind::BpeOpenai, Encoding::O200kBase) => {
                count_pieces(bpe_openai::o200k_base(), 0, text)
            }
            (CounterKind::BpeOpenai, Encoding::Cl100kBase) => {
                count_pieces(bpe_openai::cl100k_base(), 1, text)
            }
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

/// `bpe-openai`'s count (pre-tokenize, then BPE per piece), with the per-piece counts remembered.
fn count_pieces(tokenizer: &bpe_openai::Tokenizer, slot: usize, text: &str) -> usize {
    MEMO.with(|memo| {
        let mut memo = memo.borrow_mut();
        let memo = &mut memo[slot];
        let mut total = 0usize;
        for piece in tokenizer.split(text) {
            let bytes = piece.as_bytes();
            if bytes.len() > MEMO_MAX_PIECE {
                total += tokenizer.bpe.count(bytes);
                continue;
            }
            if let Some(n) = memo.get(bytes) {
                total += *n as usize;
                continue;
            }
            let n = tokenizer.bpe.count(bytes);
            if memo.len() < MEMO_CAP {
                memo.insert(bytes.into(), n as u32);
            }
            total += n;
        }
        total
    })
}
