#!/usr/bin/python3
"""Writes the golden fixtures of the layers (src/nn/*.c): PyTorch's forward
outputs, input gradients and parameter gradients on tiny seeded inputs.

Each case builds one layer (or the SE block, or SimpleSelfAttention written
out as in spec §3.7 with torch.nn.utils.spectral_norm) in float64 from
float32 inputs and parameters, runs one forward pass in training mode and
backpropagates the loss sum(y * r) for a fixed random r. Everything is
stored as float32, so the C test (tests/unit/test_layers.c) compares its
float arithmetic against a reference that carries no float32 rounding of
its own.

Files: OUT/<case>.bin in the shared fixture format (tools/golden_format.py,
read by tests/unit/golden.c), and OUT/README.md listing every case with
its arrays and shapes, the torch version and the seed.

Usage: /usr/bin/python3 tools/make_layer_golden.py [OUT]
       (OUT defaults to tests/golden/layers; byte-for-byte reproducible).
Needs Debian's python3-torch (1.13) and numpy.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from golden_format import write_arrays

SEED = 20240612


def draw(gen, *shape, scale=1.0, shift=0.0):
    """Seeded normal draws, rounded to float32, held in float64."""
    t = torch.randn(*shape, generator=gen, dtype=torch.float32)
    return (t * scale + shift).float().double()


class Case:
    """The arrays of one case, written in the order they are added."""

    def __init__(self, name, what):
        self.name, self.what, self.arrays = name, what, []

    def add(self, name, t):
        self.arrays.append((name, t.detach().double().cpu().float()))

    def write(self, out_dir):
        path = os.path.join(out_dir, self.name + ".bin")
        write_arrays(path, self.arrays)
        return os.path.getsize(path)

    def readme_lines(self):
        arrays = ", ".join("%s %s" % (name, "x".join(str(d) for d in t.shape) or "scalar")
                           for name, t in self.arrays)
        return ["- `%s.bin`: %s;" % (self.name, self.what), "  %s." % arrays]


def loss_backward(case, y, gen):
    """Adds r and y, and backpropagates sum(y * r)."""
    r = draw(gen, *y.shape)
    case.add("r", r)
    case.add("y", y)
    (y * r).sum().backward()


def leaf(t):
    return t.clone().requires_grad_(True)


def conv_case(gen, name, n, ci, co, h, w, k, stride, groups, bias):
    case = Case(name, "Conv2d(%d, %d, %d, stride=%d, padding=%d, groups=%d, bias=%s) on "
                "%dx%dx%dx%d" % (ci, co, k, stride, (k - 1) // 2, groups, bias, n, ci, h, w))
    conv = nn.Conv2d(ci, co, k, stride=stride, padding=(k - 1) // 2, groups=groups,
                     bias=bias).double()
    x = leaf(draw(gen, n, ci, h, w))
    with torch.no_grad():
        conv.weight.copy_(draw(gen, co, ci // groups, k, k, scale=0.5))
        if bias:
            conv.bias.copy_(draw(gen, co, scale=0.5))
    case.add("x", x)
    case.add("weight", conv.weight)
    if bias:
        case.add("bias", conv.bias)
    loss_backward(case, conv(x), gen)
    case.add("dx", x.grad)
    case.add("dweight", conv.weight.grad)
    if bias:
        case.add("dbias", conv.bias.grad)
    return case


def batchnorm_case(gen):
    case = Case("batchnorm", "BatchNorm2d(3) training step on 2x3x5x7, then eval")
    bn = nn.BatchNorm2d(3).double().train()
    x = leaf(draw(gen, 2, 3, 5, 7, scale=2.0, shift=0.5))
    with torch.no_grad():
        bn.weight.copy_(draw(gen, 3, scale=0.5, shift=1.0))
        bn.bias.copy_(draw(gen, 3, scale=0.5))
        bn.running_mean.copy_(draw(gen, 3, scale=0.3))
        bn.running_var.copy_(draw(gen, 3, scale=0.2, shift=1.0).abs())
    for name, t in (("x", x), ("weight", bn.weight), ("bias", bn.bias),
                    ("running_mean", bn.running_mean), ("running_var", bn.running_var)):
        case.add(name, t)
    loss_backward(case, bn(x), gen)
    case.add("dx", x.grad)
    case.add("dweight", bn.weight.grad)
    case.add("dbias", bn.bias.grad)
    case.add("running_mean_out", bn.running_mean)
    case.add("running_var_out", bn.running_var)
    with torch.no_grad():
        case.add("y_eval", bn.eval()(x))
    return case


def activation_case(gen, name, fn):
    case = Case(name, "%s on 2x3x4x5 incl. |x| up to 1e4 and x = 0" % name)
    x = draw(gen, 2, 3, 4, 5, scale=3.0)
    x[0, 0, 0, :] = torch.tensor([-1e4, -30.0, 0.0, 25.0, 1e4], dtype=torch.float64)
    x[1, 2, 3, :] = torch.tensor([-88.5, -20.0, 19.5, 20.5, 90.0], dtype=torch.float64)
    x = leaf(x)
    case.add("x", x)
    loss_backward(case, fn(x), gen)
    case.add("dx", x.grad)
    return case


def pool_case(gen, name, desc, pool, shape):
    case = Case(name, "%s on %s" % (desc, "x".join(str(d) for d in shape)))
    x = leaf(draw(gen, *shape))
    case.add("x", x)
    loss_backward(case, pool(x), gen)
    case.add("dx", x.grad)
    return case


def linear_case(gen):
    case = Case("linear", "Linear(8, 5) on 3x2x2x2 flattened to 3x8")
    fc = nn.Linear(8, 5).double()
    x = leaf(draw(gen, 3, 2, 2, 2))
    with torch.no_grad():
        fc.weight.copy_(draw(gen, 5, 8, scale=0.5))
        fc.bias.copy_(draw(gen, 5, scale=0.5))
    case.add("x", x)
    case.add("weight", fc.weight)
    case.add("bias", fc.bias)
    loss_backward(case, fc(x.flatten(1)), gen)
    case.add("dx", x.grad)
    case.add("dweight", fc.weight.grad)
    case.add("dbias", fc.bias.grad)
    return case


def se_case(gen):
    """Squeeze-and-excitation as spec §3.6, on 8 channels with 4 hidden."""
    case = Case("se", "SE block: mean -> Conv2d(8,4,1) -> Mish -> Conv2d(4,8,1) -> sigmoid "
                "-> x*s on 2x8x5x5")
    c1, c2 = nn.Conv2d(8, 4, 1).double(), nn.Conv2d(4, 8, 1).double()
    x = leaf(draw(gen, 2, 8, 5, 5))
    with torch.no_grad():
        c1.weight.copy_(draw(gen, 4, 8, 1, 1, scale=0.5))
        c1.bias.copy_(draw(gen, 4, scale=0.5))
        c2.weight.copy_(draw(gen, 8, 4, 1, 1, scale=0.5))
        c2.bias.copy_(draw(gen, 8, scale=0.5))
    for name, t in (("x", x), ("conv1.weight", c1.weight), ("conv1.bias", c1.bias),
                    ("conv2.weight", c2.weight), ("conv2.bias", c2.bias)):
        case.add(name, t)
    s = torch.sigmoid(c2(F.mish(c1(x.mean((2, 3), keepdim=True)))))
    loss_backward(case, x * s, gen)
    case.add("dx", x.grad)
    for name, t in (("conv1.weight", c1.weight), ("conv1.bias", c1.bias),
                    ("conv2.weight", c2.weight), ("conv2.bias", c2.bias)):
        case.add("d" + name, t.grad)
    return case


def attention_case(gen, sym):
    """SimpleSelfAttention, spec §3.7, one training forward, gamma 0.5."""
    c, n, h, w = 8, 2, 3, 5
    case = Case("attention_sym%d" % sym, "SimpleSelfAttention(8, sym=%d), gamma 0.5, "
                "training forward on 2x8x3x5" % sym)
    conv = nn.utils.spectral_norm(nn.Conv1d(c, c, 1, bias=False).double())
    conv.train()
    x = leaf(draw(gen, n, c, h, w, scale=0.7))
    gamma = leaf(torch.tensor([0.5], dtype=torch.float64))
    with torch.no_grad():
        conv.weight_orig.copy_(draw(gen, c, c, 1, scale=(2.0 / c) ** 0.5))
        conv.weight_u.copy_(F.normalize(draw(gen, c), dim=0).float().double())
        conv.weight_v.copy_(F.normalize(draw(gen, c), dim=0).float().double())
    for name, t in (("x", x), ("gamma", gamma), ("conv.weight_orig", conv.weight_orig),
                    ("conv.weight_u", conv.weight_u), ("conv.weight_v", conv.weight_v)):
        case.add(name, t)

    # The hook runs one power iteration and sets conv.weight = W_orig / sigma.
    xf = x.view(n, c, h * w)
    convx = conv(xf)
    if sym:
        wm = conv.weight.view(c, c)
        convx = torch.matmul((wm + wm.t()) / 2, xf)
    o = torch.bmm(torch.bmm(xf, xf.permute(0, 2, 1)), convx)
    loss_backward(case, (gamma * o + xf).view(n, c, h, w), gen)
    case.add("conv.weight_u_out", conv.weight_u)
    case.add("conv.weight_v_out", conv.weight_v)
    case.add("dx", x.grad)
    case.add("dgamma", gamma.grad)
    case.add("dconv.weight_orig", conv.weight_orig.grad)
    return case


def all_cases():
    def gen(i):
        return torch.Generator().manual_seed(SEED + i)

    return [
        conv_case(gen(0), "conv_basic", 2, 3, 4, 5, 7, 3, 1, 1, True),
        conv_case(gen(1), "conv_groups_stride", 1, 4, 6, 5, 7, 3, 2, 2, False),
        conv_case(gen(2), "conv_1x1_stride", 2, 3, 5, 6, 5, 1, 2, 1, True),
        batchnorm_case(gen(3)),
        activation_case(gen(4), "relu", torch.relu),
        activation_case(gen(5), "mish", F.mish),
        activation_case(gen(6), "sigmoid", torch.sigmoid),
        pool_case(gen(7), "maxpool_3_2_1", "MaxPool2d(3, 2, 1)", nn.MaxPool2d(3, 2, 1),
                  (2, 3, 9, 11)),
        pool_case(gen(8), "maxpool_3_2_1_ceil", "MaxPool2d(3, 2, 1, ceil_mode=True)",
                  nn.MaxPool2d(3, 2, 1, ceil_mode=True), (1, 2, 6, 8)),
        pool_case(gen(9), "maxpool_2", "MaxPool2d(2)", nn.MaxPool2d(2), (2, 2, 5, 7)),
        pool_case(gen(10), "avgpool_2_ceil", "AvgPool2d(2, ceil_mode=True)",
                  nn.AvgPool2d(2, ceil_mode=True), (2, 3, 5, 7)),
        pool_case(gen(11), "global_avgpool", "AdaptiveAvgPool2d(1)", nn.AdaptiveAvgPool2d(1),
                  (2, 3, 5, 7)),
        linear_case(gen(12)),
        se_case(gen(13)),
        attention_case(gen(14), 0),
        attention_case(gen(15), 1),
        # The ceil-mode rule that drops a window starting in the right padding.
        pool_case(gen(16), "maxpool_2_2_1_ceil", "MaxPool2d(2, 2, 1, ceil_mode=True)",
                  nn.MaxPool2d(2, 2, 1, ceil_mode=True), (1, 2, 3, 5)),
        # Padding left out of the divisor, the backend's convention.
        pool_case(gen(17), "avgpool_3_2_1_ceil_nopad",
                  "AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)",
                  nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
                  (2, 2, 5, 6)),
    ]


README_HEAD = """# Golden fixtures of the layers

