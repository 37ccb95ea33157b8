#!/usr/bin/env python3
"""Card studio: the user's template goes through str.format(user=User(...)), so
{user.__init__.__globals__[SECRET_KEY]} leaks the session-signing key; with it one forges a
role=admin session cookie for /admin. The flag itself is never held in a global."""
import base64, hashlib, hmac, html, json, re, secrets, sys, urllib.parse
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8109
SECRET_KEY = secrets.token_hex(16)
FLAG_FILE = "flag.txt"
ACCOUNTS = {"guest": ("guest", "user")}
DEFAULT_TEMPLATE = "Dear friend, happy birthday! Warm wishes from {user.name}."


def sign(payload):
    """HMAC-SHA256 of the payload string, keyed with SECRET_KEY, as lowercase hex."""
    return hmac.new(SECRET_KEY.encode(), payload.encode(), hashlib.sha256).hexdigest()


def make_session(name, role):
    payload = base64.urlsafe_b64encode(json.dumps({"name": name, "role": role}).encode()).decode().rstrip("=")
    return payload + "." + sign(payload)


def read_session(value):
    try:
        payload, sig = value.rsplit(".", 1)
    except ValueError:
        return None
    if not hmac.compare_digest(sign(payload), sig):
        return None
    try:
        s = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except Exception:
        return None
    return s if isinstance(s, dict) else None


class User:
    def __init__(self, name, role):
        self.name = name
        self.role = role

    def __repr__(self):
        return "<User %s>" % self.name


PAGE = """<!doctype html><html><head><title>Card studio</title></head><body><h1>Card studio</h1>%s</body></html>"""
LOGIN = """<form method="POST" action="/login"><input name="username" placeholder="username">
<input name="password" type="password" placeholder="password"><button>Log in</button></form>"""
EDITOR = """<p>Logged in as %s. Design a card: your template may use <code>{user.name}</code>.</p>
<form action="/card"><textarea name="template" rows="4" cols="60">%s</textarea><br><button>Preview</button></form>
<p><a href="/admin">admin</a></p>"""


class Handler(BaseHTTPRequestHandler):
    def send(self, code, body, headers=()):
        data = (PAGE % body).encode()
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
        return read_session(c["session"].value) if "session" in c else None

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        s = self.session()
        if u.path == "/":
            if not s:
                return self.send(200, LOGIN)
            return self.send(200, EDITOR % (html.escape(str(s.get("name"))), html.escape(DEFAULT_TEMPLATE)))
        if u.path == "/card":
            if not s:
                return self.send(302, "", [("Location", "/")])
            tpl = urllib.parse.parse_qs(u.query).get("template", [DEFAULT_TEMPLATE])[0][:600]
            if re.search(r"\{[^}]*\d{4,}", tpl):
                return self.send(400, "<p>Template too complex.</p>")
            try:
                card = tpl.format(user=User(str(s.get("name")), str(s.get("role"))))
            except Exception as e:
                return self.send(400, "<p>Template error: %s: %s</p>" % (type(e).__name__, html.escape(str(e))))
            return self.send(200, "<div style=\"border:1px solid #999;padding:1em\">%s</div><p><a href=\"/\">back</a></p>"
                             % html.escape(card))
        if u.path == "/admin":
            if not s:
                return self.send(302, "", [("Location", "/")])
            if s.get("role") != "admin":
                return self.send(403, "<p>Forbidden: admin role required (you are %s).</p>" % html.escape(str(s.get("role"))))
            with open(FLAG_FILE) as f:
                return self.send(200, "<p>Welcome, administrator. Flag: %s</p>" % html.escape(f.read().strip()))
        self.send(404, "<p>Not found.</p>")

    def do_POST(self):
        if self.path != "/login":
            return self.send(404, "<p>Not found.</p>")
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode(errors="replace"))
        name, pw = form.get("username", [""])[0], form.get("password", [""])[0]
        if name in ACCOUNTS and ACCOUNTS[name][0] == pw:
            return self.send(302, "", [("Set-Cookie", "session=%s; Path=/; HttpOnly" % make_session(name, ACCOUNTS[name][1])),
                                       ("Location", "/")])
        self.send(401, "<p>Login failed.</p>" + LOGIN)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
