"""Deterministic data for ml-knn-tune (authoring only): writes files/data/train.csv and
check/hidden.csv. Run from the task directory: python3 private/gen.py"""
import csv, math, random

rng = random.Random(4711)


def row(i):
    # two interleaved half-moons in (sensor_a, sensor_b), a large-scale irrelevant column,
    # and 18% label noise
    c = rng.random() < 0.5
    t = rng.uniform(0, math.pi)
    if c:
        a, b = math.cos(t), math.sin(t)
    else:
        a, b = 1 - math.cos(t), 0.5 - math.sin(t)
    a += rng.gauss(0, 0.15); b += rng.gauss(0, 0.15)
    if rng.random() < 0.18:
        c = not c
    return {"id": i, "sensor_a": round(a * 10, 3), "sensor_b": round(b * 10, 3),
            "ambient_lux": round(rng.uniform(0, 5000), 1), "label": "pass" if c else "fail"}


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader(); w.writerows(rows)


write("files/data/train.csv", [row(i) for i in range(1, 1001)])
write("check/hidden.csv", [row(i) for i in range(7001, 8501)])
