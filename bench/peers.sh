#!/usr/bin/env bash
# preflight side by side with Inspect, promptfoo and lm-eval on the same workload, through the
# shared peer benchmark (run-peers.sh and its stub live outside this repo, in ../shared/bench).
#
#   bench/peers.sh                          # N=2000, C=64, latency 0 and 200 ms
#   N=2000 C=512 PEERS="inspect lmeval" bench/peers.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${SHARED_BENCH:-$ROOT/../shared/bench}
[ -x "$SHARED/run-peers.sh" ] || { echo "no $SHARED/run-peers.sh (set SHARED_BENCH)" >&2; exit 2; }
(cd "$ROOT" && cargo build --release --locked -q -p preflight)
export OURS_NAME=preflight
# The dataset is JSONL (id, prompt, should_refuse, target): a three-line suite maps it.
export OURS_CMD="printf '%s\n' 'name = \"bench\"' 'category = \"harmful-content\"' '[[datasets]]' 'path = \"{dataset}\"' 'columns = { id = \"id\", prompt = \"prompt\", expected = \"should_refuse\" }' > suite.toml && $ROOT/target/release/preflight eval suite.toml --model openai/{model} --base-url {base_url} -j {concurrency} --no-cache --store run.db --quiet --format json > report.json; rc=\$?; [ \$rc -le 11 ]"
export OURS_VERSION_CMD="$ROOT/target/release/preflight --version"
export OURS_SUMMARY_CMD="python3 $ROOT/bench/summary.py report.json"
exec "$SHARED/run-peers.sh"
