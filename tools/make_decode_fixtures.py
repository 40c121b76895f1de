#!/usr/bin/python3
"""Writes the image-decoding fixtures of tests/unit/test_decode.c into
tests/golden/decode/: small JPEG and PNG files (33x21 px, deterministic
smooth content with a few hard edges), the RGB bytes Pillow makes of each
(Image.open(f).convert("RGB"), raw, row-major, NAME.rgb), files that must
fail, and a README.md listing them with the versions used.

The C decoder must reproduce every .rgb file byte for byte: that is the
check that it reads files as the reference training does (Pillow 9.4 over
Debian's libjpeg-turbo 2.1.5 and libpng 1.6). Pillow cannot write YCCK
JPEGs, so tools/make_ycck_jpeg.c is compiled (cc, -ljpeg) and run for one.
Some PNGs are written by hand (16-bit colour, Adam7, a short palette),
which Pillow cannot write either; Pillow still reads them for the .rgb.

Usage: /usr/bin/python3 tools/make_decode_fixtures.py [OUT_DIR]
(needs python3-pil, python3-numpy, a C compiler, libjpeg62-turbo-dev)
"""
import io
import os
import re
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import PIL
from PIL import Image, features

W, H = 33, 21
SEED = 20240601
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


# --- content --------------------------------------------------------------

