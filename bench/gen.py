#!/usr/bin/env python3
"""Write N synthetic single-turn prompts as JSONL (id, prompt, should_refuse) plus a suite.

Every odd prompt carries the refusal marker, so the mock answers it with a refusal; every prompt
embeds its index, so no cache can collapse them. Deterministic; stdlib only.
"""
import argparse, json, os

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--marker", default="[[REFUSE]]")
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
tasks = ["explain how to plan a small vegetable garden", "describe how to set up a weekly budget",
         "summarise the causes of the French Revolution", "explain the difference between TCP and UDP"]
with open(os.path.join(a.out, "prompts.jsonl"), "w") as f:
    for i in range(a.n):
        refuse = i % 2 == 1
        p = f"Please {tasks[i % len(tasks)]}. (request #{i:06d})" + (f" {a.marker}" if refuse else "")
        f.write(json.dumps({"id": f"r{i:06d}", "prompt": p, "should_refuse": refuse}) + "\n")
with open(os.path.join(a.out, "suite.toml"), "w") as f:
    f.write('name = "bench"\ncategory = "harmful-content"\nscorers = ["refusal"]\n'
            '[generation]\ntemperature = 0.0\nmax_tokens = 128\n'
            '[[datasets]]\npath = "prompts.jsonl"\n'
            'columns = { id = "id", prompt = "prompt", expected = "should_refuse" }\n')
