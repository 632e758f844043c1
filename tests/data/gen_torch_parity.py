#!/usr/bin/python3
"""Writes tests/data/torch_parity.safetensors: a small WRN (the official
pre-activation WideResNet of hendrycks/pre-training, spec §1, as
bench/wrn_torch.py writes it) with
PyTorch-initialised weights as a robustcl checkpoint, plus an input batch,
labels, and what PyTorch computes for them: train-mode logits, loss, every
parameter gradient and the input gradient, and eval-mode logits.
Also writes the same state_dict as .pt files (zip and legacy serialisation) for
`robustcl import`. Run with Debian's python3-torch; CI only reads the outputs."""
import json, os, struct, sys
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from wrn_torch import WideResNet  # noqa: E402 (gen_torch_load.py imports it from here)

def write_safetensors(path, tensors, meta):
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name, arr in tensors:
        dt = {np.float32: "F32", np.int32: "I32", np.int64: "I64"}[arr.dtype.type]
        b = np.ascontiguousarray(arr).tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b); off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h); f.write(b"".join(blobs))

def main(out):
    torch.manual_seed(0)
    depth, widen, classes, c, hw, n = 10, 1, 5, 3, 12, 4
    net = WideResNet(depth, classes, widen, c)
    with torch.no_grad():  # non-trivial BN parameters and running statistics
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5); m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.1, 0.1); m.running_var.uniform_(0.5, 1.5)
        net.fc.bias.uniform_(-0.1, 0.1)
    sd = [(k, v.detach().numpy().copy()) for k, v in net.state_dict().items()]
    x = torch.rand(n, c, hw, hw) * 2 - 1
    y = torch.tensor([0, 3, 1, 4])
    net.eval()
    eval_logits = net(x).detach().numpy()
    net.train()
    xg = x.clone().requires_grad_(True)
    logits = net(xg)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    tensors = [(k, v) for k, v in sd if not k.endswith("num_batches_tracked")]
    tensors += [(k, v) for k, v in sd if k.endswith("num_batches_tracked")]
    tensors += [("parity.input", x.numpy()), ("parity.labels", y.numpy().astype(np.int32)),
                ("parity.eval_logits", eval_logits), ("parity.train_logits", logits.detach().numpy()),
                ("parity.loss", np.array([loss.item()], dtype=np.float32)),
                ("parity.input_grad", xg.grad.numpy())]
    tensors += [("parity.grad." + k, p.grad.numpy()) for k, p in net.named_parameters()]
    meta = {"format": "robustcl-checkpoint-1", "arch": f"wrn-{depth}-{widen}", "num_classes": str(classes),
            "input_shape": f"{c}x{hw}x{hw}", "dropout": "0", "fc_bias": "1",
            "generator": "tests/data/gen_torch_parity.py, torch " + torch.__version__}
    write_safetensors(out, tensors, meta)
    # the same weights as PyTorch files, for `robustcl import`: the zip serialisation with
    # DataParallel's "module." prefixes, and the legacy one
    base = out.rsplit(".", 1)[0]
    torch.save({"module." + k: torch.from_numpy(v) for k, v in sd}, base + "_zip.pt")
    torch.save({k: torch.from_numpy(v) for k, v in sd}, base + "_legacy.pt",
               _use_new_zipfile_serialization=False)

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/torch_parity.safetensors")
