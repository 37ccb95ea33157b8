# Generates files/notes.txt.vault exactly as vault.py would have at a fixed moment (run once).
import calendar, os, random, time
FLAG = "flag{time_is_not_a_secret_9146f1aa22b636e7}"
T = calendar.timegm((2024, 3, 14, 9, 26, 53))
data = (b"Personal notes - do not share\n\n- renew passport before June\n- the backup server "
        b"password changed again\n- recovery flag for the audit: " + FLAG.encode() + b"\n- call mum\n")
random.seed(T)
key = random.randbytes(len(data))
blob = b"VLT1" + time.strftime("%Y-%m-%d", time.gmtime(T)).encode() + bytes(a ^ b for a, b in zip(data, key))
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "files")
open(os.path.join(d, "notes.txt.vault"), "wb").write(blob)
os.utime(os.path.join(d, "notes.txt.vault"), (T + 86400 * 200, T + 86400 * 200))
