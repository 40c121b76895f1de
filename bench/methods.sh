#!/usr/bin/env bash
# Every noise-robust method of noisette train on the Fashion-MNIST protocol
# of bench/fmnist_vs_torch.sh (the first 12,000 training images, xresnet18,
# batch 64, ranger lr 8e-3, flat-cos, flips only, 5 epochs) at 0%, 25% and
# 50% noise with 2 seeds, then a Markdown table of clean accuracy, mean ±
# std over the seeds, per method and noise level (bench/methods_table.py).
#
# Usage: bench/methods.sh [BUILD_DIR] [OUT_DIR]
#   environment: METHODS="ls ce sce ..." NOISE="0 25 50" SEEDS="1 2"
#                EPOCHS=5 LIMIT=12000 THREADS=2 JOBS=1
#                RESULTS=bench/results/methods.jsonl
# (THREADS: loader threads.) JOBS=2 runs two trainings at a time, each
# with one compute thread (OMP_NUM_THREADS=1) and one loader thread, which
# on 2 cores finishes the sweep sooner than one at a time on both.
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
jobs=${JOBS:-1}
threads=${THREADS:-2}
if [ "$jobs" -gt 1 ]; then
    threads=${THREADS:-1}
    export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
fi
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
# run_one METHOD PCT SEED: one training, then its line, tagged with the
# method's name, and its name in the done list (under a lock: JOBS > 1).
run_one() {
    local m=$1 p=$2 s=$3 run="$out/run_${1}_p${2}_s$3"
    echo "== $m, noise $p%, seed $s" >&2
    # shellcheck disable=SC2086
    "$noisette" train fashion-mnist --pct-noise "$p" --seed "$s" --limit "$limit" \
        --epochs "$epochs" --bs 64 --lr 8e-3 --opt ranger --arch xresnet18 \
        --threads "$threads" ${FLAGS[$m]} --out "$run" --results "$run.jsonl" -q
    (
        flock 9
        tail -n 1 "$run.jsonl" | sed "s/^{/{\"bench_method\":\"$m\",/" >>"$results"
        echo "{\"method\":\"$m\",\"pct\":$p,\"seed\":$s}" >>"$done_list"
    ) 9>"$results.lock"
}

for s in $seeds; do
    for m in $methods; do
        for p in $noise; do
            tag="\"method\":\"$m\",\"pct\":$p,\"seed\":$s"
            if [ -f "$done_list" ] && grep -qF "$tag" "$done_list"; then
                continue
            fi
            while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
                wait -n || exit 1
            done
            run_one "$m" "$p" "$s" &
        done
    done
done
wait
/usr/bin/python3 "$here/bench/methods_table.py" "$results"
