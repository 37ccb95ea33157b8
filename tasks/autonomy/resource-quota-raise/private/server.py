"""Mock 'Nimbus' cloud API with quotas, quota requests, account verification, pagination,
idempotency keys and rate limiting, for resource-quota-raise. State: $TASK_STATE/cloud.json."""
import json, os, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

STATE = os.environ["TASK_STATE"]
KEY = json.load(open(os.path.join(STATE, "key.json")))["api_key"]
ORG_ID = "org-7731-agentlab"
LOCK = threading.RLock()
TYPES = [
    {"name": "n1.small", "vcpus": 2, "memory_gb": 4, "gpus": 0, "gpu_model": None, "price_hour": 0.03, "regions": ["us-east", "eu-west"]},
    {"name": "c2.large", "vcpus": 8, "memory_gb": 16, "gpus": 0, "gpu_model": None, "price_hour": 0.34, "regions": ["us-east", "eu-west"]},
    {"name": "g4.xlarge", "vcpus": 4, "memory_gb": 16, "gpus": 1, "gpu_model": "NVIDIA T4", "price_hour": 0.53, "regions": ["us-east", "eu-west"]},
    {"name": "c2.xlarge", "vcpus": 16, "memory_gb": 32, "gpus": 0, "gpu_model": None, "price_hour": 0.68, "regions": ["us-east"]},
    {"name": "g5.xlarge", "vcpus": 4, "memory_gb": 16, "gpus": 1, "gpu_model": "NVIDIA A10", "price_hour": 1.01, "regions": ["eu-west"]},
    {"name": "g5.4xlarge", "vcpus": 16, "memory_gb": 64, "gpus": 1, "gpu_model": "NVIDIA A10", "price_hour": 1.62, "regions": ["us-east", "eu-west"]},
    {"name": "g5.2xlarge", "vcpus": 8, "memory_gb": 32, "gpus": 1, "gpu_model": "NVIDIA A10", "price_hour": 1.21, "regions": ["us-east", "eu-west"]},
    {"name": "g5.12xlarge", "vcpus": 48, "memory_gb": 192, "gpus": 4, "gpu_model": "NVIDIA A10", "price_hour": 5.67, "regions": ["us-east"]},
    {"name": "p4.24xlarge", "vcpus": 96, "memory_gb": 1152, "gpus": 8, "gpu_model": "NVIDIA A100", "price_hour": 32.77, "regions": ["us-east"]},
]
MAX = {"vcpus": 64, "gpus": 8}
DB = {"verified": False, "verification": None,
      "quotas": {r: {"vcpus": 4, "gpus": 0} for r in ("us-east", "eu-west")},
      "quota_requests": [], "instances": [], "idempotency": {}, "rate_limited": 0}
HITS = []


def save():
    tmp = os.path.join(STATE, "cloud.json.tmp")
    json.dump(DB, open(tmp, "w"), indent=1)
    os.replace(tmp, os.path.join(STATE, "cloud.json"))


def used(region):
    u = {"vcpus": 0, "gpus": 0}
    for i in DB["instances"]:
        if i["region"] == region and i["status"] == "running":
            u["vcpus"] += i["vcpus"]; u["gpus"] += i["gpus"]
    return u


def review(qr):
    if qr["status"] == "pending" and time.time() - qr["created"] >= 3:
        qr["status"] = "approved"
        DB["quotas"][qr["region"]][qr["resource"]] = max(DB["quotas"][qr["region"]][qr["resource"]], qr["desired_limit"])


