//! Exact token counts, fast: `bpe-openai`'s pre-tokenizer and BPE (the github/rust-gems BPE,
//! whose counts equal tiktoken-rs's: `tests/estimate_bpe.rs` checks every shipped dataset and
//! adversarial text), plus two per-thread memos.
//!
//! - Pre-tokenizer pieces: natural text repeats its words, and a hash lookup is cheaper than a
//!   BPE pass. Exact, because a text's count is the sum of its pieces' counts.
//! - Whole texts: every request of a run repeats the dataset's shared instructions, which both
//!   the client (planning) and the mock (usage) count again and again, and every strategy of a
//!   run sends the same prompts again (short system messages repeat on every request). Two
//!   small direct-mapped caches, one for short texts and one for long ones, answer a repeat with
//!   one hash and one comparison instead of a pre-tokenizer pass.

use std::cell::RefCell;

use super::Encoding;

/// Pre-tokenizer pieces remembered per thread and encoding (then new pieces are counted afresh).
const PIECE_CAP: usize = 1 << 17;
/// Pieces longer than this are not remembered.
const PIECE_MAX_LEN: usize = 32;
/// Texts from this length on go to the long-text memo, shorter ones to the short-text memo.
const TEXT_MIN_LEN: usize = 256;
/// Texts longer than this are not remembered whole (bounds the memo's memory).
const TEXT_MAX_LEN: usize = 64 * 1024;
/// Slots of the long-text memo per thread and encoding (a power of two): at most 4 MB.
const TEXT_SLOTS: usize = 64;
/// Slots of the short-text memo per thread and encoding (a power of two): at most 256 KB of
/// text, enough for the prompts of a small dataset and any number of repeated short messages.
const SHORT_SLOTS: usize = 1024;

/// Piece -> token count, hashed with rustc's FxHash: fast on short keys; no DoS concern here
/// (the maps are private, bounded and per thread).
type PieceMap = rustc_hash::FxHashMap<Box<[u8]>, u32>;

/// One remembered text: its hash, the text and its count.
type TextSlot = Option<(u64, Box<str>, u64)>;

/// The per-thread memos of one encoding.
#[derive(Default)]
struct Memo {
    pieces: PieceMap,
    texts: Vec<TextSlot>,
    short: Vec<TextSlot>,
}

impl Memo {
    /// The memo for texts of `len` bytes and its number of slots.
    fn texts(&mut self, len: usize) -> (&mut Vec<TextSlot>, usize) {
        if len < TEXT_MIN_LEN {
            (&mut self.short, SHORT_SLOTS)
        } else {
            (&mut self.texts, TEXT_SLOTS)
        }
    }
}

thread_local! {
    /// One memo per encoding ([`slot`]).
    static MEMO: RefCell<[Memo; 2]> = RefCell::new([Memo::default(), Memo::default()]);
}

fn slot(encoding: Encoding) -> usize {
    match encoding {
        Encoding::O200kBase => 0,
        Encoding::Cl100kBase => 1,
    }
}

fn tokenizer(encoding: Encoding) -> &'static bpe_openai::Tokenizer {
    match encoding {
        Encoding::O200kBase => bpe_openai::o200k_base(),
        Encoding::Cl100kBase => bpe_openai::cl100k_base(),
    }
}

fn hash(text: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(text.as_bytes());
    h.finish()
}

/// Tokens in `text` (no special tokens), as tiktoken counts them, remembering texts whole.
pub fn count(encoding: Encoding, text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    if text.len() > TEXT_MAX_LEN {
        return count_pieces(encoding, text) as u64;
    }
    let h = hash(text);
    let hit = MEMO.with(|m| {
        let mut m = m.borrow_mut();
        let (texts, slots) = m[slot(encoding)].texts(text.len());
        match texts.get(h as usize & (slots - 1)) {
            Some(Some((sh, st, n))) if *sh == h && **st == *text => Some(*n),
            _ => None,
        }
    });
    if let Some(n) = hit {
        return n;
    }
    let n = count_pieces(encoding, text) as u64;
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        let (texts, slots) = m[slot(encoding)].texts(text.len());
        if texts.is_empty() {
            texts.resize(slots, None);
        }
        texts[h as usize & (slots - 1)] = Some((h, text.into(), n));
    });
    n
}

/// Tokens in `text` (no special tokens), as tiktoken counts them: pre-tokenize, then BPE per
/// piece, with the counts of short pieces remembered.
pub fn count_pieces(encoding: Encoding, text: &str) -> usize {
    let tokenizer = tokenizer(encoding);
    MEMO.with(|memo| {
        let mut memo = memo.borrow_mut();
        let memo = &mut memo[slot(encoding)].pieces;
        let mut total = 0usize;
        for piece in tokenizer.split(text) {
            let bytes = piece.as_bytes();
            if bytes.len() > PIECE_MAX_LEN {
                total += tokenizer.bpe.count(bytes);
                continue;
            }
            if let Some(n) = memo.get(bytes) {
                total += *n as usize;
                continue;
            }
            let n = tokenizer.bpe.count(bytes);
            if memo.len() < PIECE_CAP {
                memo.insert(bytes.into(), n as u32);
            }
            total += n;
        }
        total
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(encoding: Encoding, text: &str) -> u64 {
        let bpe = match encoding {
            Encoding::O200kBase => tiktoken_rs::o200k_base_singleton(),
            Encoding::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
        };
        bpe.count_ordinary(text) as u64
    }

    #[test]
    fn equals_tiktoken_and_memo_is_exact() {
        let long = "You are a careful assistant. Answer with one word.\n\n".repeat(12);
        let texts = [
            "",
            "hello world",
            "  trailing spaces   \n\n\t x",
            "héllo wörld ✓ 42 1234567 don't I'LL",
            long.as_str(),
        ];
        for enc in [Encoding::O200kBase, Encoding::Cl100kBase] {
            for text in texts {
                let want = reference(enc, text);
                // Twice: the second call is answered from the memos.
                assert_eq!(count(enc, text), want, "{text:?}");
                assert_eq!(count(enc, text), want, "{text:?}");
            }
            // A long text that differs from a remembered one only at the end is counted afresh.
            let other = format!("{long} and more");
            assert_eq!(count(enc, &other), reference(enc, &other));
            // More short texts than slots: evicted ones are counted afresh, never misread.
            for round in 0..2 {
                for i in 0..(2 * SHORT_SLOTS) {
                    let text = format!("Is {i} a prime number? {round}");
                    assert_eq!(count(enc, &text), reference(enc, &text), "{text:?}");
                }
            }
        }
    }
}
