#!/usr/bin/env python3
"""PyTorch's side of `noisette bench train`: the same model, batch and size.

The model is the xresnet of tools/make_model_golden.py (the module the
engine's golden values come from) with PyTorch's fused mish, fastai's init,
and a training step made as noisette's: forward in training mode, fastai's
label-smoothing cross entropy, backward, fastai's ranger (tools/
fmnist_torch.py) at lr 0: all of the optimizer's work, the weights left at
their initial values (noisette bench train does the same, and says why).
Random inputs; a warm-up step, then --steps steps timed one by one and
their median reported; evaluation is the forward
pass under torch.no_grad() in eval mode, timed the same way. Peak RSS is
the process's after the training steps (the interpreter and PyTorch
included, as a user's run has them).

Prints a summary, and with --json one JSON line with the fields of
`noisette bench train --json` that bench/train_vs_torch.sh compares.
--profile adds PyTorch's profile of one training step (self CPU time by
operator).

Usage: /usr/bin/python3 tools/bench_train_torch.py [--arch xresnet50]
           [--size 128] [--bs 64] [--steps 5] [--threads 2] [--act mish]
           [--pool avg|max] [--sa] [--json] [--profile]
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist_torch as ft  # noqa: E402  (sets the golden module's Mish to F.mish)
import make_model_golden as mg  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", default="xresnet50", choices=sorted(mg.ARCHS))
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--act", default="mish", choices=["mish", "relu"])
    ap.add_argument("--pool", default="avg", choices=["avg", "max", "avgpool", "maxpool"])
    ap.add_argument("--sa", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    pool = args.pool.replace("pool", "")
    model = mg.XResNet(args.arch, c_in=3, n_out=10, act=args.act, pool=pool, sa=args.sa)
    ft.init_fastai(model)
    model.train()
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = ft.Ranger([(decay, True), (no_decay, False)], 0.9, 0.99, 1e-6, 0.01)
    x = torch.randn(args.bs, 3, args.size, args.size)
    y = torch.randint(0, 10, (args.bs,))

    def train_step():
        t0 = time.perf_counter()
        loss = ft.ls_ce(model(x), y)
        for p in model.parameters():
            p.grad = None
        loss.backward()
        opt.step(0.0)
        return time.perf_counter() - t0

    first = train_step()
    times = [train_step() for _ in range(args.steps)]
    train_s = statistics.median(times)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    profile = None
    if args.profile:
        from torch.profiler import ProfilerActivity, profile as torch_profile
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            train_step()
        profile = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15)

    model.eval()

    def eval_step():
        t0 = time.perf_counter()
        with torch.no_grad():
            model(x)
        return time.perf_counter() - t0

    eval_step()
    eval_s = statistics.median(eval_step() for _ in range(args.steps))

    print(f"pytorch {torch.__version__} {args.arch} act={args.act} pool={pool} sa={int(args.sa)},"
          f" {args.size} px, batch {args.bs}, {torch.get_num_threads()} threads")
    print(f"  training step  {train_s:7.3f} s  {args.bs / train_s:8.1f} images/s"
          f"  (first step {first:.3f} s)")
    print(f"  evaluation     {eval_s:7.3f} s  {args.bs / eval_s:8.1f} images/s")
    print(f"  peak RSS after training steps {rss_mib:.0f} MiB")
    if profile:
        print(profile)
    if args.json:
        print(json.dumps({"framework": "pytorch " + torch.__version__, "arch": args.arch,
                          "size": args.size, "bs": args.bs, "threads": torch.get_num_threads(),
                          "train_step_s": train_s, "train_images_per_s": args.bs / train_s,
                          "eval_step_s": eval_s, "eval_images_per_s": args.bs / eval_s,
                          "peak_rss_mib": rss_mib}))


if __name__ == "__main__":
    main()
