#!/usr/bin/python3
"""PyTorch reads a robustcl checkpoint: tests/data/rcl_trained.safetensors (written by
`robustcl train --data fashion-mnist,n=256 --arch wrn-10-1 --batch 64 --epochs 1`)
is loaded with strict=True into the official WRN code (gen_torch_parity.py) and its
eval-mode logits on a fixed input are written to tests/data/rcl_trained_torch.safetensors.
test_torch_parity checks that robustcl computes the same logits. Reads the safetensors
format by hand (no safetensors package needed)."""
import json, os, struct, sys
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_torch_parity import WideResNet, write_safetensors

def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    dt = {"F32": np.float32, "I64": np.int64, "I32": np.int32}
    out = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=dt[h["dtype"]]).reshape(h["shape"])
    return out, meta

def main(ckpt, out):
    tensors, meta = read_safetensors(ckpt)
    depth, widen = (int(v) for v in meta["arch"].split("-")[1:])
    c, h, w = (int(v) for v in meta["input_shape"].split("x"))
    net = WideResNet(depth, int(meta["num_classes"]), widen, c)
    sd = {k: torch.from_numpy(v.copy()) for k, v in tensors.items() if not k.startswith("optimizer.")}
    net.load_state_dict(sd, strict=True)
    net.eval()
    torch.manual_seed(1)
    x = torch.rand(6, c, h, w) * 2 - 1
    with torch.no_grad():
        logits = net(x).numpy()
    write_safetensors(out, [("input", x.numpy()), ("logits", logits)],
                      {"generator": "tests/data/gen_torch_load.py, torch " + torch.__version__})

if __name__ == "__main__":
    d = os.path.dirname(os.path.abspath(__file__))
    main(os.path.join(d, "rcl_trained.safetensors"), os.path.join(d, "rcl_trained_torch.safetensors"))
