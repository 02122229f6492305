"""Embeddings as the official `openai` SDK sees the mock: `client.embeddings.create` with the
SDK's default (it asks for base64 and decodes it itself), with explicit floats, with
`dimensions`, the limits as the SDK's exceptions, and an embeddings Batch
(`endpoint="/v1/embeddings"`)."""

import io
import json
import math
import time

import openai

from checks import check

MODEL = "text-embedding-3-small"


def norm(v):
    return math.sqrt(sum(x * x for x in v))


def create(oai):
    texts = ["the night train", "a sourdough starter", "the night train"]
    r = oai.embeddings.create(model=MODEL, input=texts)
    check("embeddings: one vector per input, in order", [d.index for d in r.data] == [0, 1, 2], [d.index for d in r.data])
    v = [d.embedding for d in r.data]
    check("embeddings: base64 decoded by the SDK to 1536 floats", all(len(x) == 1536 for x in v), [len(x) for x in v])
    check("embeddings: unit vectors", all(abs(norm(x) - 1.0) < 1e-5 for x in v), [norm(x) for x in v])
    check("embeddings: same text, same vector; other text, other vector", v[0] == v[2] and v[0] != v[1])
    check("embeddings: usage", r.usage.prompt_tokens > 0 and r.usage.total_tokens == r.usage.prompt_tokens, r.usage)
    f = oai.embeddings.create(model=MODEL, input=texts[0], encoding_format="float")
    same = all(abs(a - b) < 1e-7 for a, b in zip(f.data[0].embedding, v[0]))
    check("embeddings: float encoding equals the decoded base64", len(f.data) == 1 and same)
    d = oai.embeddings.create(model=MODEL, input=texts[:2], dimensions=256)
    check("embeddings: dimensions=256 gives 256-wide unit vectors",
          all(len(x.embedding) == 256 and abs(norm(x.embedding) - 1.0) < 1e-5 for x in d.data))


def limits(oai):
    def raises(name, fn, text):
        try:
            fn()
            check(name, False, "no error")
        except openai.BadRequestError as e:
            check(name, e.status_code == 400 and text in str(e), str(e))

    raises("embeddings: more than 2048 inputs refused", lambda: oai.embeddings.create(model=MODEL, input=["x"] * 2049), "2048")
    raises("embeddings: dimensions above the model's width refused",
           lambda: oai.embeddings.create(model=MODEL, input="x", dimensions=4096), "1536")
    raises("embeddings: empty input refused", lambda: oai.embeddings.create(model=MODEL, input=[""]), "empty")
    try:
        oai.embeddings.create(model="no-such-embedder", input="x")
        check("embeddings: unknown model is a 404", False, "no error")
    except openai.NotFoundError:
        check("embeddings: unknown model is a 404", True)


def batch(oai):
    lines = [json.dumps({"custom_id": f"e-{i}", "method": "POST", "url": "/v1/embeddings",
                         "body": {"model": MODEL, "input": [f"text {i}", f"other {i}"], "encoding_format": "float"}})
             for i in range(3)]
    f = oai.files.create(file=("emb.jsonl", io.BytesIO("\n".join(lines).encode())), purpose="batch")
    b = oai.batches.create(input_file_id=f.id, endpoint="/v1/embeddings", completion_window="24h")
    for _ in range(600):
        b = oai.batches.retrieve(b.id)
        if b.status in ("completed", "failed", "expired", "cancelled"):
            break
        time.sleep(0.05)
    check("embeddings batch: completed", b.status == "completed", b.status)
    rows = [json.loads(x) for x in oai.files.content(b.output_file_id).text.splitlines() if x.strip()]
    bodies = {r["custom_id"]: r["response"]["body"] for r in rows}
    check("embeddings batch: every line answered", sorted(bodies) == ["e-0", "e-1", "e-2"], sorted(bodies))
    check("embeddings batch: two vectors per line", all(len(v["data"]) == 2 and v["object"] == "list" for v in bodies.values()))
    single = oai.embeddings.create(model=MODEL, input="text 0", encoding_format="float").data[0].embedding
    check("embeddings batch: a line's vector equals the synchronous one", bodies["e-0"]["data"][0]["embedding"] == single)


def all_checks(oai):
    create(oai)
    limits(oai)
    batch(oai)
