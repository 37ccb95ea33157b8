#!/bin/bash
# Rebuild the packets from the hex dump, order the server's TCP payload by sequence number
# (dropping the retransmitted copy), strip the HTTP headers and gunzip the body.
python3 - <<'PY'
import gzip, re, struct
pkts, cur = [], None
for line in open("capture.txt"):
    if re.match(r"\d\d:\d\d:\d\d", line):
        cur = bytearray(); pkts.append(cur)
    else:
        m = re.match(r"\s+0x[0-9a-f]+:\s+((?:[0-9a-f]{2,4} ?)+)", line)
        if m: cur += bytes.fromhex(m.group(1).replace(" ", ""))
stream = {}
for p in pkts:
    ihl = (p[0] & 15) * 4
    sport, dport, seq = struct.unpack(">HHI", p[ihl:ihl + 8])
    doff = (p[ihl + 12] >> 4) * 4
    data = bytes(p[ihl + doff:struct.unpack(">H", p[2:4])[0]])
    if sport == 80 and data: stream[seq] = data          # duplicates collapse onto the same seq
body = b"".join(stream[s] for s in sorted(stream))
hdr, _, gz = body.partition(b"\r\n\r\n")
print(hdr.decode())
text = gzip.decompress(gz).decode()
print(text)
print(re.search(r"flag\{[^}]*\}", text).group(0))
PY
