#!/usr/bin/env bash
# Every noise-robust method of noisette train on the Fashion-MNIST protocol
# of bench/fmnist_vs_torch.sh (the first 12,000 training images, xresnet18,
# batch 64, ranger lr 8e-3, flat-cos, flips only, 5 epochs) at 0%, 25% and
# 50% noise with 2 seeds, then a Markdown table of clean accuracy, mean ±
# std over the seeds, per method and noise level (bench/methods_table.py).
#
# Usage: bench/methods.sh [BUILD_DIR] [OUT_DIR]
#   environment: METHODS="ls ce sce ..." NOISE="0 25 50" SEEDS="1 2"
#                EPOCHS=5 LIMIT=12000 THREADS=2
# Runs already in OUT_DIR/results.jsonl are not run again, so an
# interrupted sweep continues where it stopped. The whole sweep is 66 runs
# of a few minutes each (SAM and co-teaching twice that) on 2 cores.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
out=${2:-$here/build/methods}
noise=${NOISE:-0 25 50}
seeds=${SEEDS:-1 2}
epochs=${EPOCHS:-5}
limit=${LIMIT:-12000}
threads=${THREADS:-2}
noisette=$build/noisette
[ -x "$noisette" ] || { echo "methods: build noisette first ($noisette)" >&2; exit 1; }
mkdir -p "$out"
results=$out/results.jsonl

# name: the flags that select the method (label-smoothing CE is the
# reference's loss and the row every other is compared with).
declare -A FLAGS=(
    [ls]="--loss ls"
    [ce]="--loss ce"
    [sce]="--loss sce"
    [gce]="--loss gce"
    [tgce]="--loss tgce --tgce-start 2 --tgce-every 1"
    [taylor]="--loss taylor"
    [bitempered]="--loss bitempered"
    [nce_rce]="--loss nce_rce"
    [mixup]="--loss ls --mixup 0.4"
    [sam]="--loss ls --sam 0.05"
    [elr]="--loss ce --elr 3"
    [co_teaching]="--loss ce --co-teaching --forget-epochs 3"
)
methods=${METHODS:-ls ce sce gce tgce taylor bitempered nce_rce mixup sam elr co_teaching}

for m in $methods; do
    [ -n "${FLAGS[$m]+x}" ] || { echo "methods: unknown method $m" >&2; exit 1; }
    for p in $noise; do
        for s in $seeds; do
            tag="\"method\":\"$m\",\"pct\":$p,\"seed\":$s"
            if [ -f "$out/done.txt" ] && grep -qF "$tag" "$out/done.txt"; then
                continue
            fi
            echo "== $m, noise $p%, seed $s" >&2
            # shellcheck disable=SC2086
            "$noisette" train fashion-mnist --pct-noise "$p" --seed "$s" --limit "$limit" \
                --epochs "$epochs" --bs 64 --lr 8e-3 --opt ranger --arch xresnet18 \
                --threads "$threads" ${FLAGS[$m]} --out "$out/run_${m}_p${p}_s$s" \
                --results "$out/run_${m}_p${p}_s$s.jsonl" -q
            # The run's line, tagged with the method's name.
            tail -n 1 "$out/run_${m}_p${p}_s$s.jsonl" |
                sed "s/^{/{\"bench_method\":\"$m\",/" >>"$results"
            echo "{$tag}" >>"$out/done.txt"
        done
    done
done
/usr/bin/python3 "$here/bench/methods_table.py" "$results"