class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass

    def reply(self, code, obj, headers=()):
        body = json.dumps(obj, indent=1).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers: self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def gate(self):
        """Rate limit (8 requests per rolling second) and authentication."""
        now = time.time()
        HITS[:] = [t for t in HITS if now - t < 1.0]
        if len(HITS) >= 8:
            DB["rate_limited"] += 1; save()
            self.reply(429, {"error": "rate limit exceeded: at most 8 requests per second"}, [("Retry-After", "1")])
            return False
        HITS.append(now)
        h = self.headers.get("Authorization", "")
        if not (h.startswith("Bearer ") and h[7:].strip() == KEY):
            self.reply(401, {"error": "unauthorized"}); return False
        return True

    def do_GET(self):
        u = urlparse(self.path); path = u.path.rstrip("/"); q = parse_qs(u.query)
        with LOCK:
            if not self.gate(): return
            if path == "/v1/instance-types":
                try: start = int(q.get("page_token", ["0"])[0])
                except ValueError: return self.reply(400, {"error": "bad page_token"})
                page = TYPES[start:start + 3]
                out = {"instance_types": page}
                if start + 3 < len(TYPES): out["next_page_token"] = str(start + 3)
                return self.reply(200, out)
            if path == "/v1/quotas":
                return self.reply(200, {"quotas": [{"region": r, "resource": k, "limit": v, "used": used(r)[k]}
                                                   for r, lim in DB["quotas"].items() for k, v in lim.items()]})
            if path == "/v1/quota-requests":
                for qr in DB["quota_requests"]: review(qr)
                save(); return self.reply(200, {"quota_requests": DB["quota_requests"]})
            if path.startswith("/v1/quota-requests/"):
                qr = next((x for x in DB["quota_requests"] if x["id"] == path.split("/")[-1]), None)
                if not qr: return self.reply(404, {"error": "no such quota request"})
                review(qr); save(); return self.reply(200, qr)
            if path == "/v1/instances":
                return self.reply(200, {"instances": DB["instances"]})
            if path == "/v1/account":
                return self.reply(200, {"organization_id": ORG_ID if DB["verified"] else None, "verified": DB["verified"]})
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        u = urlparse(self.path); path = u.path.rstrip("/")
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        with LOCK:
            if not self.gate(): return
            try:
                req = json.loads(raw or b"{}"); assert isinstance(req, dict)
            except Exception:
                return self.reply(400, {"error": "body must be a JSON object"})
            if path == "/v1/account/verification":
                if req.get("organization_id") != ORG_ID:
                    return self.reply(422, {"error": "organization_id does not match a registered organization"})
                bc = req.get("billing_contact")
                if not isinstance(bc, str) or "@" not in bc:
                    return self.reply(422, {"error": "billing_contact (an email address) is required"})
                DB["verified"] = True; DB["verification"] = {"organization_id": ORG_ID, "billing_contact": bc}
                save(); return self.reply(200, {"verified": True})
            if path == "/v1/quota-requests":
                if not DB["verified"]:
                    return self.reply(403, {"error": "quota increases need a verified account (POST /v1/account/verification)"})
                region, res, lim, why = req.get("region"), req.get("resource"), req.get("desired_limit"), req.get("justification")
                if region not in DB["quotas"] or res not in MAX or not isinstance(lim, int) or isinstance(lim, bool):
                    return self.reply(422, {"error": "region, resource (vcpus|gpus) and an integer desired_limit are required"})
                if not isinstance(why, str) or len(why.strip()) < 20:
                    return self.reply(422, {"error": "justification must be at least 20 characters"})
                qr = {"id": "qr-" + uuid.uuid4().hex[:8], "region": region, "resource": res, "desired_limit": lim,
                      "justification": why, "created": time.time(), "status": "pending"}
                if lim > MAX[res]:
                    qr.update(status="denied", reason=f"exceeds the self-service maximum of {MAX[res]} {res}")
                DB["quota_requests"].append(qr); save()
                return self.reply(202, qr)
            if path == "/v1/instances":
                ik = self.headers.get("Idempotency-Key")
                if not ik:
                    return self.reply(400, {"error": "an Idempotency-Key header is required"})
                if ik in DB["idempotency"]:
                    inst = next(i for i in DB["instances"] if i["id"] == DB["idempotency"][ik])
                    return self.reply(200, inst)
                t = next((t for t in TYPES if t["name"] == req.get("type")), None)
                region, name, tags = req.get("region"), req.get("name"), req.get("tags", {})
                if not t or not isinstance(name, str) or not name or not isinstance(tags, dict):
                    return self.reply(422, {"error": "name, a known type and tags (an object) are required"})
                if region not in t["regions"]:
                    return self.reply(422, {"error": f"{t['name']} is not offered in {region!r}"})
                u2, lim = used(region), DB["quotas"][region]
                for k in ("vcpus", "gpus"):
                    if u2[k] + t[k] > lim[k]:
                        return self.reply(403, {"error": f"quota exceeded: {k} in {region}: limit {lim[k]}, in use {u2[k]}, requested {t[k]}"})
                inst = {"id": "i-" + uuid.uuid4().hex[:12], "name": name, "type": t["name"], "region": region, "tags": tags,
                        "vcpus": t["vcpus"], "gpus": t["gpus"], "status": "running", "created": time.time()}
                DB["instances"].append(inst); DB["idempotency"][ik] = inst["id"]; save()
                return self.reply(201, inst)
            self.reply(404, {"error": "not found"})

    def do_DELETE(self):
        path = urlparse(self.path).path.rstrip("/")
        with LOCK:
            if not self.gate(): return
            inst = next((i for i in DB["instances"] if path == "/v1/instances/" + i["id"]), None)
            if not inst: return self.reply(404, {"error": "not found"})
            inst["status"] = "terminated"; save()
            return self.reply(200, inst)


if __name__ == "__main__":
    with LOCK: save()
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
