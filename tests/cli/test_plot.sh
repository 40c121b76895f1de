#!/usr/bin/env bash
# noisette plot and noisette audit --png: the PNGs have the size asked for,
# are not blank and hold the expected colours (the Okabe-Ito colour of each
# configuration in the legend, none of the next one); the heat map of the
# published Imagenette labels at 25% has every diagonal cell darker than the
# rest of its row; bad inputs give a message and exit 1, bad usage exit 2.
# Usage: test_plot.sh NOISETTE GOLDEN_BOARD_DIR PUBLISHED_DIR. Prints
# "N passed, M failed". The PNGs are decoded with python3-pil from
# /usr/bin/python3; without it those checks are skipped (exit 77 if the
# rest passed).
set -u
if [ $# -ne 3 ]; then
    echo "usage: $0 NOISETTE GOLDEN_BOARD_DIR PUBLISHED_DIR" >&2
    exit 2
fi
NOISETTE=$1
GOLDEN=$2
PUBLISHED=$3
PY=/usr/bin/python3
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
OUT=$TMP/stdout
ERR=$TMP/stderr
have_pil=1
"$PY" -c 'import PIL.Image' 2>/dev/null || have_pil=0

passed=0
failed=0
problems=()
run() {
    "$NOISETTE" "$@" >"$OUT" 2>"$ERR"
    rc=$?
}
problem() { problems+=("$1"); }
expect_rc() {
    [ "$rc" = "$1" ] || problem "exit code: expected $1, got $rc ($(head -n 2 "$ERR"))"
}
expect_in() {
    grep -qF -- "$2" "$1" || problem "$(basename "$1"): no '$2' in: $(head -n 3 "$1")"
}
done_case() {
    if [ ${#problems[@]} -eq 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $1"
        printf '    %s\n' "${problems[@]}"
    fi
    problems=()
}

# check_png PNG WIDTH HEIGHT PRESENT ABSENT: the PNG's size, that it is not
# blank, that each colour of PRESENT (hex, comma-separated) covers at least
# 100 pixels and that no pixel has a colour of ABSENT. Prints the problems.
check_png() {
    [ "$have_pil" -eq 1 ] || return 0
    "$PY" - "$@" <<'EOF' || problem "$(cat "$TMP/py.err")"
import sys
from PIL import Image
path, present, absent = sys.argv[1], sys.argv[4], sys.argv[5]
w, h = int(sys.argv[2]), int(sys.argv[3])
img = Image.open(path).convert("RGB")
bad = []
if img.size != (w, h):
    bad.append(f"size {img.size}, expected {(w, h)}")
counts = dict((c, n) for n, c in img.getcolors(w * h * 4))
white = counts.get((255, 255, 255), 0)
if len(counts) < 20 or white > 0.98 * img.size[0] * img.size[1]:
    bad.append(f"blank: {len(counts)} colours, {white} white pixels")
hexes = lambda s: [tuple(int(x[i:i + 2], 16) for i in (0, 2, 4)) for x in s.split(",") if x]
for c in hexes(present):
    if counts.get(c, 0) < 100:
        bad.append(f"colour {c}: {counts.get(c, 0)} pixels, expected at least 100")
for c in hexes(absent):
    if counts.get(c, 0):
        bad.append(f"colour {c}: {counts[c]} pixels, expected none")
sys.stderr.write("; ".join(bad))
sys.exit(1 if bad else 0)
EOF
}

# ---- curves ------------------------------------------------------------------

# The first 8 lines: four configurations (5% at 5 and 20 epochs, 25% with
# two methods), so the first four palette colours and not the fifth.
head -n 8 "$GOLDEN/runs_a.jsonl" >"$TMP/four.jsonl"
PALETTE4=0072B2,D55E00,009E73,CC79A7
run plot "$TMP/four.jsonl" -o "$TMP/four.png" --width 900 --height 500
expect_rc 0
expect_in "$ERR" "plot: 8 runs, 900x500 px"
check_png "$TMP/four.png" 900 500 "$PALETTE4" E69F00 2>"$TMP/py.err"
done_case "curves: size, not blank, one colour per configuration"

run plot -q "$GOLDEN/runs_a.jsonl" "$GOLDEN/runs_b.jsonl" -o "$TMP/all.png"
expect_rc 0
[ -s "$ERR" ] && problem "-q: stderr not empty"
check_png "$TMP/all.png" 1200 720 "$PALETTE4,E69F00,56B4E9,000000,F0E442" "" 2>"$TMP/py.err"
done_case "curves: default size, eight colours for eleven configurations"

cp "$TMP/four.png" "$TMP/keep.png"
run plot "$GOLDEN/runs_a.jsonl" -o "$TMP/four.png" --title "Noisy Imagenette"
expect_rc 0
cmp -s "$TMP/four.png" "$TMP/keep.png" && problem "the PNG was not replaced"
[ "$(ls "$TMP" | grep -c '\.png')" -eq 3 ] || problem "files left: $(ls "$TMP")"
done_case "curves: an existing PNG is replaced, no temporary file left"

# Bad inputs: a message and exit 1.
sed -n '19,22p' "$GOLDEN/runs_a.jsonl" >"$TMP/unusable.jsonl"
run plot "$TMP/unusable.jsonl" -o "$TMP/x.png"
expect_rc 1
expect_in "$ERR" "noisette: error: no finished run in $TMP/unusable.jsonl"
[ -e "$TMP/x.png" ] && problem "a PNG was written"
done_case "curves: no usable run"

run plot "$TMP/none.jsonl" -o "$TMP/x.png"
expect_rc 1
expect_in "$ERR" "$TMP/none.jsonl: cannot open"
done_case "curves: unreadable results file"

run plot "$TMP/four.jsonl" -o "$TMP/missing/x.png"
expect_rc 1
expect_in "$ERR" "$TMP/missing"
done_case "curves: PNG into a missing folder"

# Usage errors: exit 2.
run plot "$TMP/four.jsonl"
expect_rc 2
expect_in "$ERR" "missing -o FILE.png"
done_case "curves: no -o"
run plot -o "$TMP/x.png"
expect_rc 2
expect_in "$ERR" "missing RESULTS file"
done_case "curves: no results file"
run plot "$TMP/four.jsonl" -o "$TMP/x.png" --width 10
expect_rc 2
expect_in "$ERR" "--width"
done_case "curves: width too small"
run plot "$TMP/four.jsonl" -o "$TMP/x.png" --height 9000
expect_rc 2
expect_in "$ERR" "at most 8192"
done_case "curves: height too large"

# ---- heat map of a transition matrix ----------------------------------------------

run audit -v "$PUBLISHED/noisy_imagenette.csv" --png "$TMP/heat.png" --level 25
expect_rc 0
expect_in "$OUT" "noisy_labels_25"
N='\([0-9]*\)'
pattern="^heat map ${N}x$N px: first cell at ($N, $N), cells of $N px\$"
geometry=$(sed -n "s/$pattern/\1 \2 \3 \4 \5/p" "$ERR")
[ -n "$geometry" ] || problem "no geometry in: $(cat "$ERR")"
if [ -n "$geometry" ] && [ "$have_pil" -eq 1 ]; then
    # shellcheck disable=SC2086
    "$PY" - "$TMP/heat.png" $geometry <<'EOF' 2>"$TMP/py.err" || problem "$(cat "$TMP/py.err")"
import sys
from PIL import Image
path, w, h, x0, y0, cell = sys.argv[1], *map(int, sys.argv[2:])
img = Image.open(path).convert("RGB")
bad = []
if img.size != (w, h):
    bad.append(f"size {img.size}, expected {(w, h)}")
# A cell's colour, away from its number: 4 px inside its top-left corner.
lum = lambda i, j: sum(img.getpixel((x0 + j * cell + 4, y0 + i * cell + 4))) / 3
for i in range(10):
    diag = lum(i, i)
    for j in range(10):
        if j != i and not diag < lum(i, j) - 50:
            bad.append(f"row {i}: diagonal {diag:.0f} not darker than column {j} {lum(i, j):.0f}")
sys.stderr.write("; ".join(bad[:5]))
sys.exit(1 if bad else 0)
EOF
fi
done_case "heat map: 25% noise, diagonal darker than the rest of each row"

run audit -q "$PUBLISHED/noisy_imagewoof.csv" --png "$TMP/woof.png" --normalize
expect_rc 0
[ -s "$TMP/woof.png" ] || problem "no PNG"
done_case "heat map: the highest level by default, rates"

run audit "$PUBLISHED/noisy_imagenette.csv" --png "$TMP/h.png" --level 10
expect_rc 1
expect_in "$ERR" "noisy_imagenette.csv: no column noisy_labels_10"
done_case "heat map: a level the file lacks"

printf 'path,noisy_labels_0,is_valid\na.jpg,cat,False\n' >"$TMP/truth.csv"
run audit "$TMP/truth.csv" --png "$TMP/h.png"
expect_rc 1
expect_in "$ERR" "no noise level"
done_case "heat map: a file without noise levels"

run audit "$TMP/none.csv" --png "$TMP/h.png"
expect_rc 1
expect_in "$ERR" "$TMP/none.csv"
done_case "heat map: unreadable CSV"

run audit "$PUBLISHED/noisy_imagenette.csv" "$PUBLISHED/noisy_imagewoof.csv" --png "$TMP/h.png"
expect_rc 2
done_case "heat map: --png with two CSVs is a usage error"

run audit "$PUBLISHED/noisy_imagenette.csv" --level 25
expect_rc 2
expect_in "$ERR" "no --png"
done_case "heat map: --level without --png is a usage error"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || exit 1
if [ "$have_pil" -eq 0 ]; then
    echo "skip: image checks need python3-pil in $PY (apt-get install python3-pil)"
    exit 77
fi
