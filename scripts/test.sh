#!/usr/bin/env bash
# The project's tests, from a fresh machine: system packages, the default model (the
# model-backed tests use it; tests themselves never touch the network), then cargo test.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/deps.sh
cargo run --locked -q -p preflight -- model fetch
cargo test --workspace --locked
