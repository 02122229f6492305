#!/usr/bin/env bash
# Conformance of `batchbench mock` with the official openai, anthropic and google-genai Python SDKs.
# Usage: tests/sdk/run.sh path/to/batchbench
# Creates a venv in a temp dir, installs the SDKs with pip, starts the mock on a free port,
# runs conformance.py and openapi_check.py against it, stops the server, and exits non-zero on any failure.
set -euo pipefail

BIN=${1:?usage: run.sh BINARY}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
KEY="sk-conformance-$$"
PID=""
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check openai anthropic google-genai jsonschema

"$BIN" mock --port 0 --config "$HERE/mock.conformance.toml" --api-key "$KEY" >"$WORK/server.log" 2>&1 &
PID=$!
URL=""
for _ in $(seq 1 100); do
    URL=$(grep -o 'listening on http://[0-9.:]*' "$WORK/server.log" | head -n1 | sed 's/listening on //') || true
    [ -n "$URL" ] && break
    if ! kill -0 "$PID" 2>/dev/null; then
        echo "the mock exited early:" >&2
        cat "$WORK/server.log" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$URL" ]; then
    echo "the mock did not print its URL:" >&2
    cat "$WORK/server.log" >&2
    exit 1
fi
echo "mock at $URL"
status=0
"$WORK/venv/bin/python" "$HERE/conformance.py" --base "$URL" --key "$KEY" || status=$?
# The raw JSON of every OpenAI response against the published OpenAPI spec (openapi_subset.json).
"$WORK/venv/bin/python" "$HERE/openapi_check.py" --base "$URL" --key "$KEY" || status=$?
exit $status
