#!/usr/bin/env python3
"""k-nearest-neighbours quality classifier.

usage: predict.py INPUT.csv OUTPUT.csv
Labels each row of INPUT (columns `id` + the features) as pass/fail by majority vote of its k
nearest rows of data/train.csv (Euclidean distance on config.json's features; ties -> fail).
Settings in config.json:
  k            number of neighbours (odd numbers avoid ties)
  standardize  if true, each feature is scaled by the training set's mean and std first
  features     the feature columns used
"""
import csv
import heapq
import json
import math
import sys


def load(path, features):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return rows, [[float(r[c]) for c in features] for r in rows]


def main(inp, outp):
    cfg = json.load(open("config.json"))
    k, feats = int(cfg["k"]), cfg["features"]
    train_rows, X = load("data/train.csv", feats)
    labels = [r["label"] for r in train_rows]
    rows, Q = load(inp, feats)
    if cfg.get("standardize"):
        d = len(feats)
        mean = [sum(x[j] for x in X) / len(X) for j in range(d)]
        std = [math.sqrt(sum((x[j] - mean[j]) ** 2 for x in X) / len(X)) or 1.0 for j in range(d)]
        X = [[(x[j] - mean[j]) / std[j] for j in range(d)] for x in X]
        Q = [[(q[j] - mean[j]) / std[j] for j in range(d)] for q in Q]
    with open(outp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "label"])
        for r, q in zip(rows, Q):
            near = heapq.nsmallest(k, range(len(X)), key=lambda i: sum((a - b) ** 2 for a, b in zip(q, X[i])))
            votes = sum(labels[i] == "pass" for i in near)
            w.writerow([r["id"], "pass" if 2 * votes > len(near) else "fail"])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
