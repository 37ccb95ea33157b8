"""Deterministic data for ml-text-classifier (authoring only): synthetic support tickets.
Writes files/data/tickets_train.csv and check/hidden.csv. Run from the task dir."""
import csv, random

rng = random.Random(2718)
GENERIC = ("i my the a to and is it was this please help hi hello thanks thank you can could why "
           "when what still again today yesterday since week account order app website team "
           "asap urgent problem issue question need want tried already just now").split()
SHARED = {"money": "charge charged card payment amount invoice bank paid euros dollars".split(),
          "access": "login password email code sign phone locked".split(),
          "product": "app update screen page button version device".split()}
TOPICS = {
    "billing": (["money"], "invoice subscription plan billing monthly annual vat receipt upgrade downgrade pricing overcharged twice renewal".split()),
    "refund": (["money"], "refund return money back cancel cancelled reimburse reversal dispute credit returned".split()),
    "login": (["access"], "reset forgot verification 2fa authenticator locked expired link username otp".split()),
    "bug": (["product", "access"], "crash crashes error freeze frozen blank broken glitch loading bug slow stuck".split()),
    "shipping": ([], "package parcel delivery delivered tracking courier shipped address late arrived warehouse box".split()),
}
LABELS = list(TOPICS)


def ticket(label):
    shared, own = TOPICS[label]
    n = rng.randint(6, 22)
    words = []
    for _ in range(n):
        r = rng.random()
        if r < 0.22:
            words.append(rng.choice(own))
        elif r < 0.40 and shared:
            words.append(rng.choice(SHARED[rng.choice(shared)]))
        elif r < 0.50:  # words of another topic (confusers)
            other = rng.choice([l for l in LABELS if l != label])
            words.append(rng.choice(TOPICS[other][1]))
        else:
            words.append(rng.choice(GENERIC))
    if not any(w in own for w in words):
        words[rng.randrange(len(words))] = rng.choice(own)
    text = " ".join(words)
    text = rng.choice([text, text.capitalize(), text.upper() if rng.random() < 0.1 else text])
    return text + rng.choice(["", ".", "!", "?", "!!", " :(", "..."])


def rows(n, start, weights):
    out = []
    for i in range(n):
        label = rng.choices(LABELS, weights)[0]
        out.append({"id": start + i, "text": ticket(label), "label": label})
    return out


def write(path, rs):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["id", "text", "label"], lineterminator="\n")
        w.writeheader(); w.writerows(rs)


write("files/data/tickets_train.csv", rows(1200, 1, [3, 2, 3, 3, 2]))
write("check/hidden.csv", rows(900, 90001, [2, 2, 3, 2, 3]))
