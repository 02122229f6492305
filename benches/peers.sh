#!/usr/bin/env bash
# Peer ratios of issue #7, each measured side by side in one run on the same machine (loopback
# only, bounded request counts). Results and interpretation: benches/PEERS.md.
#
#   bash benches/peers.sh                 # harness vs oha, mock vs fixed axum handler,
#                                         # tokeniser vs Python tiktoken, default run
#   LEAN_BUILD=1 bash benches/peers.sh    # also a cold `cargo build --release` in a copy
#
# Knobs: N (oha requests / harness prompts, 20000), C (concurrency, 64), REPEATS (2; the best
# of the repeats is reported for every side), WORK (/tmp/batchbench-peers), MOCK_PORT (18931),
# FIXED_PORT (18932), CARGO_TARGET_DIR (./target). Needs oha on PATH or in ~/.cargo/bin
# (`cargo install oha --locked`) and python3 (a venv with tiktoken is created under $WORK).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${N:-20000}
C=${C:-64}
REPEATS=${REPEATS:-2}
WORK=${WORK:-/tmp/batchbench-peers}
MOCK_PORT=${MOCK_PORT:-18931}
FIXED_PORT=${FIXED_PORT:-18932}
mkdir -p "$WORK"
export PATH="$PATH:$HOME/.cargo/bin"
command -v oha >/dev/null || { echo "oha not found: cargo install oha --locked" >&2; exit 2; }

TARGET=${CARGO_TARGET_DIR:-./target}
BB=$TARGET/release/batchbench
BODY='{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Answer briefly."},{"role":"user","content":"Is 7 a prime number?"}],"max_completion_tokens":16}'
# The body the harness sends for the first prompt of `gen --seed 1` (the default dataset's
# 329-token shared instructions as the system message), built below: the same-body variant.
SAME_BODY="$WORK/same-body.json"

echo "# batchbench peer ratios — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# oha: $(oha --version), rustc: $(rustc --version)"

cargo build --release --quiet --bin batchbench --example fixed_chat --example token_speed

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_port() { # wait_port PORT
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listening on $1" >&2; exit 1
}

# oha_rps URL LABEL [BODYFILE]: best requests/s over REPEATS runs of N requests at concurrency
# C, with the issue's body or the one in BODYFILE; every response must be a 200.
oha_rps() {
  local best=0 i body=(-d "$BODY")
  [ -n "${3:-}" ] && body=(-D "$3")
  for i in $(seq "$REPEATS"); do
    oha -n "$N" -c "$C" --no-tui --output-format json -m POST \
      -H 'Authorization: Bearer k' -H 'content-type: application/json' "${body[@]}" "$1" \
      >"$WORK/oha-$2-$i.json"
    best=$(python3 - "$WORK/oha-$2-$i.json" "$best" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
codes = r.get("statusCodeDistribution", {})
if set(codes) != {"200"}:
    sys.exit(f"non-200 responses: {codes}")
print(max(float(sys.argv[2]), r["summary"]["requestsPerSec"]))
PY
)
  done
  echo "$best"
}

# --- servers ---------------------------------------------------------------------------------
# The mock with rate limits lifted (the default 10,000 RPM would turn most of N requests into
# 429s within seconds): everything else is the default mock, time scale 0.
cat >"$WORK/mock-unlimited.toml" <<'TOML'
[rate_limits]
rpm = 1000000000000
tpm = 1000000000000000
TOML
$BB mock --port "$MOCK_PORT" --time-scale 0 --dataset datasets/default.jsonl \
  --config "$WORK/mock-unlimited.toml" >"$WORK/mock.log" 2>&1 &
PIDS+=($!)
$TARGET/release/examples/fixed_chat "$FIXED_PORT" >"$WORK/fixed.log" 2>&1 &
PIDS+=($!)
wait_port "$MOCK_PORT"
wait_port "$FIXED_PORT"
MOCK_URL="http://127.0.0.1:$MOCK_PORT/v1/chat/completions"
FIXED_URL="http://127.0.0.1:$FIXED_PORT/v1/chat/completions"

