#!/bin/bash
# The passphrase was "$(hostname)-$(date +%s)", typed between the two sudo commands that auth.log
# timestamps (with UTC offset). Try every second in that window with openssl; the right one yields gzip.
W=$PWD; T=$(mktemp -d)
python3 - > "$T/cands" <<'PY'
import datetime, re
lines = open("auth.log").read().splitlines()
tar = next(l for l in lines if "COMMAND=/usr/bin/tar" in l)
rm = next(l for l in lines if "COMMAND=/usr/bin/rm -f /tmp/.x.tgz" in l)
host = tar.split()[1]
t0 = int(datetime.datetime.fromisoformat(tar.split()[0]).timestamp())
t1 = int(datetime.datetime.fromisoformat(rm.split()[0]).timestamp())
for t in range(t0, t1 + 2): print(f"{host}-{t}")
PY
while read -r pw; do
  if openssl enc -d -aes-256-cbc -pbkdf2 -pass "pass:$pw" -in x.bin -out "$T/out" 2>/dev/null \
     && [ "$(head -c2 "$T/out" | xxd -p)" = "1f8b" ]; then
    echo "passphrase: $pw"; break
  fi
done < "$T/cands"
mkdir -p "$T/x" && tar xzf "$T/out" -C "$T/x" && cat "$T/x/exports/README.txt"
grep -o 'flag{[^}]*}' "$T/x/exports/README.txt"
