#!/bin/bash
# The checker compares argv[1][i] ^ k with table[i], k starting at 0x5a and growing by 7 per byte
# (seen in the disassembly: objdump -d checker). Pull .rodata out of the ELF, find the table by
# decoding at every offset, and confirm with the program itself.
objdump -d --no-show-raw-insn checker | grep -E 'xor|add +\$0x7|0x5a' | head
flag=$(python3 - <<'PY'
import re, struct
elf = open("checker", "rb").read()
shoff, = struct.unpack_from("<Q", elf, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3a)
secs = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
strtab = secs[shstrndx]
name = lambda s: elf[strtab[4] + s[0]:].split(b"\0", 1)[0]
ro = next(s for s in secs if name(s) == b".rodata")
data = elf[ro[4]:ro[4] + ro[5]]
for off in range(len(data)):
    dec = bytes(b ^ ((0x5a + 7 * i) & 0xff) for i, b in enumerate(data[off:off + 80]))
    m = re.match(rb"flag\{[\x20-\x7e]*?\}", dec)
    if m: print(m.group(0).decode()); break
PY
)
./checker "$flag"
echo "$flag"
