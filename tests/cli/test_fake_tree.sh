#!/usr/bin/env bash
# Scale test of the image pipeline on a fake Imagenette tree
# (tools/make_fake_imagenette.py): the loader runs a whole training epoch
# and the whole validation set with two threads, every image decoded
# (the tree includes grey, CMYK and PNG-named-.JPEG files), a missing image
# is reported before any batch, and a small model trains on the folder and
# its checkpoint evaluates.
#
# Usage: test_fake_tree.sh NOISETTE TOOL
# Environment: NOISETTE_FAKE_TREE_LIMIT  images in the tree, 0 = the whole
#              published CSV (default 1000); NOISETTE_FAKE_TREE_DIR  where
#              the tree is kept between runs (default: a temporary folder).
# Exit 77 (CTest: skipped) when python3-pil or python3-numpy is missing.
set -u
source "$(dirname "$0")/lib.sh"
NOISETTE=$1
TOOL=$2
LIMIT=${NOISETTE_FAKE_TREE_LIMIT:-1000}
PY=/usr/bin/python3

if ! "$PY" -c 'import PIL, numpy' 2>/dev/null; then
    echo "skip: $PY cannot import PIL and numpy (apt-get install python3-pil python3-numpy)"
    exit 77
fi

# The tree, made once per (place, size).
base=${NOISETTE_FAKE_TREE_DIR:-}
if [ -z "$base" ]; then
    base=$(mktemp -d) || exit 1
    trap 'rm -rf "$base"' EXIT
fi
tree=$base/fake-imagenette2-320-limit$LIMIT
if [ ! -d "$tree" ]; then
    args=()
    [ "$LIMIT" -gt 0 ] && args=(--limit "$LIMIT")
    echo "making $tree (${LIMIT/#0/all} images)"
    "$PY" "$TOOL" "$tree" "${args[@]}" || { echo "FAIL: could not make the tree"; exit 1; }
fi
csv=$tree/noisy_imagenette.csv
n_train=$(grep -c ',False$' "$csv")
n_valid=$(grep -c ',True$' "$csv")

# A whole training epoch: floor(N / 64) batches of 64.
out=$("$NOISETTE" bench loader "$tree" --threads 2 -q 2>&1)
rc=$?
want=$(( n_train / 64 * 64 ))
check "train epoch exit code" "$rc" "$out"
echo "$out" | grep -q ": $want images in" ; check "train epoch images" $? "want $want: $out"
echo "$out"

# The whole validation set, last partial batch kept, 25% noisy labels.
out=$("$NOISETTE" bench loader "$tree" --valid --pct-noise 25 --threads 2 -q 2>&1)
rc=$?
check "validation exit code" "$rc" "$out"
echo "$out" | grep -q ": $n_valid images in" ; check "validation images" $? "want $n_valid: $out"
echo "$out"

# A missing image is found when the dataset is opened.
victim=$(awk -F, 'NR == 2 {print $1}' "$csv")
mv "$tree/$victim" "$tree/$victim.away"
out=$("$NOISETTE" bench loader "$tree" --batches 1 2>&1)
rc=$?
mv "$tree/$victim.away" "$tree/$victim"
[ "$rc" -eq 1 ]; check "missing image exit code" $? "got $rc: $out"
echo "$out" | grep -q "1 of $((n_train + n_valid)) images listed in .* are missing: $victim" ;
check "missing image message" $? "$out"

# Training end to end on the image folder: a tiny model, two epochs over
# 128 training images at 32 px, then eval of its checkpoint.
out=$(mktemp -d) || exit 1
"$NOISETTE" train "$tree" --pct-noise 25 --arch xse_resnext50 --sa --pool maxpool \
    --width-div 16 --size 32 --bs 16 --epochs 2 --limit 128 --threads 2 --out "$out" \
    >"$out/table" 2>"$out/err"
rc=$?
check "train on the folder exit code" "$rc" "$(cat "$out/err")"
[ "$(grep -cE '^[0-9]+ ' "$out/table")" -eq 2 ]; check "train table rows" $? "$(cat "$out/table")"
"$NOISETTE" eval "$out/run0/checkpoint.ckpt" "$tree" >"$out/eval" 2>"$out/eval.err"
check "eval on the folder" $? "$(cat "$out/eval.err")"
grep -q "tench" "$out/eval"; check "eval names Imagenette classes" $? "$(cat "$out/eval")"
rm -rf "$out"

finish
