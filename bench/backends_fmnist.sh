#!/usr/bin/env bash
# The same training with each backend: the Fashion-MNIST protocol of
# bench/fmnist_vs_torch.sh (the first 12,000 training images, xresnet18
# with one input channel and Mish, batch 64, ranger lr 8e-3, flat-cos,
# label-smoothing CE, flips only, 5 epochs) on the same noisy labels, once
# per backend, then each one's final accuracy and training images/s. The
# backends compute the same functions in different orders, so the runs
# part after the first steps; their accuracies should agree within what a
# second seed moves them.
#
# Usage: bench/backends_fmnist.sh [BUILD_DIR] [OUT_DIR]
#   environment: BACKENDS="blas dnnl" NOISE="0 50" SEED=42 EPOCHS=5
#                LIMIT=12000 THREADS=2
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
out=${2:-$here/build/backends-fmnist}
backends=${BACKENDS:-blas dnnl}
noise=${NOISE:-0 50}
seed=${SEED:-42}
noisette=$build/noisette
[ -x "$noisette" ] || { echo "backends_fmnist: build noisette first ($noisette)" >&2; exit 1; }
mkdir -p "$out"
labels=$out/labels_$seed.csv
"$noisette" labels fashion-mnist --levels 1,5,25,50 --seed "$seed" -o "$labels" --force -q

printf 'pct_noise\tbackend\taccuracy\ttrain_images_per_s\n' >"$out/summary.tsv"
for p in $noise; do
    for be in $backends; do
        echo "== noise $p%, backend $be" >&2
        rm -f "$out/p${p}_$be.jsonl"
        "$noisette" train fashion-mnist --labels "$labels" --pct-noise "$p" \
            --limit "${LIMIT:-12000}" --epochs "${EPOCHS:-5}" --bs 64 --lr 8e-3 --opt ranger \
            --arch xresnet18 --act mish --loss ls --seed "$seed" --threads "${THREADS:-2}" \
            --backend "$be" --out "$out/run_p${p}_$be" --results "$out/p${p}_$be.jsonl" -q
        /usr/bin/python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
print("%s\t%s\t%.4f\t%.1f" % (sys.argv[2], sys.argv[3], r["final"]["accuracy"],
                              r["train_images_per_s"]))' "$out/p${p}_$be.jsonl" "$p" "$be" \
            >>"$out/summary.tsv"
    done
done
column -t "$out/summary.tsv"
