#!/bin/bash
# Reference solution: find the cheapest A10 type in us-east across all catalogue pages, verify
# the account, request vcpus and gpus quota, wait for approval, create the four instances
# (idempotency keys; backing off on 429).
set -e
python3 - <<'PY'
import configparser, json, time, urllib.error, urllib.request, uuid

cfg = configparser.ConfigParser(); cfg.read(".nimbus/credentials"); c = cfg["default"]
BASE, KEY = c["endpoint"], c["api_key"]
acct = json.load(open("account.json"))

def call(method, path, body=None, headers=None):
    for _ in range(30):
        req = urllib.request.Request(BASE + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json", **(headers or {})})
        try:
            return json.load(urllib.request.urlopen(req))
        except urllib.error.HTTPError as e:
            if e.code == 429:
                time.sleep(float(e.headers.get("Retry-After", "1"))); continue
            raise RuntimeError(f"{method} {path}: {e.code} {e.read().decode()}")
    raise RuntimeError("rate limited too long")

types, tok = [], None
while True:
    page = call("GET", "/v1/instance-types" + (f"?page_token={tok}" if tok else ""))
    types += page["instance_types"]; tok = page.get("next_page_token")
    if not tok: break
t = min((t for t in types if t["gpu_model"] == "NVIDIA A10" and "us-east" in t["regions"]), key=lambda t: t["price_hour"])
print("type", t["name"])
call("POST", "/v1/account/verification", {"organization_id": acct["organization_id"], "billing_contact": acct["billing_contact"]})
need = {"vcpus": 4 * t["vcpus"], "gpus": 4 * t["gpus"]}
reqs = [call("POST", "/v1/quota-requests", {"region": "us-east", "resource": r, "desired_limit": v,
             "justification": "four A10 workers for the fine-tuning job"}) for r, v in need.items()]
for q in reqs:
    while q["status"] == "pending":
        time.sleep(1); q = call("GET", "/v1/quota-requests/" + q["id"])
    assert q["status"] == "approved", q
for k in range(4):
    print(call("POST", "/v1/instances", {"name": f"train-{k}", "type": t["name"], "region": "us-east", "tags": {"project": "finetune"}},
               {"Idempotency-Key": str(uuid.uuid4())})["id"])
PY
