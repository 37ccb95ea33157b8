# Generates files/scan.png.enc: a small PNG (flag in a tEXt chunk) XORed with a repeating 11-byte key.
import os, random, struct, zlib
FLAG = "flag{magic_bytes_never_lie_1090d7b953122337}"
rng = random.Random(20240301)
KEY = bytes(rng.randrange(256) for _ in range(11))
def chunk(t, body): return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body))
W, H = 48, 32
raw = b"".join(b"\x00" + bytes((x * 5 + y * 3) & 0xff for x in range(W)) for y in range(H))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 0, 0, 0, 0))
       + chunk(b"tEXt", b"Software\x00ScanMaster 3000")
       + chunk(b"IDAT", zlib.compress(raw, 9))
       + chunk(b"tEXt", b"Comment\x00" + FLAG.encode())
       + chunk(b"IEND", b""))
enc = bytes(b ^ KEY[i % len(KEY)] for i, b in enumerate(png))
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "files")
open(os.path.join(d, "scan.png.enc"), "wb").write(enc)
