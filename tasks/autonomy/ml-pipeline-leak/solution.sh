#!/bin/bash
# Reference solution: (1) collections_flag is set after the outcome and is always 0 in
# production -- a label leak, drop it from the features; (2) predict.py standardizes each request
# by its own statistics (a single application becomes all zeros, a high-risk batch is shifted) --
# save the training mean/std in model.json and use them when scoring.
set -e
python3 - <<'PY'
def edit(path, old, new):
    s = open(path).read()
    assert old in s, (path, old)
    open(path, "w").write(s.replace(old, new))

edit("train.py", 'if c not in ("id", LABEL)]', 'if c not in ("id", LABEL, "collections_flag")]')
edit("train.py", "    return [[(x[j] - mean[j]) / std[j] for j in range(d)] for x in X]\n",
     "    return [[(x[j] - mean[j]) / std[j] for j in range(d)] for x in X], mean, std\n")
edit("train.py", "w, b = fit(standardize(X), y)", "Z, mean, std = standardize(X)\n    w, b = fit(Z, y)")
edit("train.py", '{"features": features, "w": w, "b": b}',
     '{"features": features, "w": w, "b": b, "mean": mean, "std": std}')
edit("predict.py", "from train import sigmoid, standardize", "from train import sigmoid")
edit("predict.py", "    Z = standardize(X)\n",
     '    Z = [[(x[j] - m) / s for j, (m, s) in enumerate(zip(model["mean"], model["std"]))] for x in X]\n')
PY
python3 train.py
python3 evaluate.py
head -2 data/production_sample.csv > one.csv
python3 predict.py one.csv one-out.csv && cat one-out.csv
