"""Hidden tests for swe-statkit-median: calls the agent's statkit in a subprocess, compares with
the standard library's statistics module on random inputs."""
import json, os, shutil, random, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def call_agent(module, calls, timeout=60):
    d = tempfile.mkdtemp()
    cases, out = os.path.join(d, "cases.json"), os.path.join(d, "out.json")
    json.dump({"module": module, "calls": calls}, open(cases, "w"))
    env = {"PATH": "/usr/bin:/bin", "HOME": d, "LANG": "C.UTF-8"}
    r = subprocess.run([sys.executable, shutil.copy(os.path.join(HERE, "run_calls.py"), d), cases, out], cwd=os.getcwd(),
                       env=env, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0 or not os.path.exists(out):
        print("agent code failed:", r.stderr[-1500:]); sys.exit(1)
    return json.load(open(out))


def main():
    rng = random.Random(20240611)
    calls, want = [], []
    def add(fn, args, expect):
        calls.append([fn, args]); want.append(expect)
    for n in list(range(1, 12)) + [50, 51, 200, 201]:
        for _ in range(6):
            xs = [rng.randint(-1000, 1000) for _ in range(n)]
            if rng.random() < 0.5:
                xs = [x / 7 for x in xs]
            add("median", [xs], ("ok", statistics.median(xs)))
            add("mean", [xs], ("ok", statistics.fmean(xs)))
            add("value_range", [xs], ("ok", [min(xs), max(xs)]))
            if n >= 2:
                add("variance", [xs], ("ok", statistics.variance(xs)))
                add("stdev", [xs, False], ("ok", statistics.pstdev(xs)))
    for xs in ([5, 1, 4, 2], [10, 20], [3, 3, 1, 1], [2.5, -1.0, 7.25, 0.0, 9.5, 1.5], [7]):
        add("median", [xs], ("ok", statistics.median(xs)))
    for _ in range(20):
        xs = [rng.randint(0, 6) for _ in range(rng.randint(1, 30))]
        c = {v: xs.count(v) for v in xs}; b = max(c.values())
        add("mode", [xs], ("ok", min(v for v in c if c[v] == b)))
    add("median", [[]], ("exc", "ValueError"))
    add("mean", [[]], ("exc", "ValueError"))
    add("variance", [[4]], ("exc", "ValueError"))
    got = call_agent("statkit", calls)
    bad = 0
    for (fn, args), (kind, exp), g in zip(calls, want, got):
        ok = kind in g and (kind == "exc" and g["exc"] == exp or kind == "ok" and close(g["ok"], exp))
        if not ok:
            bad += 1
            if bad <= 5: print(f"FAIL {fn}({str(args)[:80]}): got {g}, want {kind} {exp}")
    print(f"{len(calls) - bad}/{len(calls)} hidden tests passed")
    sys.exit(1 if bad else 0)


def close(a, b):
    if isinstance(b, list):
        return isinstance(a, list) and len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    return isinstance(a, (int, float)) and not isinstance(a, bool) and abs(a - b) <= 1e-9 * max(1, abs(b))


main()
