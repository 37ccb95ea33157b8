#!/usr/bin/env bash
# In-process generation speed: preflight's llama.cpp engine against llama.cpp's own Python
# binding (llama-cpp-python, same GGUF, same threads), and aggregate tokens/s with 8 prompts.
# Also preflight with llama.cpp's reference kernels (no repacking), to separate the engine from
# the Q4_1 kernels preflight adds.
#   bench/llama.sh            (installs llama-cpp-python into $SCRATCH/venv-llama on first use)
#   ROUNDS=3 bench/llama.sh   (alternates the three engines ROUNDS times)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRATCH=${SCRATCH:-/tmp/bench}
MODEL=${MODEL:-$(cd "$ROOT" && cargo run --release --locked -q -p preflight -- model fetch 2>/dev/null)}
VENV=$SCRATCH/venv-llama
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import llama_cpp' 2>/dev/null; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q llama-cpp-python
fi
(cd "$ROOT" && cargo build --release --locked -q -p preflight-local --example tokens)
echo "llama-cpp-python $("$VENV/bin/python" -c 'import llama_cpp; print(llama_cpp.__version__)'), model $MODEL, $(nproc) CPUs" >&2
for round in $(seq "${ROUNDS:-1}"); do
  for threads in 1 2; do
    "$VENV/bin/python" "$ROOT/bench/llama_py.py" "$MODEL" "$threads"
    PREFLIGHT_REFERENCE_KERNELS=1 "$ROOT/target/release/examples/tokens" "$MODEL" "$threads" 8
    "$ROOT/target/release/examples/tokens" "$MODEL" "$threads" 8
  done
done
