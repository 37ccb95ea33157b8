"""Deterministic data for ml-pipeline-leak (authoring only). Writes files/data/loans.csv
(history, ~25% defaults, with the post-outcome collections_flag), files/data/production_sample.csv
and check/hidden.csv (production-like: collections_flag 0, balanced classes). Run from the task dir."""
import csv, math, random

rng = random.Random(1618)
COLS = ["id", "income_k", "loan_amount_k", "debt_ratio", "credit_years", "late_payments_12m",
        "employment_years", "collections_flag", "defaulted"]


def applicant(i, want=None):
    while True:
        income = round(max(8, rng.lognormvariate(math.log(55), 0.45)), 1)
        loan = round(max(1, rng.lognormvariate(math.log(18), 0.7)), 1)
        debt = round(min(0.95, max(0.0, rng.gauss(0.32, 0.14))), 3)
        years = rng.randint(0, 35)
        late = min(9, int(rng.expovariate(0.9)))
        emp = rng.randint(0, 30)
        z = 2.0 * (-0.3 + 2.2 * (loan / income - 0.35) + 4.0 * (debt - 0.32) - 0.06 * (years - 10)
                   + 0.75 * late - 0.04 * (emp - 6))
        y = rng.random() < 1 / (1 + math.exp(-z))
        if want is None or y == want:
            break
    return {"id": i, "income_k": income, "loan_amount_k": loan, "debt_ratio": debt, "credit_years": years,
            "late_payments_12m": late, "employment_years": emp, "defaulted": int(y)}


def write(path, rows, cols):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n", extrasaction="ignore")
        w.writeheader(); w.writerows(rows)


hist = [applicant(i) for i in range(1, 2001)]
for r in hist:  # referred to collections after the fact: almost only defaulted loans
    r["collections_flag"] = int(rng.random() < (0.92 if r["defaulted"] else 0.02))
write("files/data/loans.csv", hist, COLS)
prod = [applicant(i, want=bool(i % 2)) for i in range(500001, 501201)]
for r in prod:
    r["collections_flag"] = 0
write("check/hidden.csv", prod, COLS)
sample = [applicant(i) for i in range(900001, 900006)]
for r in sample:
    r["collections_flag"] = 0
write("files/data/production_sample.csv", sample, COLS[:-1])
