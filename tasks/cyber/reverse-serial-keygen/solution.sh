#!/bin/bash
# From the disassembly: serial = 4 hex groups g[k]; each must satisfy mix(g[k], k+1) == T[k] with
#   x ^= k*0x9e3779b9; x *= 0x85ebca6b; x ^= x>>13; x *= 0xc2b2ae35; x ^= x>>16
# mix is invertible, so invert every aligned word of .rodata and look for 4 consecutive ones
# that come back as 16-bit group values. Then feed the serial to the program.
serial=$(python3 - <<'PY'
import struct
M = 0xffffffff
def unmix(y, k):
    y ^= y >> 16
    y = (y * pow(0xc2b2ae35, -1, 2**32)) & M
    y ^= (y >> 13) ^ (y >> 26)
    y = (y * pow(0x85ebca6b, -1, 2**32)) & M
    return y ^ ((k * 0x9e3779b9) & M)
elf = open("activate", "rb").read()
shoff, = struct.unpack_from("<Q", elf, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3a)
secs = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
name = lambda s: elf[secs[shstrndx][4] + s[0]:].split(b"\0", 1)[0]
ro = next(s for s in secs if name(s) == b".rodata")
data = elf[ro[4]:ro[4] + ro[5]]
for off in range(0, len(data) - 15, 4):
    T = struct.unpack_from("<4I", data, off)
    g = [unmix(t, k + 1) for k, t in enumerate(T)]
    if all(x < 0x10000 for x in g):
        print("-".join(f"{x:04X}" for x in g)); break
PY
)
echo "serial: $serial"
out=$(echo "$serial" | ./activate)
echo "$out"
echo "$out" | grep -o 'flag{[^}]*}'
