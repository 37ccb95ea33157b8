"""Check for ml-knn-tune: run the agent's predict.py (copy of /work, with the original training
data) on the hidden parts; require accuracy >= THRESHOLD."""
import csv, os, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
THRESHOLD = 0.79


def main():
    tmp = tempfile.mkdtemp()
    work = os.path.join(tmp, "work")
    shutil.copytree(os.getcwd(), work, symlinks=True)
    shutil.copy(os.path.join(HERE, "train.csv"), os.path.join(work, "data", "train.csv"))  # as shipped
    rows = list(csv.DictReader(open(os.path.join(HERE, "hidden.csv"), newline="")))
    truth = {r["id"]: r.pop("label") for r in rows}
    inp, outp = os.path.join(tmp, "parts.csv"), os.path.join(tmp, "labels.csv")
    with open(inp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n"); w.writeheader(); w.writerows(rows)
    env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8"}
    try:
        r = subprocess.run([sys.executable, "predict.py", inp, outp], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        print("FAIL: predict.py took more than 600 s"); sys.exit(1)
    if r.returncode != 0 or not os.path.exists(outp):
        print("FAIL: predict.py failed:", r.stderr[-1000:]); sys.exit(1)
    got = {row.get("id"): (row.get("label") or "").strip().lower() for row in csv.DictReader(open(outp, newline=""))}
    acc = sum(got.get(k) == v for k, v in truth.items()) / len(truth)
    print(f"held-out accuracy {acc:.3f} (need >= {THRESHOLD})")
    sys.exit(0 if acc >= THRESHOLD else 1)


main()
