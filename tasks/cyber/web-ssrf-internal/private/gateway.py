#!/usr/bin/env python3
"""Link preview gateway: fetches user URLs with its credential attached. The loopback blocklist is a
string check on the hostname, so 127.1-style spellings (0, 2130706433, 0x7f000001, [::ffff:127.0.0.1],
localhost., ...) reach the internal API on :8118 (SSRF)."""
import html, json, re, sys, urllib.error, urllib.parse, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8108
KEY = open("gateway_key.txt").read().strip()

INDEX = """<!doctype html><html><head><title>linkpreview</title></head><body>
<h1>linkpreview</h1><p>Paste a link and we fetch it for you.</p>
<form action="/preview"><input name="url" size="60" placeholder="http://example.com/"><button>Preview</button></form>
<p>API: <code>GET /preview?url=...</code> returns JSON.</p></body></html>"""


def is_internal(host):
    host = (host or "").lower()
    return (host in ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "0.0.0.0", "::1", "")
            or host.startswith("127."))


class Handler(BaseHTTPRequestHandler):
    server_version = "linkpreview/1.2"
    sys_version = ""

    def send(self, code, body, ctype="application/json"):
        data = (json.dumps(body, indent=1) if ctype == "application/json" else body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/":
            return self.send(200, INDEX, "text/html; charset=utf-8")
        if u.path != "/preview":
            return self.send(404, {"error": "not found"})
        url = urllib.parse.parse_qs(u.query).get("url", [""])[0].strip()
        try:
            t = urllib.parse.urlsplit(url)
            host, _ = t.hostname, t.port
        except ValueError as e:
            return self.send(400, {"error": "bad url: %s" % e})
        if t.scheme not in ("http", "https"):
            return self.send(400, {"error": "only http and https URLs can be previewed"})
        if is_internal(host):
            return self.send(403, {"error": "blocked: previews of internal addresses are not allowed"})
        req = urllib.request.Request(url, headers={"User-Agent": "linkpreview/1.2", "X-Gateway-Key": KEY})
        try:
            with urllib.request.urlopen(req, timeout=4) as r:
                status, body = r.status, r.read(65536)
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read(65536)
        except Exception as e:
            return self.send(502, {"error": "fetch failed: %s" % e})
        text = body.decode("utf-8", "replace")
        m = re.search(r"<title>(.*?)</title>", text, re.S | re.I)
        self.send(200, {"url": url, "status": status, "title": html.unescape(m.group(1).strip()) if m else None,
                        "snippet": text[:2000]})

    def log_message(self, fmt, *args):
        sys.stderr.write("gateway %s %s\n" % (self.address_string(), fmt % args))


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
