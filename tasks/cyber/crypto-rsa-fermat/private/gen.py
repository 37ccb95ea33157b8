# Generates files/pub.pem and files/message.bin (RSA-2048, PKCS#1 v1.5) with two close primes (run once).
import base64, os, random
FLAG = "flag{neighbours_should_not_share_57a7eae3932bc0e8}"
rng = random.Random(0xfe4a7)
def is_prime(n):
    if n < 2: return False
    for sp in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % sp == 0: return n == sp
    d, s = n - 1, 0
    while d % 2 == 0: d //= 2; s += 1
    for _ in range(40):
        a = rng.randrange(2, n - 1); x = pow(a, d, n)
        if x in (1, n - 1): continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1: break
        else: return False
    return True
def next_prime(n):
    n |= 1
    while not is_prime(n): n += 2
    return n
start = rng.getrandbits(1024) | (3 << 1022)
p = next_prime(start)
q = next_prime(p + rng.getrandbits(500))
n, e = p * q, 65537
d = pow(e, -1, (p - 1) * (q - 1))
def der_len(l): return bytes([l]) if l < 128 else bytes([0x80 | ((l.bit_length() + 7) // 8)]) + l.to_bytes((l.bit_length() + 7) // 8, "big")
def tlv(tag, body): return bytes([tag]) + der_len(len(body)) + body
def integer(v):
    b = v.to_bytes((v.bit_length() + 8) // 8, "big"); return tlv(0x02, b)
rsapub = tlv(0x30, integer(n) + integer(e))
algid = tlv(0x30, tlv(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
spki = tlv(0x30, algid + tlv(0x03, b"\x00" + rsapub))
def pem(label, der):
    b = base64.b64encode(der).decode()
    return f"-----BEGIN {label}-----\n" + "\n".join(b[i:i+64] for i in range(0, len(b), 64)) + f"\n-----END {label}-----\n"
priv = tlv(0x30, integer(0) + integer(n) + integer(e) + integer(d) + integer(p) + integer(q)
           + integer(d % (p - 1)) + integer(d % (q - 1)) + integer(pow(q, -1, p)))
here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "files")
open(os.path.join(out, "pub.pem"), "w").write(pem("PUBLIC KEY", spki))
open(os.path.join(here, "priv.pem"), "w").write(pem("RSA PRIVATE KEY", priv))  # for the record only
k = 256
msg = ("Backup unlock code: " + FLAG).encode()
ps = bytes(rng.randrange(1, 256) for _ in range(k - 3 - len(msg)))
m = int.from_bytes(b"\x00\x02" + ps + b"\x00" + msg, "big")
open(os.path.join(out, "message.bin"), "wb").write(pow(m, e, n).to_bytes(k, "big"))
