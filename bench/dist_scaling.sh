#!/usr/bin/env bash
# Data-parallel scaling on this machine: the same global batch trained by
# 1 process with 2 threads and by 2 MPI ranks with 1 thread each
# (`noisette bench train`, --bs the global batch), then the efficiency
# (images/s of 2 ranks over 1 process) and the all-reduce of the whole
# gradient timed alone on loopback, the numbers docs/distributed.md's cost
# model starts from.
#
# Usage: bench/dist_scaling.sh [BUILD_DIR] [OUT_DIR]
# OUT_DIR (default BUILD_DIR/dist-scaling) keeps both JSON lines; then
# bench/dist_model.py predicts the step on 2 to 16 machines from them.
#   environment: ARCH=xresnet50 SIZE=128 BS=64 STEPS=5 BACKEND=(default)
# Needs a build with MPI (libopenmpi-dev) and mpirun (openmpi-bin).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
noisette=$build/noisette
[ -x "$noisette" ] || { echo "dist_scaling: build noisette first ($noisette)" >&2; exit 1; }
"$noisette" --version | grep -q '^MPI: Open MPI' ||
    { echo "dist_scaling: this noisette was built without MPI" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "dist_scaling: needs mpirun (openmpi-bin)" >&2; exit 1; }

args=(bench train --arch "${ARCH:-xresnet50}" --size "${SIZE:-128}" --bs "${BS:-64}"
      --steps "${STEPS:-5}" --json -q)
[ -n "${BACKEND:-}" ] && args+=(--backend "$BACKEND")
# Shared memory between the ranks, without the kernel's cross-memory attach
# (refused in many containers); root allowed.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMP_WAIT_POLICY=passive
tmp=${2:-$build/dist-scaling}
mkdir -p "$tmp"

echo "== 1 process x 2 threads" >&2
OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 "$noisette" "${args[@]}" | tee /dev/stderr |
    grep '^{' >"$tmp/1.json"
echo "== 2 ranks x 1 thread" >&2
mpirun --oversubscribe --bind-to none -n 2 -x OMP_NUM_THREADS=1 -x OPENBLAS_NUM_THREADS=1 \
    "$noisette" "${args[@]}" | tee /dev/stderr | grep '^{' >"$tmp/2.json"

/usr/bin/python3 - "$tmp/1.json" "$tmp/2.json" <<'EOF'
import json, sys
one, two = (json.loads(open(p).read()) for p in sys.argv[1:3])
print("| setup | training images/s | step s | peak RSS MiB per process |")
print("| --- | ---: | ---: | ---: |")
for name, r in (("1 process x 2 threads", one), ("2 ranks x 1 thread", two)):
    print("| %s | %.1f | %.3f | %.0f |" % (name, r["train_images_per_s"], r["train_step_s"],
                                         r["peak_rss_mib"]))
print()
print("efficiency (2 ranks / 1 process): %.2f" %
      (two["train_images_per_s"] / one["train_images_per_s"]))
print("gradient %.1f MiB; all-reduce alone on loopback %.3f s; wait after backward %.3f s"
      % (two["gradient_mib"], two["allreduce_s"], two["allreduce_wait_s"]))
EOF
echo
/usr/bin/python3 "$here/bench/dist_model.py" "$tmp/1.json" "$tmp/2.json"
