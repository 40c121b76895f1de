#!/usr/bin/python3
"""Writes the golden fixtures of the optimizers (src/train/optim.c): fastai's
update rules, written out in PyTorch float32 exactly as fastai's
optimizer.py composes them (fastai itself is not needed), run for a few
steps on a small fixed parameter set with fixed gradients.

Parameters: "weight" (3 x 4, weight decay applies) and "bias" (4, no_decay,
as fastai's wd_bn_bias=False leaves biases alone). Gradients are seeded
numpy normals, one set per step, with bias gradient [0] always zero (the
eps path of the denominators). Most cases run 3 steps; the ones whose
behaviour changes later (RAdam rectifies from step 6, Lookahead syncs every
k steps) run 7. The learning rate changes every step, as a schedule does.

Usage: /usr/bin/python3 tools/make_optim_golden.py [OUT]
       (OUT defaults to tests/golden/optim; the output is byte-for-byte
       reproducible). Needs numpy and torch (Debian's python3-torch 1.13).
"""
import math
import os
import struct
import sys

import numpy as np
import torch

SEED = 20240617
SHAPES = {"weight": (3, 4), "bias": (4,)}
NO_DECAY = {"weight": False, "bias": True}


# ---- fastai optimizer.py, written out (same operations, same order) ----

def weight_decay(p, lr, wd, do_wd, **kw):
    if do_wd and wd != 0:
        p.data.mul_(1 - lr * wd)


def average_grad(p, state, mom, dampening, **kw):
    if "grad_avg" not in state:
        state["grad_avg"] = torch.zeros_like(p.grad)
    damp = 1 - mom if dampening else 1.0
    state["grad_avg"].mul_(mom).add_(p.grad, alpha=damp)


def average_sqr_grad(p, state, sqr_mom, **kw):
    if "sqr_avg" not in state:
        state["sqr_avg"] = torch.zeros_like(p.grad)
    state["sqr_avg"].mul_(sqr_mom).addcmul_(p.grad, p.grad, value=1 - sqr_mom)


def step_stat(state, **kw):
    state["step"] = state.get("step", 0) + 1


def debias(mom, damp, step):
    return damp * (1 - mom ** step) / (1 - mom)


def sgd_step(p, state, lr, **kw):
    if "grad_avg" in state:
        p.data.add_(state["grad_avg"], alpha=-lr)      # momentum_step
    else:
        p.data.add_(p.grad, alpha=-lr)                 # sgd_step


def rms_prop_step(p, state, lr, eps, **kw):
    denom = state["sqr_avg"].sqrt().add_(eps)
    num = state["grad_avg"] if "grad_avg" in state else p.grad
    p.data.addcdiv_(num, denom, value=-lr)


def adam_step(p, state, lr, mom, sqr_mom, eps, **kw):
    step = state["step"]
    debias1 = debias(mom, 1 - mom, step)
    debias2 = debias(sqr_mom, 1 - sqr_mom, step)
    p.data.addcdiv_(state["grad_avg"], (state["sqr_avg"] / debias2).sqrt() + eps,
                    value=-lr / debias1)


def radam_step(p, state, lr, mom, sqr_mom, eps, beta, **kw):
    step = state["step"]
    debias1 = debias(mom, 1 - mom, step)
    debias2 = debias(sqr_mom, 1 - sqr_mom, step)
    r_inf = 2 / (1 - sqr_mom) - 1
    r = r_inf - 2 * step * sqr_mom ** step / (1 - sqr_mom ** step)
    if r > 5:
        v = math.sqrt(((r - 4) * (r - 2) * r_inf) / ((r_inf - 4) * (r_inf - 2) * r))
        denom = (state["sqr_avg"] / debias2).sqrt()
        if eps:
            denom += eps
        if beta:
            denom = torch.nn.functional.softplus(denom, beta)
        p.data.addcdiv_(state["grad_avg"], denom, value=-lr * v / debias1)
    else:
        p.data.add_(state["grad_avg"], alpha=-lr / debias1)


def callbacks(kind, mom):
    """fastai's SGD, RMSProp, Adam and RAdam constructors' callback lists."""
    if kind == "sgd":
        mid = [lambda **kw: average_grad(dampening=False, **kw)] if mom != 0 else []
        return [weight_decay] + mid + [sgd_step]
    if kind == "rmsprop":
        mid = [lambda **kw: average_grad(dampening=False, **kw)] if mom != 0 else []
        return [weight_decay] + mid + [average_sqr_grad, rms_prop_step]
    last = adam_step if kind == "adam" else radam_step
    return [weight_decay, lambda **kw: average_grad(dampening=True, **kw),
            average_sqr_grad, step_stat, last]


