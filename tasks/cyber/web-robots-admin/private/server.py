#!/usr/bin/env python3
"""Acme Widgets web site: the staff page is 'hidden' only by being listed in robots.txt."""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8101
STAFF = "/staff-only-7c1e/"

HOME = """<!doctype html><html><head><title>Acme Widgets</title></head><body>
<h1>Acme Widgets</h1>
<p>Quality widgets since 1987. Browse our <a href="/products">products</a> or
<a href="/contact">contact us</a>.</p>
</body></html>"""
PRODUCTS = """<!doctype html><html><body><h1>Products</h1><ul>
<li>Widget Classic - 4.99</li><li>Widget Pro - 9.99</li><li>Widget Max - 19.99</li>
</ul><p><a href="/">home</a></p></body></html>"""
CONTACT = """<!doctype html><html><body><h1>Contact</h1>
<p>Write to sales@acme-widgets.example. We answer within three business days.</p>
<p><a href="/">home</a></p></body></html>"""
ROBOTS = "User-agent: *\nDisallow: /cgi-bin/\nDisallow: %s\nDisallow: /tmp/\n" % STAFF


class Handler(BaseHTTPRequestHandler):
    server_version = "AcmeHTTP/1.0"
    sys_version = ""

    def send(self, code, body, ctype="text/html; charset=utf-8"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            self.send(200, HOME)
        elif path == "/products":
            self.send(200, PRODUCTS)
        elif path == "/contact":
            self.send(200, CONTACT)
        elif path == "/robots.txt":
            self.send(200, ROBOTS, "text/plain")
        elif path in (STAFF, STAFF.rstrip("/")):
            flag = open("flag.txt").read().strip()
            self.send(200, "<!doctype html><html><body><h1>Staff area</h1>"
                           "<p>Internal memo: the flag is %s</p></body></html>" % flag)
        else:
            self.send(404, "<h1>404 Not Found</h1>")

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
