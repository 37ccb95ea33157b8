# Generates files/notes.db: a note-taking app database; one zlib-compressed attachment (the flag)
# was deleted with secure_delete off, so its bytes stay in the page's free space (run once).
import os, random, sqlite3, zlib
FLAG = "flag{deleted_is_not_gone_6708f96128a137a9}"
rng = random.Random(31337)
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "files")
path = os.path.join(d, "notes.db")
if os.path.exists(path): os.remove(path)
db = sqlite3.connect(path)
db.execute("PRAGMA secure_delete = OFF")
db.execute("PRAGMA journal_mode = DELETE")
db.executescript("""
CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, email TEXT);
CREATE TABLE notes(id INTEGER PRIMARY KEY, user_id INTEGER, title TEXT, body TEXT, created TEXT);
-- attachment contents are stored zlib-compressed (see app/storage.py)
CREATE TABLE attachments(id INTEGER PRIMARY KEY, note_id INTEGER, filename TEXT, size INTEGER, data BLOB);
CREATE TABLE audit(id INTEGER PRIMARY KEY, at TEXT, who TEXT, action TEXT);
""")
db.executemany("INSERT INTO users VALUES(?,?,?)", [(1, "alice", "alice@example.test"), (2, "bob", "bob@example.test"), (3, "mallory", "mallory@example.test")])
words = "meeting budget quarterly review ship release server rack invoice travel lunch agenda backup rotation vendor contract".split()
notes = []
for i in range(1, 13):
    body = " ".join(rng.choice(words) for _ in range(rng.randrange(12, 40)))
    notes.append((i, rng.randrange(1, 4), f"{rng.choice(words).title()} {rng.choice(words)}", body, f"2024-03-{i + 2:02d} 1{rng.randrange(10)}:{rng.randrange(60):02d}"))
db.executemany("INSERT INTO notes VALUES(?,?,?,?,?)", notes)
atts = [
    ("agenda.txt", "1. budget\n2. release plan\n3. vendor contract renewal\n4. AOB\n"),
    ("todo.txt", "- rotate backup tapes\n- order new rack rails\n- expense report for travel\n"),
    ("recovery.txt", f"Emergency recovery code for the admin console:\n{FLAG}\nKeep offline!\n"),
    ("invoice-0314.csv", "item,qty,price\n" + "".join(f"part-{rng.randrange(1000)},{rng.randrange(1, 9)},{rng.randrange(5, 500)}.00\n" for _ in range(15))),
    ("minutes.txt", " ".join(rng.choice(words) for _ in range(80)) + "\n"),
    ("servers.txt", "".join(f"srv{i:02d} 10.1.{i}.{rng.randrange(2, 250)}\n" for i in range(20))),
]
for i, (fn, txt) in enumerate(atts, 1):
    db.execute("INSERT INTO attachments VALUES(?,?,?,?,?)", (i, rng.randrange(1, 13), fn, len(txt), zlib.compress(txt.encode(), 9)))
db.executemany("INSERT INTO audit(at, who, action) VALUES(?,?,?)", [
    ("2024-03-15 09:02", "alice", "login"), ("2024-03-15 09:10", "alice", "add attachment 4"),
    ("2024-03-15 17:45", "mallory", "login"), ("2024-03-15 17:46", "mallory", "delete attachment 3"),
    ("2024-03-15 17:47", "mallory", "logout")])
db.commit()
db.execute("DELETE FROM attachments WHERE id = 3")
db.commit()
db.close()
