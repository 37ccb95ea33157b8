#!/bin/bash
# The key is random.randbytes() after random.seed(int(time.time())); the header leaks the UTC date,
# so only 86400 seeds are possible. Try them all and keep the printable plaintext.
python3 - <<'PY'
import calendar, random, re
blob = open("notes.txt.vault", "rb").read()
y, m, d = map(int, blob[4:14].decode().split("-"))
ct = blob[14:]
t0 = calendar.timegm((y, m, d, 0, 0, 0))
for t in range(t0 - 86400, t0 + 2 * 86400):  # a little slack around the date
    random.seed(t)
    k = random.randbytes(16)
    p = bytes(a ^ b for a, b in zip(ct, k))
    if all(32 <= x < 127 or x in (9, 10) for x in p):
        random.seed(t)
        full = bytes(a ^ b for a, b in zip(ct, random.randbytes(len(ct))))
        mm = re.search(rb"flag\{[^}]*\}", full)
        if mm:
            print("seed", t); print(full.decode()); print(mm.group(0).decode()); break
PY
