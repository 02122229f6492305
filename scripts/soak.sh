#!/usr/bin/env bash
# Fault soak (opt-in; loopback only; bounded in count and time).
#
# 10,000 generated prompts through sequential, concurrent:32 and batch-api against a standalone
# `batchbench mock` on 127.0.0.1 that injects 5% 429, 5% 5xx and 1% dropped connections, then
# checks from the run's CSVs and the mock's /_mock/stats:
#   - 0 prompts lost: every prompt answered or reported failed exactly once per strategy;
#   - 0 paid twice: no prompt / batch custom_id completed twice by the server, except (in the
#     "-cut" runs, whose connections break after the answer was generated) exactly the attempts
#     the client labelled `dropped` and priced in its warnings;
#   - retries <= 1.2 x the faults the mock injected.
# Results go to $SOAK_DIR (default: a new temp folder); scripts/soak_check.py prints the table
# written into docs/RELIABILITY.md.
#
# Usage: scripts/soak.sh [COUNT]        (COUNT defaults to 10000)
# Env:   SOAK_DIR=DIR  keep everything there;  SOAK_SKIP_BUILD=1  use the existing release binary.
set -euo pipefail

COUNT="${1:-10000}"
case "$COUNT" in ''|*[!0-9]*) echo "soak: COUNT must be a whole number" >&2; exit 2;; esac
if [ "$COUNT" -gt 100000 ]; then echo "soak: COUNT is capped at 100000" >&2; exit 2; fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
W="${SOAK_DIR:-$(mktemp -d -t batchbench-soak.XXXXXX)}"
mkdir -p "$W"
BIN="$ROOT/target/release/batchbench"
SEED=3
RUN_LIMIT=900        # seconds per strategy run
MOCK_PID=""

cleanup() {
    if [ -n "$MOCK_PID" ]; then kill "$MOCK_PID" 2>/dev/null || true; wait "$MOCK_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

if [ "${SOAK_SKIP_BUILD:-0}" != "1" ]; then
    echo "soak: building release (bounded to 30 min)" >&2
    timeout 1800 cargo build --release --quiet
fi

echo "soak: generating $COUNT prompts (seed $SEED)" >&2
"$BIN" gen --count "$COUNT" --seed "$SEED" --out "$W/prompts.jsonl" 2>/dev/null

# Retries: at most 8 per request (the default is 4): with 11 % of attempts faulted, five faults
# in a row hit about one request in 6,000, which would then fail (reported, not lost).
# Synchronous faults: 429 and 503 carry `retry-after: 0.01` (10 ms) so that the sequential pass
# is not dominated by waiting; dropped connections get the client's own backoff (0.5 s, doubling).
# Two kinds of dropped connection are soaked separately:
#   - `rate_reset`: the connection closes before the request is processed (no response, nothing
#     generated): a retry cannot pay twice;
#   - `rate_drop` (the "-cut" runs): the connection breaks half-way through a 200's body, after
#     the answer was generated: the server has done (and a provider would bill) the work, the
#     client cannot know, retries, and labels the attempt `dropped`; the check then requires the
#     server's extra completions to equal the client's `dropped` rows (every double payment
#     accounted for in requests.csv and the run's warnings).
# Batch lines: the mock's 500 rate turns lines into 500 error lines (re-asked as ordinary
# requests, which see the synchronous faults); with `batch_endpoints` the uploads, the creation,
# polls and downloads also draw 429 / 500 / resets. Rate limits are set far above the load so that
# every 429 is an injected one.
mock_config() { # $1 = file, $2 = the fault lines
    printf 'seed = %s\ntime_scale = 0.01\n[rate_limits]\nrpm = 100000000\ntpm = 100000000000\n[faults]\nretry_after_secs = 0.01\n%s\n' \
        "$SEED" "$2" >"$1"
}
mock_config "$W/mock-sync.toml" $'rate_429 = 0.05\nrate_overloaded = 0.05\nrate_reset = 0.01'
mock_config "$W/mock-cut.toml" $'rate_429 = 0.05\nrate_overloaded = 0.05\nrate_drop = 0.01'
mock_config "$W/mock-batch.toml" $'rate_429 = 0.05\nrate_500 = 0.05\nrate_reset = 0.01\nbatch_endpoints = true'

start_mock() { # $1 = config, $2 = log prefix
    "$BIN" mock --port 0 --config "$1" --dataset "$W/prompts.jsonl" >"$2.stdout" 2>"$2.stderr" &
    MOCK_PID=$!
    PORT=""
    for _ in $(seq 1 300); do
        PORT="$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$2.stdout" | head -n1)"
        [ -n "$PORT" ] && break
        kill -0 "$MOCK_PID" 2>/dev/null || { cat "$2.stderr" >&2; echo "soak: mock exited" >&2; exit 1; }
        sleep 0.1
    done
    [ -n "$PORT" ] || { echo "soak: mock did not start within 30 s" >&2; exit 1; }
}

stop_mock() {
    kill "$MOCK_PID" 2>/dev/null || true
    wait "$MOCK_PID" 2>/dev/null || true
    MOCK_PID=""
}

# name, strategy, mock configuration
SCENARIOS="sequential sequential sync
concurrent-32 concurrent:32 sync
batch-api batch-api batch
sequential-cut sequential cut
concurrent-32-cut concurrent:32 cut"

while read -r NAME STRATEGY KIND; do
    CFG="$W/mock-$KIND.toml"
    start_mock "$CFG" "$W/mock-$NAME"
    echo "soak: $NAME ($STRATEGY, $KIND faults) against mock on 127.0.0.1:$PORT" >&2
    START=$(date +%s.%N)
    set +e
    OPENAI_API_KEY=soak-test-key timeout "$RUN_LIMIT" "$BIN" run --quiet \
        --provider openai --base-url "http://127.0.0.1:$PORT/v1" \
        --dataset "$W/prompts.jsonl" --strategies "$STRATEGY" --seed "$SEED" \
        --poll-max 0.5 --max-retries 8 --out "$W/run-$NAME" >"$W/run-$NAME.stdout" 2>"$W/run-$NAME.stderr" </dev/null
    RC=$?
    set -e
    END=$(date +%s.%N)
    echo "$RC" >"$W/run-$NAME.rc"
    python3 -c "print(f'{$END - $START:.1f}')" >"$W/run-$NAME.seconds"
    curl -sf --max-time 30 "http://127.0.0.1:$PORT/_mock/stats" >"$W/stats-$NAME.json"
    stop_mock
    echo "soak: $NAME exit $RC in $(cat "$W/run-$NAME.seconds") s" >&2
done <<<"$SCENARIOS"

python3 "$ROOT/scripts/soak_check.py" "$W" "$COUNT"
