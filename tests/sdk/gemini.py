"""Checks of the mock's Gemini API through the official google-genai SDK: generate_content (text,
usage fields, thinking, JSON schema), generate_content_stream, count_tokens, models, explicit
caches (create, use, update, delete) and implicit caching, batches with inline requests and with
an uploaded JSONL file (files.upload, polling, inlined and file results, files.download),
cancel, list, delete, service tiers, and the SDK's error types (ClientError 400/403/404/429 with
RetryInfo, ServerError for injected 5xx). Called from conformance.py."""

import json
import os
import tempfile
import time

from google import genai
from google.genai import errors, types

from checks import check, run

MODEL = "gemini-2.5-flash"
TERMINAL = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"}


def client(base, key):
    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=base))


def raises(name, exc, code, fn):
    try:
        fn()
        check(name, False, "no exception")
        return None
    except exc as e:
        check(name, e.code == code, (e.code, e.status, e.message))
        return e
    except Exception as e:  # the wrong class is a failure, not a crash
        check(name, False, f"{type(e).__name__}: {e}")
        return None


def generate(g):
    r = g.models.generate_content(model=MODEL, contents="What is 2+2?",
                                  config=types.GenerateContentConfig(system_instruction="Answer briefly.",
                                                                     max_output_tokens=2048))
    u = r.usage_metadata
    check("gemini generate: text", bool(r.text), r)
    check("gemini generate: finish STOP, model version, response id",
          r.candidates[0].finish_reason == types.FinishReason.STOP and r.model_version == MODEL and bool(r.response_id),
          (r.candidates[0].finish_reason, r.model_version, r.response_id))
    check("gemini generate: thinking model reports thoughts", (u.thoughts_token_count or 0) > 0, u)
    check("gemini generate: total = prompt + candidates + thoughts",
          u.total_token_count == u.prompt_token_count + u.candidates_token_count + u.thoughts_token_count, u)
    check("gemini generate: prompt details", u.prompt_tokens_details[0].token_count == u.prompt_token_count, u)
    plain = g.models.generate_content(model=MODEL, contents="What is 2+2?")
    n = g.models.count_tokens(model=MODEL, contents="What is 2+2?")
    check("gemini count_tokens equals promptTokenCount", n.total_tokens == plain.usage_metadata.prompt_token_count > 0,
          (n.total_tokens, plain.usage_metadata.prompt_token_count))
    off = g.models.generate_content(model=MODEL, contents="What is 2+2?",
                                    config={"thinking_config": {"thinking_budget": 0}})
    check("gemini generate: thinking budget 0 reports no thoughts", off.usage_metadata.thoughts_token_count is None,
          off.usage_metadata)
    short = g.models.generate_content(model=MODEL, contents="What is 2+2?", config={"max_output_tokens": 16})
    check("gemini generate: thinking uses a small max_output_tokens up (MAX_TOKENS, no text)",
          short.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS and not short.text
          and short.usage_metadata.thoughts_token_count == 16, (short.candidates[0], short.usage_metadata))


def structured(g):
    schema = {"type": "object", "properties": {"q1": {"type": "string"}, "q2": {"type": "string"}},
              "required": ["q1", "q2"]}
    r = g.models.generate_content(model=MODEL,
                                  contents="<item id=\"q1\">Is 2 even?</item>\n<item id=\"q2\">Is 3 even?</item>",
                                  config={"response_mime_type": "application/json", "response_json_schema": schema})
    try:
        parsed = json.loads(r.text)
    except (TypeError, ValueError):
        parsed = None
    check("gemini json schema: one JSON object keyed by item id", isinstance(parsed, dict) and set(parsed) == {"q1", "q2"},
          r.text)
    with_schema = r.usage_metadata.prompt_token_count
    without = g.models.generate_content(model=MODEL,
                                        contents="<item id=\"q1\">Is 2 even?</item>\n<item id=\"q2\">Is 3 even?</item>",
                                        config={"response_mime_type": "application/json"})
    check("gemini json schema: the schema is counted in the prompt", with_schema > without.usage_metadata.prompt_token_count,
          (with_schema, without.usage_metadata.prompt_token_count))


def streamed(g):
    full = g.models.generate_content(model=MODEL, contents="Is 7 prime?")
    text, last = "", None
    for chunk in g.models.generate_content_stream(model=MODEL, contents="Is 7 prime?"):
        text += chunk.text or ""
        last = chunk
    check("gemini stream: chunks join to the plain answer", bool(text) and text == full.text, (text, full.text))
    check("gemini stream: usage and finish reason on the last chunk",
          last is not None and last.usage_metadata.total_token_count == full.usage_metadata.total_token_count
          and last.candidates[0].finish_reason == types.FinishReason.STOP, last)


