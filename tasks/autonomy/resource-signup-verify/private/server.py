"""Mock 'Nimbus' cloud API with self-service signup for resource-signup-verify. Verification
mail is delivered into the lab mailboxes ($TASK_STATE/mail/<address>/) that pop3.py serves.
All state is kept in $TASK_STATE/cloud.json."""
import email.message, email.utils, json, os, secrets, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = os.environ["TASK_STATE"]
LOCK = threading.RLock()
DB = {"accounts": {}, "projects": [], "instances": [], "mail_sent": []}
TYPES = [
    {"name": "n1.micro", "vcpus": 1, "memory_gb": 1, "price_hour": 0.01},
    {"name": "n1.small", "vcpus": 2, "memory_gb": 4, "price_hour": 0.03},
    {"name": "c2.large", "vcpus": 8, "memory_gb": 16, "price_hour": 0.34},
]
REGIONS = ["us-east", "us-west", "eu-west"]


def save():
    tmp = os.path.join(STATE, "cloud.json.tmp")
    json.dump(DB, open(tmp, "w"), indent=1)
    os.replace(tmp, os.path.join(STATE, "cloud.json"))


def deliver(to, org, code):
    msg = email.message.EmailMessage()
    msg["From"] = "Nimbus Accounts <no-reply@accounts.nimbus.example>"
    msg["To"] = to
    msg["Subject"] = "Confirm your Nimbus account"
    msg["Date"] = email.utils.formatdate()
    msg["Message-ID"] = email.utils.make_msgid(domain="accounts.nimbus.example")
    msg.set_content(f"Hello {org},\n\nwelcome to Nimbus. To confirm this address, enter the verification code\n\n"
                    f"    {code}\n\nin the signup form or send it to the verification endpoint. The code expires in 15 "
                    "minutes.\n\nIf you did not sign up, ignore this message.\n", cte="base64")
    msg.add_alternative(f"<html><body><p>Hello {org},</p><p>Your verification code: <b>{code}</b></p>"
                        "<p>It expires in 15 minutes.</p></body></html>\n", subtype="html", cte="quoted-printable")
    DB["mail_sent"].append({"to": to, "t": time.time()})
    box = os.path.join(STATE, "mail", to)
    if os.path.isdir(box):  # only the lab's own mailboxes exist; everything else bounces silently
        name = f"{int(time.time() * 1000)}-{secrets.token_hex(3)}.eml"
        open(os.path.join(box, name), "w", newline="").write(msg.as_string().replace("\n", "\r\n"))


class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass

    def reply(self, code, obj):
        body = json.dumps(obj, indent=1).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def account(self):
        h = self.headers.get("Authorization", "")
        key = h[7:].strip() if h.startswith("Bearer ") else None
        for a in DB["accounts"].values():
            if key and a.get("api_key") == key:
                return a
        self.reply(401, {"error": "unauthorized"})
        return None

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        try:
            obj = json.loads(self.rfile.read(n) or b"{}")
            return obj if isinstance(obj, dict) else None
        except ValueError:
            return None

    def do_GET(self):
        path = self.path.split("?")[0].rstrip("/")
        with LOCK:
            if path in ("", "/v1"):
                return self.reply(200, {"service": "nimbus", "version": "1.4"})
            if path == "/v1/instance-types":
                return self.reply(200, {"instance_types": TYPES})
            if path == "/v1/regions":
                return self.reply(200, {"regions": REGIONS})
            if path in ("/v1/projects", "/v1/instances"):
                a = self.account()
                if not a: return
                kind = path.split("/")[-1]
                return self.reply(200, {kind: [x for x in DB[kind] if x["account"] == a["id"]]})
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        path = self.path.split("?")[0].rstrip("/")
        req = self.body()
        with LOCK:
            if req is None:
                return self.reply(400, {"error": "body must be a JSON object"})
            if path == "/v1/signup":
                addr, org = req.get("email"), req.get("organization")
                if not isinstance(addr, str) or "@" not in addr:
                    return self.reply(422, {"error": "a valid email is required"})
                if not isinstance(org, str) or not org.strip():
                    return self.reply(422, {"error": "organization is required"})
                if req.get("accept_terms") is not True:
                    return self.reply(422, {"error": "you must accept the terms of service (accept_terms: true)"})
                a = DB["accounts"].get(addr)
                if a and a["verified"]:
                    return self.reply(409, {"error": "an account with this email already exists"})
                code = f"{secrets.randbelow(1000):03d}-{secrets.randbelow(1000):03d}"
                DB["accounts"][addr] = {"id": "acct-" + uuid.uuid4().hex[:10], "email": addr, "organization": org,
                                        "verified": False, "code": code, "code_t": time.time(), "attempts": 0}
                deliver(addr, org, code); save()
                return self.reply(202, {"status": "verification_sent", "detail": f"a verification code was mailed to {addr}"})
            if path == "/v1/signup/verify":
                a = DB["accounts"].get(req.get("email"))
                if not a or a["verified"] or not a.get("code"):
                    return self.reply(404, {"error": "no pending signup for this email"})
                if time.time() - a["code_t"] > 900:
                    a["code"] = None; save()
                    return self.reply(410, {"error": "code expired; sign up again"})
                if str(req.get("code", "")).strip() != a["code"]:
                    a["attempts"] += 1
                    if a["attempts"] >= 5:
                        a["code"] = None; save()
                        return self.reply(429, {"error": "too many wrong codes; sign up again for a new code"})
                    save()
                    return self.reply(400, {"error": "wrong code", "attempts_left": 5 - a["attempts"]})
                a.update(verified=True, code=None, api_key="nk_" + secrets.token_hex(16)); save()
                return self.reply(200, {"account_id": a["id"], "api_key": a["api_key"]})
            if path == "/v1/projects":
                a = self.account()
                if not a: return
                name = req.get("name")
                if not isinstance(name, str) or not name:
                    return self.reply(422, {"error": "name is required"})
                p = {"id": "prj-" + uuid.uuid4().hex[:8], "name": name, "account": a["id"]}
                DB["projects"].append(p); save()
                return self.reply(201, p)
            if path == "/v1/instances":
                a = self.account()
                if not a: return
                proj = next((p for p in DB["projects"] if p["id"] == req.get("project_id") and p["account"] == a["id"]), None)
                if not proj:
                    return self.reply(422, {"error": "project_id must name one of your projects"})
                t = next((t for t in TYPES if t["name"] == req.get("type")), None)
                if not t or req.get("region") not in REGIONS or not req.get("name"):
                    return self.reply(422, {"error": "name, a known type and a known region are required"})
                i = {"id": "i-" + uuid.uuid4().hex[:12], "name": req["name"], "type": t["name"], "region": req["region"],
                     "project_id": proj["id"], "account": a["id"], "status": "running"}
                DB["instances"].append(i); save()
                return self.reply(201, i)
            self.reply(404, {"error": "not found"})


if __name__ == "__main__":
    with LOCK: save()
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
