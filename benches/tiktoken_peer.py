"""Tokens per second of Python tiktoken's o200k_base `encode_ordinary` on the prompts of a JSONL
dataset: the Python side of the tokeniser peer ratio in benches/peers.sh (the Rust side is
examples/token_speed.rs). Same modes, same best-of-REPEATS timing.

    TIKTOKEN_CACHE_DIR=DIR python benches/tiktoken_peer.py DATASET.jsonl [REPEATS]
"""
import json
import sys
import time

import tiktoken

path = sys.argv[1]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
prompts = []
with open(path, encoding="utf-8") as f:
    for line in f:
        try:
            v = json.loads(line)
        except ValueError:
            continue
        if isinstance(v, dict) and isinstance(v.get("prompt"), str):
            prompts.append(v["prompt"])
joined = "\n".join(prompts)

t = time.perf_counter()
enc = tiktoken.get_encoding("o200k_base")
print(f"load o200k_base: {time.perf_counter() - t:.3f}s, {len(prompts)} prompts, "
      f"{len(joined.encode())} bytes, tiktoken {tiktoken.__version__}", file=sys.stderr)
enc.encode_ordinary(prompts[0])

best, tokens = float("inf"), 0
for _ in range(repeats):
    t = time.perf_counter()
    tokens = sum(len(enc.encode_ordinary(p)) for p in prompts)
    best = min(best, time.perf_counter() - t)
print(f"mode=per-prompt tokens={tokens} seconds={best:.4f} tokens_per_s={tokens / best:.0f}")

best = float("inf")
for _ in range(repeats):
    t = time.perf_counter()
    tokens = len(enc.encode_ordinary(joined))
    best = min(best, time.perf_counter() - t)
print(f"mode=concatenated tokens={tokens} seconds={best:.4f} tokens_per_s={tokens / best:.0f}")
