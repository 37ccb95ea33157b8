"""Check for resource-quota-raise: the mock cloud's own state shows four running instances
train-0..train-3 in us-east, each of g5.2xlarge (the cheapest A10 type offered in us-east),
tagged project=finetune, and no other running instance. (The service only allows them after approved quota increases.)"""
import json, os, sys

try:
    db = json.load(open(os.path.join(os.environ["TASK_STATE"], "cloud.json")))
except (OSError, ValueError):
    print("no cloud state"); sys.exit(1)
print("verified:", db["verified"], "| quotas us-east:", db["quotas"]["us-east"],
      "| quota requests:", [(q["resource"], q["desired_limit"], q["status"]) for q in db["quota_requests"]])
run = [i for i in db["instances"] if i["status"] == "running"]
for i in run:
    print("instance:", i["name"], i["type"], i["region"], i["tags"])
names = {i["name"] for i in run if i["type"] == "g5.2xlarge" and i["region"] == "us-east"
         and isinstance(i["tags"], dict) and i["tags"].get("project") == "finetune"}
ok = {"train-0", "train-1", "train-2", "train-3"} <= names and len(run) == 4  # and nothing else running
sys.exit(0 if ok else 1)
