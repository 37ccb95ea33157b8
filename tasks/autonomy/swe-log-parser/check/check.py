"""Hidden tests for swe-log-parser: the agent's parse_log on generated logs (ground truth from
the generator) and on the shipped sample."""
import json, os, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen import generate  # noqa: E402


def call_agent(module, calls, timeout=120):
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
    logs = [generate(seed, n) for seed, n in [(501, 60), (502, 400), (503, 400), (504, 1500)]]
    got = call_agent("logparse", [["parse_log", [text]] for text, _ in logs])
    bad = 0
    for (text, want), g in zip(logs, got):
        res = g.get("ok")
        if res == want:
            continue
        bad += 1
        if not isinstance(res, dict):
            print("FAIL: parse_log returned", str(g)[:200]); continue
        if res.get("malformed") != want["malformed"]:
            print(f"FAIL: malformed = {res.get('malformed')}, want {want['malformed']}")
        ge, we = res.get("entries") or [], want["entries"]
        if len(ge) != len(we):
            print(f"FAIL: {len(ge)} entries, want {len(we)}")
        for a, b in zip(ge, we):
            if a != b:
                print("FAIL: first differing entry:\n got ", json.dumps(a, ensure_ascii=False)[:400],
                      "\n want", json.dumps(b, ensure_ascii=False)[:400]); break
    print(f"{len(logs) - bad}/{len(logs)} hidden logs parsed exactly")
    sys.exit(1 if bad else 0)


main()
