#!/usr/bin/env python3
"""Checks a fault soak's results (see scripts/soak.sh) and prints a Markdown table.

Usage: soak_check.py DIR COUNT

For each strategy run in DIR (run-NAME/, stats-NAME.json, run-NAME.rc, run-NAME.seconds):
  lost          prompts of the dataset with no row, or with more than one row, in prompts.csv
  answered / failed   rows of prompts.csv by status
  paid twice    extra completions of prompts by the mock (prompts_answered beyond one per prompt),
                and batch custom_ids completed more than once (custom_ids_completed > 1)
  dropped       requests.csv attempts labelled `dropped` (cut off after a 2xx: probably billed)
  unaccounted   paid twice minus dropped: double payments the run's CSV does not show (goal 0)
  faults        faults the mock injected (429, 500, overloaded, reset, drop), from /_mock/stats
  retries       requests.csv attempts beyond the first of each request, plus re-asks
                (batch lines that failed, sent again as ordinary requests)
Exit status: 0 if every goal is met, 1 otherwise.
"""

import csv
import json
import sys
from collections import Counter
from pathlib import Path

GOAL_RETRY_RATIO = 1.2
FAULT_KINDS = ("429", "500", "overloaded", "reset", "drop", "batch_line_500")
SCENARIOS = ("sequential", "concurrent-32", "batch-api", "sequential-cut", "concurrent-32-cut")


def main() -> int:
    root, count = Path(sys.argv[1]), int(sys.argv[2])
    ids = []
    text_of = {}
    with open(root / "prompts.jsonl", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                v = json.loads(line)
                if "id" in v:
                    ids.append(str(v["id"]))
                    text_of[str(v["id"])] = v["prompt"]
    # The mock knows prompts by their text: ids sharing a text are counted under one of them.
    groups = {}
    for i in ids:
        groups.setdefault(text_of[i], []).append(i)
    duplicates = sum(len(g) - 1 for g in groups.values())
    assert len(ids) == count, f"dataset holds {len(ids)} prompts, expected {count}"
    ok = True
    rows = []
    for name in SCENARIOS:
        run = root / f"run-{name}"
        if not run.exists():
            continue
        rc = (root / f"run-{name}.rc").read_text().strip()
        seconds = (root / f"run-{name}.seconds").read_text().strip()
        stats = json.loads((root / f"stats-{name}.json").read_text())
        with open(run / "prompts.csv", newline="", encoding="utf-8") as f:
            prompts = list(csv.DictReader(f))
        with open(run / "requests.csv", newline="", encoding="utf-8") as f:
            requests = list(csv.DictReader(f))
        per_id = Counter(p["prompt_id"] for p in prompts)
        lost = sum(1 for i in ids if per_id[i] != 1) + sum(1 for i in per_id if i not in set(ids))
        status = Counter(p["status"] for p in prompts)
        answered = stats.get("prompts_answered", {})
        # Completions beyond one per prompt, per group of prompts sharing a text.
        paid_twice = sum(max(0, sum(answered.get(i, 0) for i in g) - len(g)) for g in groups.values())
        # Client side: a request with more than one successful (billed) attempt.
        billed = Counter((r["kind"], r["request_id"]) for r in requests if r["status"] == "200")
        client_twice = sum(1 for n in billed.values() if n > 1)
        custom = stats.get("custom_ids_completed", {})
        custom_twice = sum(1 for n in custom.values() if n > 1)
        dropped = sum(1 for r in requests if r["status"] == "dropped")
        unaccounted = paid_twice + custom_twice - dropped
        faults = {k: stats.get("faults", {}).get(k, 0) for k in FAULT_KINDS}
        injected = sum(faults.values())
        retries = sum(1 for r in requests if int(r["attempt"]) > 1)
        reasks = len({r["request_id"] for r in requests if r["kind"] == "reask"})
        total_retries = retries + reasks
        ratio = total_retries / injected if injected else 0.0
        # What the client saw fail, by status (attempts that did not succeed).
        seen = Counter(r["status"] for r in requests if r["status"] not in ("200",))
        rate_limited = stats.get("rate_limited", 0)
        goal_lost = lost == 0 and status.get("answered", 0) == len(ids)
        goal_paid = unaccounted == 0 and client_twice == 0
        goal_retry = total_retries <= GOAL_RETRY_RATIO * injected
        ok = ok and goal_lost and goal_paid and goal_retry
        rows.append(
            dict(
                name=name.replace("-", ":", 1) if name.startswith("concurrent") else name,
                dropped=dropped,
                unaccounted=unaccounted,
                rc=rc,
                seconds=seconds,
                prompts=len(prompts),
                answered=status.get("answered", 0),
                failed=sum(v for k, v in status.items() if k != "answered"),
                lost=lost,
                paid_twice=paid_twice,
                custom_twice=custom_twice,
                client_twice=client_twice,
                max_answers=stats.get("max_answers_per_prompt", 0),
                max_custom=stats.get("max_completions_per_custom_id", 0),
                faults=faults,
                injected=injected,
                retries=retries,
                reasks=reasks,
                ratio=ratio,
                requests=stats.get("requests", 0),
                seen=dict(seen),
                rate_limited=rate_limited,
                control={k: v for k, v in stats.get("faults", {}).items() if k.startswith("files_batches_")},
                control_calls=sum(v for k, v in stats.get("endpoints", {}).items()
                                  if "/v1/files" in k or "/v1/batches" in k),
                goals=("ok" if goal_lost else "LOST") + "/" + ("ok" if goal_paid else "PAID TWICE") + "/"
                + ("ok" if goal_retry else "RETRIES"),
            )
        )
    print("| run | exit | wall s | prompts | answered | failed | lost | paid twice (server: prompts / custom_ids; client) | "
          "dropped (client) | unaccounted | faults injected (429 / 5xx / reset / cut) | retries + re-asks | retries / faults | "
          "goals (lost/paid/retries) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        f = r["faults"]
        print(
            f"| {r['name']} | {r['rc']} | {r['seconds']} | {r['prompts']} | {r['answered']} | {r['failed']} | "
            f"{r['lost']} | {r['paid_twice']} / {r['custom_twice']}; {r['client_twice']} | "
            f"{r['dropped']} | {r['unaccounted']} | "
            f"{r['injected']} ({f['429']} / {f['500'] + f['overloaded'] + f['batch_line_500']} / {f['reset']} / {f['drop']}) | "
            f"{r['retries']} + {r['reasks']} | {r['ratio']:.3f} | {r['goals']} |"
        )
    print()
    print(f"dataset: {count} prompts, {duplicates} of them repeat another prompt's text")
    for r in rows:
        print(f"{r['name']}: mock requests {r['requests']}, rate limiter refusals {r['rate_limited']}, "
              f"max completions per prompt id {r['max_answers']}, per custom_id {r['max_custom']}, "
              f"failed attempts seen by the client by status {r['seen']}"
              + (f", Files/Batches calls {r['control_calls']} with faults {r['control']}" if r["control_calls"] else ""))
    print()
    print("all goals met" if ok else "GOALS MISSED (see the table)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
