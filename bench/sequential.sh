#!/usr/bin/env bash
# The whole battery on the embedded model, fixed-size against sequential (rounds per category,
# stop once settled), both without the response cache; then the planner's seeded simulation
# (error rate and draws against the fixed-n plan of the same confidence).
#   bench/sequential.sh [EXTRA EVAL FLAGS]     e.g. --warmup 5
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRATCH=${SCRATCH:-/tmp/bench}
mkdir -p "$SCRATCH"
(cd "$ROOT" && cargo build --release --locked -q -p preflight)
BIN=$ROOT/target/release/preflight
run() {
  local name=$1; shift
  rm -f "$SCRATCH/$name.db"
  local start end code=0
  start=$(date +%s.%N)
  "$BIN" eval battery --no-cache -q --store "$SCRATCH/$name.db" --format json "$@" > "$SCRATCH/$name.json" || code=$?
  end=$(date +%s.%N)
  python3 - "$SCRATCH/$name.json" "$name" "$start" "$end" "$code" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:<11} {float(sys.argv[4]) - float(sys.argv[3]):7.1f} s  {r['run']['done']:5d} probes  "
      f"{r['verdict']:<12} exit {sys.argv[5]}  overall {r['scorecard']['overall_at_least']}–{r['scorecard']['overall_at_most']}")
PY
}
run fixed
run sequential --sequential "$@"
"$BIN" report "$("$BIN" runs --store "$SCRATCH/sequential.db" | awk 'NR==2{print $1}')" \
  --store "$SCRATCH/sequential.db" --format table | sed -n '/Sequential run/,/^$/p'
(cd "$ROOT" && cargo test --release -q -p preflight-stats --lib sequential_runs_keep -- --nocapture 2>&1 | grep saving)
