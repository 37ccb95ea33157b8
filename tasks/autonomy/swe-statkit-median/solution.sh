#!/bin/bash
# Reference solution: sort before picking the middle, and use the two middle values (mid-1, mid).
set -e
python3 - <<'PY'
p = "statkit/core.py"
s = open(p).read()
s = s.replace("""    xs = _require(xs)
    n = len(xs)
    mid = n // 2""", """    xs = sorted(_require(xs))
    n = len(xs)
    mid = n // 2""")
s = s.replace("return (xs[mid] + xs[mid + 1]) / 2", "return (xs[mid - 1] + xs[mid]) / 2")
open(p, "w").write(s)
PY
python3 -m unittest discover -s tests
