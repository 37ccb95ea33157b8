"""Check for ml-fix-training: retrain with the agent's train.py in a copy of /work, score the
hidden customers with predict.py, require accuracy >= THRESHOLD."""
import csv, os, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
THRESHOLD = 0.77


def main():
    tmp = tempfile.mkdtemp()
    work = os.path.join(tmp, "work")
    shutil.copytree(os.getcwd(), work, symlinks=True)
    if os.path.exists(os.path.join(work, "model.json")):
        os.remove(os.path.join(work, "model.json"))
    env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8"}
    try:
        r = subprocess.run([sys.executable, "train.py"], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        print("FAIL: train.py took more than 600 s"); sys.exit(1)
    if r.returncode != 0 or not os.path.exists(os.path.join(work, "model.json")):
        print("FAIL: train.py did not produce model.json:", r.stderr[-1000:]); sys.exit(1)
    rows = list(csv.DictReader(open(os.path.join(HERE, "hidden.csv"), newline="")))
    truth = {r["id"]: r.pop("churned") for r in rows}
    inp, outp = os.path.join(tmp, "customers.csv"), os.path.join(tmp, "scored.csv")
    with open(inp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n"); w.writeheader(); w.writerows(rows)
    r = subprocess.run([sys.executable, "predict.py", inp, outp], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    if r.returncode != 0 or not os.path.exists(outp):
        print("FAIL: predict.py failed:", r.stderr[-1000:]); sys.exit(1)
    got = {row.get("id"): (row.get("churned") or "").strip().lower() for row in csv.DictReader(open(outp, newline=""))}
    acc = sum(got.get(k) == v for k, v in truth.items()) / len(truth)
    print(f"held-out accuracy {acc:.3f} (need >= {THRESHOLD})")
    sys.exit(0 if acc >= THRESHOLD else 1)


main()
