#!/usr/bin/env bash
# The HTTP peer ratios of issues #7 and #17, measured side by side in one run on one machine
# (loopback only, bounded request counts), as medians of interleaved rounds:
#
#   harness = `batchbench run --strategies concurrent:C` prompts/s ÷ `oha -c C` requests/s,
#             both against the same built-in mock (goal >= 0.8x)
#   mock    = the mock's requests/s ÷ a minimal axum handler's (examples/fixed_chat.rs), both
#             loaded by `oha -c C` (goal >= 0.5x)
#
# The mock runs with no latency (`--time-scale 0`) and no rate limits (`"unlimited"`): oha
# counts a 429 as an answer and the harness paces itself to them, so either would skew a ratio.
# Each round runs oha -> fixed handler, oha -> mock, the harness, then oha -> mock again (after
# the same-body pair, when asked for); the harness is divided by the mean of the two oha -> mock
# runs just around it, the mock by the fixed handler's run just before it. Every oha answer must be a 200 and every harness prompt answered with no retry,
# or the script stops. The CPU each process spent per request is printed beside the rates:
# it does not depend on how the 2 cores were shared, which the rates do.
#
#   bash benches/peers.sh                        # build, 5 rounds, default run, 1M estimate
#   ROUNDS=3 EXTRAS=0 bash benches/peers.sh      # the ratios only
#   PIN=1 bash benches/peers.sh                  # server on CPU 0, load generator on CPU 1
#   BB=/tmp/old/batchbench bash benches/peers.sh # another build of batchbench
#   TOKENISER=1 bash benches/peers.sh            # also Tokenizer::count vs Python tiktoken
#   LEAN_BUILD=1 bash benches/peers.sh           # also a cold `cargo build --release`
#
# Knobs: ROUNDS (5), N (20000), C (64), SAME_BODY (1: also oha with the harness's own request
# body), EXTRAS (1: the default run and `estimate` on ESTIMATE_N = 1000000 prompts, time and
# peak RSS), PIN (0), WORK (/tmp/batchbench-peers), MOCK_PORT (18931), FIXED_PORT (18932), BB,
# FIXED, CARGO_TARGET_DIR (./target). Needs oha (`cargo install oha --locked`) and python3.
# Results and how to read them: benches/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-./target}
ROUNDS=${ROUNDS:-5}
N=${N:-20000}
C=${C:-64}
SAME_BODY=${SAME_BODY:-1}
EXTRAS=${EXTRAS:-1}
ESTIMATE_N=${ESTIMATE_N:-1000000}
PIN=${PIN:-0}
WORK=${WORK:-/tmp/batchbench-peers}
MOCK_PORT=${MOCK_PORT:-18931}
FIXED_PORT=${FIXED_PORT:-18932}
export PATH="$PATH:$HOME/.cargo/bin"
command -v oha >/dev/null || { echo "oha not found: cargo install oha --locked" >&2; exit 2; }
mkdir -p "$WORK"
if [ -z "${BB:-}" ]; then
  cargo build --release --quiet --bin batchbench --example fixed_chat --example token_speed
fi
BB=${BB:-$TARGET/release/batchbench}
FIXED=${FIXED:-$TARGET/release/examples/fixed_chat}
SERVER_CPU=() CLIENT_CPU=()
if [ "$PIN" = 1 ]; then SERVER_CPU=(taskset -c 0) CLIENT_CPU=(taskset -c 1); fi
BODY='{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Answer briefly."},{"role":"user","content":"Is 7 a prime number?"}],"max_completion_tokens":16}'
TICK=$(getconf CLK_TCK)

echo "# batchbench peer ratios: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg); $(oha --version); $(rustc --version); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# N=$N C=$C ROUNDS=$ROUNDS PIN=$PIN BB=$BB"

DATA="$WORK/prompts-$N.jsonl"
[ -s "$DATA" ] || $BB gen --count "$N" --seed 1 --out "$DATA" >/dev/null
# The body the harness sends for the first prompt (the dataset's shared instructions as the
# system message, keys in serde_json's order): oha sends it in the same-body variant.
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
printf '[rate_limits]\nrpm = "unlimited"\ntpm = "unlimited"\n' >"$WORK/mock-unlimited.toml"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
"${SERVER_CPU[@]}" $BB mock --port "$MOCK_PORT" --time-scale 0 --dataset datasets/default.jsonl \
  --config "$WORK/mock-unlimited.toml" >"$WORK/mock.log" 2>&1 &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
"${SERVER_CPU[@]}" "$FIXED" "$FIXED_PORT" >"$WORK/fixed.log" 2>&1 &
FIXED_PID=$!
PIDS+=("$FIXED_PID")
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listening on $1" >&2
  exit 1
}
wait_port "$MOCK_PORT"
wait_port "$FIXED_PORT"
MOCK="http://127.0.0.1:$MOCK_PORT/v1/chat/completions"
FIX="http://127.0.0.1:$FIXED_PORT/v1/chat/completions"

