#!/usr/bin/python3
"""Writes the golden fixtures of the robust losses (src/train/loss_robust.c):
per-sample losses, the weighted batch mean and its gradient with respect to
the logits, from PyTorch autograd in float64 on float32 logits.

Every loss is written here from its defining formula in
spec/robust-methods.md (not from the closed-form gradients the C code
uses), and autograd supplies the gradient:
    sce         alpha * CE + beta * RCE, RCE = -sum_k p_k log q_k with
                log q_k = A off the label (spec §2.1)
    gce         (1 - p_y^q) / q                                   (§3.1)
    tgce        (1 - p_y^q) / q - (1 - k^q) / q                   (§3.2)
    taylor      sum_{n=1..t} (1 - p_y)^n / n                      (§4)
    bitempered  sum_k [y_k (log_t1 y_k - log_t1 p_k)
                       - (y_k^(2-t1) - p_k^(2-t1)) / (2 - t1)]    (§5.3)
                with the tempered softmax of §5.2: its normaliser found by
                bisection to float64 precision, then made differentiable by
                one Newton step (whose derivative at the root is the
                implicit one); iters > 0 is the reference's parity mode,
                exactly that many fixed-point steps and the reference's
                custom gradient (§5.4), which autograd cannot give
    nce_rce     alpha * (-log p_y) / (-sum_k log p_k) + beta * RCE  (§6)
Before writing, each reference is checked against the worked values of the
spec's §14. The weighted mean is (1/N) sum_i w_i l_i, noisette's convention
(src/train/loss.h). Binary layout as tools/make_loss_golden.py: logits f4,
targets i4, [weights f4], losses f8, mean f8, dlogits f8, little-endian.
Float hyperparameters are rounded to float32 first, as the C code holds them.

Usage: /usr/bin/python3 tools/make_robust_loss_golden.py [OUT]
       (OUT defaults to tests/golden/loss_robust; byte-for-byte reproducible).
Needs numpy and torch (Debian's python3-torch 1.13).
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20240619
DT = torch.float64


# ---- the losses, per sample -------------------------------------------------

def rce(p, y, a):
    """-sum_k p_k log q_k, one-hot q with log 0 := a (spec §2.1)."""
    log_q = torch.full_like(p, a)
    log_q[torch.arange(len(y)), y] = 0.0
    return -(p * log_q).sum(dim=-1)


def p_y_of(z, y):
    return F.softmax(z, dim=-1).gather(1, y[:, None])[:, 0]


def sce(z, y, h):
    ce = F.cross_entropy(z, y, reduction="none")
    return h["sce_alpha"] * ce + h["sce_beta"] * rce(F.softmax(z, dim=-1), y, h["sce_a"])


def gce(z, y, h):
    q = h["gce_q"]
    return (1 - p_y_of(z, y) ** q) / q


def tgce(z, y, h):
    q, k = h["gce_q"], h["tgce_k"]
    return (1 - p_y_of(z, y) ** q) / q - (1 - k ** q) / q


def taylor(z, y, h):
    r = 1 - p_y_of(z, y)
    return sum(r ** n / n for n in range(1, h["taylor_t"] + 1))


def nce_rce(z, y, h):
    lp = F.log_softmax(z, dim=-1)
    nce = -lp.gather(1, y[:, None])[:, 0] / -lp.sum(dim=-1)
    return h["nce_alpha"] * nce + h["nce_beta"] * rce(lp.exp(), y, h["nce_a"])


def exp_t(x, t):
    if t == 1.0:
        return torch.exp(x)
    return torch.clamp(1 + (1 - t) * x, min=0) ** (1 / (1 - t))


def log_t(x, t):
    if t == 1.0:
        return torch.log(x)
    return (x ** (1 - t) - 1) / (1 - t)


def normaliser_exact(a, t2):
    """lam with sum_k exp_t2(a_k - lam) = 1, differentiable in a."""
    if t2 == 1.0:
        return torch.logsumexp(a, dim=-1, keepdim=True)
    with torch.no_grad():
        mu = a.max(dim=-1, keepdim=True).values
        k = a.shape[-1]
        lo, hi = mu.clone(), mu + (k ** (t2 - 1) - 1) / (t2 - 1)
        for _ in range(200):
            mid = (lo + hi) / 2
            big = exp_t(a - mid, t2).sum(dim=-1, keepdim=True) > 1
            lo, hi = torch.where(big, mid, lo), torch.where(big, hi, mid)
        lam0 = (lo + hi) / 2
    p = exp_t(a - lam0, t2)
    return lam0 + (p.sum(dim=-1, keepdim=True) - 1) / (p ** t2).sum(dim=-1, keepdim=True)


def normaliser_reference(a, t2, iters):
    """google/bi-tempered-loss's compute_normalization_fixed_point."""
    if t2 == 1.0:
        return torch.logsumexp(a, dim=-1, keepdim=True)
    mu = a.max(dim=-1, keepdim=True).values
    a0 = a - mu
    at = a0
    for _ in range(iters):
        z = exp_t(at, t2).sum(dim=-1, keepdim=True)
        at = a0 * z ** (1 - t2)
    z = exp_t(at, t2).sum(dim=-1, keepdim=True)
    return -log_t(1 / z, t2) + mu


