"""Generates a log in the FORMAT.md v2 format together with the exact expected parse result."""
import datetime as dt
import random

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
LEVELS = ["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
SERVICES = ["auth-svc", "api", "billing-2", "9lives", "queue-worker", "db"]
KEYS = ["user", "msg", "latency_ms", "path", "_id", "k2", "status", "url", "note"]
WORDS = ["ok", "slow", "retry", "timeout", "héllo", "a=b", "x,y", "50%", "[bracket]", "tab\tin"]


def rand_dt(rng):
    if rng.random() < 0.3:  # near a month / year boundary
        base = dt.datetime(rng.choice([2023, 2024, 2025]), rng.randint(1, 12), 1, tzinfo=dt.timezone.utc)
        base += dt.timedelta(minutes=rng.randint(-900, 900))
    else:
        base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=rng.randint(0, 366 * 86400))
    return base.replace(microsecond=0)


def ts_text(rng):
    """(text, utc string) of a valid timestamp."""
    t = rand_dt(rng)
    if rng.random() < 0.3:
        return f"{MONTHS[t.month - 1]} {t.day:02d} {t.year} {t:%H:%M:%S}", t.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    nd = rng.choice([0, 0, 1, 2, 3, 3, 6])
    frac = "".join(rng.choice("0123456789") for _ in range(nd))
    us = int((frac + "000000")[:6]) if nd else 0
    if rng.random() < 0.4:
        zone, off = "Z", 0
    else:
        h, m = rng.randint(0, 13), rng.choice([0, 0, 30, 45]); sign = rng.choice([1, -1])
        zone, off = f"{'+' if sign > 0 else '-'}{h:02d}:{m:02d}", sign * (h * 60 + m)
    local = t + dt.timedelta(minutes=off)
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if nd else "") + zone
    return text, (t.replace(microsecond=us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def value(rng):
    """(text, value) of a field value."""
    r = rng.random()
    if r < 0.45:
        v = rng.choice(["200", "ok", "http://h/p?a=b&c=d", 'we"ird', "x\\y", "-1.5", "é", "a=b=c"])
        return v, v
    parts = [rng.choice(WORDS) for _ in range(rng.randint(0, 4))]
    raw = " ".join(parts)
    if rng.random() < 0.4: raw += rng.choice(['"quoted"', "back\\slash", "line\nbreak", '\\"'])
    esc = raw.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{esc}"', raw


def entry(rng):
    ts, uts = ts_text(rng)
    lvl = rng.choice(LEVELS); svc = rng.choice(SERVICES)
    line = f"{ts} [{lvl:<5}] {svc}"
    fields = {}
    for _ in range(rng.randint(0, 5)):
        k = rng.choice(KEYS); vt, v = value(rng)
        line += " " * rng.choice([1, 1, 1, 2, 3]) + f"{k}={vt}"
        fields.pop(k, None); fields[k] = v
    line += " " * rng.choice([0, 0, 0, 1, 2])
    return line, {"ts": uts, "level": lvl, "service": svc, "fields": fields, "trace": ""}


def malformed(rng):
    good, _ = entry(rng)
    ts = good.split(" [")[0]
    rest = good[len(ts):]
    kinds = [
        lambda: good.replace("[", "[ ", 1) if "[" in good else "x",
        lambda: "2024-02-30T10:00:00Z" + rest, lambda: "2023-02-29T10:00:00.5+01:00" + rest,
        lambda: "2024-01-01T24:00:00Z" + rest, lambda: "2024-13-01T00:00:00Z" + rest,
        lambda: "2024-06-01T12:60:00Z" + rest, lambda: "2024-06-01T12:00:60Z" + rest,
        lambda: "2024-06-01T12:00:00" + rest, lambda: "2024-06-01T12:00:00.1234567Z" + rest,
        lambda: "2024-06-01 12:00:00Z" + rest, lambda: "Feb 30 2024 10:00:00" + rest,
        lambda: "mar 05 2024 10:00:00" + rest, lambda: "Mar 5 2024 10:00:00" + rest,
        lambda: ts + "  " + rest[1:], lambda: ts + " [WARNING] api k=v", lambda: ts + " [warn ] api",
        lambda: ts + " [INFO] api", lambda: ts + " [ INFO] api", lambda: ts + " [INFO ]  api",
        lambda: ts + " [INFO ] Api k=v", lambda: ts + " [INFO ] -api", lambda: ts + " [INFO ] api 1k=v",
        lambda: ts + ' [INFO ] api k="unterminated', lambda: ts + ' [INFO ] api k="bad\\tescape"',
        lambda: ts + ' [INFO ] api k="closed"x', lambda: ts + " [INFO ] api k=", lambda: ts + " [INFO ] api k",
        lambda: ts + " [INFO ] api K=v", lambda: ts + " [INFO ] api k=v junk", lambda: ts + " [INFO ]",
        lambda: "=== service restarted ===", lambda: "Traceback (most recent call last):",
        lambda: ts + " [INFO ] api\tk=v", lambda: ts + ' [INFO ] api k="a"="b"',
    ]
    return rng.choice(kinds)()


def generate(seed, n):
    rng = random.Random(seed)
    lines, entries, bad = [], [], 0
    last_valid = None  # None: no preceding line; False: malformed; else the entry dict
    if rng.random() < 0.7:
        lines.append("   orphan continuation"); bad += 1
    for _ in range(n):
        r = rng.random()
        if r < 0.62:
            line, e = entry(rng); lines.append(line); entries.append(e); last_valid = e
        elif r < 0.74:
            lines.append(malformed(rng)); bad += 1; last_valid = False
        elif r < 0.86:
            body = rng.choice(["at com.example.Main(Main.java:42)", "File \"x.py\", line 3", "k=v [INFO ]",
                               "caused by: timeout ", "  deeper  ", "\"quoted\" \\n"])
            line = rng.choice([" ", "  ", "\t", " \t "]) + body
            lines.append(line)
            if last_valid:
                last_valid["trace"] = (last_valid["trace"] + "\n" if last_valid["trace"] else "") + body.lstrip(" \t")
            else:
                bad += 1
        else:
            lines.append(rng.choice(["", " ", "\t", "  \t"]))
    text = ""
    for ln in lines:
        text += ln + ("\r\n" if rng.random() < 0.1 else "\n")
    if rng.random() < 0.5: text = text[:-1] if not text.endswith("\r\n") else text
    return text, {"entries": entries, "malformed": bad}
