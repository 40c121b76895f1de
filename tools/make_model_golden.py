#!/usr/bin/env python3
"""Writes tests/golden/model/: a whole reduced-width xresnet forward and
backward in PyTorch, for the C engine's end-to-end check.

The model is fastai's xresnet rebuilt here in plain PyTorch, module by
module as spec/reference-training.md §3 states it (ConvLayer = conv, BN,
act; tweak-D shortcut; SE; SimpleSelfAttention with spectral norm), with
noisette's parameter names, every width divided by WIDTH_DIV so the fixture
stays small. Weights are seeded draws (BN weights and gamma away from their
zero init so that every branch matters); the model runs in training mode on
a seeded input batch; the loss is sum(logits * r) for a seeded r. Saved:
every parameter (by noisette name), the input, r, the logits, every
parameter's gradient, and the BN running
statistics after the step.

Usage: /usr/bin/python3 tools/make_model_golden.py   (python3-torch)
"""
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_format import write_arrays  # noqa: E402

SEED = 1234
WIDTH_DIV = 16
BATCH = 2
SIZE = 64


class Mish(nn.Module):
    def forward(self, x):
        return x * torch.tanh(F.softplus(x))


def act_module(act):
    return Mish() if act == "mish" else nn.ReLU() if act == "relu" else None


