"""The reporting shared by the conformance scripts: one `ok   name` / `FAIL name (detail)` line
per check, the failures collected for the exit status."""

FAILURES = []


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f"  ({detail})"), flush=True)
    if not cond:
        FAILURES.append(name)


def run(name, fn):
    try:
        fn()
    except Exception as e:  # a crash in one section must not hide the others
        check(name, False, f"{type(e).__name__}: {e}")
