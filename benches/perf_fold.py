#!/usr/bin/env python3
"""Where a process's CPU went, from `perf script` of a `perf record --call-graph dwarf` profile.

The perf 6.1 of the development machine cannot read the symbols of binaries linked by rustc's
lld (it prints "not found, continuing without symbols"), although it unwinds them: this script
resolves the addresses of the profiled binary itself through `nm`, then prints the share of
samples per function, self and inclusive, and for a `batchbench run` the share of each phase.

    perf record -F 1999 --call-graph dwarf,16384 -o run.data -- target/release/batchbench run ...
    perf script -i run.data > run.script
    python3 benches/perf_fold.py BINARY run.script                  # self + inclusive, top 40
    python3 benches/perf_fold.py BINARY run.script --phases send    # the harness's phases
    python3 benches/perf_fold.py BINARY run.script --keys chat::parse,tokens::fast::count

BINARY must be unstripped (the release profile strips: build with
CARGO_PROFILE_RELEASE_STRIP=false, which changes no code, and `objcopy --strip-debug` a copy if
debug line tables make it slow to read).
"""

import bisect
import collections
import re
import subprocess
import sys

# A sample of a whole `batchbench run` belongs to the first phase one of whose frames contains
# one of these names (the sending window is what `prompts_per_s` measures).
PHASES = [
    ("report", ("write_report", "report::", "write_rows")),
    ("plan", ("Strategy>::plan", "resolve_run", "dataset::", "PlanContext")),
    ("records", ("Ctx::attempt_rows", "Ctx::", "grade::")),
    ("send", ("fan_out", "chat_once", "reqwest", "hyper", "Runner::", "journal", "tokio::net")),
    ("startup", ("Session::start", "o200k_base", "Pricing", "genai_prices", "main")),
]


def symbols(binary):
    """Sorted (address, name) of the binary's functions, and the text segment's address minus
    its file offset (perf prints file offsets for a binary it cannot read)."""
    delta = 0
    for line in subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True).stdout.splitlines():
        f = line.split()
        if f and f[0] == "LOAD" and "E" in f[6:-1]:
            delta = int(f[2], 16) - int(f[1], 16)
    syms = []
    nm = subprocess.run(["nm", "-n", "--defined-only", "-C", binary], capture_output=True, text=True)
    for line in nm.stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in "tTwW":
            syms.append((int(parts[0], 16), re.sub(r"::h[0-9a-f]{16}$", "", parts[2])))
    return syms, delta


def samples(binary, script):
    """(thread id, [frame names, innermost first]) per sample."""
    syms, delta = symbols(binary)
    addrs = [a for a, _ in syms]
    out, frames, tid = [], [], ""
    for line in open(script, errors="replace"):
        if not line.strip() or not line.startswith((" ", "\t")):
            if frames:
                out.append((tid, frames))
            frames = []
            if line.strip():
                tid = line.split()[1]
            continue
        m = re.match(r"\s*([0-9a-f]+) (.*) \((.*)\)$", line)
        if not m:
            continue
        addr, sym, dso = m.groups()
        if "batchbench" in dso or "fixed_chat" in dso:
            i = bisect.bisect_right(addrs, int(addr, 16) + delta) - 1
            name = syms[i][1] if i >= 0 else addr
        else:
            name = re.sub(r"\+0x[0-9a-f]+$", "", sym)
            if dso.startswith("[kernel"):
                name = "[k] " + name
        frames.append(name)
    if frames:
        out.append((tid, frames))
    return out


def top(selected, n=40):
    total = len(selected) or 1
    own = collections.Counter(fr[0] for _, fr in selected)
    incl = collections.Counter()
    for _, fr in selected:
        incl.update(set(fr))
    print("-- self")
    for name, c in own.most_common(n):
        print(f"{100 * c / total:6.2f}%  {name[:150]}")
    print("-- inclusive")
    for name, c in incl.most_common(3 * n):
        print(f"{100 * c / total:6.2f}%  {name[:150]}")


def phase(frames):
    joined = " | ".join(frames)
    for name, keys in PHASES:
        if any(k in joined for k in keys):
            return name
    return "other"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, script, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    got = samples(binary, script)
    print(f"samples: {len(got)}")
    if rest[:1] == ["--keys"]:
        for key in rest[1].split(","):
            c = sum(1 for _, fr in got if any(key in f for f in fr))
            print(f"{100 * c / len(got):6.2f}%  {key}")
    elif rest[:1] == ["--phases"]:
        by = collections.defaultdict(list)
        for s in got:
            by[phase(s[1])].append(s)
        for name, ss in sorted(by.items(), key=lambda kv: -len(kv[1])):
            print(f"  {name:8s} {100 * len(ss) / len(got):5.1f}%")
        want = rest[1] if len(rest) > 1 else "send"
        print(f"== phase {want} ({len(by[want])} samples)")
        top(by[want])
    else:
        top(got)


if __name__ == "__main__":
    main()
