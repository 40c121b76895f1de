#!/usr/bin/env python3
"""Side-by-side: noisette's batch loader against the reference's per-image
pipeline in Pillow + NumPy, on the same images, one thread each.

The Python side does what fastai's item and batch transforms do for a
training image (spec: reference-training.md §2): open with Pillow, convert
to RGB, flip with p = 0.5, RandomResizedCrop(min_scale 0.35) with Pillow's
bilinear resize, to float32 / 255, normalise with ImageNet statistics, stack
into a batch. Then `noisette bench loader` runs on the same folder with one
thread. Prints both rates and their ratio.

Usage: /usr/bin/python3 bench/loader_vs_pillow.py DATA [--images N] [--size S]
       [--noisette build/noisette]
Needs python3-pil and python3-numpy (Debian).
"""
import argparse
import csv
import math
import os
import random
import re
import subprocess
import sys
import time

import numpy as np
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def random_resized_crop(img, size, rng, min_scale=0.35):
    w, h = img.size
    for _ in range(10):
        area = rng.uniform(min_scale, 1.0) * w * h
        ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
        cw, ch = int(round(math.sqrt(area * ratio))), int(round(math.sqrt(area / ratio)))
        if cw <= w and ch <= h:
            left, top = rng.randint(0, w - cw), rng.randint(0, h - ch)
            break
    else:
        cw, ch = w, h
        if w / h < 3 / 4:
            ch = int(w / 0.75)
        elif w / h > 4 / 3:
            cw = int(h * 4 / 3)
        left, top = (w - cw) // 2, (h - ch) // 2
    return img.crop((left, top, left + cw, top + ch)).resize((size, size), Image.BILINEAR)


def pillow_rate(root, paths, size, bs):
    rng = random.Random(42)
    start = time.perf_counter()
    for b in range(0, len(paths) - bs + 1, bs):
        batch = []
        for p in paths[b:b + bs]:
            img = Image.open(os.path.join(root, p)).convert("RGB")
            if rng.random() < 0.5:
                img = img.transpose(Image.FLIP_LEFT_RIGHT)
            img = random_resized_crop(img, size, rng)
            x = np.asarray(img, dtype=np.float32) / 255.0
            batch.append(((x - MEAN) / STD).transpose(2, 0, 1))
        np.stack(batch)
    n = (len(paths) // bs) * bs
    return n / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data")
    ap.add_argument("--images", type=int, default=1280)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--noisette", default="build/noisette")
    args = ap.parse_args()

    csvs = [f for f in os.listdir(args.data) if f.startswith("noisy_") and f.endswith(".csv")]
    if len(csvs) != 1:
        sys.exit("loader_vs_pillow: expected one noisy_*.csv in %s" % args.data)
    with open(os.path.join(args.data, csvs[0])) as f:
        paths = [r["path"] for r in csv.DictReader(f) if r["is_valid"] == "False"]
    paths = paths[:args.images]

    py = pillow_rate(args.data, paths, args.size, args.bs)
    out = subprocess.run([args.noisette, "bench", "loader", args.data, "--size", str(args.size),
                          "--bs", str(args.bs), "--threads", "1", "-q",
                          "--batches", str(len(paths) // args.bs)],
                         check=True, capture_output=True, text=True).stdout
    c = float(re.search(r"([0-9.]+) images/s", out).group(1))
    print("training pipeline, %d images at %d px, one thread" % (len(paths), args.size))
    print("  Pillow + NumPy (reference transforms): %8.1f images/s" % py)
    print("  noisette bench loader:                 %8.1f images/s" % c)
    print("  ratio: %.2fx" % (c / py))


if __name__ == "__main__":
    main()
