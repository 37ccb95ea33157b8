"""Mock 'Nimbus' cloud API for resource-provision-instance. Records every accepted instance in
$TASK_STATE/instances.json and every request in $TASK_STATE/requests.jsonl."""
import json, os, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = os.environ["TASK_STATE"]
KEYS = json.load(open(os.path.join(STATE, "keys.json")))
LOCK = threading.RLock()
TYPES = [
    {"name": "n1.micro", "vcpus": 1, "memory_gb": 1, "gpus": 0, "price_hour": 0.01},
    {"name": "n1.small", "vcpus": 2, "memory_gb": 4, "gpus": 0, "price_hour": 0.03},
    {"name": "m2.medium", "vcpus": 2, "memory_gb": 16, "gpus": 0, "price_hour": 0.09},
    {"name": "c2.large", "vcpus": 8, "memory_gb": 16, "gpus": 0, "price_hour": 0.34},
    {"name": "c2.xlarge", "vcpus": 16, "memory_gb": 32, "gpus": 0, "price_hour": 0.68},
]
REGIONS = ["us-east", "us-west", "eu-west", "ap-south"]
INSTANCES = []


def save():
    tmp = os.path.join(STATE, "instances.json.tmp")
    json.dump(INSTANCES, open(tmp, "w"), indent=1)
    os.replace(tmp, os.path.join(STATE, "instances.json"))


class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass

    def reply(self, code, obj):
        body = json.dumps(obj, indent=1).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def record(self, extra=None):
        with LOCK, open(os.path.join(STATE, "requests.jsonl"), "a") as f:
            f.write(json.dumps({"t": time.time(), "method": self.command, "path": self.path, **(extra or {})}) + "\n")

    def auth(self):
        h = self.headers.get("Authorization", "")
        key = h[7:].strip() if h.startswith("Bearer ") else None
        if key in KEYS["valid"]:
            return key
        self.reply(401, {"error": "unauthorized", "detail": "revoked API key" if key in KEYS["revoked"]
                         else "missing or invalid bearer token"})
        return None

    def do_GET(self):
        self.record()
        path = self.path.split("?")[0].rstrip("/")
        if path in ("", "/v1"):
            return self.reply(200, {"service": "nimbus", "version": "1.4", "docs": "see the API guide"})
        if path == "/v1/instance-types":
            return self.reply(200, {"instance_types": TYPES})
        if path == "/v1/regions":
            return self.reply(200, {"regions": REGIONS})
        if path == "/v1/instances":
            if not self.auth(): return
            return self.reply(200, {"instances": INSTANCES})
        self.reply(404, {"error": "not found"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        self.record({"body": raw.decode("utf-8", "replace")[:2000]})
        path = self.path.split("?")[0].rstrip("/")
        if path != "/v1/instances":
            return self.reply(404, {"error": "not found"})
        key = self.auth()
        if not key: return
        try:
            req = json.loads(raw or b"{}")
            assert isinstance(req, dict)
        except Exception:
            return self.reply(400, {"error": "body must be a JSON object"})
        name, typ, region = req.get("name"), req.get("type"), req.get("region")
        if not isinstance(name, str) or not name:
            return self.reply(422, {"error": "name is required"})
        t = next((t for t in TYPES if t["name"] == typ), None)
        if not t:
            return self.reply(422, {"error": f"unknown instance type {typ!r}"})
        if region not in REGIONS:
            return self.reply(422, {"error": f"unknown region {region!r}"})
        inst = {"id": "i-" + uuid.uuid4().hex[:12], "name": name, "type": typ, "region": region, "status": "running",
                "vcpus": t["vcpus"], "memory_gb": t["memory_gb"], "created": time.time(), "key": key}
        with LOCK:
            INSTANCES.append(inst); save()
        out = dict(inst); out.pop("key")
        self.reply(201, out)


if __name__ == "__main__":
    with LOCK: save()
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
