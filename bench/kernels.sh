#!/usr/bin/env bash
# How far preflight's repacked Q4_1 kernel is from llama.cpp's reference kernel, and both from
# exact arithmetic: next-token logits of one prompt from the default model with each kernel,
# and from the same weights dequantized to F32 (llama.cpp then multiplies in f32, with no
# 8-bit activations), written with gguf-py.
#   bench/kernels.sh          (installs gguf-py into $SCRATCH/venv-gguf on first use)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRATCH=${SCRATCH:-/tmp/bench}
MODEL=${MODEL:-$(cd "$ROOT" && cargo run --release --locked -q -p preflight -- model fetch 2>/dev/null)}
VENV=$SCRATCH/venv-gguf
OUT=$SCRATCH/kernels
mkdir -p "$OUT"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import gguf' 2>/dev/null; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q gguf numpy
fi
(cd "$ROOT" && cargo build --release --locked -q -p preflight-local --example logits)
LOGITS=$ROOT/target/release/examples/logits
[ -f "$OUT/f32.gguf" ] || "$VENV/bin/python" "$ROOT/bench/gguf_f32.py" "$MODEL" "$OUT/f32.gguf"
"$LOGITS" "$MODEL" "$OUT/repacked"
PREFLIGHT_REFERENCE_KERNELS=1 "$LOGITS" "$MODEL" "$OUT/reference"
"$LOGITS" "$OUT/f32.gguf" "$OUT/f32"
"$VENV/bin/python" - "$OUT" <<'PY'
import sys, numpy as np
out = sys.argv[1]
L = lambda k: np.fromfile(f"{out}/{k}.f32", dtype="<f4")
ref = L("reference.batch")
print(f"logit spread (sd) {ref.std():.2f}; top-5 tokens: " + ", ".join(
    f"{k} {[int(i) for i in np.argsort(-L(k + '.batch'))[:5]]}" for k in ["reference", "repacked", "f32"]))
for a, b in [("repacked.batch", "reference.batch"), ("reference.batch", "f32.batch"), ("repacked.batch", "f32.batch"),
             ("repacked.batch", "repacked.single"), ("reference.batch", "reference.single")]:
    d = np.abs(L(a) - L(b))
    print(f"{a:16s} vs {b:16s} mean |diff| {d.mean():.4f}  max {d.max():.4f}")
PY
