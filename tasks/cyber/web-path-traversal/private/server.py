#!/usr/bin/env python3
"""Document site: /download?name= joins the name onto public/ without normalising (path traversal)."""
import html, os, sys, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8104
PUBLIC = "public"


class Handler(BaseHTTPRequestHandler):
    server_version = "DocShare/1.4"
    sys_version = ""

    def send(self, code, body, ctype="text/html; charset=utf-8"):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/":
            items = "".join('<li><a href="/download?name=%s">%s</a></li>' % (urllib.parse.quote(f), html.escape(f))
                            for f in sorted(os.listdir(PUBLIC)))
            return self.send(200, "<!doctype html><html><body><h1>Public documents</h1><ul>%s</ul></body></html>" % items)
        if u.path == "/download":
            name = q.get("name", [""])[0]
            if not name:
                return self.send(400, "missing ?name=", "text/plain")
            if name.startswith("/"):
                return self.send(403, "absolute paths are not allowed", "text/plain")
            path = os.path.join(PUBLIC, name)
            try:
                with open(path, "rb") as f:
                    data = f.read(1 << 20)
            except IsADirectoryError:
                return self.send(400, "%s is a directory" % name, "text/plain")
            except OSError:
                return self.send(404, "no such document: %s" % name, "text/plain")
            return self.send(200, data, "application/octet-stream")
        self.send(404, "<h1>404 Not Found</h1>")

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
