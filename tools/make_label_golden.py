#!/usr/bin/env python3
"""Writes tests/golden/labels_uniform_seed42.csv with an implementation of
noisette's uniform label noise that shares no code with the C one.

The C test (tests/unit/test_noise.c, test_golden_seed_42) builds the same
synthetic table, noises it with seed 42 at 1, 5, 25 and 50 %, and must
produce these bytes exactly: a check of the algorithm as documented in
docs/labels.md (SplitMix64 seeding, xoshiro256**, unbiased bounded draws,
Fisher-Yates from the top, ceil(P*N/100) rows, wrong label uniform over the
other classes), and a pin that keeps --seed 42 files stable across versions.

Usage: python3 tools/make_label_golden.py [OUT]   (standard library only)
"""
import math
import sys

MASK = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


class Xoshiro256ss:
    def __init__(self, seed):
        self.s = []
        for _ in range(4):
            seed, z = splitmix64(seed)
            self.s.append(z)

    def next(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & MASK
        out = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return out

    def below(self, n):
        threshold = (1 << 64) % n
        while True:
            x = self.next()
            if x >= threshold:
                return x % n

    def permutation(self, n):
        idx = list(range(n))
        for i in range(n, 1, -1):
            j = self.below(i)
            idx[i - 1], idx[j] = idx[j], idx[i - 1]
        return idx


def synthetic_table(n_train, n_valid, k):
    """The table test_noise.c's make_table builds."""
    names = ["c%02d" % c for c in range(k)]
    rows = []
    for i in range(n_train + n_valid):
        rows.append(("r%07d" % i, (i * 7 + i // 3) % k, i >= n_train))
    return names, rows


def uniform_noise(rows, k, levels, seed):
    rng = Xoshiro256ss(seed)
    train = [i for i, r in enumerate(rows) if not r[2]]
    columns = []
    for pct in levels:
        col = [r[1] for r in rows]
        count = min(len(train), math.ceil(pct * len(train) / 100))
        perm = rng.permutation(len(train))
        for p in range(count):
            row = train[perm[p]]
            r = rng.below(k - 1)
            col[row] = r + 1 if r >= rows[row][1] else r
        columns.append(col)
    return columns


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/golden/labels_uniform_seed42.csv"
    levels = [1, 5, 25, 50]
    names, rows = synthetic_table(60, 20, 4)
    columns = uniform_noise(rows, len(names), levels, 42)
    with open(out, "w", newline="\n") as f:
        f.write("path,noisy_labels_0,%s,is_valid\n"
                % ",".join("noisy_labels_%d" % p for p in levels))
        for i, (path, truth, valid) in enumerate(rows):
            labels = [names[truth]] + [names[col[i]] for col in columns]
            f.write("%s,%s,%s\n" % (path, ",".join(labels), "True" if valid else "False"))


if __name__ == "__main__":
    main()
