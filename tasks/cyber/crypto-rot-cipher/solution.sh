#!/bin/bash
# Try all 26 shifts and keep the one that yields a flag{...}.
python3 - <<'PY'
import re
c = open("intercept.txt").read()
for k in range(26):
    p = "".join(chr((ord(x)-97-k)%26+97) if x.islower() else chr((ord(x)-65-k)%26+65) if x.isupper() else x for x in c)
    m = re.search(r"flag\{[^}]*\}", p)
    if m: print("shift", k); print(m.group(0)); break
PY