class ConvLayer(nn.Module):
    def __init__(self, ci, co, k, stride=1, groups=1, act="mish", bias=False, bn=True):
        super().__init__()
        self.conv = nn.Conv2d(ci, co, k, stride, (k - 1) // 2, groups=groups, bias=bias)
        self.bn = nn.BatchNorm2d(co) if bn else None
        self.act = act_module(act)

    def forward(self, x):
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return self.act(x) if self.act is not None else x


class SE(nn.Module):
    def __init__(self, c, act):
        super().__init__()
        hidden = 8 * math.ceil((c // 16) / 8)
        self.conv1 = nn.Conv2d(c, hidden, 1, bias=True)
        self.act = act_module(act)
        self.conv2 = nn.Conv2d(hidden, c, 1, bias=True)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        s = torch.sigmoid(self.conv2(self.act(self.conv1(s))))
        return x * s


class SelfAttention(nn.Module):
    def __init__(self, c, sym=False):
        super().__init__()
        self.conv = nn.utils.spectral_norm(nn.Conv1d(c, c, 1, bias=False))
        self.gamma = nn.Parameter(torch.tensor([0.0]))
        self.sym = sym

    def forward(self, x):
        size = x.size()
        x = x.view(*size[:2], -1)
        if self.sym:
            c = self.conv.weight.view(self.conv.weight.shape[0], -1)
            c = (c + c.t()) / 2
            self.conv.weight = c.view(*self.conv.weight.shape)
        convx = self.conv(x)
        xxT = torch.bmm(x, x.permute(0, 2, 1).contiguous())
        o = torch.bmm(xxT, convx)
        return (self.gamma * o + x).view(*size).contiguous()


class Block(nn.Module):
    def __init__(self, e, ni, nf, stride, groups, nh1, nh2, reduction, sa, act, pool):
        super().__init__()
        NI, NF = ni * e, nf * e
        if e == 1:
            self.convs = nn.ModuleList([ConvLayer(NI, nh2, 3, stride, groups, act),
                                        ConvLayer(nh2, NF, 3, act=None)])
        else:
            self.convs = nn.ModuleList([ConvLayer(NI, nh1, 1, act=act),
                                        ConvLayer(nh1, nh2, 3, stride, groups, act),
                                        ConvLayer(nh2, NF, 1, act=None)])
        self.se = SE(NF, act) if reduction else None
        self.sa = SelfAttention(NF) if sa else None
        self.idpool = None
        if stride != 1:
            self.idpool = (nn.AvgPool2d(2, ceil_mode=True) if pool == "avg"
                           else nn.MaxPool2d(2))
        self.idconv = ConvLayer(NI, NF, 1, act=None) if NI != NF else None
        self.act = act_module(act)

    def forward(self, x):
        y = x
        for c in self.convs:
            y = c(y)
        if self.se is not None:
            y = self.se(y)
        if self.sa is not None:
            y = self.sa(y)
        s = x
        if self.idpool is not None:
            s = self.idpool(s)
        if self.idconv is not None:
            s = self.idconv(s)
        return self.act(y + s)


ARCHS = {
    "xresnet18": ("plain", 1, [2, 2, 2, 2]),
    "xresnet50": ("plain", 4, [3, 4, 6, 3]),
    "xse_resnext50": ("se_resnext", 4, [3, 4, 6, 3]),
}


class XResNet(nn.Module):
    def __init__(self, arch, c_in=3, n_out=10, act="mish", pool="avg", sa=False, div=1):
        super().__init__()
        kind, e, layers = ARCHS[arch]
        self.stem = nn.ModuleList([ConvLayer(c_in, 32 // div, 3, 2, act=act),
                                   ConvLayer(32 // div, 32 // div, 3, act=act),
                                   ConvLayer(32 // div, 64 // div, 3, act=act)])
        self.stem_pool = nn.MaxPool2d(3, 2, 1)
        bs = [64 // e // div, 64 // div, 128 // div, 256 // div, 512 // div]
        groups = max(1, 32 // div)
        self.stages = nn.ModuleList()
        for i in range(4):
            blocks = nn.ModuleList()
            for j in range(layers[i]):
                ni, nf = (bs[i] if j == 0 else bs[i + 1]), bs[i + 1]
                stride = 2 if (j == 0 and i > 0) else 1
                g, nh1, nh2, red = 1, nf, nf, 0
                if kind == "se_resnext":
                    w = (nf * 4 // 64) * groups
                    nh1 = nh2 = w if w > 0 else groups
                    g, red = groups, 16
                blocks.append(Block(e, ni, nf, stride, g, nh1, nh2, red,
                                    sa and i == 0 and j == layers[0] - 1, act, pool))
            self.stages.append(blocks)
        self.fc = nn.Linear(bs[4] * e, n_out)

    def forward(self, x):
        for c in self.stem:
            x = c(x)
        x = self.stem_pool(x)
        for blocks in self.stages:
            for b in blocks:
                x = b(x)
        return self.fc(x.mean((2, 3)))


def noisette_name(torch_name):
    """Maps a parameter path of this module to noisette's name."""
    n = torch_name
    n = n.replace("stem_pool", "stem.pool")
    if n.startswith("fc."):
        n = "head." + n
    n = n.replace(".conv.weight_orig", ".conv.weight_orig")
    return n


def make(arch, sa, out_dir):
    torch.manual_seed(SEED)
    m = XResNet(arch, sa=sa, div=WIDTH_DIV)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("bn.weight") or name.endswith("gamma"):
                p.uniform_(0.5, 1.0)
            elif name.endswith("bias"):
                p.uniform_(-0.1, 0.1)
    m.train()
    x = torch.randn(BATCH, 3, SIZE, SIZE)
    r = torch.randn(BATCH, 10)
    arrays = [("input", x), ("r", r)]
    for name, p in m.named_parameters():
        arrays.append(("param:" + noisette_name(name), p.detach().clone()))
    for name, b in m.named_buffers():
        if name.endswith("weight_u") or name.endswith("weight_v"):
            arrays.append(("buffer:" + noisette_name(name), b.detach().clone()))
    z = m(x)
    (z * r).sum().backward()
    arrays.append(("logits", z.detach()))
    for name, p in m.named_parameters():
        arrays.append(("grad:" + noisette_name(name), p.grad.detach()))
    for name, b in m.named_buffers():
        if "running" in name:
            arrays.append(("after:" + noisette_name(name), b.detach()))
    path = os.path.join(out_dir, "%s%s_div%d.bin" % (arch, "_sa" if sa else "", WIDTH_DIV))
    write_arrays(path, arrays)
    return path


def main():
    out_dir = "tests/golden/model"
    os.makedirs(out_dir, exist_ok=True)
    for arch, sa in [("xresnet18", False), ("xse_resnext50", True)]:
        print(make(arch, sa, out_dir))


if __name__ == "__main__":
    main()
