#!/usr/bin/env python3
"""Trains the loan-default model (logistic regression, gradient descent) on data/loans.csv.
The last 20% of a seeded shuffle is held out for evaluate.py. Writes model.json."""
import csv
import json
import math
import random

LABEL = "defaulted"
SEED = 7


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    features = [c for c in rows[0] if c not in ("id", LABEL)]
    return rows, features


def split(rows):
    rows = rows[:]
    random.Random(SEED).shuffle(rows)
    cut = int(len(rows) * 0.8)
    return rows[:cut], rows[cut:]


def standardize(X):
    """Scales each column to mean 0, std 1 (by the statistics of X itself)."""
    n, d = len(X), len(X[0])
    mean = [sum(x[j] for x in X) / n for j in range(d)]
    std = [math.sqrt(sum((x[j] - mean[j]) ** 2 for x in X) / n) or 1.0 for j in range(d)]
    return [[(x[j] - mean[j]) / std[j] for j in range(d)] for x in X]


def sigmoid(z):
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


def fit(Z, y, lr=0.3, epochs=400, l2=1e-3):
    n, d = len(Z), len(Z[0])
    w, b = [0.0] * d, 0.0
    for _ in range(epochs):
        gw, gb = [l2 * wj for wj in w], 0.0
        for z, t in zip(Z, y):
            err = sigmoid(sum(a * c for a, c in zip(w, z)) + b) - t
            for j in range(d):
                gw[j] += err * z[j] / n
            gb += err / n
        w = [wj - lr * g for wj, g in zip(w, gw)]
        b -= lr * gb
    return w, b


def main():
    rows, features = load("data/loans.csv")
    train, _ = split(rows)
    X = [[float(r[c]) for c in features] for r in train]
    y = [int(r[LABEL]) for r in train]
    w, b = fit(standardize(X), y)
    with open("model.json", "w") as f:
        json.dump({"features": features, "w": w, "b": b}, f, indent=1)
    print("trained on", len(train), "loans; features:", ", ".join(features))


if __name__ == "__main__":
    main()