def smoothed_target(y, k, eps):
    t = F.one_hot(y, k).to(DT)
    if eps > 0 and k > 1:
        t = (1 - k / (k - 1) * eps) * t + eps / (k - 1)
    return t


def bitempered_of_p(p, target, t1):
    ylogy = torch.where(target > 0, target * log_t(torch.clamp(target, min=1e-300), t1),
                        torch.zeros_like(target))
    return (ylogy - target * log_t(p, t1)
            - (target ** (2 - t1) - p ** (2 - t1)) / (2 - t1)).sum(dim=-1)


class ReferenceBiTempered(torch.autograd.Function):
    """The reference's parity mode: iters fixed-point steps and its custom
    gradient d - e sum(d), d = (p - y) p^(t2 - t1), e = p^t2 / sum p^t2.
    iters 0 takes the exact normaliser instead (a cross-check of §5.4)."""

    @staticmethod
    def forward(ctx, a, target, t1, t2, iters):
        lam = normaliser_reference(a, t2, iters) if iters > 0 else normaliser_exact(a, t2)
        p = exp_t(a - lam, t2)
        ctx.save_for_backward(p, target)
        ctx.t1, ctx.t2 = t1, t2
        return bitempered_of_p(p, target, t1)

    @staticmethod
    def backward(ctx, g):
        p, target = ctx.saved_tensors
        d = (p - target) * p ** (ctx.t2 - ctx.t1)
        e = p ** ctx.t2 / (p ** ctx.t2).sum(dim=-1, keepdim=True)
        return g[:, None] * (d - e * d.sum(dim=-1, keepdim=True)), None, None, None, None


def check_custom_gradient(z32, y, h, grad):
    """Autograd through the exact normaliser equals the spec's §5.4 formula."""
    z = torch.tensor(z32, dtype=DT, requires_grad=True)
    target = smoothed_target(torch.tensor(y, dtype=torch.int64), z.shape[1], h["bt_smoothing"])
    ReferenceBiTempered.apply(z, target, h["bt_t1"], h["bt_t2"], 0).sum().backward()
    assert torch.allclose(z.grad, grad, rtol=1e-9, atol=1e-12), "§5.4 gradient"


def bitempered(z, y, h):
    t1, t2, iters = h["bt_t1"], h["bt_t2"], h["bt_iters"]
    target = smoothed_target(y, z.shape[1], h["bt_smoothing"])
    if iters > 0:
        return ReferenceBiTempered.apply(z, target, t1, t2, iters)
    return bitempered_of_p(exp_t(z - normaliser_exact(z, t2), t2), target, t1)


LOSSES = {"sce": sce, "gce": gce, "tgce": tgce, "taylor": taylor, "bitempered": bitempered,
          "nce_rce": nce_rce}

def as_c(h):
    """The hyperparameters as the C code holds them: floats in float32."""
    return {key: v if isinstance(v, int) else float(np.float32(v)) for key, v in h.items()}


DEFAULTS = {"sce_alpha": 0.1, "sce_beta": 1.0, "sce_a": -4.0, "gce_q": 0.7, "tgce_k": 0.5,
            "taylor_t": 2, "bt_t1": 0.8, "bt_t2": 1.2, "bt_smoothing": 0.0, "bt_iters": 0,
            "nce_alpha": 1.0, "nce_beta": 1.0, "nce_a": math.log(1e-4)}


# ---- the spec's worked values (§14) ------------------------------------------