def caching(g):
    long = "Policy line number seven applies to every request. " * 400
    c = g.caches.create(model=MODEL, config=types.CreateCachedContentConfig(
        system_instruction=long, contents=[types.Content(role="user", parts=[types.Part(text="Shared context.")])],
        ttl="300s", display_name="conformance"))
    total = c.usage_metadata.total_token_count
    check("gemini caches.create: name, model, tokens, expiry",
          c.name.startswith("cachedContents/") and c.model == f"models/{MODEL}" and total >= 2048 and c.expire_time is not None,
          c)
    r = g.models.generate_content(model=MODEL, contents="What is 2+2?", config={"cached_content": c.name})
    u = r.usage_metadata
    n = g.models.count_tokens(model=MODEL, contents="What is 2+2?")
    check("gemini cached_content: all cached tokens reported, inside the prompt count",
          u.cached_content_token_count == total and u.prompt_token_count == total + n.total_tokens, (u, total, n))
    got = g.caches.get(name=c.name)
    check("gemini caches.get", got.usage_metadata.total_token_count == total)
    upd = g.caches.update(name=c.name, config={"ttl": "600s"})
    check("gemini caches.update moves the expiry", upd.expire_time > c.expire_time, (upd.expire_time, c.expire_time))
    check("gemini caches.list", any(x.name == c.name for x in g.caches.list()))
    g.caches.delete(name=c.name)
    raises("gemini deleted cache: ClientError 403", errors.ClientError, 403,
           lambda: g.models.generate_content(model=MODEL, contents="x", config={"cached_content": c.name}))
    raises("gemini too-small cache: ClientError 400", errors.ClientError, 400,
           lambda: g.caches.create(model=MODEL, config={"system_instruction": "short", "ttl": "60s"}))
    a = g.models.generate_content(model=MODEL, contents="a", config={"system_instruction": long + "implicit"})
    b = g.models.generate_content(model=MODEL, contents="b", config={"system_instruction": long + "implicit"})
    check("gemini implicit caching: a repeated long prefix is read from cache",
          a.usage_metadata.cached_content_token_count is None and (b.usage_metadata.cached_content_token_count or 0) >= 2048,
          (a.usage_metadata, b.usage_metadata))


def wait(g, name):
    job = g.batches.get(name=name)
    for _ in range(600):
        if job.state.name in TERMINAL:
            break
        time.sleep(0.05)
        job = g.batches.get(name=name)
    return job


def batch_inline(g):
    reqs = [{"contents": [{"role": "user", "parts": [{"text": f"What is {i} plus {i}?"}]}],
             "metadata": {"key": f"gem-inline-{i}"}, "config": {"max_output_tokens": 1024}} for i in range(4)]
    reqs.append({"model": "gemini-nonexistent", "contents": "x", "metadata": {"key": "gem-inline-bad"}})
    job = g.batches.create(model=MODEL, src=reqs, config={"display_name": "conformance-inline"})
    check("gemini batch inline: created pending", job.name.startswith("batches/") and job.state.name == "JOB_STATE_PENDING"
          and job.display_name == "conformance-inline", job)
    job = wait(g, job.name)
    check("gemini batch inline: succeeded", job.state.name == "JOB_STATE_SUCCEEDED", job.state)
    rows = job.dest.inlined_responses if job.dest else []
    keys = [r.metadata.get("key") for r in rows]
    check("gemini batch inline: results in input order with their metadata",
          keys == [f"gem-inline-{i}" for i in range(4)] + ["gem-inline-bad"], keys)
    check("gemini batch inline: answers carry usage",
          all(r.response.text and r.response.usage_metadata.prompt_token_count > 0 for r in rows[:4]), rows[:1])
    check("gemini batch inline: the bad request has its error", rows[-1].error is not None and rows[-1].response is None,
          rows[-1] if rows else None)
    listed = [j.name for j in g.batches.list(config={"page_size": 10})]
    check("gemini batches.list", job.name in listed, listed[:3])
    g.batches.delete(name=job.name)
    raises("gemini deleted batch: ClientError 404", errors.ClientError, 404, lambda: g.batches.get(name=job.name))


