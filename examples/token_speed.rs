//! Tokens per second of `tiktoken_rs::o200k_base_singleton().count_ordinary` (the reference
//! implementation; `batchbench::tokens` now counts with `bpe-openai`, same counts) on the prompts
//! of a JSONL dataset — the Rust side of the tokeniser peer ratio in `benches/peers.sh`
//! (`benches/tiktoken_peer.py` is the Python side).
//!
//! ```text
//! cargo run --release --example token_speed -- DATASET.jsonl [REPEATS]
//! ```
//!
//! Prints one line per mode: `mode=<per-prompt|concatenated> tokens=N seconds=S tokens_per_s=R`.

use std::time::Instant;

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

    let t = Instant::now();
    let bpe = tiktoken_rs::o200k_base_singleton();
    eprintln!(
        "load o200k_base: {:.3}s, {} prompts, {} bytes",
        t.elapsed().as_secs_f64(),
        prompts.len(),
        joined.len()
    );
    // Warm-up (first use builds regex caches).
    let _ = bpe.count_ordinary(&prompts[0]);

    // Best of REPEATS for each mode.
    let mut best = f64::INFINITY;
    let mut tokens = 0usize;
    for _ in 0..repeats {
        let t = Instant::now();
        tokens = prompts.iter().map(|p| bpe.count_ordinary(p)).sum();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "mode=per-prompt tokens={tokens} seconds={best:.4} tokens_per_s={:.0}",
        tokens as f64 / best
    );

    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let t = Instant::now();
        tokens = bpe.count_ordinary(&joined);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "mode=concatenated tokens={tokens} seconds={best:.4} tokens_per_s={:.0}",
        tokens as f64 / best
    );
}
