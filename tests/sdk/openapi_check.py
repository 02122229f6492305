"""Every OpenAI response of `batchbench mock` against the published OpenAPI spec.

Usage: python openapi_check.py --base http://127.0.0.1:PORT --key KEY
(or MOCK_BASE_URL / MOCK_API_KEY in the environment), against a server started as
tests/sdk/run.sh starts it. The SDKs accept more than the spec promises (they default
missing fields to None), so conformance.py passing says little about the wire shape; here
the raw JSON of each response is validated against openapi_subset.json, the spec's
response components transcribed as JSON Schema. Exits non-zero when a check fails.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

import jsonschema

from checks import FAILURES, check, run

HERE = os.path.dirname(os.path.abspath(__file__))
TERMINAL = ("completed", "failed", "expired", "cancelled")


def load_validators():
    """One validator per component, each resolving $ref against the whole document."""
    with open(os.path.join(HERE, "openapi_subset.json")) as f:
        doc = json.load(f)
    jsonschema.Draft202012Validator.check_schema(doc)
    return {name: jsonschema.Draft202012Validator({**doc, "$ref": f"#/$defs/{name}"}) for name in doc["$defs"]}


VALIDATORS = load_validators()


def violations(component, instance, prefix="$"):
    """Readable violations: JSON path, then what the schema wanted."""
    errs = sorted(VALIDATORS[component].iter_errors(instance), key=lambda e: e.json_path)
    return [prefix + e.json_path[1:] + ": " + e.message for e in errs]


def summary(v, most=12):
    return "; ".join(v[:most]) + (f"; … {len(v) - most} more" if len(v) > most else "")


def conforms(name, component, instance):
    v = violations(component, instance)
    check(f"openapi {name}: {component}", not v, summary(v))


def all_conform(name, component, instances, label):
    """One check for a sequence (stream chunks, JSONL lines); the detail names the item."""
    v = [x for i, inst in enumerate(instances) for x in violations(component, inst, f"{label}[{i}]")]
    check(f"openapi {name}: {len(instances)} × {component}", bool(instances) and not v,
          "none received" if not instances else summary(v))


class Api:
    """Raw HTTP with urllib: no SDK in between, so the JSON checked is the JSON sent."""

    def __init__(self, base, key):
        self.base, self.key = base, key

    def call(self, method, path, body=None, key=None, raw=None, ctype="application/json"):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"authorization": f"Bearer {key or self.key}"}
        if data is not None:
            headers["content-type"] = ctype
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:  # error bodies are checked too
            return e.code, e.read()

    def json(self, method, path, body=None, want=200, **kw):
        status, data = self.call(method, path, body, **kw)
        if status != want:
            raise AssertionError(f"{method} {path}: status {status}, wanted {want}: {data[:300]!r}")
        return json.loads(data)

    def upload(self, name, content):
        """POST /v1/files as multipart/form-data, built by hand (urllib has no encoder)."""
        b = uuid.uuid4().hex
        parts = (f'--{b}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
                 f'--{b}\r\ncontent-disposition: form-data; name="file"; filename="{name}"\r\n'
                 f"content-type: application/jsonl\r\n\r\n").encode() + content + f"\r\n--{b}--\r\n".encode()
        return self.json("POST", "/v1/files", raw=parts, ctype=f"multipart/form-data; boundary={b}")

    def sse(self, body):
        """The `data:` payloads of a stream, without the final [DONE]."""
        status, data = self.call("POST", "/v1/chat/completions", body)
        if status != 200:
            raise AssertionError(f"stream: status {status}: {data[:300]!r}")
        events = [line[len("data: "):] for line in data.decode().splitlines() if line.startswith("data: ")]
        if not events or events[-1] != "[DONE]":
            raise AssertionError(f"stream does not end with data: [DONE]: {events[-1:]}")
        return [json.loads(e) for e in events[:-1]]

    def jsonl(self, file_id):
        status, data = self.call("GET", f"/v1/files/{file_id}/content")
        if status != 200:
            raise AssertionError(f"content of {file_id}: status {status}")
        return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def batch_lines(model, n, bad=()):
    """A batch input file; lines whose index is in `bad` ask for n=0 and fail on their own."""
    lines = []
    for i in range(n):
        body = {"model": model, "messages": [{"role": "user", "content": f"What is {i} plus {i}?"}], "max_completion_tokens": 20}
        if i in bad:
            body["n"] = 0
        lines.append(json.dumps({"custom_id": f"oa-{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}))
    return "\n".join(lines).encode()


def poll(api, batch_id, until, snapshots):
    """Poll a batch to one of the `until` states, keeping the first snapshot of each status."""
    b = None
    for _ in range(600):
        b = api.json("GET", f"/v1/batches/{batch_id}")
        snapshots.setdefault(b["status"], b)
        if b["status"] in until:
            return b
        time.sleep(0.05)
    raise AssertionError(f"batch {batch_id} stuck in {b and b['status']}")


def check_lines(name, api, file_id, want_ok):
    """Output/error file lines are BatchRequestOutput; a line's body is what the endpoint answers:
    a chat completion for a 200, an error body otherwise."""
    rows = api.jsonl(file_id)
    all_conform(f"{name} lines", "BatchRequestOutput", rows, "line")
    ok = [r["response"]["body"] for r in rows if (r.get("response") or {}).get("status_code") == 200]
    err = [r["response"]["body"] for r in rows if r.get("response") and r["response"].get("status_code") != 200]
    if want_ok:
        all_conform(f"{name} line bodies (200)", "CreateChatCompletionResponse", ok, "body")
    if err:
        all_conform(f"{name} line bodies (non-200)", "ErrorResponse", err, "body")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default=os.environ.get("MOCK_BASE_URL", "http://127.0.0.1:8080"))
    ap.add_argument("--key", default=os.environ.get("MOCK_API_KEY", "sk-mock"))
    args = ap.parse_args()
    base = args.base.rstrip("/")
    api = Api(base, args.key)
    model = "gpt-4o-mini"
    msgs = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "What is 2+2?"}]

    def chat():
        conforms("chat", "CreateChatCompletionResponse",
                 api.json("POST", "/v1/chat/completions", {"model": model, "messages": msgs, "max_completion_tokens": 50}))
        conforms("chat n=2", "CreateChatCompletionResponse",
                 api.json("POST", "/v1/chat/completions", {"model": model, "messages": msgs, "n": 2}))
        schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"], "additionalProperties": False}
        rf = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}
        conforms("chat response_format json_schema", "CreateChatCompletionResponse",
                 api.json("POST", "/v1/chat/completions", {"model": model, "messages": msgs, "response_format": rf}))

    def stream():
        chunks = api.sse({"model": model, "messages": msgs, "stream": True, "stream_options": {"include_usage": True}})
        # The usage chunk is the one with empty choices; the spec describes it as the last one.
        body = [c for c in chunks if c.get("choices")]
        tail = [c for c in chunks if not c.get("choices")]
        all_conform("stream chunks", "CreateChatCompletionStreamResponse", body, "chunk")
        check("openapi stream: exactly one usage chunk, last", len(tail) == 1 and chunks[-1] is tail[0], [c.get("usage") for c in tail])
        all_conform("stream usage chunk", "CreateChatCompletionStreamResponse", tail, "usage_chunk")
        check("openapi stream: usage chunk carries usage", bool(tail) and isinstance(tail[-1].get("usage"), dict), tail[-1:])
        n2 = api.sse({"model": model, "messages": msgs, "stream": True, "n": 2})
        all_conform("stream n=2 chunks", "CreateChatCompletionStreamResponse", n2, "chunk")

    def files_and_batch():
        f = api.upload("oa.jsonl", batch_lines(model, 6, bad={5}))
        conforms("files upload", "OpenAIFile", f)
        conforms("files get", "OpenAIFile", api.json("GET", f"/v1/files/{f['id']}"))
        conforms("files list", "ListFilesResponse", api.json("GET", "/v1/files"))
        b = api.json("POST", "/v1/batches", {"input_file_id": f["id"], "endpoint": "/v1/chat/completions",
                                             "completion_window": "24h", "metadata": {"t": "openapi"}})
        conforms(f"batch create ({b['status']})", "Batch", b)
        seen = {}
        b = poll(api, b["id"], TERMINAL, seen)
        for status, snap in seen.items():
            conforms(f"batch get ({status})", "Batch", snap)
        check("openapi batch: completed", b["status"] == "completed", b["status"])
        conforms("batch list limit=1", "ListBatchesResponse", api.json("GET", "/v1/batches?limit=1"))
        page = api.json("GET", "/v1/batches?limit=100")
        conforms("batch list limit=100", "ListBatchesResponse", page)
        # Past the last batch the page is empty: the shape of an empty list is checked too.
        last = page["data"][-1]["id"]
        empty = api.json("GET", f"/v1/batches?limit=100&after={last}")
        check("openapi batch list after the last: empty", empty.get("data") == [], empty)
        conforms("batch list empty page", "ListBatchesResponse", empty)
        conforms("files get (batch_output)", "OpenAIFile", api.json("GET", f"/v1/files/{b['output_file_id']}"))
        check_lines("batch output file", api, b["output_file_id"], want_ok=True)
        rows = check_lines("batch error file", api, b["error_file_id"], want_ok=False)
        check("openapi batch error file: the n=0 line is a 400", [r["response"]["status_code"] for r in rows] == [400], rows)
        conforms("files delete", "DeleteFileResponse", api.json("DELETE", f"/v1/files/{f['id']}"))

    def cancel():
        # 1,000 lines keep the batch in_progress for about a second at this time scale; cancelling
        # there (not while validating) leaves finished lines and batch_cancelled error lines.
        f = api.upload("oa-cancel.jsonl", batch_lines(model, 1000))
        b = api.json("POST", "/v1/batches", {"input_file_id": f["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"})
        poll(api, b["id"], ("in_progress",) + TERMINAL, {})
        c = api.json("POST", f"/v1/batches/{b['id']}/cancel")
        conforms(f"batch cancel ({c['status']})", "Batch", c)
        seen = {}
        b = poll(api, b["id"], ("cancelled",), seen)
        conforms("batch get (cancelled)", "Batch", b)
        # Requests that never ran end in the error file as `response: null, error: {code, message}`.
        rows = check_lines("cancelled batch error file", api, b["error_file_id"], want_ok=False)
        check("openapi cancelled batch: batch_cancelled lines", any((r.get("error") or {}).get("code") == "batch_cancelled" for r in rows),
              rows[:2])

    def failed_batch():
        # A line with the wrong method fails validation: the batch ends `failed` with errors.data.
        f = api.upload("oa-bad.jsonl", json.dumps({"custom_id": "x", "method": "GET", "url": "/v1/chat/completions",
                                                   "body": {"model": model, "messages": msgs}}).encode())
        b = api.json("POST", "/v1/batches", {"input_file_id": f["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"})
        b = poll(api, b["id"], TERMINAL, {})
        check("openapi batch with a bad line: failed with errors", b["status"] == "failed" and bool((b.get("errors") or {}).get("data")), b)
        conforms("batch get (failed)", "Batch", b)

    def models():
        conforms("models list", "ListModelsResponse", api.json("GET", "/v1/models"))
        conforms("models get", "Model", api.json("GET", f"/v1/models/{model}"))

    def errors():
        one = {"model": model, "messages": msgs}
        conforms("401 wrong key", "ErrorResponse", api.json("POST", "/v1/chat/completions", one, want=401, key="wrong-key"))
        conforms("404 unknown model (chat)", "ErrorResponse",
                 api.json("POST", "/v1/chat/completions", {**one, "model": "gpt-nonexistent"}, want=404))
        conforms("404 unknown model (models get)", "ErrorResponse", api.json("GET", "/v1/models/gpt-nonexistent", want=404))
        conforms("404 unknown batch", "ErrorResponse", api.json("GET", "/v1/batches/batch_nope", want=404))
        conforms("400 empty messages", "ErrorResponse", api.json("POST", "/v1/chat/completions", {**one, "messages": []}, want=400))
        api.json("POST", "/_mock/inject", {"fault": "429", "count": 1})
        conforms("429 rate limit", "ErrorResponse", api.json("POST", "/v1/chat/completions", one, want=429))

    def self_test():
        # The schemas must not be vacuous: the issue's own example, a choice without logprobs, is refused.
        good = {"id": "c", "object": "chat.completion", "created": 1, "model": model,
                "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                             "message": {"role": "assistant", "content": "4", "refusal": None}}]}
        bad = json.loads(json.dumps(good))
        del bad["choices"][0]["logprobs"]
        check("openapi self-test: schemas accept a minimal completion and refuse one without logprobs",
              not violations("CreateChatCompletionResponse", good) and violations("CreateChatCompletionResponse", bad),
              (violations("CreateChatCompletionResponse", good), violations("CreateChatCompletionResponse", bad)))

    def responses():
        m = "gpt-5-mini"
        conforms("responses", "Response", api.json("POST", "/v1/responses", {"model": m, "instructions": "Be brief.", "input": "hi", "max_output_tokens": 32}))
        schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": False}
        conforms("responses json_schema", "Response", api.json("POST", "/v1/responses", {"model": m, "input": "hi",
                 "text": {"format": {"type": "json_schema", "name": "a", "schema": schema, "strict": True}}}))
        status, data = api.call("POST", "/v1/responses", {"model": m, "input": "hi", "stream": True})
        events = [json.loads(line[len("data: "):]) for line in data.decode().splitlines() if line.startswith("data: ")]
        all_conform("responses stream", "ResponseTextDeltaEvent", [e for e in events if e.get("type") == "response.output_text.delta"], "delta")
        all_conform("responses stream", "ResponseCompletedEvent", [e for e in events if e.get("type") == "response.completed"], "completed")

    for name, fn in [("openapi self-test", self_test), ("openapi responses", responses), ("openapi chat", chat), ("openapi stream", stream), ("openapi files and batch", files_and_batch),
                     ("openapi cancel", cancel), ("openapi failed batch", failed_batch), ("openapi models", models), ("openapi errors", errors)]:
        run(name, fn)
    print(f"\n{len(FAILURES)} OpenAPI failure(s)" if FAILURES else "\nall OpenAPI checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
