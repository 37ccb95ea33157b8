#!/bin/bash
# p and q are close together, so Fermat's method (n = a^2 - b^2) factors n at once.
set -e
mod=$(openssl rsa -pubin -in pub.pem -noout -modulus | cut -d= -f2)
python3 - "$mod" <<'PY'
import math, sys
n = int(sys.argv[1], 16); e = 65537
a = math.isqrt(n)
if a * a < n: a += 1
while True:
    b2 = a * a - n; b = math.isqrt(b2)
    if b * b == b2: break
    a += 1
p, q = a - b, a + b
assert p * q == n
d = pow(e, -1, (p - 1) * (q - 1))
c = int.from_bytes(open("message.bin", "rb").read(), "big")
m = pow(c, d, n).to_bytes(256, "big")
assert m[:2] == b"\x00\x02"
msg = m[m.index(b"\x00", 2) + 1:].decode()
print(msg)
print(msg[msg.index("flag{"):])
PY