# Warm both servers up (connection setup, lazy tokenizer load in the mock).
oha -n 2000 -c "$C" --no-tui -m POST -H 'Authorization: Bearer k' -H 'content-type: application/json' -d "$BODY" "$MOCK_URL" >/dev/null
oha -n 2000 -c "$C" --no-tui -m POST -H 'Authorization: Bearer k' -H 'content-type: application/json' -d "$BODY" "$FIXED_URL" >/dev/null

# --- 1+2: oha against the mock and against the fixed handler, then the harness ----------------
echo "== oha -n $N -c $C POST $MOCK_URL (batchbench mock, time scale 0)"
mock_rps=$(oha_rps "$MOCK_URL" mock)
echo "requests/s $mock_rps"
echo "== oha -n $N -c $C POST $FIXED_URL (examples/fixed_chat.rs)"
fixed_rps=$(oha_rps "$FIXED_URL" fixed)
echo "requests/s $fixed_rps"

DATA="$WORK/prompts-$N.jsonl"
[ -s "$DATA" ] || $BB gen --count "$N" --seed 1 --out "$DATA" >/dev/null
python3 - "$DATA" "$SAME_BODY" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
instructions = next(l["instructions"] for l in lines if "instructions" in l)
prompt = next(l["prompt"] for l in lines if "prompt" in l)
body = {"max_completion_tokens": 64, "messages": [
    {"content": instructions, "role": "system"}, {"content": prompt, "role": "user"}],
    "model": "gpt-4o-mini"}
open(sys.argv[2], "w").write(json.dumps(body, separators=(",", ":"), ensure_ascii=False))
PY
echo "== same-body variant: oha with the harness's own request body ($(wc -c <"$SAME_BODY") bytes)"
mock_same_rps=$(oha_rps "$MOCK_URL" mock-same "$SAME_BODY")
echo "mock requests/s $mock_same_rps"
fixed_same_rps=$(oha_rps "$FIXED_URL" fixed-same "$SAME_BODY")
echo "fixed requests/s $fixed_same_rps"
echo "== batchbench run --strategies concurrent:$C, $N prompts, against the same mock"
harness_pps=0
for i in $(seq "$REPEATS"); do
  rm -rf "$WORK/run-$i"
  OPENAI_API_KEY=k /usr/bin/time -v $BB run --provider openai --base-url "http://127.0.0.1:$MOCK_PORT/v1" \
    --strategies "concurrent:$C" --dataset "$DATA" --quiet --out "$WORK/run-$i" \
    >"$WORK/run-$i.stdout" 2>"$WORK/run-$i.time"
  pps=$(python3 - "$WORK/run-$i/summary.csv" <<'PY'
import csv, sys
row = next(csv.DictReader(open(sys.argv[1])))
print(row["prompts_per_s"])
PY
)
  echo "  repeat $i: prompts/s $pps (whole process: $(awk -F': ' '/Elapsed \(wall/ {print $2}' "$WORK/run-$i.time") wall, $(awk -F': ' '/Maximum resident/ {print $2}' "$WORK/run-$i.time") KB max RSS)"
  harness_pps=$(python3 -c "print(max($harness_pps, $pps))")
done
echo "prompts/s $harness_pps"
cleanup; PIDS=()

# --- 3: tokeniser --------------------------------------------------------------------------
VENV="$WORK/venv"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import tiktoken" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet tiktoken
fi
export TIKTOKEN_CACHE_DIR="$WORK/tiktoken-cache"
mkdir -p "$TIKTOKEN_CACHE_DIR"
ASSETS=$(ls -d "$HOME"/.cargo/registry/src/*/tiktoken-rs-*/assets | sort -V | tail -1)
for enc in o200k_base cl100k_base; do
  sha=$(printf '%s' "https://openaipublic.blob.core.windows.net/encodings/$enc.tiktoken" | sha1sum | cut -d' ' -f1)
  cp "$ASSETS/$enc.tiktoken" "$TIKTOKEN_CACHE_DIR/$sha"
