#!/usr/bin/python3
"""Builds a fake Imagenette (or Imagewoof) tree for benchmarks and scale
tests: one JPEG for every `path` of a label CSV (train/WNID/NAME.JPEG and
val/WNID/NAME.JPEG), laid out as fastai's imagenette2-320 archive is, with
the CSV copied to the root. The pixels are smooth random content (gradients,
soft blobs, low-frequency texture) so that files have realistic sizes
(about 20-40 KB at 320 px, quality 90), not noise; they carry no class
information, so a model trained on them stays at chance.

Sizes: short side 320 (or --short 160), long side from the aspect ratios
below, two in three landscape. A few odd files sit at fixed positions of
the CSV order, as in ImageNet: 5 greyscale JPEGs, 3 CMYK JPEGs and 1 PNG
named .JPEG. Content is seeded per image, so a tree is the same for a seed
whatever the process count. The tree is written into OUT.tmp and renamed
to OUT at the end, so OUT is either complete or absent.

Usage:
  /usr/bin/python3 tools/make_fake_imagenette.py OUT [--woof] [--csv CSV]
      [--short 320|160] [--limit N] [--seed S] [--jobs 2] [--force]
(needs python3-pil and python3-numpy)
"""
import argparse
import csv
import io
import multiprocessing
import os
import shutil
import sys
import time

import numpy as np
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PUBLISHED = os.path.join(REPO, "tests", "data", "published")

# Long side / short side, as found among ImageNet photos (4:3 dominates).
ASPECTS = [4 / 3, 4 / 3, 4 / 3, 3 / 2, 1.0, 5 / 4, 500 / 320, 16 / 9]
QUALITY = 90
N_GREY, N_CMYK = 5, 3


