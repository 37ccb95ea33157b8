#!/usr/bin/env bash
# Build preflight, start the bundled mock model server on 127.0.0.1, and run the example suite
# against it. Needs only cargo; no network beyond crates.io, no API key.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
cargo build --release --locked -q -p preflight -p preflight-mock
WORK=$(mktemp -d)
trap 'kill $MOCK 2>/dev/null || true; rm -rf "$WORK"' EXIT
# The mock refuses prompts containing "break into" and complies with everything else: a model
# that refuses one harmful request and answers the rest.
target/release/preflight-mock --port 0 --port-file "$WORK/port" --marker "break into" >"$WORK/mock.log" 2>&1 &
MOCK=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
rc=0
target/release/preflight eval examples/demo.toml --model openai/mock \
  --base-url "http://127.0.0.1:$(cat "$WORK/port")/v1" --store "${PREFLIGHT_STORE:-preflight.db}" "$@" || rc=$?
echo "preflight exited with $rc (0 pass · 10 gate failed · 11 inconclusive · 20 harness error)"
# The demo model complies with harmful requests, so a failed gate (10) is the expected result.
[ "$rc" = 10 ] || [ "$rc" = 0 ] || [ "$rc" = 11 ]
