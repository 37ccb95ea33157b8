"""Hidden tests for swe-perf-textstats: small inputs against the original (naive) behaviour,
then large inputs against fast references, run in one subprocess under a time and memory limit."""
import json, os, shutil, random, resource, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ref_fast  # noqa: E402

LARGE_SECONDS = 120


def limits():
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def call_agent(calls, timeout):
    d = tempfile.mkdtemp()
    cases, out = os.path.join(d, "cases.json"), os.path.join(d, "out.json")
    json.dump({"module": "textstats", "calls": calls}, open(cases, "w"))
    env = {"PATH": "/usr/bin:/bin", "HOME": d, "LANG": "C.UTF-8"}
    t0 = time.time()
    try:
        r = subprocess.run([sys.executable, shutil.copy(os.path.join(HERE, "run_calls.py"), d), cases, out], cwd=os.getcwd(),
                           env=env, capture_output=True, text=True, timeout=timeout, preexec_fn=limits)
    except subprocess.TimeoutExpired:
        print(f"FAIL: did not finish within {timeout} s"); sys.exit(1)
    if r.returncode != 0 or not os.path.exists(out):
        print("FAIL: agent code failed:", r.stderr[-1500:]); sys.exit(1)
    return json.load(open(out)), time.time() - t0


# the original behaviour, for small inputs
def naive_ds(s): return len({s[i:j] for i in range(len(s)) for j in range(i + 1, len(s) + 1)})


def naive_lr(s):
    n = len(s)
    for L in range(n - 1, 0, -1):
        first, best = {}, None
        for i in range(n - L + 1):
            sub = s[i:i + L]
            if sub in first:
                if best is None or first[sub] < first[best]: best = sub
            else: first[sub] = i
        if best is not None: return best
    return ""


def naive_rm(xs, k):
    if k < 1: raise ValueError
    out = []
    for i in range(len(xs) - k + 1):
        w = sorted(xs[i:i + k])
        out.append(w[k // 2] if k % 2 else (w[k // 2 - 1] + w[k // 2]) / 2)
    return out


def expect(f, *a):
    try: return {"ok": f(*a)}
    except ValueError: return {"exc": "ValueError"}


def same(g, w):
    if "exc" in w: return g == w
    if "ok" not in g: return False
    a, b = g["ok"], w["ok"]
    if isinstance(b, list):
        return isinstance(a, list) and len(a) == len(b) and all(type(x) is type(y) and x == y for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def fib(n):
    a, b = "a", "ab"
    while len(b) < n: a, b = b, b + a
    return b[:n]


def main():
    rng = random.Random(31337)
    small, want = [], []
    def add(name, ref, *args):
        small.append([name, list(args)]); want.append(expect(ref, *args))
    for s in ["", "a", "aa", "ab", "aaaa", "abab", "banana", "mississippi", "abcabcabc", "zzzaaazz", "héhé€€h", "aXbXaXb"]:
        add("distinct_substrings", naive_ds, s); add("longest_repeated", naive_lr, s)
    for _ in range(150):
        s = "".join(rng.choice(rng.choice(["ab", "abc", "acgt", "abcdefghij"])) for _ in range(rng.randint(0, 40)))
        add("distinct_substrings", naive_ds, s); add("longest_repeated", naive_lr, s)
    for xs, k in [([], 1), ([1], 1), ([1, 2], 3), ([3, 1, 2], 0), ([3, 1, 2], -2), ([5, 5, 5, 5], 2), ([1.5, -2.0, 3.25], 2)]:
        add("rolling_median", naive_rm, xs, k)
    for _ in range(150):
        xs = [rng.randint(-20, 20) for _ in range(rng.randint(0, 40))]
        if rng.random() < 0.4:  # all floats (ints and equal floats are never mixed: order of ties)
            xs = [x / 4 for x in xs]
        add("rolling_median", naive_rm, xs, rng.randint(1, 15))
    got, _ = call_agent(small, timeout=120)
    bad = [i for i, (g, w) in enumerate(zip(got, want)) if not same(g, w)]
    for i in bad[:5]:
        print(f"FAIL {small[i][0]}{tuple(small[i][1])}: got {got[i]}, want {want[i]}")
    print(f"small inputs: {len(small) - len(bad)}/{len(small)} correct")
    if bad: sys.exit(1)

    big = []
    s_ab = "".join(rng.choice("ab") for _ in range(100000))
    s_26 = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(100000))
    chunk = "".join(rng.choice("acgt") for _ in range(3000))
    s_plant = "".join(rng.choice("acgt") for _ in range(40000)) + chunk + "".join(rng.choice("acgt") for _ in range(50000)) + chunk + "acg"
    for s in (s_ab, "a" * 100000, fib(90000), s_26):
        big.append(["distinct_substrings", [s], ref_fast.distinct_substrings])
    for s in (s_plant, fib(90000), "".join(rng.choice("acgt") for _ in range(100000)), "ab" * 50000):
        big.append(["longest_repeated", [s], ref_fast.longest_repeated])
    xs = [rng.randint(-10**6, 10**6) for _ in range(200000)]
    big.append(["rolling_median", [xs, 20001], ref_fast.rolling_median])
    big.append(["rolling_median", [xs, 20000], ref_fast.rolling_median])
    big.append(["rolling_median", [[rng.randint(0, 5) for _ in range(200000)], 2], ref_fast.rolling_median])
    big.append(["rolling_median", [[rng.randint(0, 400) / 8 for _ in range(150000)], 777], ref_fast.rolling_median])
    want = [{"ok": ref(*args)} for _, args, ref in big]
    got, secs = call_agent([[n, a] for n, a, _ in big], timeout=LARGE_SECONDS)
    bad = [i for i, (g, w) in enumerate(zip(got, want)) if not same(g, w)]
    for i in bad[:5]:
        print(f"FAIL large {big[i][0]} #{i}: got {str(got[i])[:150]}, want {str(want[i])[:150]}")
    print(f"large inputs: {len(big) - len(bad)}/{len(big)} correct in {secs:.1f} s (limit {LARGE_SECONDS} s)")
    sys.exit(1 if bad else 0)


main()
