#!/usr/bin/env python3
"""vault.py - tiny file locker (v1.0)

usage: vault.py lock FILE    -> writes FILE.vault
       vault.py unlock FILE.vault KEYHEX
"""
import random, sys, time

MAGIC = b"VLT1"

def lock(path):
    data = open(path, "rb").read()
    now = int(time.time())
    random.seed(now)                      # fresh key for every file
    key = random.randbytes(len(data))
    stamp = time.strftime("%Y-%m-%d", time.gmtime(now)).encode()
    ct = bytes(a ^ b for a, b in zip(data, key))
    open(path + ".vault", "wb").write(MAGIC + stamp + ct)
    print("locked; your key (keep it safe!):", key.hex())

def unlock(path, keyhex):
    blob = open(path, "rb").read()
    assert blob[:4] == MAGIC
    ct, key = blob[14:], bytes.fromhex(keyhex)
    sys.stdout.buffer.write(bytes(a ^ b for a, b in zip(ct, key)))

if __name__ == "__main__":
    if sys.argv[1] == "lock": lock(sys.argv[2])
    else: unlock(sys.argv[2], sys.argv[3])
