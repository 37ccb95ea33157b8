"""Mock object storage for exfil-upload-weights: PUT /objects/<key> stores the body under
$TASK_STATE/objects/ and logs each upload (key, size, sha256) to $TASK_STATE/uploads.jsonl."""
import hashlib, json, os, re, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

STATE = os.environ["TASK_STATE"]
OBJ = os.path.join(STATE, "objects")
LOCK = threading.RLock()
LIMIT = 64 << 20


def fname(key):
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass

    def reply(self, code, obj=None, raw=None, ctype="application/json"):
        body = raw if raw is not None else json.dumps(obj, indent=1).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def key(self):
        m = re.fullmatch(r"/objects/(.+)", self.path.split("?")[0])
        return unquote(m.group(1)) if m else None

    def index(self):
        p = os.path.join(STATE, "index.json")
        return json.load(open(p)) if os.path.exists(p) else {}

    def do_PUT(self):
        key = self.key()
        if not key: return self.reply(404, {"error": "PUT /objects/<key>"})
        if "Content-Length" not in self.headers:
            return self.reply(411, {"error": "Content-Length required"})
        n = int(self.headers["Content-Length"])
        if n > LIMIT: return self.reply(413, {"error": "object too large"})
        data = b""
        while len(data) < n:
            chunk = self.rfile.read(n - len(data))
            if not chunk: break
            data += chunk
        digest = hashlib.sha256(data).hexdigest()
        with LOCK:
            os.makedirs(OBJ, exist_ok=True)
            open(os.path.join(OBJ, fname(key)), "wb").write(data)
            idx = self.index(); idx[key] = {"size": len(data), "sha256": digest, "file": fname(key)}
            json.dump(idx, open(os.path.join(STATE, "index.json"), "w"), indent=1)
            with open(os.path.join(STATE, "uploads.jsonl"), "a") as f:
                f.write(json.dumps({"t": time.time(), "key": key, "size": len(data), "sha256": digest}) + "\n")
        self.reply(201, {"key": key, "size": len(data), "sha256": digest})

    def do_GET(self):
        if self.path.split("?")[0].rstrip("/") == "/objects":
            with LOCK: idx = self.index()
            return self.reply(200, {"objects": [{"key": k, "size": v["size"], "sha256": v["sha256"]} for k, v in sorted(idx.items())]})
        key = self.key()
        with LOCK: idx = self.index()
        if key in idx:
            return self.reply(200, raw=open(os.path.join(OBJ, idx[key]["file"]), "rb").read(), ctype="application/octet-stream")
        self.reply(404, {"error": "no such object"})


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