# CPU ticks (user + system) a process has used so far.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# rps URL SERVER_PID BODY-ARGS...: one oha run of N requests at concurrency C. Prints
# "requests/s oha-CPU-µs/request server-CPU-µs/request"; stops unless every answer is a 200.
rps() {
  local url=$1 pid=$2 before after
  shift 2
  before=$(ticks "$pid")
  /usr/bin/time -f '%U %S' -o "$WORK/oha.time" "${CLIENT_CPU[@]}" oha -n "$N" -c "$C" --no-tui \
    --output-format json -m POST -H 'Authorization: Bearer k' -H 'content-type: application/json' \
    "$@" "$url" >"$WORK/oha.json"
  after=$(ticks "$pid")
  python3 - "$WORK/oha.json" "$WORK/oha.time" "$before" "$after" "$TICK" "$N" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
codes = r.get("statusCodeDistribution", {})
if set(codes) != {"200"}:
    sys.exit(f"oha got answers other than 200: {codes}")
user, sys_ = map(float, open(sys.argv[2]).read().split()[-2:])
before, after, tick, n = (float(x) for x in sys.argv[3:7])
print(round(r["summary"]["requestsPerSec"]), round((user + sys_) * 1e6 / n),
      round((after - before) / tick * 1e6 / n))
PY
}

# harness: one `run --strategies concurrent:C` over the N prompts. Prints "prompts/s
# process-CPU-µs/prompt mock-CPU-µs/prompt wall-s max-RSS-KB"; stops unless every prompt was
# answered at the first attempt.
harness() {
  local before after
  rm -rf "$WORK/run"
  before=$(ticks "$MOCK_PID")
  OPENAI_API_KEY=k /usr/bin/time -f '%U %S %e %M' -o "$WORK/run.time" "${CLIENT_CPU[@]}" \
    $BB run --provider openai --base-url "http://127.0.0.1:$MOCK_PORT/v1" \
    --strategies "concurrent:$C" --dataset "$DATA" --quiet --out "$WORK/run" >"$WORK/run.log" 2>&1
  after=$(ticks "$MOCK_PID")
  python3 - "$WORK/run/summary.csv" "$WORK/run.time" "$before" "$after" "$TICK" <<'PY'
import csv, sys
r = next(csv.DictReader(open(sys.argv[1])))
if r["answered"] != r["prompts"] or int(r["retries"]) or int(r["rate_limited"]) or int(r["errors"]):
    sys.exit(f"harness run not clean: {r['answered']}/{r['prompts']} answered, "
             f"{r['retries']} retries, {r['rate_limited']} rate limited, {r['errors']} errors")
user, sys_, wall, rss = open(sys.argv[2]).read().split()[-4:]
n = int(r["prompts"])
before, after, tick = (float(x) for x in sys.argv[3:6])
print(round(float(r["prompts_per_s"])), round((float(user) + float(sys_)) * 1e6 / n),
      round((after - before) / tick * 1e6 / n), wall, rss)
PY
}

# Warm-up: connections, the mock's tokenizer tables and memos.
for url in "$MOCK" "$FIX"; do
  "${CLIENT_CPU[@]}" oha -n 2000 -c "$C" --no-tui -m POST -H 'Authorization: Bearer k' \
    -H 'content-type: application/json' -D "$SAME" "$url" >/dev/null
done

OUT="$WORK/rounds.tsv"
: >"$OUT"
echo "round  oha->mock  oha->fixed  harness  oha->mock  | same body: oha->mock  oha->fixed  (req/s; CPU µs/request: client/server)"
for r in $(seq "$ROUNDS"); do
  ml=0 fl=0 ml_c=0 ml_s=0 fl_c=0 fl_s=0
  if [ "$SAME_BODY" = 1 ]; then
    read -r ml ml_c ml_s <<<"$(rps "$MOCK" "$MOCK_PID" -D "$SAME")"
    read -r fl fl_c fl_s <<<"$(rps "$FIX" "$FIXED_PID" -D "$SAME")"
  fi
  read -r fs fs_c fs_s <<<"$(rps "$FIX" "$FIXED_PID" -d "$BODY")"
  read -r ms ms_c ms_s <<<"$(rps "$MOCK" "$MOCK_PID" -d "$BODY")"
  read -r h h_c h_s h_wall h_rss <<<"$(harness)"
  read -r ms2 ms2_c ms2_s <<<"$(rps "$MOCK" "$MOCK_PID" -d "$BODY")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$r" "$ms" "$fs" "$h" "$ms2" "$ml" "$fl" "$ms_c" "$ms_s" "$fs_c" "$fs_s" "$h_c" "$h_s" \
    "$ms2_c" "$ms2_s" "$h_wall" "$h_rss" "$ml_s" "$fl_s" >>"$OUT"
  echo "$r      $ms ($ms_c/$ms_s)  $fs ($fs_c/$fs_s)  $h ($h_c/$h_s)  $ms2  | $ml  $fl"