Made by `tools/make_layer_golden.py`, seed %d, with `/usr/bin/python3`
(Debian's python3-torch **%s**, numpy %s); do not edit by hand.
Regenerate with

    /usr/bin/python3 tools/make_layer_golden.py

which rewrites this folder byte for byte the same.

Each `.bin` is in the shared fixture format (`tools/golden_format.py`,
read by `tests/unit/golden.c`): named float32 arrays. PyTorch computes in
float64 on float32 inputs and parameters; the results are rounded to
float32 once. Every case is one training-mode forward pass and the
backward pass of `sum(y * r)`:

- inputs `x`, the parameters under their PyTorch names, buffers (their
  values before the step), and `r`;
- outputs `y`, buffers after the step (`<name>_out`), `dx`, and the
  parameter gradients `d<name>`.

`tests/unit/test_layers.c` loads them into the C layers and compares with
|got - want| <= 1e-5 + 1e-4 |want|.

Cases (arrays with their shapes, N x C x H x W):
"""


def write_readme(out_dir, cases):
    lines = [README_HEAD % (SEED, torch.__version__, np.__version__)]
    for case in cases:
        lines.extend(case.readme_lines())
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/golden/layers"
    os.makedirs(out_dir, exist_ok=True)
    cases = all_cases()
    total = 0
    for case in cases:
        size = case.write(out_dir)
        total += size
        print("%-26s %6d bytes" % (case.name, size))
    write_readme(out_dir, cases)
    print("total %d bytes in %s" % (total, out_dir))


if __name__ == "__main__":
    main()
