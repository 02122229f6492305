#!/usr/bin/env python3
"""Import cycles between the files of a Rust crate's src/ folder.

Reads every `crate::`, `super::` and `self::` path in each file (test modules left out),
resolves it to the file that defines the module, and prints each strongly connected component
of that graph with more than one file. A parent module and its children are not counted as a
cycle (a parent declares its children; a child using its parent's types is Rust's ordinary
layout). Exits 1 when a cycle is found.

Kept as a 70-line script rather than `cargo modules`: that tool needs a rust-analyzer build
(minutes of compiling in CI) to answer this one question.

Usage: python3 scripts/module-cycles.py src [crates/batchbench-mock/src ...]
"""

import os
import re
import sys


def modules(root):
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(folder, name)
                parts = os.path.relpath(path, root)[:-3].split(os.sep)
                if parts[-1] in ("mod", "lib", "main"):
                    parts = parts[:-1]
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                files["::".join(parts)] = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
    return files


def resolve(current, path, known):
    segs = path.split("::")
    if segs[0] == "crate":
        base, segs = [], segs[1:]
    else:
        base = current.split("::") if current else []
        while segs and segs[0] == "super":
            base, segs = base[:-1], segs[1:]
        if segs and segs[0] == "self":
            segs = segs[1:]
    full = base + segs
    for n in range(len(full), 0, -1):
        name = "::".join(full[:n])
        if name in known:
            return name
    return None


def cycles(files):
    edges = {m: set() for m in files}
    for m, text in files.items():
        for path in re.findall(r"\b((?:crate|super|self)(?:::\w+)+)", text):
            t = resolve(m, path, files)
            related = t is None or t == m or t.startswith(m + "::") or m.startswith(t + "::")
            if not related:
                edges[m].add(t)
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(files):
        if v not in index:
            visit(v)
    return found


def main():
    bad = False
    for root in sys.argv[1:]:
        found = cycles(modules(root))
        for comp in found:
            print(f"{root}: import cycle between {len(comp)} files: {', '.join(comp)}")
        bad |= bool(found)
        if not found:
            print(f"{root}: no import cycle")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
