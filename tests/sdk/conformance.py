"""Conformance of `batchbench mock` as the official `openai`, `anthropic` and `google-genai` SDKs
see it (the Gemini checks are in gemini.py).

Usage: python conformance.py --base http://127.0.0.1:PORT --key KEY
(or MOCK_BASE_URL / MOCK_API_KEY in the environment). The server must run with
`--api-key KEY` so that a wrong key is refused. Exits non-zero when a check fails.
"""

import argparse
import datetime
import io
import json
import math
import os
import sys
import time

import urllib.request

import anthropic
import openai

from checks import FAILURES, check, run
import embeddings
import gemini
import responses


def inject(base, fault, count):
    req = urllib.request.Request(f"{base}/_mock/inject", data=json.dumps({"fault": fault, "count": count}).encode(),
                                 headers={"content-type": "application/json", "authorization": "Bearer any"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()


def stats(base):
    with urllib.request.urlopen(f"{base}/_mock/stats", timeout=10) as r:
        return json.loads(r.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default=os.environ.get("MOCK_BASE_URL", "http://127.0.0.1:8080"))
    ap.add_argument("--key", default=os.environ.get("MOCK_API_KEY", "sk-mock"))
    args = ap.parse_args()
    base = args.base.rstrip("/")
    oai = openai.OpenAI(base_url=f"{base}/v1", api_key=args.key)
    ant = anthropic.Anthropic(base_url=base, api_key=args.key)
    model, amodel = "gpt-4o-mini", "claude-haiku-4-5"
    msgs = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "What is 2+2?"}]

    def chat():
        r = oai.chat.completions.create(model=model, messages=msgs, max_completion_tokens=50)
        check("openai chat: one choice with text", len(r.choices) == 1 and bool(r.choices[0].message.content))
        check("openai chat: id and object", r.id.startswith("chatcmpl-") and r.object == "chat.completion")
        u = r.usage
        check("openai chat: usage adds up", u.prompt_tokens > 0 and u.total_tokens == u.prompt_tokens + u.completion_tokens, u)
        check("openai chat: cached_tokens present", u.prompt_tokens_details.cached_tokens == 0)
        r = oai.chat.completions.create(model=model, messages=msgs + [{"role": "user", "content": "And 3+3?"}], n=2)
        check("openai chat: several user messages, n=2 gives 2 choices", len(r.choices) == 2)

    def stream():
        s = oai.chat.completions.create(model=model, messages=msgs, stream=True, stream_options={"include_usage": True})
        text, usage = "", None
        for chunk in s:
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
            if chunk.usage is not None:
                usage = chunk.usage
        check("openai stream: content arrives", bool(text))
        check("openai stream: usage chunk", usage is not None and usage.completion_tokens > 0, usage)

    def batch():
        lines = []
        for i in range(6):
            body = {"model": model, "messages": [{"role": "user", "content": f"What is {i} plus {i}?"}], "max_completion_tokens": 20}
            if i == 5:
                body["n"] = 0  # fails on its own: goes to the error file
            lines.append(json.dumps({"custom_id": f"req-{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}))
        f = oai.files.create(file=("in.jsonl", io.BytesIO("\n".join(lines).encode())), purpose="batch")
        check("openai files: upload", f.id.startswith("file-") and f.purpose == "batch", f)
        check("openai files: retrieve", oai.files.retrieve(f.id).bytes == f.bytes)
        b = oai.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"t": "conformance"})
        seen = {b.status}
        for _ in range(600):
            b = oai.batches.retrieve(b.id)
            seen.add(b.status)
            if b.status in ("completed", "failed", "expired", "cancelled"):
                break
            time.sleep(0.05)
        check("openai batch: completed", b.status == "completed", b.status)
        check("openai batch: counts", (b.request_counts.total, b.request_counts.completed, b.request_counts.failed) == (6, 5, 1), b.request_counts)
        out = oai.files.content(b.output_file_id).text
        err = oai.files.content(b.error_file_id).text
        joined = {}
        for line in (out + "\n" + err).splitlines():
            if line.strip():
                row = json.loads(line)
                joined.setdefault(row["custom_id"], []).append(row)
        check("openai batch: output and error files joined by custom_id", sorted(joined) == [f"req-{i}" for i in range(6)] and all(len(v) == 1 for v in joined.values()), sorted(joined))
        check("openai batch: failed line has its status", joined["req-5"][0]["response"]["status_code"] == 400)
        check("openai batch: answers carry usage", all(joined[f"req-{i}"][0]["response"]["body"]["usage"]["prompt_tokens"] > 0 for i in range(5)))
        page = oai.batches.list(limit=1)
        check("openai batch: list", len(page.data) == 1)
        oai.files.delete(f.id)
        try:
            oai.files.retrieve(f.id)
            check("openai files: deleted file is gone", False)
        except openai.NotFoundError:
            check("openai files: deleted file is gone", True)

    def cancel():
        lines = [json.dumps({"custom_id": f"c{i}", "method": "POST", "url": "/v1/chat/completions",
                             "body": {"model": model, "messages": [{"role": "user", "content": f"q{i}"}]}}) for i in range(200)]
        f = oai.files.create(file=("c.jsonl", io.BytesIO("\n".join(lines).encode())), purpose="batch")
        b = oai.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
        c = oai.batches.cancel(b.id)
        check("openai batch cancel: cancelling", c.status == "cancelling", c.status)
        for _ in range(600):
            b = oai.batches.retrieve(b.id)
            if b.status == "cancelled":
                break
            time.sleep(0.05)
        check("openai batch cancel: cancelled", b.status == "cancelled", b.status)

    def retries():
        before = stats(base)["faults"]
        inject(base, "429", 2)
        r = oai.chat.completions.create(model=model, messages=msgs)
        check("openai retries through two 429s", bool(r.choices[0].message.content))
        inject(base, "500", 2)
        r = oai.chat.completions.create(model=model, messages=msgs)
        check("openai retries through two 500s", bool(r.choices[0].message.content))
        inject(base, "529", 1)
        m = ant.messages.create(model=amodel, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
        check("anthropic retries through a 529", bool(m.content[0].text))
        after = stats(base)["faults"]
        check("stats count the injected faults", after.get("429", 0) - before.get("429", 0) == 2 and after.get("500", 0) - before.get("500", 0) == 2, after)

    def errors():
        def raises(name, exc, fn):
            try:
                fn()
                check(name, False, "no exception")
            except exc:
                check(name, True)
            except Exception as e:
                check(name, False, f"{type(e).__name__}: {e}")

        bad = openai.OpenAI(base_url=f"{base}/v1", api_key="wrong-key", max_retries=0)
        raises("openai AuthenticationError", openai.AuthenticationError, lambda: bad.chat.completions.create(model=model, messages=msgs))
        raises("openai NotFoundError (model)", openai.NotFoundError, lambda: oai.chat.completions.create(model="gpt-nonexistent", messages=msgs))
        raises("openai NotFoundError (batch)", openai.NotFoundError, lambda: oai.batches.retrieve("batch_nope"))
        raises("openai BadRequestError", openai.BadRequestError, lambda: oai.chat.completions.create(model=model, messages=[]))
        once = openai.OpenAI(base_url=f"{base}/v1", api_key=args.key, max_retries=0)
        inject(base, "429", 1)
        raises("openai RateLimitError", openai.RateLimitError, lambda: once.chat.completions.create(model=model, messages=msgs))
        abad = anthropic.Anthropic(base_url=base, api_key="wrong-key", max_retries=0)
        um = [{"role": "user", "content": "hi"}]
        raises("anthropic AuthenticationError", anthropic.AuthenticationError, lambda: abad.messages.create(model=amodel, max_tokens=5, messages=um))
        raises("anthropic NotFoundError", anthropic.NotFoundError, lambda: ant.messages.create(model="claude-nonexistent", max_tokens=5, messages=um))
        raises("anthropic BadRequestError", anthropic.BadRequestError, lambda: ant.messages.create(model=amodel, max_tokens=5, messages=[]))
        aonce = anthropic.Anthropic(base_url=base, api_key=args.key, max_retries=0)
        inject(base, "429", 1)
        raises("anthropic RateLimitError", anthropic.RateLimitError, lambda: aonce.messages.create(model=amodel, max_tokens=5, messages=um))

    def headers():
        t0 = time.monotonic()
        a = oai.chat.completions.with_raw_response.create(model=model, messages=msgs)
        b = oai.chat.completions.with_raw_response.create(model=model, messages=msgs)
        elapsed = time.monotonic() - t0
        names = ["x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
                 "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"]
        check("openai rate-limit headers present", all(a.headers.get(n) for n in names), dict(a.headers))
        check("openai x-request-id", bool(a.headers.get("x-request-id")))
        ra, rb = int(a.headers["x-ratelimit-remaining-requests"]), int(b.headers["x-ratelimit-remaining-requests"])
        lim = int(a.headers["x-ratelimit-limit-requests"])
        # The bucket refills continuously (limit/60 per second), so between the two calls it may
        # regain what b spent; b can be above a by at most the refill over the elapsed time.
        refill = math.ceil(elapsed * lim / 60.0)
        check("openai remaining requests consistent",
              0 <= ra <= lim - 1 and 0 <= rb <= lim - 1 and rb <= ra - 1 + refill + 1,
              (ra, rb, lim, round(elapsed, 4)))
        check("openai remaining tokens <= limit", int(a.headers["x-ratelimit-remaining-tokens"]) <= int(a.headers["x-ratelimit-limit-tokens"]))
        m = ant.messages.with_raw_response.create(model=amodel, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
        h = m.headers
        check("anthropic request-id", bool(h.get("request-id")))
        anames = ["anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset",
                  "anthropic-ratelimit-tokens-limit", "anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset"]
        check("anthropic rate-limit headers present", all(h.get(n) for n in anames), dict(h))
        reset = h.get("anthropic-ratelimit-requests-reset", "")
        try:
            datetime.datetime.fromisoformat(reset.replace("Z", "+00:00"))
            ok = True
        except ValueError:
            ok = False
        check("anthropic reset is RFC 3339", ok, reset)
        check("anthropic remaining <= limit", int(h["anthropic-ratelimit-requests-remaining"]) < int(h["anthropic-ratelimit-requests-limit"]))

    def messages():
        m = ant.messages.create(model=amodel, max_tokens=50, system="Answer briefly.", messages=[{"role": "user", "content": "What is 2+2?"}])
        check("anthropic message: text", m.type == "message" and m.content[0].type == "text" and bool(m.content[0].text))
        check("anthropic message: usage", m.usage.input_tokens > 0 and m.usage.output_tokens > 0 and m.usage.cache_read_input_tokens == 0, m.usage)
        check("anthropic message: stop_reason", m.stop_reason == "end_turn", m.stop_reason)
        with ant.messages.stream(model=amodel, max_tokens=50, messages=[{"role": "user", "content": "What is 2+2?"}]) as s:
            text = "".join(s.text_stream)
            final = s.get_final_message()
        check("anthropic stream: text and final usage", bool(text) and final.usage.output_tokens > 0, final.usage)
        n = ant.messages.count_tokens(model=amodel, messages=[{"role": "user", "content": "What is 2+2?"}])
        check("anthropic count_tokens", n.input_tokens > 0)
        long = "Policy line. " * 2000
        sysb = [{"type": "text", "text": long, "cache_control": {"type": "ephemeral"}}]
        a = ant.messages.create(model="claude-sonnet-4-6", max_tokens=10, system=sysb, messages=[{"role": "user", "content": "a"}])
        b = ant.messages.create(model="claude-sonnet-4-6", max_tokens=10, system=sysb, messages=[{"role": "user", "content": "b"}])
        check("anthropic cache: write then read", a.usage.cache_creation_input_tokens > 0 and b.usage.cache_read_input_tokens == a.usage.cache_creation_input_tokens, (a.usage, b.usage))

    def message_batch():
        reqs = [{"custom_id": f"m-{i}", "params": {"model": amodel, "max_tokens": 20, "messages": [{"role": "user", "content": f"What is {i} plus {i}?"}]}} for i in range(5)]
        reqs.append({"custom_id": "m-bad", "params": {"model": "claude-nonexistent", "max_tokens": 20, "messages": [{"role": "user", "content": "x"}]}})
        b = ant.messages.batches.create(requests=reqs)
        check("anthropic batch: created", b.id.startswith("msgbatch_") and b.processing_status == "in_progress", b)
        for _ in range(600):
            b = ant.messages.batches.retrieve(b.id)
            if b.processing_status == "ended":
                break
            time.sleep(0.05)
        check("anthropic batch: ended", b.processing_status == "ended", b.processing_status)
        check("anthropic batch: counts", (b.request_counts.succeeded, b.request_counts.errored) == (5, 1), b.request_counts)
        results = {r.custom_id: r.result for r in ant.messages.batches.results(b.id)}
        check("anthropic batch: results joined by custom_id", sorted(results) == sorted(r["custom_id"] for r in reqs), sorted(results))
        check("anthropic batch: succeeded results carry messages", all(results[f"m-{i}"].type == "succeeded" and results[f"m-{i}"].message.usage.service_tier == "batch" for i in range(5)))
        check("anthropic batch: errored result", results["m-bad"].type == "errored")
        check("anthropic batch: list", any(x.id == b.id for x in ant.messages.batches.list(limit=20)))
        c = ant.messages.batches.create(requests=[{"custom_id": f"k{i}", "params": {"model": amodel, "max_tokens": 5, "messages": [{"role": "user", "content": "q"}]}} for i in range(200)])
        c = ant.messages.batches.cancel(c.id)
        check("anthropic batch cancel: canceling", c.processing_status in ("canceling", "ended"), c.processing_status)
        for _ in range(600):
            c = ant.messages.batches.retrieve(c.id)
            if c.processing_status == "ended":
                break
            time.sleep(0.05)
        check("anthropic batch cancel: ended with canceled requests", c.processing_status == "ended" and c.request_counts.canceled > 0, c.request_counts)
        d = ant.messages.batches.delete(c.id)
        check("anthropic batch: delete", d.id == c.id)

    def models():
        ids = [m.id for m in oai.models.list()]
        check("openai models list", model in ids)

    for name, fn in [("chat", chat), ("stream", stream), ("batch", batch), ("cancel", cancel), ("retries", retries),
                     ("errors", errors), ("headers", headers), ("messages", messages), ("message batch", message_batch),
                     ("models", models), ("embeddings", lambda: embeddings.all_checks(oai)),
                     ("responses", lambda: responses.all_checks(oai, lambda f, n: inject(base, f, n)))]:
        run(name, fn)
    gemini.all_checks(base, args.key, lambda f, n: inject(base, f, n), lambda: stats(base))
    s = stats(base)
    check("stats: no custom_id answered twice", s["max_completions_per_custom_id"] <= 1, s["max_completions_per_custom_id"])
    print(f"\n{len(FAILURES)} failure(s)" if FAILURES else "\nall conformance checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
