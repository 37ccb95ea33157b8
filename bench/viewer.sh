#!/usr/bin/env bash
# The viewer on big stores (issue 18): a run of 10^6 probes written through the run writer (search
# index and all), then server time per page over HTTP on loopback and the viewer's peak memory;
# and the self-contained HTML report of a 10^5-probe run (build and render time, size).
# Usage: bench/viewer.sh [N] [REPORT_N]   (defaults 1000000 and 100000; stores go to $TMPDIR)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n=${1:-1000000}
rn=${2:-100000}
tmp=${TMPDIR:-/tmp}/preflight-bench-viewer
rm -rf "$tmp" && mkdir -p "$tmp"
cargo build --release -q -p preflight-view --example bench
b=target/release/examples/bench
echo "== a store of $n probes"
$b make "$tmp/big.db" "$n"
echo "== pages of the $n-probe run"
$b time "$tmp/big.db"
echo "== the HTML report of a $rn-probe run"
$b make "$tmp/report.db" "$rn" >/dev/null
$b report "$tmp/report.db"
rm -rf "$tmp"
