"""Deterministic data for ml-fix-training (authoring only): writes files/data/train.csv and
check/hidden.csv. Run from the task directory: python3 private/gen.py"""
import csv, math, random

rng = random.Random(8086)
FEATURES = ["tenure_months", "monthly_fee", "support_calls", "logins_per_week", "discount_pct", "age"]


def row(i):
    tenure = rng.randint(1, 72)
    fee = round(rng.uniform(10, 120), 2)
    calls = min(12, int(rng.expovariate(0.5)))
    logins = round(max(0, rng.gauss(5, 3)), 1)
    disc = rng.choice([0, 0, 0, 5, 10, 15, 20])
    age = rng.randint(18, 80)
    z = (-0.06 * (tenure - 36) + 0.035 * (fee - 65) + 0.55 * (calls - 2) - 0.45 * (logins - 5)
         - 0.05 * disc + 0.5)
    y = rng.random() < 1 / (1 + math.exp(-z))
    return {"id": i, "tenure_months": tenure, "monthly_fee": fee, "support_calls": calls,
            "logins_per_week": logins, "discount_pct": disc, "age": age, "churned": "yes" if y else "no"}


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader(); w.writerows(rows)


write("files/data/train.csv", [row(i) for i in range(1, 1201)])
write("check/hidden.csv", [row(i) for i in range(5001, 6001)])
