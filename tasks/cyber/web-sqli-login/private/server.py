#!/usr/bin/env python3
"""Staff portal whose login query is built by string concatenation (SQL injection)."""
import html, secrets, sqlite3, sys, threading, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8103

db = sqlite3.connect(":memory:", check_same_thread=False)
lock = threading.Lock()
db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT, password TEXT, role TEXT)")
for name, role in [("admin", "admin"), ("jsmith", "staff"), ("mlopez", "staff"), ("kchen", "staff")]:
    db.execute("INSERT INTO users (username, password, role) VALUES (?, ?, ?)", (name, secrets.token_urlsafe(18), role))
db.commit()

PAGE = """<!doctype html><html><head><title>Staff portal</title></head><body>
<h1>Staff portal</h1>%s
<form method="POST" action="/login">
<input name="username" placeholder="username"> <input name="password" type="password" placeholder="password">
<button>Log in</button></form></body></html>"""


class Handler(BaseHTTPRequestHandler):
    server_version = "Portal/2.1"
    sys_version = ""

    def send(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.split("?", 1)[0] in ("/", "/login"):
            return self.send(200, PAGE % "")
        self.send(404, "<h1>404 Not Found</h1>")

    def do_POST(self):
        if self.path != "/login":
            return self.send(404, "<h1>404 Not Found</h1>")
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode(errors="replace"))
        u = form.get("username", [""])[0]
        p = form.get("password", [""])[0]
        query = "SELECT username, role FROM users WHERE username = '" + u + "' AND password = '" + p + "'"
        try:
            with lock:
                row = db.execute(query).fetchone()
        except sqlite3.Error as e:
            return self.send(500, PAGE % ("<p>Database error: %s</p>" % html.escape(str(e))))
        if not row:
            return self.send(401, PAGE % "<p>Invalid username or password.</p>")
        if row[1] == "admin":
            flag = open("flag.txt").read().strip()
            return self.send(200, "<h1>Welcome, %s</h1><p>Administrator flag: %s</p>" % (html.escape(row[0]), flag))
        self.send(200, "<h1>Welcome, %s</h1><p>No new messages. Only the administrator sees the flag.</p>"
                  % html.escape(row[0]))

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
