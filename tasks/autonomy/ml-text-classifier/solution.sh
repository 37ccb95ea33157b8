#!/bin/bash
# Reference solution: multinomial naive Bayes on lowercased word tokens with Laplace smoothing,
# trained at start-up from data/tickets_train.csv.
set -e
cat > predict.py <<'PY'
#!/usr/bin/env python3
"""usage: predict.py INPUT.csv OUTPUT.csv -- routes tickets with multinomial naive Bayes."""
import csv
import math
import re
import sys
from collections import Counter, defaultdict


def tokens(text):
    return re.findall(r"[a-z0-9]+", text.lower())


def train(path):
    counts, prior = defaultdict(Counter), Counter()
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            prior[row["label"]] += 1
            counts[row["label"]].update(tokens(row["text"]))
    vocab = {w for c in counts.values() for w in c}
    total = sum(prior.values())
    model = {}
    for label, c in counts.items():
        denom = sum(c.values()) + len(vocab)
        model[label] = (math.log(prior[label] / total), {w: math.log((n + 1) / denom) for w, n in c.items()},
                        math.log(1 / denom))
    return model


def classify(model, text):
    toks = tokens(text)
    return max(model, key=lambda l: model[l][0] + sum(model[l][1].get(w, model[l][2]) for w in toks))


def main(inp, outp):
    model = train("data/tickets_train.csv")
    with open(inp, newline="") as f, open(outp, "w", newline="") as g:
        w = csv.writer(g, lineterminator="\n")
        w.writerow(["id", "label"])
        for row in csv.DictReader(f):
            w.writerow([row["id"], classify(model, row["text"])])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
PY
# sanity check: 5-fold-free quick holdout on the last 200 training rows
python3 - <<'PY'
import csv, subprocess
rows = list(csv.DictReader(open("data/tickets_train.csv", newline="")))
with open("holdout.csv", "w", newline="") as f:
    w = csv.writer(f); w.writerow(["id", "text"]); [w.writerow([r["id"], r["text"]]) for r in rows[-200:]]
subprocess.run(["python3", "predict.py", "holdout.csv", "holdout_out.csv"], check=True)
got = {r["id"]: r["label"] for r in csv.DictReader(open("holdout_out.csv"))}
print("train-tail accuracy", sum(got[r["id"]] == r["label"] for r in rows[-200:]) / 200)
PY
