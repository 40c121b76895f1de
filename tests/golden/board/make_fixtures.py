#!/usr/bin/env python3
"""Writes the synthetic results files that tests/cli/test_board.sh and
test_plot.sh read: runs_a.jsonl (a finished file with every kind of line)
and runs_b.jsonl (a file still being written: its last line has no newline).

Each line has the fields `noisette train` writes (src/cli/cmd_train.c:
config_json, result_json); accuracies are chosen so that means, standard
deviations and differences from the baseline are exact to two decimals
(see README.md beside this script). Run from this folder:

    /usr/bin/python3 make_fixtures.py

then regenerate the expected outputs as README.md says and review the diff.
Python's json module only; no randomness.
"""
import copy
import json

BASE = {
    "data": "imagenette2-320", "dataset": "imagenette", "woof": False, "labels": None,
    "pct_noise": 5.0, "arch": "xresnet50", "act": "mish", "pool": "avgpool", "sa": False,
    "sym": False, "c_in": 3, "n_out": 10, "size": 128, "epochs": 5, "bs": 64,
    "opt": "ranger", "lr": 0.008, "mom": 0.9, "sqrmom": 0.99, "eps": 1e-06, "wd": 0.01,
    "loss": "ls", "loss_params": {"eps": 0.1}, "seed": 42, "run": 0, "limit": 0,
    "width_div": 1, "backend": "blas", "dct_scale": True, "methods": {},
}


def history(epochs, final):
    """Smooth curves ending at the final accuracy."""
    rows = []
    for e in range(epochs):
        t = (e + 1) / epochs
        acc = final if e == epochs - 1 else round(final * (0.55 + 0.45 * t), 4)
        rows.append({"epoch": e, "train_loss": round(2.3 - 1.2 * t, 4),
                     "valid_loss": round(2.1 - 1.0 * t + 0.05 * (e % 2), 4),
                     "accuracy": acc, "top_k_accuracy": round(min(1.0, acc + 0.1), 4),
                     "seconds": 60.0})
    return rows


def line(final, interrupted=False, n_history=None, finished="2026-12-01T10:00:00Z", **cfg):
    config = copy.deepcopy(BASE)
    config.update(cfg)
    hist = history(config["epochs"], final)[:n_history]
    obj = {"version": "0.1.0", "finished": finished, "config": config, "history": hist,
           "final": {"accuracy": hist[-1]["accuracy"] if hist else 0.0,
                     "top_k_accuracy": 0.99, "valid_loss": 1.0},
           "train_images_per_s": 8.0, "wall_seconds": 300.0, "interrupted": interrupted}
    return json.dumps(obj, separators=(",", ":"))


def old_line(final):
    """A line from before "dataset", "woof", "loss_params" and "methods"."""
    obj = json.loads(line(final, data="old/imagenette2-320"))
    for key in ("dataset", "woof", "loss_params", "methods"):
        del obj["config"][key]
    return json.dumps(obj, separators=(",", ":"))


GCE_MIXUP = {"loss": "gce", "loss_params": {"q": 0.7}, "methods": {"mixup": 0.4}}
WOOF = {"data": "imagewoof2-320", "dataset": "imagewoof", "woof": True}

a = [
    # Imagenette 5%, 128 px, 5 epochs: three seeds, mean 85.00, std 1.00
    line(0.84, seed=42, run=0),
    line(0.85, seed=43, run=1),
    line(0.86, seed=44, run=2),
    # Imagenette 5%, 128 px, 20 epochs: one run
    line(0.90, epochs=20),
    # Imagenette 25%, 128 px, 20 epochs: two configurations, two runs each
    line(0.80, pct_noise=25.0, epochs=20, seed=42, run=0),
    line(0.82, pct_noise=25.0, epochs=20, seed=43, run=1),
    line(0.83, pct_noise=25.0, epochs=20, seed=42, run=0, **GCE_MIXUP),
    line(0.85, pct_noise=25.0, epochs=20, seed=43, run=1, **GCE_MIXUP),
    # Imagewoof 50%, 192 px, 20 epochs: five runs, mean 62.00, std 3.16
    *[line(acc, pct_noise=50.0, size=192, epochs=20, seed=42 + i, run=i, **WOOF)
      for i, acc in enumerate([0.58, 0.60, 0.62, 0.64, 0.66])],
    # Imagenette without noise: its own table, no baseline
    line(0.88, pct_noise=0.0),
    # Not leaderboard cells
    line(0.7512, data="fashion-mnist", dataset="fashion-mnist", size=28, epochs=3,
         pct_noise=25.0, c_in=1, arch="xresnet18", width_div=8, limit=640),
    line(0.61, limit=640),
    line(0.83, size=160),
    old_line(0.82),
    # Malformed lines
    '{"version":"0.1.0","config":{"data":"imagenette2-320",',
    line(0.5, size="128"),
    # Runs that did not finish
    line(0.7, interrupted=True, n_history=3),
    line(0.7, n_history=2, finished="2026-12-01T11:00:00Z"),
    # The first line again (a results file concatenated twice)
    line(0.84, seed=42, run=0),
    "",
]

b = [
    # Imagenette 5%, 128 px, 5 epochs with another learning rate
    line(0.845, lr=0.004, finished="2026-12-02T09:00:00Z"),
    # A run still being written: no newline at the end
    line(0.9, epochs=20, finished="2026-12-02T10:00:00Z")[:150],
]

with open("runs_a.jsonl", "w") as f:
    f.write("\n".join(a))
with open("runs_b.jsonl", "w") as f:
    f.write(b[0] + "\n" + b[1])
