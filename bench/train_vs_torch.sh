#!/usr/bin/env bash
# Training-step and evaluation speed, and peak memory, of noisette against
# PyTorch (Debian's python3-torch) on the same models, batch and image
# size, one after the other in one run: `noisette bench train --json` and
# tools/bench_train_torch.py (the xresnet of tools/make_model_golden.py),
# then a table of images/s and the ratios noisette / PyTorch.
#
# Usage: bench/train_vs_torch.sh [BUILD_DIR]
#   environment: BACKENDS="blas dnnl" SIZE=128 BS=64 STEPS=5 THREADS=2
#                MODELS="xresnet50 xresnet18 baseline" (baseline is
#                xse_resnext50 --sa --pool maxpool, the reference's model)
# Both sides run with THREADS threads (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS,
# torch.set_num_threads) and OMP_WAIT_POLICY=passive. Run it on a quiet
# machine: the ratios mean nothing while other jobs share the cores.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
backends=${BACKENDS:-blas dnnl}
size=${SIZE:-128}
bs=${BS:-64}
steps=${STEPS:-5}
threads=${THREADS:-2}
models=${MODELS:-xresnet50 xresnet18 baseline}
noisette=$build/noisette
[ -x "$noisette" ] || { echo "train_vs_torch: build noisette first ($noisette)" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' 2>/dev/null ||
    { echo "train_vs_torch: needs python3-torch (apt-get install python3-torch)" >&2; exit 1; }
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads OMP_WAIT_POLICY=passive

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "size $size, batch $bs, $threads threads, median of $steps steps after a warm-up"
for model in $models; do
    case $model in
        baseline) flags=(--arch xse_resnext50 --sa --pool maxpool) ;;
        *) flags=(--arch "$model") ;;
    esac
    for be in $backends; do
        "$noisette" bench train "${flags[@]}" --size "$size" --bs "$bs" --steps "$steps" \
            --backend "$be" --json -q | tee "$out/$model.$be.txt" >&2
        tail -n 1 "$out/$model.$be.txt" >"$out/$model.$be.json"
    done
    /usr/bin/python3 "$here/tools/bench_train_torch.py" "${flags[@]}" --size "$size" --bs "$bs" \
        --steps "$steps" --threads "$threads" --json | tee "$out/$model.torch.txt" >&2
    tail -n 1 "$out/$model.torch.txt" >"$out/$model.torch.json"
done

/usr/bin/python3 - "$out" "$models" "$backends" <<'EOF'
import json, sys
out, models, backends = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
print()
print("| model | backend | training images/s | PyTorch | ratio | evaluation images/s"
      " | PyTorch | ratio | peak RSS MiB | PyTorch |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for m in models:
    t = json.load(open(f"{out}/{m}.torch.json"))
    name = "xse_resnext50 --sa --pool maxpool" if m == "baseline" else m
    for be in backends:
        n = json.load(open(f"{out}/{m}.{be}.json"))
        print(f"| {name} | {be} | {n['train_images_per_s']:.1f} | {t['train_images_per_s']:.1f}"
              f" | {n['train_images_per_s'] / t['train_images_per_s']:.2f}x"
              f" | {n['eval_images_per_s']:.1f} | {t['eval_images_per_s']:.1f}"
              f" | {n['eval_images_per_s'] / t['eval_images_per_s']:.2f}x"
              f" | {n['peak_rss_mib']:.0f} | {t['peak_rss_mib']:.0f} |")
EOF