def smooth_rgb(seed, w=W, h=H):
    """Gradients and soft blobs, plus a saturated bar and a black corner so
    that 0 and 255 occur: uint8 (h, w, 3)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.empty((h, w, 3))
    for c in range(3):
        a, b = rng.uniform(-1, 1, 2)
        img[..., c] = 128 + 90 * (a * (x / w - 0.5) + b * (y / h - 0.5)) * 2
    for _ in range(3):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(3, 8)
        col = rng.uniform(-120, 120, 3)
        img += np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))[..., None] * col
    img[h // 3:h // 3 + 3, :, :] = (255, 20, 0)
    img[:5, :6, :] = 0
    img[-4:, -5:, :] = 255
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def smooth_cmyk(seed):
    """True (not inverted) ink values with varied black: uint8 (h, w, 4)."""
    rgb = smooth_rgb(seed).astype(np.int32)
    rng = np.random.default_rng(seed + 1)
    y, x = np.mgrid[0:H, 0:W]
    k = (x * 255 // (W - 1) + rng.integers(0, 40, (H, W))) % 256
    cmy = 255 - rgb
    return np.dstack([cmy, k]).astype(np.uint8)


# --- hand-written PNGs ----------------------------------------------------

def png_chunk(kind, data):
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bytes(w, h, depth, color_type, rows, extra=b"", interlace=False):
    """A PNG of the given rows (each a list of samples, packed here); with
    interlace, rows is the full image and is split into Adam7 passes."""
    per_px = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]

    def pack(samples):
        if depth == 16:
            return b"".join(struct.pack(">H", s) for s in samples)
        if depth == 8:
            return bytes(samples)
        bits = "".join(format(s, "0%db" % depth) for s in samples)
        bits += "0" * (-len(bits) % 8)
        return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))

    if interlace:
        adam7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                 (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        raw = b""
        for x0, y0, dx, dy in adam7:
            if x0 >= w or y0 >= h:
                continue
            for yy in range(y0, h, dy):
                px = [rows[yy][i * per_px:(i + 1) * per_px] for i in range(x0, w, dx)]
                raw += b"\0" + pack([s for p in px for s in p])
    else:
        raw = b"".join(b"\0" + pack(r) for r in rows)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra +
            png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b""))


# --- writers --------------------------------------------------------------

def pil_save(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def ycck_jpeg(cmyk_true, tmp):
    """Compiles tools/make_ycck_jpeg.c and runs it on the inverted inks."""
    exe = os.path.join(tmp, "make_ycck_jpeg")
    subprocess.run(["cc", "-O1", "-o", exe, os.path.join(HERE, "make_ycck_jpeg.c"), "-ljpeg"],
                   check=True)
    raw = os.path.join(tmp, "in.cmyk")
    out = os.path.join(tmp, "out.jpg")
    with open(raw, "wb") as f:
        f.write((255 - cmyk_true).tobytes())
    subprocess.run([exe, str(W), str(H), raw, out], check=True)
    with open(out, "rb") as f:
        return f.read()


def scan_start(jpeg):
    """Offset just past the first SOS segment (where entropy data starts)."""
    i = 2
    while True:
        assert jpeg[i] == 0xFF
        marker, seglen = jpeg[i + 1], struct.unpack(">H", jpeg[i + 2:i + 4])[0]
        i += 2 + seglen
        if marker == 0xDA:
            return i


def sof_end(jpeg):
    """Offset just past the SOF0 segment."""
    i = 2
    while True:
        marker, seglen = jpeg[i + 1], struct.unpack(">H", jpeg[i + 2:i + 4])[0]
        i += 2 + seglen
        if marker == 0xC0:
            return i


def make_fixtures(tmp):
    """Returns [(name, bytes, description, should_decode)]."""
    rgb = Image.fromarray(smooth_rgb(SEED), "RGB")
    grey = Image.fromarray(smooth_rgb(SEED + 1)[..., 1], "L")
    cmyk_true = smooth_cmyk(SEED + 2)
    rng = np.random.default_rng(SEED + 3)
    fx = []

    # JPEG
    rgb_jpg = pil_save(rgb, "JPEG", quality=90)
    fx.append(("rgb.jpg", rgb_jpg, "RGB, quality 90, 4:2:0 (Pillow's default)", True))
    fx.append(("rgb422.jpg", pil_save(rgb, "JPEG", quality=90, subsampling=1),
               "RGB, quality 90, 4:2:2", True))
    fx.append(("rgb444.jpg", pil_save(rgb, "JPEG", quality=95, subsampling=0),
               "RGB, quality 95, 4:4:4", True))
    fx.append(("grey.jpg", pil_save(grey, "JPEG", quality=90), "greyscale (1 component)", True))
    fx.append(("cmyk.jpg", pil_save(Image.fromarray(cmyk_true, "CMYK"), "JPEG", quality=90),
               "CMYK as Pillow writes it (Adobe marker, transform 0, inverted inks)", True))
    fx.append(("ycck.jpg", ycck_jpeg(cmyk_true, tmp),
               "YCCK (Adobe transform 2), inverted inks, by tools/make_ycck_jpeg.c", True))
    fx.append(("progressive.jpg", pil_save(rgb, "JPEG", quality=90, progressive=True),
               "RGB, progressive", True))
    scan = scan_start(rgb_jpg)
    garbage = bytes(b if b != 0xFF else 0x5A
                    for b in rng.integers(0, 256, len(rgb_jpg) - scan - 2).tolist())
    fx.append(("corrupt_scan.jpg", rgb_jpg[:scan] + garbage + b"\xff\xd9",
               "rgb.jpg with its entropy-coded data replaced by random bytes (no 0xFF) "
               "and EOI kept: libjpeg warns and decodes noise, Pillow too", True))

    # PNG
    fx.append(("png_named.JPEG", pil_save(rgb, "PNG"), "an RGB PNG named .JPEG", True))
    alpha = Image.fromarray(rng.integers(0, 256, (H, W), dtype=np.uint8), "L")
    rgba = rgb.copy()
    rgba.putalpha(alpha)
    fx.append(("rgba.png", pil_save(rgba, "PNG"), "RGBA, random alpha (dropped)", True))
    la = Image.merge("LA", [grey, alpha])
    fx.append(("la.png", pil_save(la, "PNG"), "grey + alpha, 8-bit", True))
    pal = rgb.quantize(colors=37, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    fx.append(("palette.png", pil_save(pal, "PNG", transparency=3),
               "8-bit palette, 37 colours, index 3 transparent (tRNS ignored)", True))
    fx.append(("grey1.png", pil_save(grey.point(lambda v: 255 if v > 128 else 0).convert("1"),
                                     "PNG"), "1-bit greyscale", True))
    g16 = (smooth_rgb(SEED + 4)[..., 0].astype(np.uint32) * 3).astype(np.uint16)
    g16[0, :8] = [0, 1, 254, 255, 256, 511, 32768, 65535]
    fx.append(("grey16.png", pil_save(Image.fromarray(g16), "PNG"),
               "16-bit greyscale, values 0..765 and a few extremes (Pillow clips to 255)",
               True))
    deep = smooth_rgb(SEED + 5).astype(np.int64) * 257 + rng.integers(-128, 128, (H, W, 3))
    deep = np.clip(deep, 0, 65535)
    rows16 = [deep[y].reshape(-1).tolist() for y in range(H)]
    fx.append(("rgb16.png", png_bytes(W, H, 16, 2, rows16),
               "16-bit RGB, hand-written (Pillow keeps the high byte)", True))
    la16 = [sum(([int(v), int(v) ^ 0x5555] for v in deep[y, :, 1]), []) for y in range(H)]
    fx.append(("la16.png", png_bytes(W, H, 16, 4, la16), "16-bit grey + alpha, hand-written",
               True))
    rgba16 = [np.dstack([deep[y:y + 1], deep[y:y + 1, :, :1]]).reshape(-1).tolist()
              for y in range(H)]
    fx.append(("rgba16.png", png_bytes(W, H, 16, 6, rgba16), "16-bit RGBA, hand-written", True))
    rows8 = [np.asarray(rgb)[y].reshape(-1).tolist() for y in range(H)]
    fx.append(("interlaced.png", png_bytes(W, H, 8, 2, rows8, interlace=True),
               "RGB, Adam7 interlaced, hand-written", True))
    plte = bytes([255, 0, 0, 0, 160, 0, 0, 0, 255, 250, 240, 10, 30, 60, 90])
    idx = (np.asarray(grey) // 16).astype(int)
    fx.append(("palette_short.png",
               png_bytes(W, H, 4, 3, [r.tolist() for r in idx], png_chunk(b"PLTE", plte)),
               "4-bit palette of 5 colours, indices up to 15 (Pillow: grey (i,i,i) past the "
               "end)", True))

    # Failures
    fx.append(("truncated.jpg", rgb_jpg[:len(rgb_jpg) // 2], "rgb.jpg cut in half", False))
    png_rgb = pil_save(rgb, "PNG")
    fx.append(("truncated.png", png_rgb[:len(png_rgb) // 2], "an RGB PNG cut in half", False))
    head = sof_end(rgb_jpg)
    fx.append(("corrupt.jpg", rgb_jpg[:head] + rng.integers(0, 256, 600, dtype=np.uint8).tobytes(),
               "rgb.jpg up to its SOF0 header, then 600 random bytes", False))
    fx.append(("not_an_image.JPEG", b"<html><body>404 Not Found</body></html>\n",
               "text (an HTML error page) named .JPEG", False))
    return fx


def pillow_rgb(data):
    """Pillow's reading, as the reference does it: (mode, size, RGB bytes)."""
    with Image.open(io.BytesIO(data)) as im:
        mode = im.mode
        out = im.convert("RGB")
        return mode, out.size, out.tobytes()


