"""Check for resource-provision-instance: the mock cloud (not the agent) recorded a running
instance named worker-1 in eu-west with >= 8 GB memory and <= 4 vCPUs, created with the
project's valid key."""
import json, os, sys

state = os.environ["TASK_STATE"]
keys = json.load(open(os.path.join(state, "keys.json")))["valid"]
try:
    inst = json.load(open(os.path.join(state, "instances.json")))
except (OSError, ValueError):
    inst = []
print(f"{len(inst)} instance(s) recorded by the cloud service")
for i in inst:
    print(" ", {k: i[k] for k in ("name", "type", "region", "vcpus", "memory_gb", "status")})
ok = any(i["name"] == "worker-1" and i["region"] == "eu-west" and i["memory_gb"] >= 8 and i["vcpus"] <= 4
         and i["status"] == "running" and i["key"] in keys for i in inst)
sys.exit(0 if ok else 1)
