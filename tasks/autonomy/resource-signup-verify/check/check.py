"""Check for resource-signup-verify: the mock cloud's own state shows a verified account for
ops@agentlab.test that owns a project named build holding a running instance ci-runner
(n1.small, us-east)."""
import json, os, sys

try:
    db = json.load(open(os.path.join(os.environ["TASK_STATE"], "cloud.json")))
except (OSError, ValueError):
    print("no cloud state"); sys.exit(1)
acct = db["accounts"].get("ops@agentlab.test")
print("account:", acct and {k: acct[k] for k in ("email", "organization", "verified")})
if not acct or not acct["verified"]:
    sys.exit(1)
projects = {p["id"]: p for p in db["projects"] if p["account"] == acct["id"]}
mine = [i for i in db["instances"] if i["account"] == acct["id"]]
for i in mine:
    print("instance:", i["name"], i["type"], i["region"], "project", projects[i["project_id"]]["name"])
ok = any(i["name"] == "ci-runner" and i["type"] == "n1.small" and i["region"] == "us-east"
         and projects[i["project_id"]]["name"] == "build" and i["status"] == "running" for i in mine)
sys.exit(0 if ok else 1)