def odd_positions(n):
    """{row index: "grey" | "cmyk" | "png"} at fixed fractions of n rows."""
    odd = {}
    for k in range(N_GREY):
        odd.setdefault((n * (2 * k + 1)) // (2 * N_GREY), "grey")
    for k in range(N_CMYK):
        odd.setdefault((n * (2 * k + 1)) // (2 * N_CMYK) + 1, "cmyk")
    odd.setdefault(n // 2 + 2, "png")
    return {i: kind for i, kind in odd.items() if i < n}


def image_size(rng, short):
    """(w, h): short side `short`, long side from ASPECTS, 2/3 landscape."""
    long_side = int(round(short * ASPECTS[rng.integers(len(ASPECTS))]))
    return (long_side, short) if rng.random() < 2 / 3 else (short, long_side)


def smooth_layer(rng, w, h, cells, amplitude):
    """Random values on a coarse grid of `cells` along the long side,
    bicubically upscaled to w x h: float32 (h, w, 3)."""
    gw = max(2, cells * w // max(w, h))
    gh = max(2, cells * h // max(w, h))
    out = np.empty((h, w, 3), np.float32)
    for c in range(3):
        grid = rng.uniform(-1, 1, (gh, gw)).astype(np.float32)
        out[..., c] = np.asarray(Image.fromarray(grid, "F").resize((w, h), Image.BICUBIC))
    return out * amplitude


def fake_photo(rng, w, h):
    """Smooth content: a colour gradient, a few soft blobs, texture at two
    scales and a little grain: uint8 (h, w, 3)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(40, 215, 3).astype(np.float32)
    tilt = rng.uniform(-80, 80, (2, 3)).astype(np.float32)
    img = base + (x / w - 0.5)[..., None] * tilt[0] + (y / h - 0.5)[..., None] * tilt[1]
    for _ in range(rng.integers(2, 6)):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.05, 0.3) * max(w, h)
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
        img += blob[..., None] * rng.uniform(-90, 90, 3).astype(np.float32)
    img += smooth_layer(rng, w, h, 6, 40)
    img += smooth_layer(rng, w, h, 40, 18)
    img += smooth_layer(rng, w, h, 110, 10)
    img += rng.normal(0, 2.5, (h, w, 3)).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def encode(index, kind, seed, short):
    """The bytes of image `index` of the tree."""
    rng = np.random.default_rng([seed, index])
    w, h = image_size(rng, short)
    im = Image.fromarray(fake_photo(rng, w, h), "RGB")
    buf = io.BytesIO()
    if kind == "png":
        im.save(buf, "PNG")
    elif kind == "grey":
        im.convert("L").save(buf, "JPEG", quality=QUALITY)
    elif kind == "cmyk":
        im.convert("CMYK").save(buf, "JPEG", quality=QUALITY)
    else:
        im.save(buf, "JPEG", quality=QUALITY)
    return buf.getvalue()


def write_one(task):
    """Worker: writes one file; returns its size in bytes."""
    index, path, kind, seed, short = task
    data = encode(index, kind, seed, short)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def read_rows(csv_path, limit):
    """The header and rows of the CSV; with limit, `limit` rows spread
    evenly over it (so both splits and every class appear)."""
    with open(csv_path, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    if "path" not in header:
        sys.exit("make_fake_imagenette: %s: no `path` column" % csv_path)
    if limit is not None and limit < len(rows):
        rows = [rows[i * len(rows) // limit] for i in range(limit)]
    return header, rows


def progress(done, total, nbytes, t0, final=False):
    rate = done / max(time.time() - t0, 1e-9)
    sys.stderr.write("%smake_fake_imagenette: %d/%d images  %.1f MB  %.0f img/s%s"
                     % ("\r" if sys.stderr.isatty() else "", done, total, nbytes / 1e6, rate,
                        "\n" if final or not sys.stderr.isatty() else ""))
    sys.stderr.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output folder (must not exist, unless --force)")
    ap.add_argument("--woof", action="store_true",
                    help="Imagewoof: default CSV and root file noisy_imagewoof.csv")
    ap.add_argument("--csv", help="label CSV with a `path` column "
                    "(default: tests/data/published/noisy_image{nette,woof}.csv)")
    ap.add_argument("--short", type=int, default=320, choices=(160, 320),
                    help="short side in px (default 320)")
    ap.add_argument("--limit", type=int, help="only N images, spread over the CSV")
    ap.add_argument("--seed", type=int, default=0, help="content seed (default 0)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--force", action="store_true", help="replace OUT if it exists")
    args = ap.parse_args()

    # Inputs and the staging folder
    name = "noisy_imagewoof.csv" if args.woof else "noisy_imagenette.csv"
    csv_path = args.csv or os.path.join(PUBLISHED, name)
    header, rows = read_rows(csv_path, args.limit)
    out = args.out.rstrip("/")
    if os.path.exists(out) and not args.force:
        sys.exit("make_fake_imagenette: %s already exists (use --force to replace it)" % out)
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)

    # The label file, then the images in parallel
    with open(os.path.join(tmp, name), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    col = header.index("path")
    odd = odd_positions(len(rows))
    tasks = [(i, os.path.join(tmp, r[col]), odd.get(i, "rgb"), args.seed, args.short)
             for i, r in enumerate(rows)]
    t0 = last = time.time()
    nbytes = 0
    with multiprocessing.Pool(args.jobs) as pool:
        for done, size in enumerate(pool.imap_unordered(write_one, tasks, chunksize=16), 1):
            nbytes += size
            if time.time() - last >= (0.5 if sys.stderr.isatty() else 10):
                progress(done, len(tasks), nbytes, t0)
                last = time.time()
    progress(len(tasks), len(tasks), nbytes, t0, final=True)

    # Publish the finished tree in one rename
    if os.path.exists(out):
        shutil.rmtree(out)
    os.rename(tmp, out)
    kinds = {k: sorted(rows[i][col] for i, v in odd.items() if v == k)
             for k in ("grey", "cmyk", "png")}
    print("make_fake_imagenette: %d images (%.1f MB) in %s, %.1f s; greyscale %d, CMYK %d, "
          "PNG named .JPEG %d" % (len(tasks), nbytes / 1e6, out, time.time() - t0,
                                  len(kinds["grey"]), len(kinds["cmyk"]), len(kinds["png"])),
          file=sys.stderr)
    for k, paths in kinds.items():
        for p in paths:
            print("  %s: %s" % (k, p), file=sys.stderr)


if __name__ == "__main__":
    main()
