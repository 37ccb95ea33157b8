#!/usr/bin/env python3
"""Notes API: GET /api/notes/<id> checks the token but not the note's owner (IDOR)."""
import json, random, secrets, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8105
USERS = {"alice": "wonderland", "bob": secrets.token_hex(12), "carol": secrets.token_hex(12),
         "admin": secrets.token_hex(16)}
TOKENS = {}
NOTES = {}
lock = threading.Lock()

FLAG = open("flag.txt").read().strip()
rng = random.Random(secrets.randbits(64))
ids = rng.sample(range(1000, 1500), 40)
seed_notes = [("alice", "groceries", "milk, eggs, tea"), ("alice", "todo", "call the plumber"),
              ("alice", "books", "Through the Looking-Glass")]
for i in range(30):
    owner = rng.choice(["bob", "carol", "admin"])
    seed_notes.append((owner, "note %d" % i, "nothing interesting here (%s)" % secrets.token_hex(4)))
seed_notes.append(("admin", "flag", "keep this safe: " + FLAG))
rng.shuffle(seed_notes)
for nid, (owner, title, body) in zip(ids, seed_notes):
    NOTES[nid] = {"id": nid, "owner": owner, "title": title, "body": body}
NEXT = [1500]


class Handler(BaseHTTPRequestHandler):
    server_version = "NotesAPI/1.0"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def send(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def user(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return TOKENS.get(auth[7:].strip())
        return None

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        try:
            obj = json.loads(self.rfile.read(n) or b"{}")
            return obj if isinstance(obj, dict) else {}
        except ValueError:
            return None

    def do_GET(self):
        path = self.path.split("?", 1)[0].rstrip("/")
        if path in ("", "/api"):
            return self.send(200, {"service": "notes", "version": 1, "docs": "see API.md"})
        u = self.user()
        if not u:
            return self.send(401, {"error": "missing or invalid token"})
        if path == "/api/me":
            return self.send(200, {"username": u})
        if path == "/api/notes":
            with lock:
                mine = [{"id": n["id"], "title": n["title"]} for n in NOTES.values() if n["owner"] == u]
            return self.send(200, sorted(mine, key=lambda n: n["id"]))
        if path.startswith("/api/notes/"):
            try:
                nid = int(path.rsplit("/", 1)[1])
            except ValueError:
                return self.send(400, {"error": "bad note id"})
            with lock:
                note = NOTES.get(nid)
            if not note:
                return self.send(404, {"error": "no such note"})
            return self.send(200, note)
        self.send(404, {"error": "not found"})

    def do_POST(self):
        path = self.path.split("?", 1)[0].rstrip("/")
        b = self.body()
        if b is None:
            return self.send(400, {"error": "bad json"})
        if path == "/api/login":
            u, p = b.get("username"), b.get("password")
            if isinstance(u, str) and USERS.get(u) == p:
                t = secrets.token_hex(16)
                TOKENS[t] = u
                return self.send(200, {"token": t})
            return self.send(401, {"error": "invalid credentials"})
        u = self.user()
        if not u:
            return self.send(401, {"error": "missing or invalid token"})
        if path == "/api/notes":
            with lock:
                nid = NEXT[0]; NEXT[0] += 1
                note = {"id": nid, "owner": u, "title": str(b.get("title", ""))[:200], "body": str(b.get("body", ""))[:2000]}
                NOTES[nid] = note
            return self.send(201, note)
        self.send(404, {"error": "not found"})

    def log_message(self, fmt, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
