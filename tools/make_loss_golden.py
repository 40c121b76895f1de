#!/usr/bin/python3
"""Writes the golden fixtures of the losses (src/train/loss.c): per-sample
losses, the weighted batch mean and its gradient with respect to the
logits, from PyTorch autograd in float64 on float32 logits.

Cross entropy is torch.nn.functional.cross_entropy. Label smoothing is
fastai's LabelSmoothingCrossEntropy (losses.py) written out in torch:
    lp = log_softmax(z); loss = eps/K * (-lp.sum(-1)) + (1-eps) * nll(lp, y)
and, as a cross-check, must agree with cross_entropy(label_smoothing=eps),
which uses the same convention. The weighted mean is (1/N) sum_i w_i l_i,
noisette's convention (src/train/loss.h).

Usage: /usr/bin/python3 tools/make_loss_golden.py [OUT]
       (OUT defaults to tests/golden/loss; byte-for-byte reproducible).
Needs numpy and torch (Debian's python3-torch 1.13).
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20240618


def fastai_label_smoothing(z, y, eps):
    """Per-sample losses of fastai's LabelSmoothingCrossEntropy."""
    k = z.shape[1]
    lp = F.log_softmax(z, dim=-1)
    return eps / k * (-lp.sum(dim=-1)) + (1 - eps) * F.nll_loss(lp, y, reduction="none")


def make_logits(rng, n, k, extreme):
    z = (3.0 * rng.standard_normal((n, k))).astype(np.float32)
    if extreme:
        z[0, :] = 0.25                      # uniform: loss ln K (CE)
        z[1, :] = -30.0
        z[1, 0] = 30.0                      # confident and wrong (target != 0)
        z[2, :] = 80.0
        z[2, 3] = 95.0                      # large logits: exp overflows without the shift
    return z


def case(out, name, loss, eps, n, k, weighted, rng, extreme=False):
    z32 = make_logits(rng, n, k, extreme)
    y = rng.integers(0, k, size=n).astype(np.int32)
    if extreme:
        y[1] = 1 + (y[1] % (k - 1))
    w = rng.uniform(0.0, 2.0, size=n).astype(np.float32) if weighted else None

    z = torch.tensor(z32, dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(y, dtype=torch.int64)
    if loss == "ce":
        per = F.cross_entropy(z, yt, reduction="none")
    else:
        per = fastai_label_smoothing(z, yt, eps)
        ref = F.cross_entropy(z, yt, reduction="none", label_smoothing=eps)
        assert torch.allclose(per, ref, rtol=1e-12, atol=1e-12), name
    wt = torch.tensor(w, dtype=torch.float64) if weighted else torch.ones(n, dtype=torch.float64)
    mean = (wt * per).mean()
    mean.backward()

    blob = [z32.astype("<f4").tobytes(), y.astype("<i4").tobytes()]
    if weighted:
        blob.append(w.astype("<f4").tobytes())
    blob += [per.detach().numpy().astype("<f8").tobytes(),
             np.array([mean.item()], dtype="<f8").tobytes(),
             z.grad.numpy().astype("<f8").tobytes()]
    fname = name + ".bin"
    with open(os.path.join(out, fname), "wb") as f:
        f.write(b"".join(blob))
    return f"case {name} {loss} {eps!r} {n} {k} {int(weighted)} {fname}"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/golden/loss"
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    lines = [
        "# Golden losses: PyTorch autograd in float64 on float32 logits.",
        f"# generator tools/make_loss_golden.py, torch {torch.__version__}, "
        f"numpy {np.__version__}, seed {SEED}",
        "# case NAME LOSS(ce|ls) EPS N K WEIGHTED FILE",
        case(out, "ce_k10", "ce", 0.0, 8, 10, False, rng, extreme=True),
        case(out, "ls_k10", "ls", 0.1, 8, 10, False, rng, extreme=True),
        case(out, "ce_k10_weighted", "ce", 0.0, 8, 10, True, rng),
        case(out, "ls_k10_weighted", "ls", 0.1, 8, 10, True, rng, extreme=True),
        case(out, "ls_k3", "ls", 0.1, 5, 3, False, rng),
        case(out, "ls_k7_eps025", "ls", 0.25, 6, 7, True, rng),
        case(out, "ce_k1000", "ce", 0.0, 2, 1000, False, rng),
    ]
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{out}: {len(lines) - 3} cases")


if __name__ == "__main__":
    main()
