#!/bin/bash
# The file is a PNG: its first 16 bytes are fixed (signature + IHDR length + "IHDR").
# XOR them with the ciphertext to get the key stream, find its period, decrypt, read the text chunks.
python3 - <<'PY'
import struct, zlib
c = open("scan.png.enc", "rb").read()
known = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"
ks = bytes(a ^ b for a, b in zip(c, known))
for L in range(1, 17):
    if all(ks[i] == ks[i % L] for i in range(len(ks))):
        key = ks[:L]
        p = bytes(b ^ key[i % L] for i, b in enumerate(c))
        # verify by walking the chunks and checking CRCs
        pos, ok, texts = 8, True, []
        while pos < len(p):
            n, = struct.unpack(">I", p[pos:pos+4]); t = p[pos+4:pos+8]; body = p[pos+8:pos+8+n]
            if pos + 12 + n > len(p) or struct.unpack(">I", p[pos+8+n:pos+12+n])[0] != zlib.crc32(t + body): ok = False; break
            if t == b"tEXt": texts.append(body)
            pos += 12 + n
        if ok:
            print("key length", L, key.hex())
            for t in texts: print(t)
            for t in texts:
                if b"flag{" in t: print(t.split(b"\x00", 1)[1].decode())
            break
PY