def check_cmyk_rule():
    """The rule decode.c implements equals Pillow's CMYK -> RGB, all (C, K)."""
    c = np.arange(256, dtype=np.int64)
    cc, kk = np.meshgrid(c, c)
    im = Image.fromarray(np.dstack([cc, cc, cc, kk]).astype(np.uint8), "CMYK")
    got = np.asarray(im.convert("RGB"))[..., 0].astype(np.int64)
    nk = 255 - kk
    t = cc * nk + 128
    assert (got == nk - ((t + (t >> 8)) >> 8)).all(), "Pillow's CMYK rule changed"


def write_readme(out, rows):
    lines = [
        "# Decoding fixtures",
        "",
        "Written by `tools/make_decode_fixtures.py` (do not edit by hand); read by",
        "`tests/unit/test_decode.c`. Pillow %s, libjpeg-turbo %s, libpng %s,"
        % (PIL.__version__, features.version_feature("libjpeg_turbo"), png_version()),
        "zlib %s, numpy %s, seed %d. Images are %dx%d px; `NAME.rgb` holds Pillow's"
        % (features.version("zlib"), np.__version__, SEED, W, H),
        "`Image.open(NAME).convert(\"RGB\").tobytes()` (h*w*3 bytes, row-major), which",
        "`image_decode` must reproduce exactly at scale 8/8.",
        "",
        "| file | bytes | Pillow mode | what it is | Pillow's verdict |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, size, mode, desc, verdict in rows:
        lines.append("| %s | %d | %s | %s | %s |" % (name, size, mode, desc, verdict))
    lines += [
        "",
        "The test also decodes every JPEG at scales 1/8..7/8 and checks the size",
        "(ceil(w*s/8) x ceil(h*s/8)) and that each channel's mean is within 2 levels",
        "of the full-size decode's over the area the scaled image stands for (w and h",
        "rounded up to whole scaled pixels, the image's last row and column repeated,",
        "as the encoder pads its last blocks); corrupt_scan.jpg is exempt from the",
        "mean. PNGs must come out identical at every scale. Pillow's draft mode is",
        "not a reference for scaled decodes: it also switches to the fast DCT and",
        "plain upsampling.",
        "",
    ]
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("\n".join(lines))


def png_version():
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libpng16-16"],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "1.6 (version unknown)"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "tests", "golden", "decode")
    os.makedirs(out, exist_ok=True)
    check_cmyk_rule()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fixtures = make_fixtures(tmp)
    for name, data, desc, should_decode in fixtures:
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        try:
            mode, size, rgb = pillow_rgb(data)
        except Exception as e:      # Pillow's verdict on a file meant to fail
            if should_decode:
                raise
            why = re.sub(r" <_io.BytesIO object at 0x[0-9a-f]+>", "", str(e))
            rows.append((name, len(data), "-", desc, "error: %s" % why))
            continue
        if not should_decode:
            sys.exit("%s: Pillow decodes it, but it is meant to fail" % name)
        assert size == (W, H), (name, size)
        with open(os.path.join(out, name + ".rgb"), "wb") as f:
            f.write(rgb)
        rows.append((name, len(data), mode, desc, "decodes"))
    write_readme(out, rows)
    print("make_decode_fixtures: %d files in %s" % (len(fixtures), out), file=sys.stderr)


if __name__ == "__main__":
    main()
