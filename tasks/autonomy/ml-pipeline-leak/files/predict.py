#!/usr/bin/env python3
"""usage: predict.py INPUT.csv OUTPUT.csv
Scores loan applications (columns as in data/production_sample.csv) with model.json and writes
OUTPUT.csv with the columns id,defaulted (1 = predicted to default)."""
import csv
import json
import sys

from train import sigmoid, standardize


def score(rows, model):
    X = [[float(r[c]) for c in model["features"]] for r in rows]
    Z = standardize(X)
    return [int(sigmoid(sum(a * c for a, c in zip(model["w"], z)) + model["b"]) >= 0.5) for z in Z]


def main(inp, outp):
    model = json.load(open("model.json"))
    with open(inp, newline="") as f:
        rows = list(csv.DictReader(f))
    preds = score(rows, model) if rows else []
    with open(outp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "defaulted"])
        for r, p in zip(rows, preds):
            w.writerow([r["id"], p])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