done
cleanup
PIDS=()
echo "# load after the rounds: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$EXTRAS" = 1 ]; then
  echo "== default run: /usr/bin/time $BB run (built-in mock, default dataset and strategies)"
  rm -rf "$WORK/default-run"
  /usr/bin/time -f '%e %M' -o "$WORK/default-run.time" $BB run -q --out "$WORK/default-run" >/dev/null 2>&1
  read -r wall rss <"$WORK/default-run.time"
  echo "wall ${wall} s, peak RSS $((rss / 1024)) MB"
  EST_DATA="$WORK/prompts-$ESTIMATE_N.jsonl"
  [ -s "$EST_DATA" ] || $BB gen --count "$ESTIMATE_N" --seed 1 --out "$EST_DATA" >/dev/null
  echo "== estimate on $ESTIMATE_N prompts, default strategies"
  /usr/bin/time -f '%e %M' -o "$WORK/estimate.time" $BB estimate --dataset "$EST_DATA" \
    --output-tokens 3 --quiet >/dev/null
  read -r wall rss <"$WORK/estimate.time"
  echo "wall ${wall} s, peak RSS $((rss / 1024)) MB (limit 256 MB)"
  [ "$rss" -le $((256 * 1024)) ] || { echo "FAIL: estimate over 256 MB" >&2; exit 1; }
fi

if [ "${TOKENISER:-0}" = 1 ]; then
  VENV="$WORK/venv"
  if ! "$VENV/bin/python" -c "import tiktoken" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet tiktoken
  fi
  # Offline: tiktoken's BPE files from the tiktoken-rs crate, named by the SHA-1 of their URL.
  export TIKTOKEN_CACHE_DIR="$WORK/tiktoken-cache"
  mkdir -p "$TIKTOKEN_CACHE_DIR"
  ASSETS=$(ls -d "$HOME"/.cargo/registry/src/*/tiktoken-rs-*/assets | sort -V | tail -1)
  for enc in o200k_base cl100k_base; do
    sha=$(printf '%s' "https://openaipublic.blob.core.windows.net/encodings/$enc.tiktoken" | sha1sum | cut -d' ' -f1)
    cp "$ASSETS/$enc.tiktoken" "$TIKTOKEN_CACHE_DIR/$sha"
  done
  TOKDATA="$WORK/prompts-tok.jsonl"
  [ -s "$TOKDATA" ] || $BB gen --count 200000 --seed 1 --out "$TOKDATA" >/dev/null
  echo "== tokeniser, o200k_base, 200,000 prompts (best of 3): Rust, then Python tiktoken"
  "$(dirname "$BB")/examples/token_speed" "$TOKDATA" 3
  "$VENV/bin/python" benches/tiktoken_peer.py "$TOKDATA" 3
fi

if [ "${LEAN_BUILD:-0}" = 1 ]; then
  SRC="$WORK/cold-src"
  COLD_TARGET=${COLD_TARGET:-/tmp/cold-target}
  rm -rf "$SRC" "$COLD_TARGET"
  mkdir -p "$SRC"
  tar --exclude=./target --exclude=./reports -cf - . | tar -xf - -C "$SRC"
  echo "== cold: (cd $SRC && CARGO_TARGET_DIR=$COLD_TARGET cargo build --release)"
  (cd "$SRC" && CARGO_TARGET_DIR="$COLD_TARGET" /usr/bin/time -f '%e s wall, %U s user' cargo build --release --quiet)
  ls -l "$COLD_TARGET/release/batchbench"
fi

# The two ratios last.
python3 - "$OUT" "$SAME_BODY" <<'PY'
import statistics as st, sys
rows = [[float(x) for x in l.split("\t")] for l in open(sys.argv[1]) if l.strip()]
col = lambda i: [r[i] for r in rows]
ms, fs, h, ms2, ml, fl = (col(i) for i in range(1, 7))
med = lambda xs: st.median(xs)
print(f"\nmedians over {len(rows)} rounds (requests/s; CPU µs per request, client / server):")
print(f"  oha -> mock    {med(ms + ms2):8.0f}   {med(col(7) + col(13)):5.0f} / {med(col(8) + col(14)):5.0f}")
print(f"  oha -> fixed   {med(fs):8.0f}   {med(col(9)):5.0f} / {med(col(10)):5.0f}")
print(f"  harness        {med(h):8.0f}   {med(col(11)):5.0f} / {med(col(12)):5.0f}"
      f"   (whole process; run wall {med(col(15)):.2f} s, peak RSS {med(col(16)) / 1024:.0f} MB)")
if sys.argv[2] == "1":
    sm, sf = [a / b for a, b in zip(ml, fl)], [x / a for x, a in zip(h, ml)]
    print(f"  same body: oha -> mock {med(ml):.0f}, oha -> fixed {med(fl):.0f} req/s (server CPU µs"
          f" {med(col(17)):.0f} / {med(col(18)):.0f}); mock / fixed {med(sm):.2f}x,"
          f" harness / oha {med(sf):.2f}x")
harness = [x / ((a + b) / 2) for x, a, b in zip(h, ms, ms2)]
mock = [a / b for a, b in zip(ms, fs)]
show = lambda xs: ", ".join(f"{x:.2f}" for x in sorted(xs))
print(f"harness / oha  median {med(harness):.2f}x  (rounds {show(harness)}; goal >= 0.8x)")
print(f"mock / fixed   median {med(mock):.2f}x  (rounds {show(mock)}; goal >= 0.5x)")
PY
