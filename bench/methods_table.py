#!/usr/bin/env python3
"""The Markdown table of bench/methods.sh: clean accuracy (%) as mean ± std
over seeds, one row per method, one column per noise level, and each
method's difference from label-smoothing CE (the reference's loss).

Usage: bench/methods_table.py RESULTS.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict


def main():
    acc = defaultdict(list)
    order, levels = [], set()
    with open(sys.argv[1]) as f:
        for line in f:
            r = json.loads(line)
            m, p = r["bench_method"], r["config"]["pct_noise"]
            if m not in order:
                order.append(m)
            levels.add(p)
            acc[m, p].append(100 * r["final"]["accuracy"])
    levels = sorted(levels)

    def cell(m, p):
        v = acc.get((m, p))
        if not v:
            return "–"
        if len(v) == 1:
            return "%.2f" % v[0]
        return "%.2f ± %.2f" % (statistics.mean(v), statistics.stdev(v))

    def delta(m, p):
        if m == "ls" or not acc.get((m, p)) or not acc.get(("ls", p)):
            return ""
        d = statistics.mean(acc[m, p]) - statistics.mean(acc["ls", p])
        return " (%+.2f)" % d

    print("| method | " + " | ".join("%g%% noise" % p for p in levels) + " |")
    print("| --- | " + " | ".join("---" for _ in levels) + " |")
    for m in order:
        print("| %s | " % m + " | ".join(cell(m, p) + delta(m, p) for p in levels) + " |")


if __name__ == "__main__":
    main()
