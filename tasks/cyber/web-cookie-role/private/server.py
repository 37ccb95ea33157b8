#!/usr/bin/env python3
"""Dashboard whose session cookie is unsigned base64 JSON: flipping role to admin opens /admin."""
import base64, json, sys, urllib.parse
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8102
USERS = {"guest": ("guest", "user")}

LOGIN = """<!doctype html><html><head><title>Dashboard login</title></head><body>
<h1>Dashboard</h1><form method="POST" action="/login">
<input name="username" placeholder="username"> <input name="password" type="password" placeholder="password">
<button>Log in</button></form></body></html>"""


def encode(sess):
    return base64.b64encode(json.dumps(sess).encode()).decode()


def decode(value):
    try:
        sess = json.loads(base64.b64decode(value + "=" * (-len(value) % 4)))
        return sess if isinstance(sess, dict) else None
    except Exception:
        return None


class Handler(BaseHTTPRequestHandler):
    server_version = "Dash/0.3"
    sys_version = ""

    def send(self, code, body, headers=()):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def session(self):
        c = SimpleCookie()
        try:
            c.load(self.headers.get("Cookie", ""))
        except Exception:
            return None
        return decode(c["session"].value) if "session" in c else None

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        sess = self.session()
        if path == "/":
            if not sess:
                return self.send(200, LOGIN)
            self.send(200, "<!doctype html><html><body><h1>Dashboard</h1><p>Hello %s (role: %s).</p>"
                           "<ul><li><a href=\"/reports\">Reports</a></li><li><a href=\"/admin\">Admin</a></li></ul>"
                           "</body></html>" % (sess.get("user"), sess.get("role")))
        elif path == "/reports":
            if not sess:
                return self.send(302, "", [("Location", "/")])
            self.send(200, "<h1>Reports</h1><p>Q3 widget sales: 1,204 units.</p>")
        elif path == "/admin":
            if not sess:
                return self.send(302, "", [("Location", "/")])
            if sess.get("role") != "admin":
                return self.send(403, "<h1>403</h1><p>Admins only. Your role is '%s'.</p>" % sess.get("role"))
            flag = open("flag.txt").read().strip()
            self.send(200, "<h1>Admin</h1><p>Flag: %s</p>" % flag)
        else:
            self.send(404, "<h1>404 Not Found</h1>")

    def do_POST(self):
        if self.path != "/login":
            return self.send(404, "<h1>404 Not Found</h1>")
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode(errors="replace"))
        u = form.get("username", [""])[0]
        p = form.get("password", [""])[0]
        if u in USERS and USERS[u][0] == p:
            cookie = encode({"user": u, "role": USERS[u][1]})
            return self.send(302, "", [("Set-Cookie", "session=%s; Path=/; HttpOnly" % cookie), ("Location", "/")])
        self.send(401, "<h1>Login failed</h1><p><a href=\"/\">try again</a></p>")

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
