#!/usr/bin/env python3
"""The Fashion-MNIST learning protocol of bench/fmnist_vs_torch.sh, in PyTorch.

It trains what `noisette train fashion-mnist` trains, the same way, so the
two accuracies can be set side by side:
  - the first LIMIT training images of Debian's dataset-fashion-mnist IDX
    files, with the labels of a `noisette labels` CSV (column
    noisy_labels_P); validation on the 10,000 clean test images;
  - pixels / 255 normalised by the mean and std of all 60,000 training
    images (what noisette's loader does for one-channel data);
  - random horizontal flips only, a fresh shuffle each epoch, the last
    partial batch dropped;
  - xresnet18 with one input channel and Mish (the module of
    tools/make_model_golden.py, with PyTorch's native mish), fastai's
    init: Kaiming normal for convolutions and the linear layer, biases 0,
    BN weights 1 except the last BN of each residual path at 0;
  - fastai's ranger (RAdam in Lookahead, k 6, alpha 0.5) with the
    reference script's mom 0.9, sqr_mom 0.99, eps 1e-6 and true weight
    decay 0.01 (none on BN and bias), lr flat then cosine from 75% of the
    steps down to lr / 1e5 (fit_flat_cos);
  - fastai's label-smoothing cross entropy, eps 0.1.
Per epoch it prints the reference's table (train_loss smoothed as fastai's
Recorder does) and at the end one JSON line with the final accuracy and the
training throughput.

Usage: /usr/bin/python3 tools/fmnist_torch.py --labels CSV --pct-noise P
           [--limit 12000] [--epochs 5] [--bs 64] [--lr 8e-3] [--seed 42]
           [--threads 2] [--fmnist-dir /usr/share/datasets/fashion-mnist]
"""
import argparse
import csv
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_model_golden as mg  # noqa: E402

# PyTorch's fused mish, the fastest form it has, instead of the golden
# tool's three-op definition: the comparison is against PyTorch at its best.
mg.Mish.forward = lambda self, x: F.mish(x)

