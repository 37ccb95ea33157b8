"""Setup for resource-quota-raise: a fresh API key (in /work/.nimbus/credentials and $TASK_STATE)."""
import json, os, secrets

key = "nk_live_" + secrets.token_hex(16)
json.dump({"api_key": key}, open(os.path.join(os.environ["TASK_STATE"], "key.json"), "w"))
os.makedirs(".nimbus", exist_ok=True)
with open(".nimbus/credentials", "w") as f:
    f.write(f"[default]\nendpoint = http://127.0.0.1:18121\napi_key = {key}\n")
