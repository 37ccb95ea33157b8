"""Minimal POP3 server (RFC 1939 subset) for the lab mailboxes in $TASK_STATE/mail/<user>/."""
import json, os, socketserver, sys

STATE = os.environ["TASK_STATE"]


class POP(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.send("+OK lab POP3 ready")
        user, msgs, deleted = None, None, set()
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            parts = line.decode("utf-8", "replace").strip().split(" ")
            cmd, args = parts[0].upper(), parts[1:]
            if cmd == "QUIT":
                if msgs is not None:
                    for i in deleted:
                        try: os.remove(msgs[i][0])
                        except OSError: pass
                self.send("+OK bye"); return
            if cmd == "CAPA":
                self.send("+OK"); [self.send(c) for c in ("USER", "UIDL", "TOP")]; self.send("."); continue
            if msgs is None:
                if cmd == "USER" and args:
                    user = " ".join(args); self.send("+OK"); continue
                if cmd == "PASS" and user is not None:
                    users = json.load(open(os.path.join(STATE, "mail_users.json")))
                    if users.get(user) == " ".join(args):
                        box = os.path.join(STATE, "mail", user)
                        names = sorted(os.listdir(box)) if os.path.isdir(box) else []
                        msgs = [(os.path.join(box, n), open(os.path.join(box, n), "rb").read()) for n in names]
                        self.send(f"+OK {len(msgs)} messages"); continue
                    user = None; self.send("-ERR invalid login"); continue
                self.send("-ERR authenticate first"); continue
            live = [i for i in range(len(msgs)) if i not in deleted]
            def pick():
                try:
                    i = int(args[0]) - 1
                except (IndexError, ValueError):
                    return None
                return i if 0 <= i < len(msgs) and i not in deleted else None
            if cmd == "STAT":
                self.send(f"+OK {len(live)} {sum(len(msgs[i][1]) for i in live)}")
            elif cmd in ("LIST", "UIDL"):
                val = (lambda i: len(msgs[i][1])) if cmd == "LIST" else (lambda i: os.path.basename(msgs[i][0]))
                if args:
                    i = pick(); self.send(f"+OK {i + 1} {val(i)}" if i is not None else "-ERR no such message")
                else:
                    self.send("+OK"); [self.send(f"{i + 1} {val(i)}") for i in live]; self.send(".")
            elif cmd in ("RETR", "TOP"):
                i = pick()
                if i is None:
                    self.send("-ERR no such message"); continue
                text = msgs[i][1].decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
                if cmd == "TOP":
                    try: n = int(args[1])
                    except (IndexError, ValueError): self.send("-ERR usage: TOP msg n"); continue
                    head = text.index("") if "" in text else len(text)
                    text = text[:head + 1 + n]
                self.send(f"+OK {len(msgs[i][1])} octets")
                for ln in text:
                    self.send("." + ln if ln.startswith(".") else ln)
                self.send(".")
            elif cmd == "DELE":
                i = pick()
                if i is None: self.send("-ERR no such message")
                else: deleted.add(i); self.send("+OK deleted")
            elif cmd == "RSET":
                deleted.clear(); self.send("+OK")
            elif cmd == "NOOP":
                self.send("+OK")
            else:
                self.send("-ERR unknown command")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), POP).serve_forever()
