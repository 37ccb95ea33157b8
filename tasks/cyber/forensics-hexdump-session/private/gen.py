# Generates files/capture.txt: a tcpdump -nn -X style text dump of one HTTP download whose gzip body
# holds the flag; one segment was retransmitted (run once).
import gzip, os, random, struct
FLAG = "flag{reassembly_required_000e226160ce5209}"
rng = random.Random(99)
CLI, SRV, CP, SP = (10, 0, 0, 23), (10, 0, 0, 5), 51514, 80
text = "# exported config\n" + "".join(f"node{i:02d}.token = {rng.getrandbits(128):032x}\n" for i in range(12)) \
       + f"admin.recovery = {FLAG}\n" + "".join(f"node{i:02d}.port = {rng.randrange(1024, 65535)}\n" for i in range(12, 20))
body = gzip.compress(text.encode(), mtime=0)
resp = (b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()) + body
req = b"GET /export/config.txt HTTP/1.1\r\nHost: 10.0.0.5\r\nAccept-Encoding: gzip\r\nUser-Agent: curl/7.88.1\r\n\r\n"
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack(f">{len(b)//2}H", b)); s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
ipid = [0x3a10]
def pkt(src, dst, sp, dp, seq, ack, flags, data):
    tcp = struct.pack(">HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 502, 0, 0) + data
    ph = bytes(src) + bytes(dst) + struct.pack(">BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack(">H", csum(ph + tcp)) + tcp[18:]
    ipid[0] += 1
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ipid[0], 0x4000, 64, 6, 0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack(">H", csum(ip)) + ip[12:]
    return ip + tcp
def hexdump(b):
    out = []
    for o in range(0, len(b), 16):
        ch = b[o:o + 16]
        hx = " ".join(ch[i:i + 2].hex() for i in range(0, len(ch), 2))
        out.append(f"\t0x{o:04x}:  {hx:<40}  " + "".join(chr(c) if 32 <= c < 127 else "." for c in ch))
    return "\n".join(out)
FL = {0x02: "S", 0x12: "S.", 0x10: ".", 0x18: "P.", 0x11: "F.", 0x19: "FP."}
cisn, sisn = 0x6b8b4567, 0x327b23c6
events, t = [], 9 * 3600 + 12 * 60 + 1.100000
def add(c2s, seq, ack, flags, data, isn_s, isn_a):
    global t
    t += rng.uniform(0.0001, 0.03)
    src, dst, sp, dp = (CLI, SRV, CP, SP) if c2s else (SRV, CLI, SP, CP)
    p = pkt(src, dst, sp, dp, (isn_s + seq) & 0xffffffff, (isn_a + ack) & 0xffffffff if flags != 0x02 else 0, flags, data)
    h, m, s = int(t // 3600), int(t % 3600 // 60), t % 60
    rel = f"seq {seq}:{seq + len(data)}" if data else (f"seq {isn_s + seq}" if flags in (0x02, 0x12) else f"seq {seq}" if flags & 1 else "")
    ackp = "" if flags == 0x02 else f"ack {ack if flags != 0x12 else isn_a + ack}"
    desc = ", ".join(x for x in [f"Flags [{FL[flags]}]", rel, ackp, "win 502", f"length {len(data)}"] if x)
    events.append(f"{h:02d}:{m:02d}:{s:09.6f} IP {'.'.join(map(str, src))}.{sp} > {'.'.join(map(str, dst))}.{dp}: {desc}\n{hexdump(p)}")
add(True, 0, 0, 0x02, b"", cisn, 0)
add(False, 0, 1, 0x12, b"", sisn, cisn)
add(True, 1, 1, 0x10, b"", cisn, sisn)
add(True, 1, 1, 0x18, req, cisn, sisn)
segs, off = [], 0
while off < len(resp):
    n = 1 + (rng.randrange(180, 260) if off else 200); segs.append((1 + off, resp[off:off + n])); off += n
ca = 1 + len(req)
order = list(range(len(segs))); order.insert(3, 1)   # segment 1 is sent again after segment 2
for k, i in enumerate(order):
    seq, data = segs[i]
    add(False, seq, ca, 0x18 if i == len(segs) - 1 else 0x10, data, sisn, cisn)
    if k % 2: add(True, ca, seq + len(data), 0x10, b"", cisn, sisn)
end = 1 + len(resp)
add(False, end, ca, 0x11, b"", sisn, cisn)
add(True, ca, end + 1, 0x11, b"", cisn, sisn)
add(False, end + 1, ca + 1, 0x10, b"", sisn, cisn)
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "files")
open(os.path.join(d, "capture.txt"), "w").write("\n".join(events) + "\n")
