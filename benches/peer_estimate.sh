#!/usr/bin/env bash
# Peer ratio: `batchbench estimate` (release) versus Python tokencost computing the same costs
# (sequential: system instructions + user prompt per request, 3 output tokens per answer,
# gpt-4o-mini) on the same 1,000,000 generated prompts. Prints prompts/s of both and the ratio,
# and batchbench's max RSS (goal: >= 5x, <= 256 MB).
#
#   bash benches/peer_estimate.sh            # all 1,000,000 prompts for both (tokencost: ~20 min)
#   TOKENCOST_PROMPTS=20000 bash benches/peer_estimate.sh   # tokencost on the first 20,000 only
#
# Offline: tiktoken's BPE files are taken from the tiktoken-rs crate, named by the SHA-1 of their
# download URL, in TIKTOKEN_CACHE_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
WORK=${WORK:-/tmp/batchbench-peer}
mkdir -p "$WORK"
DATA="$WORK/prompts-$N.jsonl"

cargo build --release --quiet --bin batchbench
if [ ! -s "$DATA" ]; then
  ./target/release/batchbench gen --count "$N" --seed 1 --out "$DATA" >/dev/null
fi
EST=(./target/release/batchbench estimate)

echo "== batchbench estimate (${EST[*]}), $N prompts, sequential"
/usr/bin/time -v "${EST[@]}" --dataset "$DATA" --strategies sequential --output-tokens 3 --quiet --format json \
  >"$WORK/estimate.json" 2>"$WORK/estimate.time"
bb_s=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$WORK/estimate.time")
bb_rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/estimate.time")
bb_cpu=$(awk -F': ' '/Percent of CPU/ {print $2}' "$WORK/estimate.time")
bb_rate=$(python3 -c "print(round($N / $bb_s))")
echo "seconds $bb_s, prompts/s $bb_rate, max RSS ${bb_rss} KB, CPU $bb_cpu"
grep -E '"(input_tokens|cost_usd)"' "$WORK/estimate.json" | head -2

echo "== batchbench estimate, $N prompts, default strategies (sizes 1..32)"
/usr/bin/time -v "${EST[@]}" --dataset "$DATA" --output-tokens 3 --quiet --format json >/dev/null 2>"$WORK/estimate-all.time"
all_s=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$WORK/estimate-all.time")
all_rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/estimate-all.time")
echo "seconds $all_s, prompts/s $(python3 -c "print(round($N / $all_s))"), max RSS ${all_rss} KB"

echo "== tokencost (Python)"
VENV=${VENV:-/tmp/batchbench-tokencost-venv}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import tokencost" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet tokencost
fi
export TIKTOKEN_CACHE_DIR="$WORK/tiktoken-cache"
mkdir -p "$TIKTOKEN_CACHE_DIR"
assets=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/tiktoken-rs-*/assets | tail -1)
for enc in o200k_base cl100k_base; do
  sha=$(printf '%s' "https://openaipublic.blob.core.windows.net/encodings/$enc.tiktoken" | sha1sum | cut -d' ' -f1)
  cp "$assets/$enc.tiktoken" "$TIKTOKEN_CACHE_DIR/$sha"
done
"$VENV/bin/python" -c "import tokencost, tiktoken; print('tokencost', tokencost.__version__ if hasattr(tokencost, '__version__') else '?', 'tiktoken', tiktoken.__version__)" || true
"$VENV/bin/python" benches/tokencost_estimate.py "$DATA" gpt-4o-mini 3 "${TOKENCOST_PROMPTS:-0}" | tee "$WORK/tokencost.txt"
tc_rate=$(awk '/prompts_per_s/ {print $2}' "$WORK/tokencost.txt")

echo "== ratio (prompts/s): batchbench sequential / tokencost = $(python3 -c "print(round($bb_rate / $tc_rate, 1))")x (goal >= 5x)"
echo "== batchbench max RSS: $(python3 -c "print(round($bb_rss / 1024))") MB sequential, $(python3 -c "print(round($all_rss / 1024))") MB default strategies (goal <= 256 MB)"
