#!/usr/bin/env bash
# The Fashion-MNIST learning benchmark: noisette and PyTorch trained by the
# same protocol on the same noisy labels, one after the other, and their
# final accuracies and training throughputs side by side.
#
# Protocol (tools/fmnist_torch.py gives it in full): the first 12,000
# training images, xresnet18 with one input channel and Mish, batch 64,
# ranger at lr 8e-3, flat-cos, label-smoothing CE, flips only, 5 epochs,
# noise 0% and 50% (uniform, noisette labels --seed SEED).
#
# Usage: bench/fmnist_vs_torch.sh [BUILD_DIR] [OUT_DIR]
#   environment: SEEDS="42" NOISE="0 50" EPOCHS=5 LIMIT=12000 THREADS=2
# Needs /usr/bin/python3 with python3-torch; four 5-epoch trainings on 2 cores.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
out=${2:-$here/build/fmnist-vs-torch}
seeds=${SEEDS:-42}
noise=${NOISE:-0 50}
epochs=${EPOCHS:-5}
limit=${LIMIT:-12000}
threads=${THREADS:-2}
noisette=$build/noisette

[ -x "$noisette" ] || { echo "fmnist_vs_torch: build noisette first ($noisette)" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' 2>/dev/null ||
    { echo "fmnist_vs_torch: needs python3-torch (apt-get install python3-torch)" >&2; exit 1; }
mkdir -p "$out"
summary=$out/summary.tsv
printf 'seed\tpct_noise\tnoisette_acc\ttorch_acc\tnoisette_img_s\ttorch_img_s\n' > "$summary"

for seed in $seeds; do
    labels=$out/labels_$seed.csv
    "$noisette" labels fashion-mnist --levels 1,5,25,50 --seed "$seed" -o "$labels" \
        --force -q
    for p in $noise; do
        tag=s${seed}_p$p
        echo "== seed $seed, noise $p%: noisette" >&2
        rm -f "$out/$tag.jsonl"
        "$noisette" train fashion-mnist --labels "$labels" --pct-noise "$p" \
            --limit "$limit" --epochs "$epochs" --bs 64 --lr 8e-3 --opt ranger \
            --arch xresnet18 --act mish --loss ls --seed "$seed" --threads "$threads" \
            --out "$out/run_$tag" --results "$out/$tag.jsonl" -q | tee "$out/$tag.noisette.txt"
        echo "== seed $seed, noise $p%: pytorch" >&2
        /usr/bin/python3 "$here/tools/fmnist_torch.py" --labels "$labels" --pct-noise "$p" \
            --limit "$limit" --epochs "$epochs" --bs 64 --lr 8e-3 --seed "$seed" \
            --threads "$threads" | tee "$out/$tag.torch.txt"
        /usr/bin/python3 - "$out/$tag.jsonl" "$out/$tag.torch.txt" "$seed" "$p" \
            >> "$summary" <<'EOF'
import json, sys
ours = json.loads(open(sys.argv[1]).read().splitlines()[-1])
theirs = json.loads(open(sys.argv[2]).read().splitlines()[-1])
print("%s\t%s\t%.4f\t%.4f\t%.1f\t%.1f" % (sys.argv[3], sys.argv[4],
      ours["final"]["accuracy"], theirs["accuracy"],
      ours["train_images_per_s"], theirs["train_images_per_s"]))
EOF
    done
done
column -t "$summary"