SPEC_Z = [1.0, -0.5, 2.0, 0.3, -1.2]
SPEC_14 = [  # loss, hyperparameters, label, L, dL/dz (per sample)
    ("sce", {"sce_a": -4.0}, 2, 1.661158,
     [0.547469, 0.122157, -1.002153, 0.271865, 0.060661]),
    ("gce", {}, 2, 0.432294, [0.153314, 0.034209, -0.280644, 0.076133, 0.016988]),
    ("taylor", {"taylor_t": 2}, 2, 0.483388,
     [0.184238, 0.041109, -0.337250, 0.091490, 0.020414]),
    ("taylor", {"taylor_t": 6}, 2, 0.514485,
     [0.218905, 0.048844, -0.400709, 0.108705, 0.024255]),
    ("nce_rce", {"nce_beta": 0.0}, 2, 0.046915,
     [0.019608, 0.007696, -0.045167, 0.011889, 0.005974]),
    ("bitempered", {}, 2, 0.458138, [0.154826, 0.039634, -0.296460, 0.079153, 0.022847]),
    ("bitempered", {"bt_iters": 5}, 2, 0.458138,
     [0.154826, 0.039634, -0.296460, 0.079153, 0.022847]),
    ("sce", {"sce_a": -4.0}, 4, 4.274051,
     [0.043404, 0.009685, 0.117984, 0.021554, -0.192626]),
    ("gce", {}, 4, 1.322509, [0.016322, 0.003642, 0.044367, 0.008105, -0.072435]),
    ("taylor", {"taylor_t": 2}, 4, 1.451579,
     [0.010580, 0.002361, 0.028758, 0.005254, -0.046952]),
    ("taylor", {"taylor_t": 6}, 4, 2.308202,
     [0.030236, 0.006746, 0.082189, 0.015015, -0.134186]),
    ("nce_rce", {"nce_beta": 0.0}, 4, 0.338505,
     [0.016972, 0.027750, -0.006865, 0.023956, -0.061814]),
    ("bitempered", {}, 4, 2.016965, [0.059072, 0.010954, 0.211261, 0.026225, -0.307512]),
]


def check_spec_values():
    for loss, over, label, want_l, want_g in SPEC_14:
        h = as_c(dict(DEFAULTS, **over))
        z = torch.tensor([SPEC_Z], dtype=DT, requires_grad=True)
        val = LOSSES[loss](z, torch.tensor([label]), h)
        val.sum().backward()
        got = [val.item()] + z.grad[0].tolist()
        for g, w in zip(got, [want_l] + want_g):
            assert abs(g - w) <= 1.5e-6, (loss, over, label, got)


# ---- fixtures ------------------------------------------------------------------

def make_logits(rng, n, k, extreme):
    z = (3.0 * rng.standard_normal((n, k))).astype(np.float32)
    if extreme:
        z[0, :] = 0.25                      # uniform prediction
        z[1, :] = -80.0
        z[1, 0] = 80.0                      # confident and wrong (target != 0)
        z[2, :] = 80.0
        z[2, 3] = 95.0                      # large logits
        z[3, :] = -80.0
        z[3, 1] = 80.0                      # confident and right (target 1)
    return z


