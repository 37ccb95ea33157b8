#!/bin/bash
# The disassembly shows an FNV-1a style loop: h ^= c; h *= 0x1000193; cmp h, H[i] for every prefix,
# starting from a non-standard basis immediate. Take the 32-bit immediates as basis candidates, find
# the H table in .rodata, and recover the input one byte at a time.
D=$(mktemp)
objdump -d --no-show-raw-insn validator > "$D"
grep -B2 -A2 imul "$D" | head
python3 - "$D" <<'PY'
import re, struct, sys
dis = open(sys.argv[1]).read()
cands = {int(x, 16) for x in re.findall(r"\$0x([0-9a-f]{8})\b", dis)}
elf = open("validator", "rb").read()
shoff, = struct.unpack_from("<Q", elf, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3a)
secs = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
name = lambda s: elf[secs[shstrndx][4] + s[0]:].split(b"\0", 1)[0]
ro = next(s for s in secs if name(s) == b".rodata")
data = elf[ro[4]:ro[4] + ro[5]]
P = 0x01000193
for basis in cands:
    for off in range(0, len(data) - 4, 4):
        h, out = basis, b""
        while off + 4 * len(out) + 4 <= len(data):
            want, = struct.unpack_from("<I", data, off + 4 * len(out))
            for c in range(32, 127):
                if ((h ^ c) * P) & 0xffffffff == want: break
            else: break
            h = ((h ^ c) * P) & 0xffffffff; out += bytes([c])
            if c == ord("}"): break
        if out.startswith(b"flag{") and out.endswith(b"}"):
            print("basis %#x table at .rodata+%#x" % (basis, off)); print(out.decode()); raise SystemExit
PY