class Golden:
    """One optimizer (with fastai's Lookahead around it when k > 0)."""

    def __init__(self, params, kind, hyper, k, alpha):
        self.params, self.kind, self.hyper = params, kind, dict(hyper)
        self.cbs = callbacks(kind, hyper["mom"])
        self.state = {name: {} for name in params}
        self.k, self.alpha, self.count, self.slow = k, alpha, 0, None

    def inner_step(self):
        for name, p in self.params.items():
            for cb in self.cbs:
                cb(p=p, state=self.state[name], do_wd=not NO_DECAY[name], **self.hyper)

    def step(self):
        if self.k == 0:
            return self.inner_step()
        if self.slow is None:
            self.slow = {n: p.clone().detach() for n, p in self.params.items()}
        self.inner_step()
        self.count += 1
        if self.count % self.k != 0:
            return
        for n, p in self.params.items():
            self.slow[n].add_(p.data - self.slow[n], alpha=self.alpha)
            p.data.copy_(self.slow[n])


# ---- Cases ----

def hyper(mom=0.0, sqr_mom=0.99, eps=1e-5, wd=0.1, beta=0.0):
    return dict(mom=mom, sqr_mom=sqr_mom, eps=eps, wd=wd, beta=beta)


# name, kind, lookahead k, alpha, hyper-parameters, learning rate per step
CASES = [
    ("sgd", "sgd", 0, 0.5, hyper(mom=0.0), [0.1, 0.08, 0.05]),
    ("sgd_mom", "sgd", 0, 0.5, hyper(mom=0.9), [0.1, 0.08, 0.05]),
    ("rmsprop", "rmsprop", 0, 0.5, hyper(mom=0.0, eps=1e-8), [0.01, 0.008, 0.005]),
    ("rmsprop_mom", "rmsprop", 0, 0.5, hyper(mom=0.9, eps=1e-8), [0.01, 0.008, 0.005]),
    ("adam", "adam", 0, 0.5, hyper(mom=0.9, eps=1e-5), [0.05, 0.04, 0.03]),
    ("radam", "radam", 0, 0.5, hyper(mom=0.9, eps=1e-5),
     [0.05, 0.045, 0.04, 0.035, 0.03, 0.025, 0.02]),
    ("radam_beta", "radam", 0, 0.5, hyper(mom=0.9, eps=1e-5, beta=2.0),
     [0.05, 0.045, 0.04, 0.035, 0.03, 0.025, 0.02]),
    ("ranger", "radam", 6, 0.5, hyper(mom=0.95, eps=1e-6),
     [0.05, 0.045, 0.04, 0.035, 0.03, 0.025, 0.02]),
    ("lookahead_adam", "adam", 6, 0.5, hyper(mom=0.9, eps=1e-5),
     [0.05, 0.045, 0.04, 0.035, 0.03, 0.025, 0.02]),
    ("lookahead_sgd_k2", "sgd", 2, 0.8, hyper(mom=0.9),
     [0.1, 0.09, 0.08, 0.07, 0.06, 0.05, 0.04]),
]
MAX_STEPS = 7


def f32(a):
    return np.asarray(a, dtype="<f4").tobytes()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/golden/optim"
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    init = {n: rng.standard_normal(s).astype(np.float32) for n, s in SHAPES.items()}
    grads = []
    for _ in range(MAX_STEPS):
        g = {n: (0.5 * rng.standard_normal(s)).astype(np.float32) for n, s in SHAPES.items()}
        g["bias"][0] = 0.0
        grads.append(g)

    lines = [
        "# Golden optimizer steps: fastai's update rules written out in PyTorch float32.",
        f"# generator tools/make_optim_golden.py, torch {torch.__version__}, "
        f"numpy {np.__version__}, seed {SEED}",
        "# shapes: weight 3 4 (weight decay), bias 4 (no_decay)",
        "# case NAME KIND LOOKAHEAD_K LOOKAHEAD_ALPHA MOM SQR_MOM EPS WD BETA STEPS FILE",
        "# lr NAME LR_1 ... LR_STEPS",
    ]
    for name, kind, k, alpha, hp, lrs in CASES:
        params = {}
        for n in SHAPES:
            params[n] = torch.tensor(init[n]).requires_grad_()
        opt = Golden(params, kind, hp, k, alpha)
        blob = [f32(init["weight"]), f32(init["bias"])]
        with torch.no_grad():
            for s, lr in enumerate(lrs):
                for n, p in params.items():
                    p.grad = torch.tensor(grads[s][n])
                opt.hyper["lr"] = lr
                opt.step()
                blob += [f32(grads[s]["weight"]), f32(grads[s]["bias"]),
                         f32(params["weight"].numpy()), f32(params["bias"].numpy())]
        fname = name + ".bin"
        with open(os.path.join(out, fname), "wb") as f:
            f.write(b"".join(blob))
        lines.append(f"case {name} {kind} {k} {alpha!r} {hp['mom']!r} {hp['sqr_mom']!r} "
                     f"{hp['eps']!r} {hp['wd']!r} {hp['beta']!r} {len(lrs)} {fname}")
        lines.append("lr " + name + " " + " ".join(repr(lr) for lr in lrs))
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{out}: {len(CASES)} cases")


if __name__ == "__main__":
    main()
