#!/usr/bin/env python3
"""Checks a batchbench run against a local llama.cpp server (used by scripts/local-model.sh).

- accounting: per strategy, the tokens and cost of prompts.csv add up to summary.csv, and the
  tokens of requests.csv add up to the same totals;
- pricing: every answered request's cost recomputes from its usage (the server's) at the
  override rates, to the nano-dollar;
- the server's own counter (`llamacpp:tokens_predicted_total` on /metrics, before and after the
  run) equals the output tokens batchbench recorded;
- nothing is called simulated;
- with batch-api: the exit code is 1, every sync strategy finished, and batch-api is reported
  failed in summary.csv (`status`) with a reason naming /v1/files and 404.

Usage: local_model_check.py OUT_DIR EXIT_CODE STRATEGIES METRICS_BEFORE METRICS_AFTER
       INPUT_MTOK CACHED_MTOK OUTPUT_MTOK
"""

import csv
import json
import re
import sys
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def counter(metrics_text, name):
    m = re.search(rf"^{re.escape(name)}\s+([0-9.e+]+)$", metrics_text, re.M)
    return float(m.group(1)) if m else None


def main():
    out = Path(sys.argv[1])
    code = int(sys.argv[2])
    strategies = sys.argv[3].split(",")
    before = Path(sys.argv[4]).read_text()
    after = Path(sys.argv[5]).read_text()
    rates = {k: Decimal(v) for k, v in zip(("input", "cached", "output"), sys.argv[6:9])}
    sync = [s for s in strategies if s != "batch-api"]

    missing = [n for n in ("summary.csv", "prompts.csv", "requests.csv", "run.json", "report.md") if not (out / n).is_file()]
    if missing:
        check(False, f"the run wrote {', '.join(missing)} (exit code {code})")
        return 1
    summary = {r["strategy"]: r for r in rows(out / "summary.csv")}
    prompts = rows(out / "prompts.csv")
    requests = rows(out / "requests.csv")
    run = json.loads((out / "run.json").read_text())

    for s in sync:
        r = summary.get(s)
        check(r is not None, f"{s}: in summary.csv")
        if r is None:
            continue
        check(r["answered"] == r["prompts"] != "0", f"{s}: answered every prompt ({r['answered']}/{r['prompts']})")
        ps = [p for p in prompts if p["strategy"] == s]
        rs = [q for q in requests if q["strategy"] == s and q["kind"] != "batch_job"]
        for col in ("input_tokens", "cached_tokens", "output_tokens"):
            from_prompts = sum(int(p[col]) for p in ps)
            from_requests = sum(int(q[col]) for q in rs)
            check(
                from_prompts == int(r[col]) == from_requests,
                f"{s}: {col} prompts.csv {from_prompts} = summary.csv {r[col]} = requests.csv {from_requests}",
            )
        cost = sum(Decimal(p["cost_usd"]) for p in ps)
        check(cost == Decimal(r["cost_usd"]), f"{s}: cost prompts.csv {cost} = summary.csv {r['cost_usd']}")
        bad = 0
        for q in rs:
            if q["error"]:
                continue
            inp, cached, outp = (int(q[c]) for c in ("input_tokens", "cached_tokens", "output_tokens"))
            want = ((inp - cached) * rates["input"] + cached * rates["cached"] + outp * rates["output"]) / Decimal(10**6)
            want = want.quantize(Decimal("0.000000001"), rounding=ROUND_HALF_EVEN)
            if abs(Decimal(q["cost_usd"]) - want) > Decimal("0.000000001"):
                bad += 1
        check(bad == 0, f"{s}: every request's cost recomputes from its usage ({bad} differ)")

    predicted = [counter(t, "llamacpp:tokens_predicted_total") for t in (before, after)]
    if None in predicted:
        print("skip the server's /metrics counter is not available")
    else:
        recorded = sum(int(q["output_tokens"]) for q in requests if q["kind"] != "batch_job")
        served = int(predicted[1] - predicted[0])
        check(served == recorded, f"server generated {served} tokens (/metrics); batchbench recorded {recorded}")

    check(run.get("simulated") is False, "run.json: simulated is false")
    md = (out / "report.md").read_text()
    check("imulated" not in md, "report.md never calls the run simulated")

    if "batch-api" in strategies:
        check(code == 1, f"exit code 1 with batch-api unsupported (got {code})")
        b = summary.get("batch-api")
        check(b is not None, "batch-api: in summary.csv")
        if b is not None:
            check(b.get("status") == "failed", f"batch-api: status failed (got {b.get('status')!r})")
            reason = " ".join(b.get(k) or "" for k in ("failure", "reason", "failure_reason"))
            check("/v1/files" in reason and "404" in reason, f"batch-api: reason names /v1/files and 404 ({reason!r})")
        for s in sync:
            st = summary.get(s, {}).get("status")
            check(st in (None, "complete"), f"{s}: status complete (got {st!r})")
    else:
        check(code == 0, f"exit code 0 (got {code})")

    print(f"{len(failures)} check(s) failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
