# Reproduces what issue_tokens.py did, with a fixed seed, writing files/sealed.bin and files/tokens.log.
import os, random
FLAG = b"flag{rewind_the_twister_0879d969c459f486}"
rng = random.Random(0x5eed0fdeadbeef1234567890)
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "files")
pad = rng.randbytes(len(FLAG))
open(os.path.join(d, "sealed.bin"), "wb").write(bytes(a ^ b for a, b in zip(FLAG, pad)))
with open(os.path.join(d, "tokens.log"), "w") as log:
    for session in range(1, 1301):
        log.write(f"session {session:04d} token {rng.getrandbits(32):08x}\n")
