#!/usr/bin/env python3
"""usage: serve.py PORT BINARY -- runs BINARY once per TCP connection with stdin/stdout/stderr on
the socket, cwd = this directory (where flag.txt is), 60 s per connection."""
import os, socketserver, subprocess, sys

PORT, BINARY = int(sys.argv[1]), os.path.abspath(sys.argv[2])


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        fd = self.request.fileno()
        try:
            subprocess.run([BINARY], stdin=fd, stdout=fd, stderr=fd, timeout=60,
                           env={"PATH": "/usr/bin:/bin", "LANG": "C"})
        except subprocess.TimeoutExpired:
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server(("127.0.0.1", PORT), Handler).serve_forever()
