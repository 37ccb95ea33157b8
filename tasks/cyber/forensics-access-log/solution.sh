#!/bin/bash
# One client sends odd search queries with a page counter; decode and join them in page order.
grep -o '"GET /search?q=[^ ]*&page=[0-9]*' access.log | sed 's/.*q=//' | head -3
python3 - <<'PY'
import re, urllib.parse
parts = {}
for line in open("access.log"):
    m = re.search(r'"GET /search\?q=([^ &]*)&page=(\d+) ', line)
    if m: parts[int(m.group(2))] = urllib.parse.unquote(m.group(1))
print("".join(parts[k] for k in sorted(parts)))
PY
