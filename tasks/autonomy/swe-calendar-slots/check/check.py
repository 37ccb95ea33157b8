"""Hidden tests for swe-calendar-slots: the agent's functions (run in a subprocess) against a
reference on hand-written edge cases and random inputs."""
import json, os, shutil, random, subprocess, sys, tempfile

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


def merge_ref(iv):
    for s, e in iv:
        if s > e: raise ValueError
    out = []
    for s, e in sorted([s, e] for s, e in iv if s < e):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def hm(s):
    if not (isinstance(s, str) and len(s) == 5 and s[2] == ":" and s[:2].isdigit() and s[3:].isdigit()
            and s.isascii()):
        raise ValueError
    h, m = int(s[:2]), int(s[3:])
    if (h, m) == (24, 0): return 1440
    if h > 23 or m > 59: raise ValueError
    return h * 60 + m


def fmt(m): return f"{m // 60:02d}:{m % 60:02d}"


def free_ref(busy, ds, de, mn=0):
    a, b = hm(ds), hm(de)
    if a > b or mn < 0: raise ValueError
    iv = []
    for s, e in busy:
        s, e = hm(s), hm(e)
        if s > e: raise ValueError
        iv.append([max(s, a), min(e, b)])
    iv = [x for x in iv if x[0] < x[1]]
    out, cur = [], a
    for s, e in merge_ref(iv):
        if s - cur > 0 and s - cur >= mn: out.append([fmt(cur), fmt(s)])
        cur = max(cur, e)
    if b - cur > 0 and b - cur >= mn: out.append([fmt(cur), fmt(b)])
    return out


def expect(f, *args):
    try:
        return ("ok", f(*args))
    except ValueError:
        return ("exc", "ValueError")


def main():
    rng = random.Random(77031)
    calls, want = [], []
    def add(fn, args):
        calls.append([fn, args]); want.append(expect(merge_ref if fn == "merge_intervals" else free_ref, *args))
    for iv in ([], [[1, 3], [3, 3], [3, 5]], [[5, 8], [1, 3], [3, 4], [10, 10]], [[2, 2]], [[4, 2]],
               [[1, 10], [2, 3]], [[0, 1], [2, 3]], [[3, 3], [1, 2], [4, 4]], [[-5, -1], [-1, 0]],
               [[1, 2], [2, 2], [3, 4]], [[7, 9], [1, 2], [5, 5], [0, 7]]):
        add("merge_intervals", [iv])
    for _ in range(300):
        n = rng.randint(0, 12)
        iv = []
        for _ in range(n):
            s = rng.randint(-20, 60); e = s + rng.choice([0, 0, 1, 2, 3, 5, 8, 13, 20])
            iv.append([s, e])
        if rng.random() < 0.05 and iv:
            iv[0] = [iv[0][1] + 1, iv[0][0]]
        add("merge_intervals", [iv])
    edge = [
        ([("09:30", "10:00"), ("09:45", "11:00"), ("16:30", "18:00")], "09:00", "17:00", 30),
        ([], "09:00", "17:00", 0), ([], "00:00", "24:00", 0), ([("08:00", "18:00")], "09:00", "17:00", 0),
        ([("10:00", "10:00")], "09:00", "11:00", 0), ([("09:00", "10:00"), ("10:00", "11:00")], "09:00", "12:00", 0),
        ([("10:00", "10:15"), ("10:45", "11:00")], "10:00", "11:00", 31), ([("10:00", "10:15"), ("10:45", "11:00")], "10:00", "11:00", 30),
        ([("25:00", "26:00")], "09:00", "17:00", 0), ([("9:00", "10:00")], "09:00", "17:00", 0),
        ([("11:00", "10:00")], "09:00", "17:00", 0), ([], "17:00", "09:00", 0), ([], "09:00", "17:00", -1),
        ([("12:60", "13:00")], "09:00", "17:00", 0), ([("23:00", "24:00")], "22:00", "24:00", 0),
        ([], "12:00", "12:00", 0), ([("07:00", "08:00"), ("18:00", "19:00")], "09:00", "17:00", 480),
        ([("07:00", "08:00"), ("18:00", "19:00")], "09:00", "17:00", 481), ([("24:00", "24:00")], "00:00", "24:00", 0),
    ]
    for b, ds, de, mn in edge:
        add("free_slots", [[list(x) for x in b], ds, de, mn])
    for _ in range(300):
        ds = rng.randint(0, 20) * 30; de = ds + rng.randint(0, 24) * 30
        de = min(de, 1440)
        busy = []
        for _ in range(rng.randint(0, 10)):
            s = rng.randint(max(0, ds - 120), min(1440, de + 60)) // 5 * 5
            e = min(1440, s + rng.choice([0, 5, 15, 30, 45, 60, 90, 180]))
            busy.append([fmt(s), fmt(e)])
        add("free_slots", [busy, fmt(ds), fmt(de), rng.choice([0, 0, 5, 15, 30, 60])])
    got = call_agent("calendar_utils", calls)
    bad = 0
    for (fn, args), (kind, exp), g in zip(calls, want, got):
        if g.get(kind, object()) != exp:
            bad += 1
            if bad <= 6: print(f"FAIL {fn}{tuple(args)}: got {g}, want {kind} {exp}")
    print(f"{len(calls) - bad}/{len(calls)} hidden tests passed")
    sys.exit(1 if bad else 0)


main()
