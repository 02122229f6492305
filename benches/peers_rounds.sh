#!/usr/bin/env bash
# The two HTTP peer ratios of issue #7 as medians of interleaved rounds, for a machine whose load
# swings between runs (benches/peers.sh reports best-of-N, which one lucky run can skew). Each
# round: oha -> mock and oha -> fixed handler with the issue's body and with the harness's own
# request body, then the harness, then oha -> mock again (the harness is divided by the mean of
# the oha runs just before and after it). Results and interpretation: benches/PEERS.md.
#
#   bash benches/peers_rounds.sh                    # the build in $CARGO_TARGET_DIR (./target)
#   BB=/tmp/old-batchbench bash benches/peers_rounds.sh   # another build of batchbench
#
# Knobs: ROUNDS (5), N (20000), C (64), WORK (/tmp/batchbench-rounds), MOCK_PORT (18941),
# FIXED_PORT (18942), BB, FIXED (examples/fixed_chat binary). Needs oha and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-./target}
ROUNDS=${ROUNDS:-5}
N=${N:-20000}
C=${C:-64}
WORK=${WORK:-/tmp/batchbench-rounds}
MOCK_PORT=${MOCK_PORT:-18941}
FIXED_PORT=${FIXED_PORT:-18942}
BB=${BB:-$TARGET/release/batchbench}
FIXED=${FIXED:-$TARGET/release/examples/fixed_chat}
export PATH="$PATH:$HOME/.cargo/bin"
command -v oha >/dev/null || { echo "oha not found: cargo install oha --locked" >&2; exit 2; }
mkdir -p "$WORK"
BODY='{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Answer briefly."},{"role":"user","content":"Is 7 a prime number?"}],"max_completion_tokens":16}'
DATA="$WORK/prompts-$N.jsonl"
[ -s "$DATA" ] || $BB gen --count "$N" --seed 1 --out "$DATA" >/dev/null
SAME="$WORK/same-body.json"
python3 - "$DATA" "$SAME" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
instructions = next(l["instructions"] for l in lines if "instructions" in l)
prompt = next(l["prompt"] for l in lines if "prompt" in l)
body = {"max_completion_tokens": 64, "messages": [
    {"content": instructions, "role": "system"}, {"content": prompt, "role": "user"}],
    "model": "gpt-4o-mini"}
open(sys.argv[2], "w").write(json.dumps(body, separators=(",", ":"), ensure_ascii=False))
PY
printf '[rate_limits]\nrpm = 1000000000000\ntpm = 1000000000000000\n' >"$WORK/mock-unlimited.toml"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
$BB mock --port "$MOCK_PORT" --time-scale 0 --dataset datasets/default.jsonl \
  --config "$WORK/mock-unlimited.toml" >"$WORK/mock.log" 2>&1 &
PIDS+=($!)
"$FIXED" "$FIXED_PORT" >"$WORK/fixed.log" 2>&1 &
PIDS+=($!)
sleep 1.5
MOCK="http://127.0.0.1:$MOCK_PORT/v1/chat/completions"
FIX="http://127.0.0.1:$FIXED_PORT/v1/chat/completions"

# rps URL BODY-ARGS...: requests/s of one oha run; every response must be a 200.
rps() {
  local url=$1; shift
  oha -n "$N" -c "$C" --no-tui --output-format json -m POST -H 'Authorization: Bearer k' \
    -H 'content-type: application/json' "$@" "$url" | python3 -c '
import json, sys
r = json.load(sys.stdin)
codes = r.get("statusCodeDistribution", {})
if set(codes) != {"200"}:
    sys.exit(f"non-200 responses: {codes}")
print(round(r["summary"]["requestsPerSec"]))'
}
for url in "$MOCK" "$FIX"; do
  oha -n 2000 -c "$C" --no-tui -m POST -H 'Authorization: Bearer k' \
    -H 'content-type: application/json' -D "$SAME" "$url" >/dev/null
done

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $BB"
OUT="$WORK/rounds.tsv"
: >"$OUT"
for r in $(seq "$ROUNDS"); do
  ms=$(rps "$MOCK" -d "$BODY"); fs=$(rps "$FIX" -d "$BODY")
  ml=$(rps "$MOCK" -D "$SAME"); fl=$(rps "$FIX" -D "$SAME")
  rm -rf "$WORK/run"
  OPENAI_API_KEY=k $BB run --provider openai --base-url "http://127.0.0.1:$MOCK_PORT/v1" \
    --strategies "concurrent:$C" --dataset "$DATA" --quiet --out "$WORK/run" >/dev/null 2>&1
  h=$(python3 -c "import csv; r=next(csv.DictReader(open('$WORK/run/summary.csv'))); assert r['answered']==r['prompts']; print(round(float(r['prompts_per_s'])))")
  ms2=$(rps "$MOCK" -d "$BODY"); ml2=$(rps "$MOCK" -D "$SAME")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$ms" "$fs" "$ml" "$fl" "$h" "$ms2" "$ml2" | tee -a "$OUT"
done
python3 - "$OUT" <<'PY'
import statistics as st, sys
rows = [l.split("\t") for l in open(sys.argv[1]) if l.strip()]
col = lambda i: [float(r[i]) for r in rows]
ms, fs, ml, fl, h, ms2, ml2 = (col(i) for i in range(1, 8))
def show(name, xs, goal):
    print(f"{name:34s} median {st.median(xs):.2f}x  rounds {sorted(round(x, 2) for x in xs)}  (goal {goal})")
print(f"medians: oha->mock {st.median(ms + ms2):.0f}, oha->fixed {st.median(fs):.0f}, same body: oha->mock"
      f" {st.median(ml + ml2):.0f}, oha->fixed {st.median(fl):.0f} req/s; harness {st.median(h):.0f} prompts/s")
show("harness / oha (issue's body)", [x / ((a + b) / 2) for x, a, b in zip(h, ms, ms2)], ">= 0.8x")
show("harness / oha (same body)", [x / ((a + b) / 2) for x, a, b in zip(h, ml, ml2)], ">= 0.8x")
show("mock / fixed (issue's body)", [a / b for a, b in zip(ms, fs)], ">= 0.5x")
show("mock / fixed (same body)", [a / b for a, b in zip(ml, fl)], ">= 0.5x")
PY