done
TOKDATA="$WORK/prompts-tok.jsonl"
[ -s "$TOKDATA" ] || $BB gen --count 200000 --seed 1 --out "$TOKDATA" >/dev/null
echo "== tokeniser: o200k_base on the prompts of $TOKDATA (best of 3)"
echo "-- Rust (batchbench::tokens::Tokenizer::count, examples/token_speed.rs; tiktoken-rs on stderr)"
$TARGET/release/examples/token_speed "$TOKDATA" 3 | tee "$WORK/tok-rust.txt"
echo "-- Python ($("$VENV/bin/python" -c 'import tiktoken; print("tiktoken", tiktoken.__version__)') encode_ordinary, benches/tiktoken_peer.py)"
"$VENV/bin/python" benches/tiktoken_peer.py "$TOKDATA" 3 | tee "$WORK/tok-py.txt"

# --- 4: the default run ---------------------------------------------------------------------
echo "== /usr/bin/time -v $BB run --out $WORK/default-run"
rm -rf "$WORK/default-run"
/usr/bin/time -v $BB run --out "$WORK/default-run" >"$WORK/default-run.stdout" 2>"$WORK/default-run.time"
def_wall=$(awk -F': ' '/Elapsed \(wall/ {print $2}' "$WORK/default-run.time")
def_rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$WORK/default-run.time")
echo "wall $def_wall, max RSS $def_rss KB"

# --- 5: lean build --------------------------------------------------------------------------
echo "== binary: $(ls -l $BB)"
if [ "${LEAN_BUILD:-0}" = 1 ]; then
  SRC="$WORK/cold-src"
  COLD_TARGET=${COLD_TARGET:-/tmp/cold-target}
  rm -rf "$SRC" "$COLD_TARGET"
  mkdir -p "$SRC"
  tar --exclude=./target --exclude=./reports -cf - . | tar -xf - -C "$SRC"
  echo "== cold: (cd $SRC && CARGO_TARGET_DIR=$COLD_TARGET cargo build --release)"
  ( cd "$SRC" && CARGO_TARGET_DIR="$COLD_TARGET" /usr/bin/time -v cargo build --release --quiet ) 2>"$WORK/cold.time"
  echo "cold build wall $(awk -F': ' '/Elapsed \(wall/ {print $2}' "$WORK/cold.time"), load after $(cut -d' ' -f1-3 /proc/loadavg)"
  ls -l "$COLD_TARGET/release/batchbench"
fi

# --- summary --------------------------------------------------------------------------------
python3 - "$mock_rps" "$fixed_rps" "$harness_pps" "$WORK/tok-rust.txt" "$WORK/tok-py.txt" \
  "$mock_same_rps" "$fixed_same_rps" <<'PY'
import sys
mock, fixed, harness = map(float, sys.argv[1:4])
mock_same, fixed_same = map(float, sys.argv[6:8])
def rates(path):
    out = {}
    for line in open(path):
        kv = dict(p.split("=") for p in line.split())
        out[kv["mode"]] = float(kv["tokens_per_s"])
    return out
rust, py = rates(sys.argv[4]), rates(sys.argv[5])
print("\n== ratios")
print(f"harness  {harness:9.0f} prompts/s / oha->mock {mock:9.0f} req/s = {harness/mock:.2f}x  (goal >= 0.8x)")
print(f"mock     {mock:9.0f} req/s     / oha->fixed {fixed:8.0f} req/s = {mock/fixed:.2f}x  (goal >= 0.5x)")
print(f"same body: harness {harness:6.0f} prompts/s / oha->mock {mock_same:6.0f} req/s = {harness/mock_same:.2f}x;"
      f" mock {mock_same:.0f} / fixed {fixed_same:.0f} req/s = {mock_same/fixed_same:.2f}x")
for m in rust:
    print(f"tokens {m:13s} {rust[m]:11.0f} tok/s / tiktoken {py[m]:11.0f} tok/s = {rust[m]/py[m]:.2f}x  (goal >= 1.0x)")
PY
