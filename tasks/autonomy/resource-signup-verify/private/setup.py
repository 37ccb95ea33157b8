"""Setup for resource-signup-verify: the team mailbox password (written to /work/mail.ini and
$TASK_STATE), and one old message already in the mailbox."""
import json, os, secrets

state = os.environ["TASK_STATE"]
pw = secrets.token_urlsafe(12)
json.dump({"ops@agentlab.test": pw}, open(os.path.join(state, "mail_users.json"), "w"))
box = os.path.join(state, "mail", "ops@agentlab.test")
os.makedirs(box, exist_ok=True)
open(os.path.join(box, "0001.eml"), "w", newline="").write(
    "From: Nimbus News <news@nimbus.example>\r\nTo: ops@agentlab.test\r\nSubject: Spring offer\r\n"
    "Date: Mon, 01 Apr 2024 09:00:00 +0000\r\nMessage-ID: <news-1@nimbus.example>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "Save 20% on GPU hours this spring with offer code 100-200.\r\n.not a terminator\r\n")
with open("mail.ini", "w") as f:
    f.write("; team mailbox (POP3, no TLS on the lab network)\n[pop3]\nhost = 127.0.0.1\nport = 18112\n"
            f"user = ops@agentlab.test\npassword = {pw}\n")
