#!/bin/bash
# Reference solution: implement both functions per the docstrings.
set -e
python3 - <<'PY'
p = "calendar_utils/intervals.py"
s = open(p).read()
merge = '''    norm = []
    for iv in intervals:
        start, end = iv
        if start > end:
            raise ValueError(f"interval {iv!r} ends before it starts")
        if start < end:
            norm.append([start, end])
    norm.sort()
    out = []
    for start, end in norm:
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return out
'''
free = '''    lo, hi = parse_hhmm(day_start), parse_hhmm(day_end)
    if lo > hi:
        raise ValueError("day_start after day_end")
    if min_minutes < 0:
        raise ValueError("negative min_minutes")
    clipped = []
    for start, end in busy:
        s, e = parse_hhmm(start), parse_hhmm(end)
        if s > e:
            raise ValueError(f"busy interval {start}-{end} ends before it starts")
        clipped.append([max(s, lo), min(e, hi)])
    clipped = [iv for iv in clipped if iv[0] < iv[1]]
    out, cur = [], lo
    for s, e in merge_intervals(clipped) + [[hi, hi]]:
        gap = s - cur
        if gap > 0 and gap >= min_minutes:
            out.append([format_hhmm(cur), format_hhmm(s)])
        cur = max(cur, e)
    return out
'''
parts = s.split("    raise NotImplementedError\n")
assert len(parts) == 3
open(p, "w").write(parts[0] + merge + parts[1] + free + parts[2])
PY
python3 -c "
from calendar_utils import *
print(merge_intervals([[5, 8], [1, 3], [3, 4], [10, 10]]))
print(free_slots([('09:30', '10:00'), ('09:45', '11:00'), ('16:30', '18:00')], '09:00', '17:00', 30))"
