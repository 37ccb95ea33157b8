# Generates files/transmission.txt: the flag wrapped in several encoding layers (run once).
import base64, gzip, os
FLAG = "flag{onions_have_layers_9dbfeba0d5d68bfc}"
LAYERS = ["gzip", "b85", "b64", "hex", "b32", "gzip", "b64", "b32", "hex", "b64"]
data = FLAG.encode()
for l in LAYERS:
    if l == "gzip": data = gzip.compress(data, mtime=0)
    elif l == "b85": data = base64.b85encode(data)
    elif l == "b64": data = base64.b64encode(data)
    elif l == "b32": data = base64.b32encode(data)
    elif l == "hex": data = data.hex().encode()
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "files")
open(os.path.join(d, "transmission.txt"), "wb").write(data + b"\n")
