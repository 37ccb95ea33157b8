#!/usr/bin/env python3
"""Trains the churn model: logistic regression by batch gradient descent on standardized
features. Reads data/train.csv, writes model.json (used by predict.py)."""
import csv
import json
import math

FEATURES = ["tenure_months", "monthly_fee", "support_calls", "logins_per_week", "discount_pct", "age"]
LABEL = "churned"


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    X = [[float(r[c]) for c in FEATURES] for r in rows]
    y = [1 if r[LABEL] == "Yes" else 0 for r in rows]
    return X, y


def fit_scaler(X):
    n, d = len(X), len(X[0])
    mean = [sum(x[j] for x in X) / n for j in range(d)]
    std = [math.sqrt(sum((x[j] - mean[j]) ** 2 for x in X) / n) or 1.0 for j in range(d)]
    return mean, std


def scale(X, mean, std):
    return [[(x[j] - mean[j]) / std[j] for j in range(len(x))] for x in X]


def sigmoid(z):
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


def train(Z, y, lr=0.5, epochs=300):
    n, d = len(Z), len(Z[0])
    w, b = [0.0] * d, 0.0
    for epoch in range(epochs):
        gw, gb = [0.0] * d, 0.0
        for z, t in zip(Z, y):
            err = sigmoid(sum(wj * zj for wj, zj in zip(w, z)) + b) - t
            for j in range(d):
                gw[j] += err * z[j]
            gb += err
        for j in range(d):
            w[j] += lr * gw[j] / n
        b += lr * gb / n
        if epoch % 50 == 0:
            loss = -sum(math.log(max(1e-12, p if t else 1 - p))
                        for p, t in ((sigmoid(sum(wj * zj for wj, zj in zip(w, z)) + b), t) for z, t in zip(Z, y))) / n
            print(f"epoch {epoch:4d}  loss {loss:.4f}")
    return w, b


def main():
    X, y = load("data/train.csv")
    mean, std = fit_scaler(X)
    w, b = train(scale(X, mean, std), y)
    acc = sum((sigmoid(sum(wj * zj for wj, zj in zip(w, z)) + b) >= 0.5) == bool(t)
              for z, t in zip(scale(X, mean, std), y)) / len(y)
    print(f"training accuracy {acc:.3f}")
    with open("model.json", "w") as f:
        json.dump({"features": FEATURES, "mean": mean, "std": std, "w": w, "b": b}, f, indent=1)


if __name__ == "__main__":
    main()
