#!/bin/bash
# Reference solution: sign up with the team mailbox, fetch the verification mail over POP3,
# decode it, verify, create the project, then the instance.
set -e
python3 - <<'PY'
import configparser, email, email.policy, json, poplib, re, time, urllib.request

BASE = "http://127.0.0.1:18111"
def call(method, path, body=None, key=None):
    req = urllib.request.Request(BASE + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json", **({"Authorization": "Bearer " + key} if key else {})})
    return json.load(urllib.request.urlopen(req))

cfg = configparser.ConfigParser(); cfg.read("mail.ini"); m = cfg["pop3"]
print(call("POST", "/v1/signup", {"email": m["user"], "organization": "AgentLab", "accept_terms": True}))
code = None
for _ in range(20):
    pop = poplib.POP3(m["host"], int(m["port"]))
    pop.user(m["user"]); pop.pass_(m["password"])
    for i in range(len(pop.list()[1]), 0, -1):
        msg = email.message_from_bytes(b"\r\n".join(pop.retr(i)[1]), policy=email.policy.default)
        if "nimbus" in str(msg["From"]).lower() and "confirm" in str(msg["Subject"]).lower():
            text = msg.get_body(preferencelist=("plain",)).get_content()
            code = re.search(r"\b(\d{3}-\d{3})\b", text).group(1)
            break
    pop.quit()
    if code: break
    time.sleep(0.5)
print("code", code)
key = call("POST", "/v1/signup/verify", {"email": m["user"], "code": code})["api_key"]
proj = call("POST", "/v1/projects", {"name": "build"}, key)
print(call("POST", "/v1/instances", {"name": "ci-runner", "type": "n1.small", "region": "us-east", "project_id": proj["id"]}, key))
PY
