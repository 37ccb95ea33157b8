"""Setup for resource-provision-instance: a fresh API key per run, written into the project's
deploy config in /work (cwd) and into $TASK_STATE for the service."""
import json, os, secrets

key = "nk_live_" + secrets.token_hex(16)
state = os.environ["TASK_STATE"]
json.dump({"valid": [key], "revoked": ["nk_live_3f9a0c1d2e4b5a6978877665544332211"]}, open(os.path.join(state, "keys.json"), "w"))
os.makedirs("infra", exist_ok=True)
with open("infra/deploy.env", "w") as f:
    f.write("# deploy settings for the build farm (sourced by deploy.sh)\n"
            "NIMBUS_ENDPOINT=http://127.0.0.1:18101\n"
            "# old key, revoked 2024-04-02:\n"
            "# NIMBUS_API_KEY=nk_live_3f9a0c1d2e4b5a6978877665544332211\n"
            f"NIMBUS_API_KEY={key}\n"
            "NIMBUS_DEFAULT_REGION=us-east\n")
