#!/usr/bin/env python3
"""The same measurements as crates/local/examples/tokens.rs, through llama-cpp-python.

usage: llama_py.py MODEL.gguf THREADS   (prints one JSON line)
"""
import json, sys, time
from llama_cpp import Llama

path, threads = sys.argv[1], int(sys.argv[2])
m = Llama(model_path=path, n_threads=threads, n_threads_batch=threads, n_ctx=2048, n_batch=512, verbose=False)
def chat(prompt, n):
    # llama-cpp-python reuses the prompt prefix it evaluated last; start afresh so that every
    # timed call computes its whole prompt, as preflight's bench does with fresh engines.
    m.reset()
    return m.create_chat_completion(messages=[{"role": "user", "content": prompt}], max_tokens=n, temperature=0.0)
chat("Hi", 4)
long_prompt = "Summarise the following text in one word. " + "The quick brown fox jumps over the lazy dog. " * 40
t = time.perf_counter(); r = chat(long_prompt, 1); prompt_tps = r["usage"]["prompt_tokens"] / (time.perf_counter() - t)
gen_tokens = gen_secs = 0
for s in ["Write a long story about a dragon who learns to bake bread.", "Write a long story about a lighthouse keeper and a storm."]:
    t = time.perf_counter(); r1 = chat(s, 1); first = time.perf_counter() - t
    t = time.perf_counter(); r = chat(s, 128); gen_secs += time.perf_counter() - t - first
    gen_tokens += r["usage"]["completion_tokens"] - r1["usage"]["completion_tokens"]
print(json.dumps({"engine": "llama-cpp-python", "threads": threads, "prompt_tps": round(prompt_tps, 1), "gen_tps": round(gen_tokens / gen_secs, 1)}))
