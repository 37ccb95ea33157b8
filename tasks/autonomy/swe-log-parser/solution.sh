#!/bin/bash
# Reference solution: a strict hand-written parser for the v2 format.
set -e
cat > logparse.py <<'PY'
"""Parser for the service log format v2 (see FORMAT.md)."""
import datetime as dt
import re

MONTHS = {m: i + 1 for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}
ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2})")
LEGACY = re.compile(r"([A-Z][a-z]{2}) (\d{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2})")
HEAD = re.compile(r" \[(DEBUG|INFO |WARN |ERROR|FATAL)\] ([a-z0-9][a-z0-9-]*)")
KEY = re.compile(r"[a-z_][a-z0-9_]*=")


def _timestamp(line):
    m = ISO.match(line)
    try:
        if m:
            y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
            us = int((m.group(7) or "").ljust(6, "0"))
            z = m.group(8)
            off = 0 if z == "Z" else (1 if z[0] == "+" else -1) * (int(z[1:3]) * 60 + int(z[4:6]))
            t = dt.datetime(y, mo, d, h, mi, s, us) - dt.timedelta(minutes=off)
            return t, m.end()
        m = LEGACY.match(line)
        if m and m.group(1) in MONTHS:
            t = dt.datetime(int(m.group(3)), MONTHS[m.group(1)], int(m.group(2)),
                            int(m.group(4)), int(m.group(5)), int(m.group(6)))
            return t, m.end()
    except ValueError:
        pass
    return None, 0


def _entry(line):
    t, i = _timestamp(line)
    if t is None:
        return None
    m = HEAD.match(line, i)
    if not m:
        return None
    level, service, i = m.group(1).strip(), m.group(2), m.end()
    fields, n = {}, len(line)
    while True:
        j = i
        while j < n and line[j] == " ":
            j += 1
        if j == n:
            break
        if j == i:
            return None  # tokens must be separated by a space
        km = KEY.match(line, j)
        if not km:
            return None
        key, i = km.group(0)[:-1], km.end()
        if i < n and line[i] == '"':
            i += 1; buf = []
            while True:
                if i >= n:
                    return None
                c = line[i]
                if c == '"':
                    i += 1; break
                if c == "\\":
                    nxt = line[i + 1] if i + 1 < n else ""
                    if nxt not in ('"', "\\", "n"):
                        return None
                    buf.append("\n" if nxt == "n" else nxt); i += 2; continue
                buf.append(c); i += 1
            if i < n and line[i] != " ":
                return None
            val = "".join(buf)
        else:
            j = i
            while j < n and line[j] != " ":
                j += 1
            if j == i:
                return None
            val, i = line[i:j], j
        fields.pop(key, None)
        fields[key] = val
    return {"ts": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "level": level, "service": service,
            "fields": fields, "trace": ""}


def parse_log(text):
    entries, bad, owner = [], 0, None
    for line in text.split("\n"):
        if line.endswith("\r"):
            line = line[:-1]
        if line.strip(" \t") == "":
            continue
        if line[0] in " \t":
            if owner:
                body = line.lstrip(" \t")
                owner["trace"] = owner["trace"] + "\n" + body if owner["trace"] else body
            else:
                bad += 1
            continue
        e = _entry(line)
        if e is None:
            bad += 1; owner = None
        else:
            entries.append(e); owner = e
    return {"entries": entries, "malformed": bad}
PY
python3 -c "
import json, logparse
got = logparse.parse_log(open('sample.log', newline='').read())
assert got == json.load(open('sample_expected.json')), 'sample differs'
print('sample ok:', len(got['entries']), 'entries,', got['malformed'], 'malformed')"
