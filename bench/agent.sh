#!/usr/bin/env bash
# Agent tasks: sandbox start-up (median, p99) and tasks per hour with the scripted agent.
#
# 1. `preflight-sandbox`'s startup example: N sandboxes made, one command run, dropped.
# 2. `preflight eval` over every shipped task (one attempt each) against `preflight-mock
#    --replay-tasks` — an OpenAI-compatible scripted agent that replays each task's reference
#    solution through tool calls — at PARALLEL tasks at once; wall time, CPU, tasks/hour, and
#    whether every task was solved.
#
#   N=200 PARALLEL="1 2 4" bench/agent.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-200}; PARALLEL=${PARALLEL:-"1 2 4"}; OUT=${OUT:-$ROOT/bench/out/agent}
mkdir -p "$OUT"
(cd "$ROOT" && cargo build --release -q -p preflight -p preflight-mock && cargo build --release -q -p preflight-sandbox --example startup)
BIN=$ROOT/target/release
echo "## sandbox start-up ($N sandboxes, one after another)"
"$BIN/examples/startup" "$N"
echo
"$BIN/preflight-mock" --replay-tasks "$ROOT/tasks" --port-file "$OUT/mock.port" >"$OUT/mock.log" 2>&1 &
MOCK=$!
trap 'kill $MOCK 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$OUT/mock.port" ] && break; sleep 0.05; done
URL=http://127.0.0.1:$(cat "$OUT/mock.port")
echo "| parallel | tasks | solved | wall s | tasks/hour | CPU s | CPU s / task | peak RSS MiB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for p in $PARALLEL; do
  wd=$OUT/p$p; rm -rf "$wd"; mkdir -p "$wd"
  printf 'name = "agent-bench"\n[capabilities]\ntasks = ["cyber", "autonomy"]\nparallel = %s\n' "$p" >"$wd/suite.toml"
  rc=0
  /usr/bin/time -v -o "$wd/time.txt" "$BIN/preflight" eval "$wd/suite.toml" --model openai/agent --base-url "$URL/v1" \
    --no-cache --store "$wd/run.db" --quiet --format json >"$wd/out.json" 2>"$wd/err.txt" || rc=$?
  python3 - "$wd" "$p" "$rc" <<'PY'
import json, re, sys
wd, p, rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = open(f"{wd}/time.txt").read()
g = lambda k: re.search(re.escape(k) + r":\s*(.+)", t).group(1).strip()
cpu = float(g("User time (seconds)")) + float(g("System time (seconds)"))
wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(g("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"))))
rss = int(g("Maximum resident set size (kbytes)")) / 1024
v = json.load(open(f"{wd}/out.json"))
n = solved = 0
for c in v["scorecard"]["categories"]:
    for m in c["measures"]:
        if m["measure"] == "pass_rate":
            n += m["n"]; solved += round(m["point"] * m["n"])
ok = "" if rc in (0, 10, 11) else f" (exit {rc})"
print(f"| {p} | {n} | {solved}{ok} | {wall:.1f} | {3600 * n / wall:.0f} | {cpu:.1f} | {cpu / max(n, 1):.2f} | {rss:.1f} |")
PY
done
