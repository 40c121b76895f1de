#!/usr/bin/env python3
"""Writes tests/golden/pipeline/: what the reference's validation pipeline
(spec: reference-training.md §2.5) makes of a few decode fixtures, for
noisette's end-to-end check of decode + squash + centre crop.

For size S the reference resizes the whole image to F x F, F = S +
8*ceil(0.14*S/8), with Pillow's BILINEAR, then crops the centre S x S. Each
output is stored as raw RGB bytes, S*S*3 of them, named valid<S>_<file>.rgb.

Usage: /usr/bin/python3 tools/make_pipeline_golden.py   (python3-pil)
"""
import math
import os

import PIL
from PIL import Image

SIZES = [16, 12]
FILES = ["rgb.jpg", "grey.jpg", "cmyk.jpg", "ycck.jpg", "png_named.JPEG", "rgba.png"]


def main():
    src = "tests/golden/decode"
    out = "tests/golden/pipeline"
    os.makedirs(out, exist_ok=True)
    for size in SIZES:
        full = size + 8 * math.ceil(size * 0.14 / 8)
        off = (full - size) // 2
        for name in FILES:
            im = Image.open(os.path.join(src, name)).convert("RGB")
            im = im.resize((full, full), Image.BILINEAR).crop((off, off, off + size, off + size))
            with open(os.path.join(out, "valid%d_%s.rgb" % (size, name)), "wb") as f:
                f.write(im.tobytes())
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("# Validation pipeline goldens\n\n"
                "Made by `tools/make_pipeline_golden.py` with Pillow %s from the files of\n"
                "`tests/golden/decode/`: for S in %s, `Image.open(f).convert('RGB')`,\n"
                "resized to F x F (F = S + 8*ceil(0.14*S/8)) with BILINEAR, centre S x S\n"
                "crop, raw RGB bytes. Checked by `tests/unit/test_pipeline.c`.\n"
                % (PIL.__version__, SIZES))


if __name__ == "__main__":
    main()
