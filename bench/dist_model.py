#!/usr/bin/python3
"""The communication cost of data-parallel training, from measurements.

Reads the JSON lines of `noisette bench train --json` for 1 process and
for R ranks (bench/dist_scaling.sh writes both) and predicts the step
time on M machines like this one joined by a network of a given speed,
for a ring all-reduce of the gradient (Open MPI's algorithm for large
messages):

    each rank sends and receives 2 (M - 1) / M * S bytes, in
    2 (M - 1) steps per bucket of the gradient, so
    T_allreduce = 2 (M - 1) / M * S / bandwidth + 2 (M - 1) * buckets * latency

and, with none of it hidden behind the backward pass (the pessimistic
case), T_step = T_compute + T_allreduce.

Two ways to use M machines are shown: each keeps the batch of the
1-process run (global batch M times larger, compute per step unchanged),
or the global batch stays (each machine 1/M of it, compute scaled by 1/M,
which is optimistic: small batches run below the large-batch rate).

Usage: bench/dist_model.py ONE.json RANKS.json [--gbit 10] [--latency-us 50]
"""
import argparse
import json
import math

BUCKET_MIB = 4.0    # gradient per all-reduce (src/train/loop.c, BUCKET_BYTES)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("one")
    ap.add_argument("ranks")
    ap.add_argument("--gbit", type=float, default=10.0, help="network speed, Gbit/s")
    ap.add_argument("--latency-us", type=float, default=50.0,
                    help="one message's latency, microseconds (assumed, not measured)")
    a = ap.parse_args()
    one = json.loads(open(a.one).read())
    many = json.loads(open(a.ranks).read())

    grad_mib = many["gradient_mib"]
    s_bytes = grad_mib * 2**20
    bw = a.gbit * 1e9 / 8
    buckets = math.ceil(grad_mib / BUCKET_MIB)
    compute = one["train_step_s"]
    bs = one["bs"]
    print("gradient: %.1f MiB in %d buckets; all-reduce on this machine's loopback "
          "(%d ranks): %.3f s" % (grad_mib, buckets, many["ranks"], many["allreduce_s"]))
    print("one process: %.3f s a step of %d images (%.1f images/s)"
          % (compute, bs, bs / compute))
    print("network: %g Gbit/s, %g us a message" % (a.gbit, a.latency_us))
    print()
    print("| machines | all-reduce s | batch %d each: step s | images/s | efficiency "
          "| global batch %d: step s | images/s | efficiency |" % (bs, bs))
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for m in (2, 4, 8, 16):
        t_ar = 2 * (m - 1) / m * s_bytes / bw + 2 * (m - 1) * buckets * a.latency_us * 1e-6
        big = compute + t_ar
        small = compute / m + t_ar
        print("| %d | %.3f | %.3f | %.1f | %.0f%% | %.3f | %.1f | %.0f%% |"
              % (m, t_ar, big, m * bs / big, 100 * compute / big,
                 small, bs / small, 100 * (compute / m) / small))


if __name__ == "__main__":
    main()
