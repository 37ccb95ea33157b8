"""Runs calls into the agent's code in a separate process (so it cannot touch the checker).
usage: run_calls.py CASES.json OUT.json   (cwd = the agent's /work)
CASES: {"module": "pkg.mod", "calls": [[func, [args...]], ...]}
OUT:   [{"ok": value} | {"exc": "TypeName"}, ...]"""
import importlib, json, os, sys
sys.path.insert(0, os.getcwd())
spec = json.load(open(sys.argv[1]))
mod = importlib.import_module(spec["module"])
out = []
for name, args in spec["calls"]:
    try:
        v = getattr(mod, name)(*args)
        if isinstance(v, tuple): v = list(v)
        json.dumps(v)
        out.append({"ok": v})
    except Exception as e:  # noqa: BLE001
        out.append({"exc": type(e).__name__})
with open(sys.argv[2], "w") as f:
    json.dump(out, f)
