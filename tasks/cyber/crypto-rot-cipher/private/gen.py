# Generates files/intercept.txt (run once; kept for the record).
import os
FLAG = "flag{julius_would_approve_6d15bda2e6cd4371}"
SHIFT = 11
msg = f"""To all field agents,

The courier arrives on the night train. Do not use the old drop point, it is burned.
Meet at the bakery on the corner and ask for the rye loaf with sesame seeds.
The code word for this week is {FLAG}
Destroy this message after reading.

-- Control
"""
def rot(s, k):
    out = []
    for ch in s:
        if 'a' <= ch <= 'z': out.append(chr((ord(ch) - 97 + k) % 26 + 97))
        elif 'A' <= ch <= 'Z': out.append(chr((ord(ch) - 65 + k) % 26 + 65))
        else: out.append(ch)
    return "".join(out)
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "files")
open(os.path.join(d, "intercept.txt"), "w").write(rot(msg, SHIFT))
