#!/bin/bash
# Reference solution: one PUT of the file's bytes, then compare the service's sha256 with ours.
set -e
python3 - <<'PY'
import hashlib, json, urllib.request
data = open("weights/model.bin", "rb").read()
req = urllib.request.Request("http://127.0.0.1:18201/objects/backup/model.bin", data=data, method="PUT")
res = json.load(urllib.request.urlopen(req))
assert res["sha256"] == hashlib.sha256(data).hexdigest(), res
print(res)
PY
