#!/usr/bin/env bash
# Streaming expansion: SEEDS × 10 attack chains through `preflight eval` against the mock server,
# peak RSS and wall time per size. Flat memory means RSS does not grow with the probe count.
#
#   SEEDS="200 2000 10000" bench/attacks.sh      # 2,000 / 20,000 / 100,000 probes
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SEEDS=${SEEDS:-"200 2000 10000"}; C=${C:-64}; OUT=${OUT:-$ROOT/bench/out}
ATTACKS='"base64", "rot13", "hex", "leetspeak", "homoglyphs", "split", "refusal-suppression+prefix-injection", "roleplay+leetspeak", "payload-split", "homoglyphs+base64"'
mkdir -p "$OUT"
(cd "$ROOT" && cargo build --release -q -p preflight -p preflight-mock)
BIN=$ROOT/target/release
rm -f "$OUT/mock.port"
"$BIN/preflight-mock" --port 0 --port-file "$OUT/mock.port" --latency-ms 0 --reply-words 60 >"$OUT/mock.log" 2>&1 &
MOCK_PID=$!
trap 'kill $MOCK_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$OUT/mock.port" ] && break; sleep 0.05; done
URL=http://127.0.0.1:$(cat "$OUT/mock.port")
echo "| seeds | attacks | probes | wall s | probes/s | CPU s / 1k | peak RSS MiB | stored |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $SEEDS; do
  data=$OUT/attack-data-$n
  [ -f "$data/prompts.jsonl" ] || python3 "$ROOT/bench/gen.py" --n "$n" --out "$data"
  sed "s/^scorers = \[\"refusal\"\]$/scorers = [\"refusal\"]\nattacks = [$ATTACKS]\ninclude_original = false/" "$data/suite.toml" >"$data/attack-suite.toml"
  wd=$OUT/attack-run-$n; rm -rf "$wd"; mkdir -p "$wd"
  rc=0
  /usr/bin/time -v -o "$wd/time.txt" "$BIN/preflight" eval "$data/attack-suite.toml" --model openai/stub \
    --base-url "$URL/v1" -j "$C" --no-cache --store "$wd/run.db" --quiet --format json >"$wd/out.json" 2>"$wd/err.txt" || rc=$?
  python3 - "$wd" "$n" "$rc" <<'PY'
import json, re, sqlite3, sys
wd, n, rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = open(f"{wd}/time.txt").read()
g = lambda k: re.search(re.escape(k) + r":\s*(.+)", t).group(1).strip()
cpu = float(g("User time (seconds)")) + float(g("System time (seconds)"))
wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(g("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"))))
rss = int(g("Maximum resident set size (kbytes)")) / 1024
stored = sqlite3.connect(f"{wd}/run.db").execute("select count(*) from probes").fetchone()[0]
probes = n * 10
ok = "" if rc in (0, 10, 11) else f" (exit {rc})"
print(f"| {n} | 10 | {probes} | {wall:.1f} | {probes / wall:.0f} | {1000 * cpu / probes:.2f} | {rss:.1f} | {stored}{ok} |")
PY
done
