#!/usr/bin/env bash
# The project's tests, from a fresh machine: system packages, the default model (the
# model-backed tests use it) and the public datasets (the importer test reads the real sets),
# then cargo test. The tests themselves never touch the network.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/deps.sh
cargo run --locked -q -p preflight -- model fetch
cargo run --locked -q -p preflight -- data fetch all
# --no-fail-fast: one failing test binary does not hide the others' results.
PREFLIGHT_DATA_TESTS=1 cargo test --workspace --locked --no-fail-fast
