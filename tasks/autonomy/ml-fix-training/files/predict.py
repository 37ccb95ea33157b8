#!/usr/bin/env python3
"""usage: predict.py INPUT.csv OUTPUT.csv -- scores customers with model.json.
INPUT has an `id` column and the feature columns; OUTPUT gets `id,churned` (yes/no)."""
import csv
import json
import math
import sys


def sigmoid(z):
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


def main(inp, outp):
    model = json.load(open("model.json"))
    with open(inp, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(outp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "churned"])
        for r in rows:
            z = [(float(r[c]) - m) / s for c, m, s in zip(model["features"], model["mean"], model["std"])]
            p = sigmoid(sum(a * b for a, b in zip(model["w"], z)) + model["b"])
            w.writerow([r["id"], "yes" if p >= 0.5 else "no"])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
