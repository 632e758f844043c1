#!/usr/bin/python3
"""Writes the PyTorch fixtures of tests/test_io_torch.c with torch.save (Debian python3-torch):
  io_torch_zip.pt      torch.save(sd, f)                                    (zip format)
  io_torch_legacy.pt   torch.save(sd, f, _use_new_zipfile_serialization=False)
  io_torch_ckpt.pt     torch.save({'epoch': 3, 'state_dict': sd}, f)        (zip format)
  io_torch_evil.pt     a state dict holding an object whose __reduce__ calls os.system:
                       robustcl must refuse it, naming the global, and run nothing
and io_torch_expected.txt, the values robustcl must read, one tensor a line:
  name src_dtype ndim dims... numel values...    (names with 'module.' stripped, %.9g)

sd is a real module's state_dict (an OrderedDict with _metadata) with some keys renamed
to 'module.*' (DataParallel) and extra entries that are views of one shared storage:
a row slice (storage offset), a transpose and a strided slice (non-contiguous), plus
float64/float16 tensors and the int64 num_batches_tracked.

Run: /usr/bin/python3 tests/data/gen_io_torch.py
"""
import collections
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPE = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.int64: "I64"}


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 2, 3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(2)
        self.fc = torch.nn.Linear(4, 3)


def state_dict():
    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():
        net.bn1.running_mean.copy_(torch.tensor([0.25, -0.5]))
        net.bn1.running_var.copy_(torch.tensor([1.5, 2.0]))
        net.bn1.num_batches_tracked.fill_(7)
    src = net.state_dict()
    sd = collections.OrderedDict()
    for k, v in src.items():
        sd[("module." + k) if k.startswith("fc.") else k] = v
    sd._metadata = src._metadata
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5 - 3
    sd["view.rows"] = base[1:3]          # storage offset 6
    sd["view.t"] = base.t()              # strides (1, 6)
    sd["view.step"] = base[1:, ::2]      # offset 6, strides (6, 2)
    sd["module.module.double"] = torch.tensor([[0.1, -2.0], [3.0, 1e-3]], dtype=torch.float64)
    sd["half"] = torch.tensor([1.0, -0.5, 65504.0], dtype=torch.float16)
    sd["scalar"] = torch.tensor(1.25)
    return sd


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def strip(name):
    while name.startswith("module."):
        name = name[len("module."):]
    return name


def main():
    sd = state_dict()
    torch.save(sd, os.path.join(HERE, "io_torch_zip.pt"))
    torch.save(sd, os.path.join(HERE, "io_torch_legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save({"epoch": 3, "state_dict": sd}, os.path.join(HERE, "io_torch_ckpt.pt"))
    torch.save(collections.OrderedDict([("w", torch.zeros(2)), ("evil", Evil())]),
               os.path.join(HERE, "io_torch_evil.pt"))
    with open(os.path.join(HERE, "io_torch_expected.txt"), "w") as f:
        f.write("# name src_dtype ndim dims... numel values...  (from gen_io_torch.py, torch %s)\n"
                % torch.__version__)
        for k, v in sd.items():
            vals = v.to(torch.float32).contiguous().reshape(-1).tolist()
            f.write(" ".join([strip(k), DTYPE[v.dtype], str(v.dim())] + [str(d) for d in v.shape]
                             + [str(len(vals))] + ["%.9g" % x for x in vals]) + "\n")
    # the files load back in torch
    for name in ["io_torch_zip.pt", "io_torch_legacy.pt"]:
        back = torch.load(os.path.join(HERE, name))
        assert list(back) == list(sd) and all(torch.equal(back[k], sd[k]) for k in sd)


if __name__ == "__main__":
    main()
