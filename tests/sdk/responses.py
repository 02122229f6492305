"""Checks of the mock's Responses API through the official openai SDK: plain, streamed and
json_schema responses, service tiers (flex echoed; a flex refusal is a RateLimitError) and a
Batch with endpoint /v1/responses. Called from conformance.py."""

import io
import json
import time

import openai

from checks import check

MODEL = "gpt-5-mini"


def plain(oai):
    r = oai.responses.create(model=MODEL, instructions="Answer briefly.", input="What is 2+2?", max_output_tokens=64)
    check("responses: object and status", r.object == "response" and r.status == "completed", (r.object, r.status))
    check("responses: output_text", bool(r.output_text))
    u = r.usage
    check("responses: usage adds up", u.input_tokens > 0 and u.total_tokens == u.input_tokens + u.output_tokens, u)
    check("responses: cached and reasoning details", u.input_tokens_details.cached_tokens == 0
          and 0 < u.output_tokens_details.reasoning_tokens < u.output_tokens, u)
    check("responses: reasoning item before the message", [o.type for o in r.output] == ["reasoning", "message"],
          [o.type for o in r.output])


def streamed(oai):
    text, done, kinds = "", None, []
    with oai.responses.stream(model=MODEL, input=[{"role": "user", "content": "Is 7 prime?"}], max_output_tokens=64) as s:
        for ev in s:
            kinds.append(ev.type)
            if ev.type == "response.output_text.delta":
                text += ev.delta
        done = s.get_final_response()
    check("responses stream: deltas join to the final text", bool(text) and text == done.output_text, (text, done.output_text))
    check("responses stream: created first, completed last", kinds[0] == "response.created" and kinds[-1] == "response.completed", kinds)
    check("responses stream: final usage", done.usage is not None and done.usage.output_tokens > 0)


def structured(oai):
    schema = {"type": "object", "properties": {"q1": {"type": "string"}, "q2": {"type": "string"}},
              "required": ["q1", "q2"], "additionalProperties": False}
    r = oai.responses.create(model=MODEL, input="<item id=\"q1\">Is 2 even?</item>\n<item id=\"q2\">Is 3 even?</item>",
                             text={"format": {"type": "json_schema", "name": "answers", "schema": schema, "strict": True}},
                             max_output_tokens=128)
    try:
        parsed = json.loads(r.output_text)
    except ValueError:
        parsed = None
    check("responses json_schema: output is JSON with the asked ids", isinstance(parsed, dict) and set(parsed) == {"q1", "q2"}, r.output_text)
    check("responses json_schema: format echoed", r.text.format.type == "json_schema")


def tiers(oai, inject):
    r = oai.responses.create(model=MODEL, input="hi", service_tier="flex", max_output_tokens=32)
    check("responses service_tier flex echoed", r.service_tier == "flex", r.service_tier)
    c = oai.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], service_tier="priority")
    check("chat service_tier priority echoed", c.service_tier == "priority", c.service_tier)
    inject("flex_unavailable", 1)
    once = oai.with_options(max_retries=0)
    try:
        once.responses.create(model=MODEL, input="hi", service_tier="flex", max_output_tokens=32)
        check("flex refusal is a RateLimitError", False, "no exception")
    except openai.RateLimitError as e:
        check("flex refusal is a RateLimitError", e.code == "resource_unavailable", e.code)


def batch(oai):
    lines = [json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/responses",
                         "body": {"model": MODEL, "input": f"What is {i} plus {i}?", "max_output_tokens": 32}}) for i in range(4)]
    f = oai.files.create(file=("resp.jsonl", io.BytesIO("\n".join(lines).encode())), purpose="batch")
    b = oai.batches.create(input_file_id=f.id, endpoint="/v1/responses", completion_window="24h")
    for _ in range(600):
        b = oai.batches.retrieve(b.id)
        if b.status in ("completed", "failed", "expired", "cancelled"):
            break
        time.sleep(0.05)
    check("responses batch: completed", b.status == "completed" and b.endpoint == "/v1/responses", (b.status, b.endpoint))
    rows = [json.loads(x) for x in oai.files.content(b.output_file_id).text.splitlines() if x.strip()]
    bodies = [r["response"]["body"] for r in rows]
    check("responses batch: response objects with usage", len(rows) == 4 and all(
        x["object"] == "response" and x["usage"]["output_tokens"] > 0 for x in bodies), bodies[:1])


def all_checks(oai, inject):
    plain(oai)
    streamed(oai)
    structured(oai)
    tiers(oai, inject)
    batch(oai)
