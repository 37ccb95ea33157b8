#!/bin/bash
# Attachment 3 was deleted, but SQLite only marks the cell as free space. The live rows show the
# data column is zlib: scan the raw file for zlib streams and inflate each one.
sqlite3 notes.db "SELECT id, filename, size FROM attachments; SELECT * FROM audit;"
python3 - <<'PY'
import re, zlib
raw = open("notes.db", "rb").read()
for i in range(len(raw) - 1):
    if raw[i] == 0x78 and raw[i + 1] in (0x01, 0x5e, 0x9c, 0xda):
        try: out = zlib.decompressobj().decompress(raw[i:])
        except zlib.error: continue
        m = re.search(rb"flag\{[^}]*\}", out)
        if m: print("zlib stream at", i, out); print(m.group(0).decode()); break
PY
