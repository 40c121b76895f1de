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
#                RESULTS=bench/results/methods.jsonl
# Each finished run appends its results line, tagged with the method, to
# RESULTS and its name to RESULTS with .done for .jsonl; runs named there
# are not run again, so an interrupted sweep (or one spread over several
# sittings) continues where it stopped. The run folders (checkpoints) go
# to OUT_DIR. Every method runs with the first seed before any runs with
# the second. The whole sweep is 72 runs of about 4 minutes each (SAM and
# co-teaching twice that) on 2 cores.
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
results=${RESULTS:-$here/bench/results/methods.jsonl}
done_list=${results%.jsonl}.done
mkdir -p "$out" "$(dirname "$results")"

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
done
for s in $seeds; do
    for m in $methods; do
        for p in $noise; do
            tag="\"method\":\"$m\",\"pct\":$p,\"seed\":$s"
            if [ -f "$done_list" ] && grep -qF "$tag" "$done_list"; then
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
            echo "{$tag}" >>"$done_list"
        done
    done
done
/usr/bin/python3 "$here/bench/methods_table.py" "$results"
