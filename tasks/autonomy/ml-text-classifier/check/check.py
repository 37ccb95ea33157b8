"""Check for ml-text-classifier: run the agent's predict.py (copy of /work) on the hidden tickets;
require accuracy >= THRESHOLD."""
import csv, os, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
THRESHOLD = 0.90


def main():
    tmp = tempfile.mkdtemp()
    work = os.path.join(tmp, "work")
    shutil.copytree(os.getcwd(), work, symlinks=True)
    if not os.path.exists(os.path.join(work, "predict.py")):
        print("FAIL: no /work/predict.py"); sys.exit(1)
    rows = list(csv.DictReader(open(os.path.join(HERE, "hidden.csv"), newline="")))
    truth = {r["id"]: r.pop("label") for r in rows}
    inp, outp = os.path.join(tmp, "tickets.csv"), os.path.join(tmp, "routed.csv")
    with open(inp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["id", "text"], lineterminator="\n"); w.writeheader(); w.writerows(rows)
    env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8"}
    try:
        r = subprocess.run([sys.executable, "predict.py", inp, outp], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        print("FAIL: predict.py took more than 600 s"); sys.exit(1)
    if r.returncode != 0 or not os.path.exists(outp):
        print("FAIL: predict.py failed:", r.stderr[-1000:]); sys.exit(1)
    got = {row.get("id"): (row.get("label") or "").strip() for row in csv.DictReader(open(outp, newline=""))}
    acc = sum(got.get(k) == v for k, v in truth.items()) / len(truth)
    print(f"held-out accuracy {acc:.3f} (need >= {THRESHOLD})")
    sys.exit(0 if acc >= THRESHOLD else 1)


main()
