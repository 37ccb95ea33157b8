#!/usr/bin/env python3
# Session-token issuer (excerpt from the service, as deployed).
import os, random

rng = random.Random(int.from_bytes(os.urandom(32), "big"))   # unguessable seed

# seal the recovery flag before anything else, with a one-time pad from the generator
flag = open("/etc/tokend/flag.txt", "rb").read().strip()
pad = rng.randbytes(len(flag))
open("sealed.bin", "wb").write(bytes(a ^ b for a, b in zip(flag, pad)))
del flag, pad

# then hand out session tokens
with open("tokens.log", "w") as log:
    for session in range(1, 1301):
        log.write(f"session {session:04d} token {rng.getrandbits(32):08x}\n")
