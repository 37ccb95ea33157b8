#!/usr/bin/env python3
"""Ping tool with a command-injection bug -- SIMULATED. Nothing is ever executed on the host:
the "shell" below is a tiny python interpreter of a few allow-listed commands over a virtual file
system held in this process (the flag file's content is copied into it at start)."""
import html, posixpath, re, shlex, sys, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8106
BLOCKED = ";&`$"

APP_PY = '''from flask import Flask, request, render_template
import subprocess

app = Flask(__name__)
BLOCKED = ";&`$"

@app.route("/ping")
def ping():
    host = request.args.get("host", "")
    if any(c in host for c in BLOCKED):
        return "Invalid character in host", 400
    out = subprocess.run("ping -c 1 " + host, shell=True, capture_output=True, text=True, timeout=5)
    return render_template("result.html", output=out.stdout + out.stderr)
'''
FILES = {
    "/app/app.py": APP_PY,
    "/app/flag.txt": open("flag.txt").read(),
    "/app/requirements.txt": "flask==2.2.5\n",
    "/app/templates/index.html": "<form action=/ping><input name=host><button>Ping</button></form>\n",
    "/app/templates/result.html": "<pre>{{ output }}</pre>\n",
    "/etc/hostname": "netdiag-01\n",
    "/etc/passwd": "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n",
    "/etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
}
DIRS = {"/"}
for f in FILES:
    d = posixpath.dirname(f)
    while d not in DIRS:
        DIRS.add(d); d = posixpath.dirname(d)
DIRS |= {"/bin", "/usr", "/tmp", "/var", "/root", "/home"}
CWD = "/app"


def resolve(p):
    return posixpath.normpath(posixpath.join(CWD, p))


def children(d):
    names = set()
    for x in list(FILES) + list(DIRS):
        if x != d and posixpath.dirname(x) == d:
            names.add(posixpath.basename(x))
    return sorted(names)


def ping(args):
    hosts = [a for a in args if not a.startswith("-") and not a.isdigit()]
    if not hosts:
        return "", "ping: usage error: Destination address required\n"
    h = hosts[0]
    ip = "127.0.0.1" if h == "localhost" else h
    if not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", ip):
        if re.fullmatch(r"[A-Za-z0-9.-]+", h):
            return "", "ping: %s: Name or service not known\n" % h
        return "", "ping: %s: Name or service not known\n" % h
    head = "PING %s (%s) 56(84) bytes of data.\n" % (h, ip)
    if ip.startswith("127."):
        return (head + "64 bytes from %s: icmp_seq=1 ttl=64 time=0.041 ms\n\n--- %s ping statistics ---\n"
                "1 packets transmitted, 1 received, 0%% packet loss, time 0ms\nrtt min/avg/max/mdev = "
                "0.041/0.041/0.041/0.000 ms\n" % (ip, h)), ""
    return head + "\n--- %s ping statistics ---\n1 packets transmitted, 0 received, 100%% packet loss, time 0ms\n\n" % h, ""


def run(argv, stdin):
    """One simulated command -> (stdout, stderr)."""
    cmd, args = argv[0], argv[1:]
    if cmd == "ping":
        return ping(args)
    if cmd in ("true", ":"):
        return "", ""
    if cmd == "echo":
        return " ".join(args) + "\n", ""
    if cmd == "id":
        return "uid=33(www-data) gid=33(www-data) groups=33(www-data)\n", ""
    if cmd == "whoami":
        return "www-data\n", ""
    if cmd == "pwd":
        return CWD + "\n", ""
    if cmd == "hostname":
        return "netdiag-01\n", ""
    if cmd == "uname":
        return ("Linux netdiag-01 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 x86_64 GNU/Linux\n"
                if "-a" in args else "Linux\n"), ""
    if cmd == "ls":
        paths = [a for a in args if not a.startswith("-")] or ["."]
        out, err = [], []
        for p in paths:
            r = resolve(p)
            if r in DIRS:
                names = children(r)
                if any(a.startswith("-") and "a" in a for a in args):
                    names = [".", ".."] + names
                out.append(("%s:\n" % p if len(paths) > 1 else "") + "\n".join(names) + ("\n" if names else ""))
            elif r in FILES:
                out.append(p + "\n")
            else:
                err.append("ls: cannot access '%s': No such file or directory\n" % p)
        return "".join(out), "".join(err)
    if cmd in ("cat", "head", "tail", "grep"):
        pattern = None
        files = [a for a in args if not a.startswith("-")]
        if cmd == "grep":
            if not files:
                return "", "Usage: grep [OPTION]... PATTERNS [FILE]...\n"
            pattern, files = files[0], files[1:]
        if cmd in ("head", "tail"):
            files = [f for f in files if not f.isdigit()]
        texts, err = [], []
        if not files:
            texts.append(stdin)
        for p in files:
            r = resolve(p)
            if r in FILES:
                texts.append(FILES[r])
            elif r in DIRS:
                err.append("%s: %s: Is a directory\n" % (cmd, p))
            else:
                err.append("%s: %s: No such file or directory\n" % (cmd, p))
        text = "".join(texts)
        lines = text.splitlines(True)
        if cmd == "head":
            text = "".join(lines[:10])
        elif cmd == "tail":
            text = "".join(lines[-10:])
        elif cmd == "grep":
            text = "".join(l for l in lines if pattern in l)
        return text, "".join(err)
    if cmd in ("sh", "bash", "python", "python3", "nc", "wget", "curl", "perl"):
        return "", "sh: 1: %s: Permission denied\n" % cmd
    return "", "sh: 1: %s: not found\n" % cmd


def shell(line):
    """A very small /bin/sh look-alike: newlines, ;, &&, || and | separate commands."""
    out = []
    for stmt in re.split(r"\n|;", line):
        for part in re.split(r"&&|\|\|", stmt):
            stdin = ""
            stdout = ""
            for seg in part.split("|"):
                try:
                    argv = shlex.split(seg)
                except ValueError:
                    out.append("sh: 1: Syntax error: Unterminated quoted string\n")
                    stdout = ""
                    break
                if not argv:
                    continue
                stdout, stderr = run(argv, stdin)
                out.append(stderr)
                stdin = stdout
            out.append(stdout)
    return "".join(out)


INDEX = """<!doctype html><html><head><title>netdiag</title></head><body>
<h1>Network diagnostics</h1><form action="/ping"><input name="host" placeholder="e.g. 127.0.0.1">
<button>Ping</button></form></body></html>"""


class Handler(BaseHTTPRequestHandler):
    server_version = "Werkzeug/2.2.3 Python/3.11.2"
    sys_version = ""

    def send(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/":
            return self.send(200, INDEX)
        if u.path == "/ping":
            host = urllib.parse.parse_qs(u.query).get("host", [""])[0]
            if any(c in host for c in BLOCKED):
                return self.send(400, "Invalid character in host")
            output = shell("ping -c 1 " + host)
            return self.send(200, "<pre>%s</pre>\n" % html.escape(output))
        self.send(404, "<h1>Not Found</h1>")

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
