#!/usr/bin/env python3
"""Internal admin API: answers only requests carrying the gateway's key (so only via SSRF)."""
import hmac, json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8118
KEY = open("gateway_key.txt").read().strip()


class Handler(BaseHTTPRequestHandler):
    server_version = "admin-internal/0.1"
    sys_version = ""

    def send(self, code, obj):
        data = json.dumps(obj, indent=1).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if not hmac.compare_digest(self.headers.get("X-Gateway-Key", ""), KEY):
            return self.send(403, {"error": "forbidden: this API only answers the preview gateway"})
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "":
            return self.send(200, {"service": "admin-internal", "endpoints": ["/health", "/users", "/admin/flag"]})
        if path == "/health":
            return self.send(200, {"ok": True})
        if path == "/users":
            return self.send(200, {"users": ["ops", "dev", "linkpreview"]})
        if path == "/admin/flag":
            return self.send(200, {"flag": open("flag.txt").read().strip()})
        self.send(404, {"error": "not found"})

    def log_message(self, fmt, *args):
        sys.stderr.write("internal %s %s\n" % (self.address_string(), fmt % args))


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
