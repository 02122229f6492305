//! Tokens per second of `batchbench::tokens::Tokenizer::count` (o200k_base: `bpe-openai` with
//! per-thread memos, counts equal to tiktoken-rs's) on the prompts of a JSONL dataset — the Rust
//! side of the tokeniser peer ratio in `benches/peers.sh` (`benches/tiktoken_peer.py` is the
//! Python side). The reference, `tiktoken_rs` `count_ordinary`, is timed too and printed on
//! stderr, and every count is checked against it.
//!
//! ```text
//! cargo run --release --example token_speed -- DATASET.jsonl [REPEATS]
//! ```
//!
//! Prints one line per mode: `mode=<per-prompt|concatenated> tokens=N seconds=S tokens_per_s=R`.

use std::time::Instant;

use batchbench::tokens::Tokenizer;

/// Counts the tokens of a dataset one way (the whole text is passed in; a mode may ignore it).
type Count<'a> = Box<dyn Fn(&str) -> u64 + 'a>;

/// Wall time of a first (cold) run of `f`, best wall time of `repeats` more runs, and what it
/// returned.
fn best_of<T>(repeats: usize, mut f: impl FnMut() -> T) -> (f64, f64, T) {
    let t = Instant::now();
    let mut out = f();
    let cold = t.elapsed().as_secs_f64();
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let t = Instant::now();
        out = f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (cold, best, out)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| {
        eprintln!("usage: token_speed DATASET.jsonl [REPEATS]");
        std::process::exit(2);
    });
    let repeats: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let text = std::fs::read_to_string(&path).expect("read dataset");
    let prompts: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("prompt").and_then(|p| p.as_str()).map(str::to_owned))
        .collect();
    let joined = prompts.join("\n");
    eprintln!("{} prompts, {} bytes", prompts.len(), joined.len());

    let ours = Tokenizer::for_model("gpt-4o-mini");
    let reference = tiktoken_rs::o200k_base_singleton();
    // The first run of each mode loads tables and fills caches (batchbench's piece memo among
    // them): it is reported on stderr as "cold"; the best of the following runs is the figure.
    let modes: [(&str, Count, Count); 2] = [
        (
            "per-prompt",
            Box::new(|_| prompts.iter().map(|p| ours.count(p)).sum()),
            Box::new(|_| {
                prompts
                    .iter()
                    .map(|p| reference.count_ordinary(p) as u64)
                    .sum()
            }),
        ),
        (
            "concatenated",
            Box::new(|t| ours.count(t)),
            Box::new(|t| reference.count_ordinary(t) as u64),
        ),
    ];
    for (mode, count, count_reference) in &modes {
        let (cold, seconds, tokens) = best_of(repeats, || count(&joined));
        let (_, ref_seconds, ref_tokens) = best_of(repeats, || count_reference(&joined));
        assert_eq!(tokens, ref_tokens, "{mode}: counts differ from tiktoken-rs");
        println!(
            "mode={mode} tokens={tokens} seconds={seconds:.4} tokens_per_s={:.0}",
            tokens as f64 / seconds
        );
        eprintln!(
            "  {mode}: cold first run {cold:.4} s ({:.0} tokens/s); reference tiktoken-rs {ref_seconds:.4} s ({:.0} tokens/s)",
            tokens as f64 / cold,
            ref_tokens as f64 / ref_seconds
        );
    }
}
