#!/bin/bash
# Carve every gzip stream out of the image, keep the one that is a tar (the root filesystem),
# read how the token was encrypted and with which key file, and decrypt it with openssl.
set -e
W=$PWD; T=$(mktemp -d); cd "$T"
python3 - "$W/firmware.bin" <<'PY'
import sys, io, tarfile, zlib
raw = open(sys.argv[1], "rb").read()
i = raw.find(b"\x1f\x8b\x08")
while i != -1:
    try:
        data = zlib.decompressobj(31).decompress(raw[i:])
        print("gzip at", i, "->", len(data), "bytes")
        try:
            tarfile.open(fileobj=io.BytesIO(data)).extractall("rootfs"); print("  tar extracted")
        except tarfile.TarError: pass
    except zlib.error: pass
    i = raw.find(b"\x1f\x8b\x08", i + 1)
PY
find rootfs -type f
cat rootfs/opt/vault/README
openssl enc -d -aes-256-cbc -pbkdf2 -pass file:rootfs/etc/backup.key -in rootfs/opt/vault/token.enc
