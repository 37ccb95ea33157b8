#!/usr/bin/env python3
"""Accuracy of model.json on the held-out 20% of data/loans.csv."""
import json

from predict import score
from train import LABEL, load, split

rows, _ = load("data/loans.csv")
_, valid = split(rows)
preds = score(valid, json.load(open("model.json")))
acc = sum(p == int(r[LABEL]) for p, r in zip(preds, valid)) / len(valid)
print(f"validation accuracy: {acc:.3f} on {len(valid)} loans")
