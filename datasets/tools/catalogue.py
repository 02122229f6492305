#!/usr/bin/env python3
"""Adds (or rebuilds) Appendix A of datasets/long-context.jsonl: a product catalogue generated
from a fixed seed, and 20 questions about it with gold answers computed here.

The appendix makes the shared instructions long enough (over 4,096 tokens) for prompt caching
on every model, including Anthropic models whose minimum cacheable prefix is 4,096 tokens.
Run from the repository root:  python3 datasets/tools/catalogue.py
"""
import json
import random

PATH = "datasets/long-context.jsonl"
MARK = "APPENDIX A. PRODUCT CATALOGUE"
TAIL = "ANSWERING QUESTIONS ABOUT THIS POLICY"

rng = random.Random(7)
families = [
    ("laptops", ["Aurora", "Stratus", "Nimbus", "Cirrus"], (499, 2499), [12, 24, 36], [0, 10, 15]),
    ("televisions", ["Vista", "Panorama", "Horizon"], (299, 3299), [12, 24], [0, 10]),
    ("headphones", ["Echo", "Hush", "Pulse"], (39, 449), [6, 12], [0, 5]),
    ("phones", ["Orbit", "Comet", "Quasar"], (199, 1399), [12, 24], [0, 10]),
    ("cameras", ["Lumen", "Prism"], (249, 2199), [12, 24], [0, 15]),
    ("kitchen appliances", ["Brio", "Simmer", "Zest"], (29, 899), [12, 24, 36], [0, 5]),
    ("gaming consoles", ["Arcade", "Quest"], (249, 699), [12], [0, 10]),
    ("smart watches", ["Tempo", "Stride"], (99, 799), [12, 24], [0, 5]),
]
products = []
sku = 1001
for cat, names, (lo, hi), warranties, fees in families:
    for name in names:
        for model in ["S", "M", "X", "Pro"]:
            price = rng.randrange(lo, hi + 1)
            products.append({
                "sku": f"NW-{sku}",
                "name": f"{name} {model}",
                "category": cat,
                "price": price,
                "warranty": rng.choice(warranties),
                "fee": rng.choice(fees),
                "window": rng.choice([14, 30, 30, 45]),
            })
            sku += 1

lines = [MARK, "",
         "Every product Northwind sells is listed below with its price in US dollars, its Northwind "
         "warranty in months, the restocking fee in percent charged when an opened item is returned "
         "complete, and its return window in days. Where this catalogue and sections 1 to 9 differ, "
         "the catalogue wins for that product.", ""]
for p in products:
    lines.append(
        f"{p['sku']} | {p['name']} | {p['category']} | price ${p['price']:,} | warranty {p['warranty']} months"
        f" | restocking fee {p['fee']}% | return window {p['window']} days")
appendix = "\n".join(lines) + "\n\n"

rows = [json.loads(l) for l in open(PATH, encoding="utf-8") if l.strip()]
head = rows[0]["instructions"]
if MARK in head:
    head = head[: head.index(MARK)] + head[head.index(TAIL):]
i = head.index(TAIL)
rows[0]["instructions"] = head[:i] + appendix + head[i:]
rows = [r for r in rows if not str(r.get("id", "")).startswith("cat")]

qrng = random.Random(11)
picked = qrng.sample(products, 20)
for n, p in enumerate(picked, 1):
    kind = n % 4
    if kind == 0:
        q, a, t = f"What is the Northwind warranty in months on product {p['sku']}?", str(p["warranty"]), "number"
    elif kind == 1:
        q, a, t = f"How many days is the return window for the {p['name']} ({p['sku']})?", str(p["window"]), "number"
    elif kind == 2:
        q = f"Is the restocking fee for {p['sku']} higher than 5 percent?"
        a, t = ("yes" if p["fee"] > 5 else "no"), "yesno"
    else:
        fee = round(p["price"] * p["fee"] / 100)
        q = f"In whole dollars, what restocking fee is charged on an opened, complete {p['sku']} returned at its catalogue price?"
        a, t = str(fee), "number"
    rows.append({"id": f"cat{n:03}", "prompt": q, "answer": a, "task": t})

with open(PATH, "w", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
print(f"{len(products)} products, {len(rows) - 1} prompts")
