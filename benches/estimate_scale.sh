#!/usr/bin/env bash
# Bounded memory at scale: `batchbench estimate` on 1,000,000 generated prompts with the default
# strategies, under /usr/bin/time -v; fails if max RSS exceeds 256 MB. Too slow for `cargo test`.
#
#   bash benches/estimate_scale.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
LIMIT_KB=$((256 * 1024))
WORK=${WORK:-/tmp/batchbench-peer}
mkdir -p "$WORK"
DATA="$WORK/prompts-$N.jsonl"
cargo build --release --quiet --bin batchbench
[ -s "$DATA" ] || ./target/release/batchbench gen --count "$N" --seed 1 --out "$DATA" >/dev/null
EST=(./target/release/batchbench estimate)
/usr/bin/time -v "${EST[@]}" --dataset "$DATA" --output-tokens 3 --quiet >"$WORK/scale.txt" 2>"$WORK/scale.time"
head -3 "$WORK/scale.txt"
rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/scale.time")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/scale.time")
echo "prompts $N, wall $wall, max RSS $rss KB (limit $LIMIT_KB KB)"
if [ "$rss" -gt "$LIMIT_KB" ]; then
  echo "FAIL: max RSS over 256 MB"
  exit 1
fi
echo "ok"
