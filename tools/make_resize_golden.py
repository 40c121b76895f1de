#!/usr/bin/python3
"""Writes the golden fixtures of image_resize (src/data/resize.c): Pillow's
Image.crop(box).resize(size, Image.BILINEAR) on small deterministic images.

The C test (tests/unit/test_resize.c) reads OUT/cases.txt, rebuilds or loads
each input image, resizes the same boxes and must produce these bytes
exactly. Inputs are seeded numpy noise stored as raw bytes, or, for the
large ones, the byte stream of a 32-bit LCG that the test regenerates
(state = 1664525 * state + 1013904223 mod 2^32, byte = state >> 24), so
that 400 KB of incompressible noise need not be committed.

Usage: /usr/bin/python3 tools/make_resize_golden.py [OUT]
           the committed set (OUT defaults to tests/golden/resize)
       /usr/bin/python3 tools/make_resize_golden.py --random N [--seed S] OUT
           N random cases on LCG images, for a wider one-off check:
           NOISETTE_RESIZE_CASES=OUT build/tests/test_resize
Needs the standard library, numpy and Pillow (Debian's python3-pil 9.4).
"""
import argparse
import os
import sys

import numpy as np
import PIL
from PIL import Image

SEED = 20240611
BILINEAR = getattr(Image, "Resampling", Image).BILINEAR
MODES = {1: "L", 3: "RGB"}


def lcg_bytes(seed, n):
    """n bytes of the LCG stream the C test regenerates."""
    out = bytearray(n)
    state = seed & 0xFFFFFFFF
    for i in range(n):
        state = (1664525 * state + 1013904223) & 0xFFFFFFFF
        out[i] = state >> 24
    return bytes(out)


class Golden:
    """Collects image and case lines and writes their files into out_dir."""

    def __init__(self, out_dir, header):
        self.out_dir = out_dir
        self.lines = list(header)
        self.images = {}
        self.n_cases = 0
        self.n_bytes = 0
        os.makedirs(out_dir, exist_ok=True)

    def _write(self, name, data):
        with open(os.path.join(self.out_dir, name), "wb") as f:
            f.write(data)
        self.n_bytes += len(data)

    def numpy_image(self, name, w, h, c, rng):
        px = rng.integers(0, 256, size=(h, w, c), dtype=np.uint8).tobytes()
        self._write(name + ".raw", px)
        self._add_image(name, w, h, c, name + ".raw", px)

    def lcg_image(self, name, w, h, c, seed):
        self._add_image(name, w, h, c, "lcg:%d" % seed, lcg_bytes(seed, w * h * c))

    def _add_image(self, name, w, h, c, source, px):
        self.images[name] = Image.frombytes(MODES[c], (w, h), px)
        self.lines.append("image %s %d %d %d %s" % (name, w, h, c, source))

    def case(self, image, box, size, note=""):
        x0, y0, bw, bh = box
        im = self.images[image].crop((x0, y0, x0 + bw, y0 + bh))
        px = im.resize(size, BILINEAR).tobytes()
        fname = "case_%03d.raw" % self.n_cases
        self._write(fname, px)
        self.lines.append("case %s %d %d %d %d %d %d %s%s" % (
            image, x0, y0, bw, bh, size[0], size[1], fname, "  # " + note if note else ""))
        self.n_cases += 1

    def finish(self):
        with open(os.path.join(self.out_dir, "cases.txt"), "w") as f:
            f.write("\n".join(self.lines) + "\n")
        print("%s: %d cases, %d bytes of raw data" % (self.out_dir, self.n_cases, self.n_bytes),
              file=sys.stderr)


def header(seed, what):
    return [
        "# Golden fixtures of image_resize: Pillow Image.crop(box).resize(size, BILINEAR).",
        "# generator: tools/make_resize_golden.py (%s)  Pillow %s  numpy %s  seed %d"
        % (what, PIL.__version__, np.__version__, seed),
        "# image NAME W H C SOURCE    SOURCE: raw file here (H*W*C bytes, interleaved rows)",
        "#                            or lcg:SEED (state = 1664525*state + 1013904223 mod 2^32,",
        "#                            byte = state >> 24, first byte after one step)",
        "# case IMAGE X0 Y0 BW BH OUT_W OUT_H EXPECTED   box [X0,X0+BW) x [Y0,Y0+BH)",
    ]


