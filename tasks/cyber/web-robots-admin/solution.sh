#!/bin/bash
# Read robots.txt, visit every Disallowed path, print the flag found.
set -e
python3 - <<'PY'
import re, urllib.request, urllib.error
base = "http://127.0.0.1:8101"
robots = urllib.request.urlopen(base + "/robots.txt").read().decode()
for line in robots.splitlines():
    if line.lower().startswith("disallow:"):
        path = line.split(":", 1)[1].strip()
        try:
            body = urllib.request.urlopen(base + path).read().decode()
        except urllib.error.HTTPError:
            continue
        m = re.search(r"flag\{[^}]+\}", body)
        if m:
            print(m.group(0))
            break
PY
