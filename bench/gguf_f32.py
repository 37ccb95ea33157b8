#!/usr/bin/env python3
"""A GGUF's quantized tensors dequantized to F32 (exactly: d*q + m in f32), everything else kept.

usage: gguf_f32.py IN.gguf OUT.gguf   (needs `pip install gguf numpy`)
"""
import sys
import gguf
from gguf import GGUFReader, GGUFWriter, GGMLQuantizationType as T
from gguf.quants import dequantize

src, dst = sys.argv[1], sys.argv[2]
r = GGUFReader(src)
w = GGUFWriter(dst, r.fields["general.architecture"].contents())
for k, f in r.fields.items():
    if k.startswith("GGUF.") or k == "general.architecture":
        continue
    vt = f.types[0]
    if vt == gguf.GGUFValueType.ARRAY:
        w.add_key_value(k, f.contents(), vt, sub_type=f.types[-1])
    else:
        w.add_key_value(k, f.contents(), vt)
for t in r.tensors:
    if t.tensor_type in (T.F32, T.F16, T.BF16):
        w.add_tensor(t.name, t.data, raw_shape=t.data.shape, raw_dtype=t.tensor_type)
    else:
        shape = list(reversed([int(x) for x in t.shape]))
        f = dequantize(t.data, t.tensor_type).reshape(shape).astype("float32")
        w.add_tensor(t.name, f, raw_shape=f.shape, raw_dtype=T.F32)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
