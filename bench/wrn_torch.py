"""The official pre-activation Wide ResNet of hendrycks/pre-training (spec §1) in
PyTorch, the one definition of the scripts that run it beside robustcl:
tests/data/gen_torch_parity.py and gen_torch_load.py (the parity fixtures: the official
parameter names, which `robustcl import` reads, and the official initialisation),
bench/peer_pytorch.py (the training-step peer) and bench/suite_mini_torch.py (with
robustcl's dropout stream). Debian: python3-torch."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, i, o, stride, drop=None):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(i); self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(i, o, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(o); self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(o, o, 3, 1, 1, bias=False)
        self.drop = drop  # a module between conv1 and conv2 (where the official code drops out), or None
        self.equalInOut = i == o
        self.convShortcut = (not self.equalInOut) and nn.Conv2d(i, o, 1, stride, 0, bias=False) or None

    def forward(self, x):
        if not self.equalInOut:
            x = self.relu1(self.bn1(x))
            out = self.relu2(self.bn2(self.conv1(x)))
        else:
            out = self.relu1(self.bn1(x))
            out = self.relu2(self.bn2(self.conv1(out)))
        if self.drop is not None:
            out = self.drop(out)
        out = self.conv2(out)
        return torch.add(x if self.equalInOut else self.convShortcut(x), out)


class NetworkBlock(nn.Module):
    def __init__(self, n, i, o, stride, first_block=0, dropout=None):
        super().__init__()
        self.layer = nn.Sequential(*[BasicBlock(i if k == 0 else o, o, stride if k == 0 else 1,
                                                dropout(first_block + k) if dropout else None) for k in range(n)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    """WRN-depth-widen for in_c-channel inputs. dropout: None, or a function of the block's
    index (0 .. 3*(depth-4)/6 - 1, in forward order) that returns its dropout module."""

    def __init__(self, depth, classes, widen, in_c, dropout=None):
        super().__init__()
        w = [16, 16 * widen, 32 * widen, 64 * widen]; n = (depth - 4) // 6
        self.conv1 = nn.Conv2d(in_c, w[0], 3, 1, 1, bias=False)
        self.block1 = NetworkBlock(n, w[0], w[1], 1, 0, dropout)
        self.block2 = NetworkBlock(n, w[1], w[2], 2, n, dropout)
        self.block3 = NetworkBlock(n, w[2], w[3], 2, 2 * n, dropout)
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
