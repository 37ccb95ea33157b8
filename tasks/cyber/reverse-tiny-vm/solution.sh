#!/bin/bash
# Reversing the binary shows a byte-code interpreter: code[pc] is decoded as code[pc] ^ (pc*13 + 0x5c),
# the program must start with "VM1", and there are 13 opcodes on 4 byte registers (see emulator below).
# The program loads input bytes one at a time, transforms them and compares with CMPI; a wrong byte
# only makes its own CMPI fail. Emulate it and brute-force each input byte at the CMPI that tests it.
flag=$(python3 - <<'PY'
import struct
elf = open("vm", "rb").read()
shoff, = struct.unpack_from("<Q", elf, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3a)
secs = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
name = lambda s: elf[secs[shstrndx][4] + s[0]:].split(b"\0", 1)[0]
ro = next(s for s in secs if name(s) == b".rodata")
data = elf[ro[4]:ro[4] + ro[5]]
dec = lambda off: bytes(b ^ ((j * 13 + 0x5c) & 0xff) for j, b in enumerate(data[off:]))
off = next(o for o in range(len(data)) if dec(o)[:3] == b"VM1")
P = dec(off)
rol = lambda v, n: ((v << n) | (v >> (8 - n))) & 0xff
def step(pc, R, inp, n):
    """execute one instruction; returns (new pc, cmp result or None, loaded index or None)"""
    op, a, b = P[pc], P[pc + 1] & 3, P[pc + 2]
    if op == 0x31: R[a] = n; return pc + 2, None, None
    if op == 0xff: return None, None, None
    res = ld = None
    if op == 0x10: R[a] = b
    elif op == 0x11: R[a] = inp.get(b, 0); ld = b
    elif op == 0x12: R[a] = R[b & 3]
    elif op == 0x20: R[a] = (R[a] + R[b & 3]) & 0xff
    elif op == 0x21: R[a] ^= R[b & 3]
    elif op == 0x22: R[a] = (R[a] - R[b & 3]) & 0xff
    elif op == 0x23: R[a] = (R[a] + b) & 0xff
    elif op == 0x24: R[a] ^= b
    elif op == 0x25: R[a] = (R[a] * b) & 0xff
    elif op == 0x26: R[a] = rol(R[a], b & 7)
    elif op == 0x30: res = R[a] == b
    else: raise SystemExit("unknown opcode %#x at %d" % (op, pc))
    return pc + 3, res, ld
# pass 1: the length check is the first CMPI after LEN
n = P[7] if P[3] == 0x31 and P[5] == 0x30 else None
inp, pc, R, snap = {}, 3, [0] * 4, None
while pc is not None:
    if P[pc] == 0x11 and P[pc + 2] not in inp: snap = (pc, R[:], P[pc + 2])
    npc, res, _ = step(pc, R, inp, n)
    if res is False and snap:
        spc, sR, idx = snap
        for v in range(32, 127):
            inp[idx] = v; R2, p = sR[:], spc
            while p != pc: p, _, _ = step(p, R2, inp, n)
            _, r2, _ = step(pc, R2, inp, n)
            if r2: R = R2; break
        else: raise SystemExit("no byte fits at index %d" % idx)
        snap = None
        npc = pc + 3
    pc = npc
print(bytes(inp[i] for i in range(n)).decode())
PY
)
echo "$flag" | ./vm
echo
echo "$flag"
