"""Check for ml-pipeline-leak: in a copy of /work, retrain with `python3 train.py`, then score
production-like applications (collections_flag always 0, a high-risk mix) the way the scoring
service does: one batch, a small high-risk batch, and many single-application calls. Every
accuracy must be >= THRESHOLD."""
import csv, os, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
THRESHOLD = 0.72
ENV = None


def predict(work, tmp, rows, tag):
    inp, outp = os.path.join(tmp, f"{tag}-in.csv"), os.path.join(tmp, f"{tag}-out.csv")
    with open(inp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[c for c in rows[0] if c != "defaulted"], lineterminator="\n",
                           extrasaction="ignore")
        w.writeheader(); w.writerows(rows)
    r = subprocess.run([sys.executable, "predict.py", inp, outp], cwd=work, env=ENV, capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or not os.path.exists(outp):
        print(f"FAIL: predict.py failed on a {len(rows)}-row request:", r.stderr[-800:]); sys.exit(1)
    got = {}
    for row in csv.DictReader(open(outp, newline="")):
        try: got[row.get("id")] = int(float(row.get("defaulted", "")))
        except ValueError: pass
    return got


def accuracy(got, rows):
    return sum(got.get(r["id"]) == int(r["defaulted"]) for r in rows) / len(rows)


def main():
    global ENV
    tmp = tempfile.mkdtemp()
    work = os.path.join(tmp, "work")
    shutil.copytree(os.getcwd(), work, symlinks=True)
    shutil.copy(os.path.join(HERE, "loans.csv"), os.path.join(work, "data", "loans.csv"))  # as shipped
    ENV = {"PATH": "/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8"}
    if os.path.exists(os.path.join(work, "model.json")): os.remove(os.path.join(work, "model.json"))
    try:
        r = subprocess.run([sys.executable, "train.py"], cwd=work, env=ENV, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        print("FAIL: train.py took more than 900 s"); sys.exit(1)
    if r.returncode != 0:
        print("FAIL: train.py failed:", r.stderr[-800:]); sys.exit(1)
    rows = list(csv.DictReader(open(os.path.join(HERE, "hidden.csv"), newline="")))
    batch, rest = rows[:800], rows[800:]
    risky = [r for r in rest[:300] if r["defaulted"] == "1"][:85] + [r for r in rest[:300] if r["defaulted"] == "0"][:15]
    singles = rest[300:] if len(rest) > 300 else rest
    singles = singles[:200]
    results = {"batch of 800": accuracy(predict(work, tmp, batch, "batch"), batch),
               "high-risk batch of 100": accuracy(predict(work, tmp, risky, "risky"), risky)}
    got = {}
    for i, r in enumerate(singles):
        got.update(predict(work, tmp, [r], f"one{i}"))
    results[f"{len(singles)} single calls"] = accuracy(got, singles)
    ok = True
    for k, v in results.items():
        print(f"{k}: accuracy {v:.3f}")
        ok &= v >= THRESHOLD
    print(f"need >= {THRESHOLD} for each")
    sys.exit(0 if ok else 1)


main()
