# Generates files/firmware.bin: a vendor image with a header, a boot blob, a gzip'd "kernel" (decoy)
# and a gzip'd tar root filesystem holding an openssl-encrypted flag and its key (run once).
import gzip, io, os, random, struct, subprocess, tarfile, zlib
FLAG = "flag{carved_out_of_the_firmware_5f4834dcddfeaec1}"
rng = random.Random(8080)
KEY = "Ventil8-Blue-Otter-42"
SALT = "a1b2c3d4e5f60718"
flag_enc = subprocess.run(["openssl", "enc", "-aes-256-cbc", "-pbkdf2", "-S", SALT, "-pass", "pass:" + KEY],
                          input=(FLAG + "\n").encode(), capture_output=True, check=True).stdout
if not flag_enc.startswith(b"Salted__"):  # OpenSSL 3 omits the header when -S is given
    flag_enc = b"Salted__" + bytes.fromhex(SALT) + flag_enc
files = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nadmin:x:1000:1000:admin:/home/admin:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\n",
    "etc/hostname": "acme-gw-3000\n",
    "etc/banner": "ACME Gateway 3000 - authorised use only\n",
    "etc/backup.key": KEY + "\n",
    "usr/sbin/backup.sh": "#!/bin/sh\n# nightly: seal the recovery token\n"
                          "openssl enc -d -aes-256-cbc -pbkdf2 -pass file:/etc/backup.key -in /opt/vault/token.enc 2>/dev/null && exit 0\n"
                          "echo 'token missing' >&2; exit 1\n",
    "opt/vault/README": "token.enc is produced at the factory with\n  openssl enc -aes-256-cbc -pbkdf2 -pass file:/etc/backup.key\n",
    "www/index.html": "<html><body><h1>ACME Gateway</h1><form action=/login><input name=p></form></body></html>\n",
}
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
    def add(name, data, mode=0o644):
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1704067200; ti.mode = mode
        ti.uname = ti.gname = "root"; tf.addfile(ti, io.BytesIO(data))
    for n, t in files.items(): add(n, t.encode(), 0o755 if n.endswith(".sh") else 0o644)
    add("opt/vault/token.enc", flag_enc, 0o600)
rootfs = gzip.compress(buf.getvalue(), mtime=0)
kernel = gzip.compress(bytes(rng.randrange(256) for _ in range(12000)) + b"Linux version 5.10.0-acme" + bytes(2000), mtime=0)
boot = b"\x7fBOOT" + bytes(rng.randrange(256) for _ in range(6000))
pad = lambda b: b + b"\xff" * (-len(b) % 512)
sections = [(b"boot", pad(boot)), (b"kern", pad(kernel)), (b"root", pad(rootfs))]
hdr_len = 512
body, table, off = b"", b"", hdr_len
for name, data in sections:
    table += struct.pack("<4sII", name, off, len(data)); body += data; off += len(data)
hdr = b"ACMEFW\x00\x02" + struct.pack("<I", len(sections)) + table
hdr += b"\xff" * (hdr_len - len(hdr) - 4)
hdr += struct.pack("<I", zlib.crc32(hdr + body))
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "files")
open(os.path.join(d, "firmware.bin"), "wb").write(hdr + body)