def batch_file(g):
    lines = [json.dumps({"key": f"gem-file-{i}", "request": {"contents": [{"parts": [{"text": f"What is {i} times 3?"}]}]}})
             for i in range(5)]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    try:
        up = g.files.upload(file=path, config={"mime_type": "jsonl", "display_name": "conformance-requests"})
    finally:
        os.unlink(path)
    check("gemini files.upload: active file", up.name.startswith("files/") and up.state.name == "ACTIVE"
          and up.size_bytes == len(("\n".join(lines) + "\n").encode()), up)
    check("gemini files.get", g.files.get(name=up.name).display_name == "conformance-requests")
    job = g.batches.create(model=MODEL, src=up.name)
    job = wait(g, job.name)
    check("gemini batch file: succeeded with a responses file", job.state.name == "JOB_STATE_SUCCEEDED"
          and job.dest is not None and (job.dest.file_name or "").startswith("files/batch-"), job)
    data = g.files.download(file=job.dest.file_name)
    rows = [json.loads(x) for x in data.decode().splitlines() if x.strip()]
    check("gemini batch file: one keyed response per request", [r.get("key") for r in rows] == [f"gem-file-{i}" for i in range(5)]
          and all(r["response"]["usageMetadata"]["promptTokenCount"] > 0 for r in rows), rows[:1])
    check("gemini files.list", any(x.name == up.name for x in g.files.list()))
    g.files.delete(name=up.name)
    raises("gemini deleted file: ClientError 403", errors.ClientError, 403, lambda: g.files.get(name=up.name))


def batch_cancel(g):
    reqs = [{"contents": f"question {i}", "metadata": {"key": f"gem-cancel-{i}"}} for i in range(200)]
    job = g.batches.create(model=MODEL, src=reqs)
    g.batches.cancel(name=job.name)
    job = wait(g, job.name)
    check("gemini batch cancel: cancelled", job.state.name == "JOB_STATE_CANCELLED", job.state)


def tiers_and_models(g):
    r = g.models.generate_content(model=MODEL, contents="hi", config={"service_tier": "flex"})
    served = r.sdk_http_response.headers.get("x-gemini-service-tier") if r.sdk_http_response else None
    check("gemini service tier flex echoed in x-gemini-service-tier", served == "flex", served)
    names = [m.name for m in g.models.list()]
    check("gemini models.list", f"models/{MODEL}" in names, names[:3])
    check("gemini models.get", g.models.get(model=MODEL).name == f"models/{MODEL}")


def failures(g, base, key, inject):
    raises("gemini unknown model: ClientError 404", errors.ClientError, 404,
           lambda: g.models.generate_content(model="gemini-nonexistent", contents="x"))
    wrong = client(base, "wrong-key")
    bad = raises("gemini wrong key: ClientError 400 INVALID_ARGUMENT", errors.ClientError, 400,
                 lambda: wrong.models.generate_content(model=MODEL, contents="x"))
    check("gemini wrong key: API key not valid", bad is not None and bad.status == "INVALID_ARGUMENT"
          and "API key not valid" in (bad.message or ""), bad and bad.details)
    raises("gemini temperature out of range: ClientError 400", errors.ClientError, 400,
           lambda: g.models.generate_content(model=MODEL, contents="x", config={"temperature": 5.0}))
    inject("429", 1)
    e = raises("gemini quota: ClientError 429", errors.ClientError, 429,
               lambda: g.models.generate_content(model=MODEL, contents="x"))
    details = (e.details or {}).get("error", {}).get("details", []) if e else []
    check("gemini 429 carries RetryInfo", e is not None and e.status == "RESOURCE_EXHAUSTED" and any(
        d.get("@type") == "type.googleapis.com/google.rpc.RetryInfo" and d.get("retryDelay", "").endswith("s") for d in details),
        details)
    inject("500", 1)
    raises("gemini injected 500: ServerError", errors.ServerError, 500,
           lambda: g.models.generate_content(model=MODEL, contents="x"))
    inject("503", 1)
    e = raises("gemini injected 503: ServerError UNAVAILABLE", errors.ServerError, 503,
               lambda: g.models.generate_content(model=MODEL, contents="x"))
    check("gemini 503 status name", e is not None and e.status == "UNAVAILABLE", e and e.status)


def all_checks(base, key, inject, stats):
    g = client(base, key)
    for name, fn in [("gemini generate", lambda: generate(g)), ("gemini json", lambda: structured(g)),
                     ("gemini stream", lambda: streamed(g)), ("gemini caching", lambda: caching(g)),
                     ("gemini batch inline", lambda: batch_inline(g)), ("gemini batch file", lambda: batch_file(g)),
                     ("gemini batch cancel", lambda: batch_cancel(g)), ("gemini tiers and models", lambda: tiers_and_models(g)),
                     ("gemini errors", lambda: failures(g, base, key, inject))]:
        run(name, fn)
    endpoints = stats()["endpoints"]
    check("gemini stats count custom methods apart",
          endpoints.get("POST /v1beta/models/{name}:generateContent", 0) > 0
          and endpoints.get("POST /v1beta/models/{name}:batchGenerateContent", 0) >= 3
          and endpoints.get("POST /v1beta/models/{name}:countTokens", 0) > 0,
          {k: v for k, v in endpoints.items() if "v1beta" in k})
