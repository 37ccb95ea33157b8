#!/usr/bin/env bash
# Harness overhead and throughput of `preflight eval` against the in-repo mock server.
#
# For every latency × concurrency × N: start preflight-mock (127.0.0.1, free port), run
# preflight eval under /usr/bin/time -v with scoring and the SQLite store on and the cache off,
# check every sample reached the server, and print one Markdown row.
#
#   LATENCIES="0 200" CONCURRENCY="64 512" SIZES="2000 20000 100000" bench/run.sh
#   STREAM=1 …   the same with `eval --stream` (the mock answers in server-sent events)
#   BATCH=1 …    the same through `eval --batch` (the mock's OpenAI Batch API; BATCH_SIZE requests
#                per batch, default 1000, each batch done BATCH_MS after it is created, default 0):
#                the figure that matters is CPU s / 1k, the harness's cost per batched sample
#
# steady/s counts from the first request the server saw to the last answer it sent (the same
# definition as the shared peer benchmark); samples/s is N over the whole command.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LATENCIES=${LATENCIES:-"0 200"}; CONCURRENCY=${CONCURRENCY:-"64 512"}; SIZES=${SIZES:-"2000 20000 100000"}
REPLY_WORDS=${REPLY_WORDS:-120}; OUT=${OUT:-$ROOT/bench/out}
STREAM_FLAG=(); [ "${STREAM:-0}" = 1 ] && STREAM_FLAG=(--stream)
[ "${BATCH:-0}" = 1 ] && STREAM_FLAG=(--batch --batch-size "${BATCH_SIZE:-1000}" --batch-poll 0.2s)
mkdir -p "$OUT"
(cd "$ROOT" && cargo build --release -q -p preflight -p preflight-mock)
BIN=$ROOT/target/release
MOCK_PID=""
stop_mock() {
  if [ -n "$MOCK_PID" ]; then kill "$MOCK_PID" 2>/dev/null || true; wait "$MOCK_PID" 2>/dev/null || true; fi
  MOCK_PID=""
}
trap stop_mock EXIT

echo "| latency ms | C | N | wall s | samples/s | steady/s | ideal/s | % ideal (steady) | CPU s | CPU s / 1k | peak RSS MiB | reached server | max in flight |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for lat in $LATENCIES; do
  rm -f "$OUT/mock.port"
  "$BIN/preflight-mock" --port 0 --port-file "$OUT/mock.port" --latency-ms "$lat" --reply-words "$REPLY_WORDS" --batch-ms "${BATCH_MS:-0}" >"$OUT/mock.log" 2>&1 &
  MOCK_PID=$!
  for _ in $(seq 100); do [ -s "$OUT/mock.port" ] && break; sleep 0.05; done
  URL=http://127.0.0.1:$(cat "$OUT/mock.port")
  for n in $SIZES; do
    data=$OUT/data-$n
    [ -f "$data/suite.toml" ] || python3 "$ROOT/bench/gen.py" --n "$n" --out "$data"
    for c in $CONCURRENCY; do
      wd=$OUT/run-l$lat-c$c-n$n; rm -rf "$wd"; mkdir -p "$wd"
      curl -fsS -X POST "$URL/stats/reset" >/dev/null
      rc=0
      /usr/bin/time -v -o "$wd/time.txt" "$BIN/preflight" eval "$data/suite.toml" --model openai/stub \
        --base-url "$URL/v1" -j "$c" --no-cache --store "$wd/run.db" --quiet --format json "${STREAM_FLAG[@]}" >"$wd/out.json" 2>"$wd/err.txt" || rc=$?
      curl -fsS "$URL/stats" >"$wd/stats.json"
      python3 - "$wd" "$lat" "$c" "$n" "$rc" <<'PY'
import json, re, sys
wd, lat, c, n, rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
t = open(f"{wd}/time.txt").read()
g = lambda k: re.search(re.escape(k) + r":\s*(.+)", t).group(1).strip()
user, sys_ = float(g("User time (seconds)")), float(g("System time (seconds)"))
wall = g("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")
wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
rss = int(g("Maximum resident set size (kbytes)")) / 1024
st = json.load(open(f"{wd}/stats.json"))
cpu = user + sys_
ideal = c / (lat / 1000) if lat else float("nan")
rate = n / wall
# Batched requests never reach the chat endpoint: no first/last request times, no steady rate.
span = (st["last_reply_us"] - st["first_request_us"]) / 1e6 if st["first_request_us"] is not None else 0
steady = n / span if span > 0 else float("nan")
pct = f"{100 * steady / ideal:.1f}" if lat else "-"
ok = "" if rc in (0, 10, 11) else f" (exit {rc})"
print(f"| {lat} | {c} | {n} | {wall:.2f} | {rate:.0f} | {'-' if span <= 0 else f'{steady:.0f}'} | {'-' if not lat else f'{ideal:.0f}'} | {pct} | {cpu:.2f} | {1000 * cpu / n:.3f} | {rss:.1f} | {st['requests']}{ok} | {st['max_in_flight']} |")
PY
    done
  done
  stop_mock
done