CLASSES = ["ankle_boot", "bag", "coat", "dress", "pullover", "sandal", "shirt",
           "sneaker", "trouser", "tshirt_top"]


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(folder, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    sys.exit("fmnist_torch: no %s(.gz) in %s" % (stem, folder))


def load(args):
    train_x = read_idx(find(args.fmnist_dir, "train-images-idx3-ubyte"))
    test_x = read_idx(find(args.fmnist_dir, "t10k-images-idx3-ubyte"))
    test_y_raw = read_idx(find(args.fmnist_dir, "t10k-labels-idx1-ubyte"))

    # Labels from the noisette CSV: train/NNNNN rows give the noisy label.
    column = "noisy_labels_%g" % args.pct_noise
    index = {c: i for i, c in enumerate(CLASSES)}
    train_y = np.full(len(train_x), -1, np.int64)
    with open(args.labels, newline="") as f:
        for row in csv.DictReader(f):
            if row["is_valid"] == "False":
                train_y[int(row["path"].split("/")[1])] = index[row[column]]
    if (train_y < 0).any():
        sys.exit("fmnist_torch: %s lacks training rows" % args.labels)

    # The dataset's own 0-9 order to noisette's sorted-name order.
    own = ["tshirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
           "sneaker", "bag", "ankle_boot"]
    test_y = np.array([index[own[v]] for v in test_y_raw], np.int64)

    mean = train_x.astype(np.float64).mean() / 255.0
    std = train_x.astype(np.float64).std() / 255.0

    def norm(x):
        return torch.from_numpy(((x.astype(np.float32) / 255.0 - mean) / std)[:, None])
    n = args.limit if args.limit else len(train_x)
    return (norm(train_x[:n]), torch.from_numpy(train_y[:n]),
            norm(test_x), torch.from_numpy(test_y))


def init_fastai(m):
    for mod in m.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(mod.weight)
            if mod.bias is not None:
                nn.init.zeros_(mod.bias)
        elif isinstance(mod, nn.BatchNorm2d):
            nn.init.ones_(mod.weight)
            nn.init.zeros_(mod.bias)
    for mod in m.modules():
        if isinstance(mod, mg.Block):
            nn.init.zeros_(mod.convs[-1].bn.weight)


class Ranger:
    """fastai's ranger: RAdam steps (true weight decay first) in Lookahead."""

    def __init__(self, groups, mom, sqr_mom, eps, wd, k=6, alpha=0.5):
        self.groups = groups          # [(params, do_wd)]
        self.mom, self.sqr_mom, self.eps, self.wd = mom, sqr_mom, eps, wd
        self.k, self.alpha, self.count, self.step_n = k, alpha, 0, 0
        self.state = {}
        self.slow = [[p.detach().clone() for p in ps] for ps, _ in groups]

    @torch.no_grad()
    def step(self, lr):
        self.step_n += 1
        t, mom, sq = self.step_n, self.mom, self.sqr_mom
        debias1 = 1 - mom ** t
        debias2 = 1 - sq ** t
        r_inf = 2 / (1 - sq) - 1
        r = r_inf - 2 * t * sq ** t / (1 - sq ** t)
        for ps, do_wd in self.groups:
            for p in ps:
                if do_wd and self.wd:
                    p.mul_(1 - lr * self.wd)
                st = self.state.setdefault(p, [torch.zeros_like(p), torch.zeros_like(p)])
                st[0].mul_(mom).add_(p.grad, alpha=1 - mom)
                st[1].mul_(sq).addcmul_(p.grad, p.grad, value=1 - sq)
                if r > 5:
                    v = math.sqrt(((r - 4) * (r - 2) * r_inf) / ((r_inf - 4) * (r_inf - 2) * r))
                    denom = (st[1] / debias2).sqrt().add_(self.eps)
                    p.addcdiv_(st[0], denom, value=-lr * v / debias1)
                else:
                    p.add_(st[0], alpha=-lr / debias1)
        self.count += 1
        if self.count % self.k == 0:
            for (ps, _), slow in zip(self.groups, self.slow):
                for p, s in zip(ps, slow):
                    s.add_(p - s, alpha=self.alpha)
                    p.copy_(s)


def ls_ce(z, y, eps=0.1):
    logp = F.log_softmax(z, dim=1)
    return ((1 - eps) * F.nll_loss(logp, y) + eps * (-logp.mean(dim=1)).mean())


def flat_cos(lr, pos):
    if pos < 0.75:
        return lr
    a = (pos - 0.75) / 0.25
    end = lr / 1e5
    return lr + (1 + math.cos(math.pi * (1 - a))) * (end - lr) / 2


def evaluate(model, x, y, bs):
    model.eval()
    loss = correct = top5 = 0.0
    with torch.no_grad():
        for i in range(0, len(x), bs):
            z = model(x[i:i + bs])
            t = y[i:i + bs]
            loss += ls_ce(z, t).item() * len(t)
            correct += (z.argmax(1) == t).sum().item()
            top5 += (z.topk(5, 1).indices == t[:, None]).any(1).sum().item()
    model.train()
    return loss / len(x), correct / len(x), top5 / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--labels", required=True)
    ap.add_argument("--pct-noise", type=float, default=0)
    ap.add_argument("--limit", type=int, default=12000)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--lr", type=float, default=8e-3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fmnist-dir", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    tx, ty, vx, vy = load(args)
    model = mg.XResNet("xresnet18", c_in=1, n_out=10, act="mish")
    init_fastai(model)
    model.train()
    decay = [p for n, p in model.named_parameters() if not ("bn." in n or n.endswith("bias"))]
    no_decay = [p for n, p in model.named_parameters() if "bn." in n or n.endswith("bias")]
    opt = Ranger([(decay, True), (no_decay, False)], 0.9, 0.99, 1e-6, 0.01)

    n_iter = len(tx) // args.bs
    total = n_iter * args.epochs
    ema, ema_n, train_time = 0.0, 0, 0.0
    print("epoch  train_loss  valid_loss  accuracy  top_k_accuracy  time")
    for epoch in range(args.epochs):
        start = time.time()
        order = torch.randperm(len(tx))
        for it in range(n_iter):
            idx = order[it * args.bs:(it + 1) * args.bs]
            xb = tx[idx]
            flip = torch.rand(len(idx)) < 0.5
            xb[flip] = xb[flip].flip(3)
            loss = ls_ce(model(xb), ty[idx])
            model.zero_grad(set_to_none=False)
            loss.backward()
            opt.step(flat_cos(args.lr, (epoch * n_iter + it) / total))
            ema_n += 1
            ema = 0.98 * ema + 0.02 * loss.item()
        train_time += time.time() - start
        vl, acc, top5 = evaluate(model, vx, vy, args.bs * 2)
        secs = time.time() - start
        print("%-6d %-11.6f %-11.6f %-9.6f %-15.6f %02d:%02d" % (
            epoch, ema / (1 - 0.98 ** ema_n), vl, acc, top5, secs // 60, secs % 60),
            flush=True)
    print(json.dumps({"impl": "pytorch", "torch": torch.__version__,
                      "pct_noise": args.pct_noise, "accuracy": acc, "top5": top5,
                      "train_images_per_s": n_iter * args.bs * args.epochs / train_time}))


if __name__ == "__main__":
    main()