def committed_set(out_dir):
    """The cases kept in git: each names what it exercises."""
    g = Golden(out_dir, header(SEED, "committed set"))
    rng = np.random.default_rng(SEED)
    g.numpy_image("rgb37x23", 37, 23, 3, rng)
    g.numpy_image("grey19x41", 19, 41, 1, rng)
    g.lcg_image("rgb320x427", 320, 427, 3, SEED)
    g.lcg_image("grey213x160", 213, 160, 1, SEED + 1)

    whole = (0, 0, 37, 23)
    g.case("rgb37x23", whole, (28, 18), "downscale ~1.3")
    g.case("rgb37x23", whole, (14, 9), "downscale ~2.6")
    g.case("rgb37x23", whole, (7, 5), "downscale ~5")
    g.case("rgb37x23", whole, (11, 7), "downscale ~3.3, non-integer")
    g.case("rgb37x23", whole, (1, 1), "everything into one pixel")
    g.case("rgb37x23", whole, (80, 50), "upscale ~2.2")
    g.case("rgb37x23", whole, (38, 24), "upscale by one pixel")
    g.case("rgb37x23", whole, (37, 11), "width unchanged, height down")
    g.case("rgb37x23", whole, (20, 23), "height unchanged, width down")
    g.case("rgb37x23", whole, (37, 60), "width unchanged, height up")
    g.case("rgb37x23", whole, (37, 23), "whole image, same size: a copy")
    g.case("rgb37x23", (5, 3, 10, 10), (10, 10), "crop only")
    g.case("rgb37x23", (3, 2, 30, 20), (50, 8), "up in x, down in y")
    g.case("rgb37x23", (20, 10, 17, 13), (6, 5), "box at the right and bottom edges")
    g.case("rgb37x23", (0, 0, 12, 9), (30, 20), "box at the left and top edges, upscale")
    g.case("rgb37x23", (17, 0, 1, 23), (1, 7), "1-pixel-wide box")
    g.case("rgb37x23", (17, 0, 1, 23), (5, 23), "1-pixel-wide box widened")
    g.case("rgb37x23", (36, 22, 1, 1), (3, 4), "1x1 box at the corner, upscale")

    g.case("grey19x41", (0, 0, 19, 41), (15, 31), "grey downscale ~1.3")
    g.case("grey19x41", (0, 0, 19, 41), (7, 15), "grey downscale ~2.7")
    g.case("grey19x41", (0, 0, 19, 41), (4, 8), "grey downscale ~5")
    g.case("grey19x41", (0, 0, 19, 41), (40, 90), "grey upscale")
    g.case("grey19x41", (0, 0, 19, 41), (19, 20), "grey width unchanged")
    g.case("grey19x41", (0, 0, 19, 41), (9, 41), "grey height unchanged")
    g.case("grey19x41", (0, 30, 19, 11), (8, 4), "grey box at the bottom edge")
    g.case("grey19x41", (18, 0, 1, 41), (1, 10), "grey 1-pixel-wide box")
    g.case("grey19x41", (18, 0, 1, 41), (3, 41), "grey 1-pixel-wide box widened")

    g.case("rgb320x427", (0, 0, 320, 427), (152, 152), "validation resize for size 128")
    g.case("rgb320x427", (65, 100, 189, 252), (128, 128), "a RandomResizedCrop box to 128")
    g.case("rgb320x427", (0, 0, 320, 427), (17, 9), "downscale ~19 x ~47")
    g.case("rgb320x427", (200, 300, 120, 127), (60, 64), "box at the bottom right, ~2")
    g.case("grey213x160", (0, 0, 213, 160), (64, 48), "grey downscale ~3.3")
    g.case("grey213x160", (13, 7, 100, 150), (96, 96), "grey crop, ~1.04 x ~1.6")
    g.finish()


def random_set(out_dir, n, seed):
    """n random cases on 40 LCG images of random size and channel count,
    half with pipeline-like boxes (a large crop to 64..296 squares)."""
    g = Golden(out_dir, header(seed, "random set of %d" % n))
    rng = np.random.default_rng(seed)
    sizes = []
    for i in range(40):
        w, h = (int(v) for v in rng.integers(1, 520, size=2))
        c = int(rng.choice([1, 3]))
        g.lcg_image("img%02d" % i, w, h, c, seed * 1000 + i)
        sizes.append((w, h))
    for _ in range(n):
        i = int(rng.integers(0, 40))
        w, h = sizes[i]
        if rng.random() < 0.5:
            bw, bh = int(rng.integers(1, w + 1)), int(rng.integers(1, h + 1))
            size = (int(rng.integers(1, 161)), int(rng.integers(1, 161)))
        else:
            bw = max(1, int(w * rng.uniform(0.5, 1.0)))
            bh = max(1, int(h * rng.uniform(0.5, 1.0)))
            s = int(rng.choice([64, 128, 152, 192, 224, 256, 296]))
            size = (s, s)
        x0, y0 = int(rng.integers(0, w - bw + 1)), int(rng.integers(0, h - bh + 1))
        g.case("img%02d" % i, (x0, y0, bw, bh), size)
    g.finish()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_out = os.path.normpath(os.path.join(here, "..", "tests", "golden", "resize"))
    ap.add_argument("out", nargs="?", default=default_out)
    ap.add_argument("--random", type=int, metavar="N", help="N random cases instead")
    ap.add_argument("--seed", type=int, default=1, help="seed of --random (default 1)")
    args = ap.parse_args()
    if args.random:
        random_set(args.out, args.random, args.seed)
    else:
        committed_set(args.out)


if __name__ == "__main__":
    main()
