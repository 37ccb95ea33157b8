#!/bin/bash
# Peel layers: at each step recognise the encoding (gzip magic, hex, base32, base64, base85).
python3 - <<'PY'
import base64, binascii, gzip, re
d = open("transmission.txt", "rb").read().strip()
for step in range(50):
    if d.startswith(b"flag{"): break
    if d[:2] == b"\x1f\x8b": d = gzip.decompress(d); how = "gzip"
    elif re.fullmatch(rb"[0-9a-f]+", d) and len(d) % 2 == 0: d = bytes.fromhex(d.decode()); how = "hex"
    elif re.fullmatch(rb"[A-Z2-7]+=*", d): d = base64.b32decode(d); how = "base32"
    elif re.fullmatch(rb"[A-Za-z0-9+/]+=*", d): d = base64.b64decode(d, validate=True); how = "base64"
    else: d = base64.b85decode(d); how = "base85"
    print("layer", step, how)
print(d.decode())
PY
