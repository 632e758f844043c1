#!/usr/bin/python3
"""Writes tests/data/torch_parity.safetensors: a small WRN (the official
pre-activation WideResNet of hendrycks/pre-training, PROTOCOL section 1) with
PyTorch-initialised weights as a robustcl checkpoint, plus an input batch,
labels, and what PyTorch computes for them: train-mode logits, loss, every
parameter gradient and the input gradient, and eval-mode logits.
Also writes the same state_dict as .pt files (zip and legacy serialisation) for
`robustcl import`. Run with Debian's python3-torch; CI only reads the outputs."""
import json, struct, sys
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

class BasicBlock(nn.Module):
    def __init__(self, i, o, stride, drop=0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(i); self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(i, o, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(o); self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(o, o, 3, 1, 1, bias=False)
        self.equalInOut = i == o
        self.convShortcut = (not self.equalInOut) and nn.Conv2d(i, o, 1, stride, 0, bias=False) or None
    def forward(self, x):
        if not self.equalInOut:
            x = self.relu1(self.bn1(x))
            out = self.relu2(self.bn2(self.conv1(x)))
        else:
            out = self.relu1(self.bn1(x))
            out = self.relu2(self.bn2(self.conv1(out)))
        out = self.conv2(out)
        return torch.add(x if self.equalInOut else self.convShortcut(x), out)

class NetworkBlock(nn.Module):
    def __init__(self, n, i, o, stride):
        super().__init__()
        self.layer = nn.Sequential(*[BasicBlock(i if k == 0 else o, o, stride if k == 0 else 1) for k in range(n)])
    def forward(self, x): return self.layer(x)

class WideResNet(nn.Module):
    def __init__(self, depth, classes, widen, in_c):
        super().__init__()
        w = [16, 16 * widen, 32 * widen, 64 * widen]; n = (depth - 4) // 6
        self.conv1 = nn.Conv2d(in_c, w[0], 3, 1, 1, bias=False)
        self.block1 = NetworkBlock(n, w[0], w[1], 1)
        self.block2 = NetworkBlock(n, w[1], w[2], 2)
        self.block3 = NetworkBlock(n, w[2], w[3], 2)
        self.bn1 = nn.BatchNorm2d(w[3]); self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(w[3], classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                k = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, (2. / k) ** 0.5)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1); m.bias.data.zero_()
            elif isinstance(m, nn.Linear):
                m.bias.data.zero_()
    def forward(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = self.relu(self.bn1(out))
        out = F.avg_pool2d(out, out.shape[-1]).view(out.shape[0], -1)
        return self.fc(out)

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