def case(out, name, loss, over, n, k, weighted, rng, extreme=False, mask=False):
    z32 = make_logits(rng, n, k, extreme)
    y = rng.integers(0, k, size=n).astype(np.int32)
    if extreme:
        y[1] = 1 + (y[1] % (k - 1))
        y[3] = 1
    w = rng.uniform(0.0, 2.0, size=n).astype(np.float32) if weighted else None
    if mask:                                # truncated GCE's 0/1 pruning weights
        w = (rng.uniform(size=n) < 0.6).astype(np.float32)
        weighted = True

    h = as_c(dict(DEFAULTS, **over))
    z = torch.tensor(z32, dtype=DT, requires_grad=True)
    per = LOSSES[loss](z, torch.tensor(y, dtype=torch.int64), h)
    wt = torch.tensor(w, dtype=DT) if weighted else torch.ones(n, dtype=DT)
    mean = (wt * per).mean()
    mean.backward()
    assert torch.isfinite(per).all() and torch.isfinite(z.grad).all(), name
    if loss == "bitempered" and h["bt_iters"] == 0:
        check_custom_gradient(z32, y, h, z.grad / (wt / n)[:, None])

    blob = [z32.astype("<f4").tobytes(), y.astype("<i4").tobytes()]
    if weighted:
        blob.append(w.astype("<f4").tobytes())
    blob += [per.detach().numpy().astype("<f8").tobytes(),
             np.array([mean.item()], dtype="<f8").tobytes(),
             z.grad.numpy().astype("<f8").tobytes()]
    fname = name + ".bin"
    with open(os.path.join(out, fname), "wb") as f:
        f.write(b"".join(blob))
    params = " ".join(f"{key}={over[key]!r}" for key in sorted(over))
    return f"case {name} {loss} {n} {k} {int(weighted)} {fname} {params}".rstrip()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/golden/loss_robust"
    os.makedirs(out, exist_ok=True)
    check_spec_values()
    rng = np.random.default_rng(SEED)
    ln_1e4 = math.log(1e-4)
    cases = [
        case(out, "sce_k10", "sce", {}, 8, 10, False, rng, extreme=True),
        case(out, "sce_code_a", "sce", {"sce_a": ln_1e4}, 8, 10, True, rng, extreme=True),
        case(out, "sce_cifar100", "sce", {"sce_alpha": 6.0, "sce_beta": 0.1}, 6, 7, True, rng),
        case(out, "gce_k10", "gce", {}, 8, 10, False, rng, extreme=True),
        case(out, "gce_q03", "gce", {"gce_q": 0.3}, 6, 5, True, rng),
        case(out, "gce_q1", "gce", {"gce_q": 1.0}, 5, 3, False, rng),
        case(out, "tgce_k10", "tgce", {}, 8, 10, False, rng, extreme=True),
        case(out, "tgce_mask", "tgce", {"tgce_k": 0.3}, 8, 6, True, rng, mask=True),
        case(out, "taylor_t2", "taylor", {}, 8, 10, False, rng, extreme=True),
        case(out, "taylor_t1", "taylor", {"taylor_t": 1}, 5, 4, True, rng),
        case(out, "taylor_t6", "taylor", {"taylor_t": 6}, 8, 10, True, rng, extreme=True),
        case(out, "bt_default", "bitempered", {}, 8, 10, False, rng, extreme=True),
        case(out, "bt_t05_t2", "bitempered", {"bt_t1": 0.5, "bt_t2": 2.0}, 8, 10, True, rng,
             extreme=True),
        case(out, "bt_smooth", "bitempered",
             {"bt_t1": 0.7, "bt_t2": 1.5, "bt_smoothing": 0.1}, 6, 7, True, rng),
        case(out, "bt_t2_1", "bitempered", {"bt_t1": 0.9, "bt_t2": 1.0}, 8, 10, False, rng,
             extreme=True),
        case(out, "bt_t1_1", "bitempered", {"bt_t1": 1.0, "bt_t2": 4.0}, 6, 5, True, rng),
        case(out, "bt_reference", "bitempered", {"bt_iters": 5}, 8, 10, False, rng,
             extreme=True),
        case(out, "bt_reference_t2_2", "bitempered", {"bt_t2": 2.0, "bt_iters": 5}, 6, 10,
             True, rng),
        case(out, "nce_rce_k10", "nce_rce", {}, 8, 10, False, rng, extreme=True),
        case(out, "nce_rce_cifar100", "nce_rce", {"nce_alpha": 10.0, "nce_beta": 0.1}, 6, 7,
             True, rng),
        case(out, "nce_rce_k2", "nce_rce", {"nce_a": -4.0}, 5, 2, False, rng),
        case(out, "gce_k1000", "gce", {}, 2, 1000, False, rng),
        case(out, "bt_k1000", "bitempered", {}, 2, 1000, False, rng),
        case(out, "nce_rce_k1000", "nce_rce", {}, 2, 1000, False, rng),
    ]
    lines = [
        "# Golden robust losses: PyTorch autograd in float64 on float32 logits.",
        f"# generator tools/make_robust_loss_golden.py, torch {torch.__version__}, "
        f"numpy {np.__version__}, seed {SEED}",
        "# hyperparameters not listed are loss_config_default's",
        "# case NAME LOSS N K WEIGHTED FILE [FIELD=VALUE ...]",
    ] + cases
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{out}: {len(cases)} cases")


if __name__ == "__main__":
    main()
