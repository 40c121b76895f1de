#!/usr/bin/env bash
# noisette train with the noise-robust methods on a Fashion-MNIST subset
# (1/16-width xresnet18): MixUp + SAM + ELR together, co-teaching, ASAM and
# truncated GCE's pruning each train, record their settings in the results
# file, resume exactly after Ctrl-C (ELR's targets, the peer network and
# the pruning weights are in the checkpoint), and evaluate from their
# checkpoints; bad combinations are usage errors.
# Usage: test_methods.sh NOISETTE. Exit 77 (skipped) without Fashion-MNIST.
set -u
source "$(dirname "$0")/lib.sh"
NOISETTE=$1
fmnist_subset 2000
TRAIN=("$NOISETTE" train fashion-mnist --labels "$TMP/sub.csv" --pct-noise 25
       --arch xresnet18 --width-div 16 --epochs 3 --bs 32 --threads 2)

# One method set: trains, records, resumes exactly, evaluates.
method() {  # method NAME JSON_KEY FLAGS...
    local name=$1 key=$2
    shift 2
    "${TRAIN[@]}" "$@" --out "$TMP/$name.A" >"$TMP/$name.A.out" 2>"$TMP/$name.A.err"
    check "$name: exit code" $? "$(cat "$TMP/$name.A.err")"
    [ "$(rows "$TMP/$name.A.out" | wc -l)" -eq 3 ]
    check "$name: three rows" $? "$(cat "$TMP/$name.A.out")"
    local acc
    acc=$(rows "$TMP/$name.A.out" | tail -n 1 | awk '{print $4}')
    awk "BEGIN {exit !($acc > 0.25)}"; check "$name: learns (accuracy > 0.25)" $? "$acc"
    grep -q "\"$key\"" "$TMP/$name.A/results.jsonl"
    check "$name: settings in the results" $? "$(cat "$TMP/$name.A/results.jsonl")"

    # Stopped by Ctrl-C once the first epoch's checkpoint exists, resumed.
    "${TRAIN[@]}" "$@" --out "$TMP/$name.B" >"$TMP/$name.B1.out" 2>"$TMP/$name.B1.err" &
    local pid=$! i
    for i in $(seq 600); do
        [ -f "$TMP/$name.B/run0/checkpoint.ckpt" ] && break
        sleep 0.05
    done
    kill -INT "$pid" 2>/dev/null
    wait "$pid"
    check "$name: interrupted run exits 0" $? "$(cat "$TMP/$name.B1.err")"
    "${TRAIN[@]}" "$@" --out "$TMP/$name.B" --resume "$TMP/$name.B/run0/checkpoint.ckpt" \
        >"$TMP/$name.B2.out" 2>"$TMP/$name.B2.err"
    check "$name: resume exit code" $? "$(cat "$TMP/$name.B2.err")"
    diff <(rows "$TMP/$name.A.out") <(rows "$TMP/$name.B2.out") >"$TMP/diff"
    check "$name: resumed run equals the uninterrupted one" $? "$(cat "$TMP/diff")"
    grep -q "interrupted at epoch" "$TMP/$name.B1.err" ||
        echo "note: $name finished before the interrupt"

    "$NOISETTE" eval "$TMP/$name.A/run0/checkpoint.ckpt" fashion-mnist \
        --labels "$TMP/sub.csv" >"$TMP/$name.eval" 2>"$TMP/$name.eval.err"
    check "$name: eval exit code" $? "$(cat "$TMP/$name.eval.err")"
    grep -q "accuracy $acc" "$TMP/$name.eval"
    check "$name: eval accuracy" $? "$(head -n 1 "$TMP/$name.eval") vs $acc"
}

method combined elr --mixup 0.4 --sam 0.05 --elr 3
method coteach co_teaching --co-teaching --forget-epochs 2
method asam asam --asam
method tgce tgce_start --loss tgce --tgce-start 1 --tgce-every 1
grep -q "truncated GCE after epoch 1: [0-9]* of 2000 training images kept" "$TMP/tgce.A.err"
check "tgce: pruning pass after epoch 1" $? "$(cat "$TMP/tgce.A.err")"

# A checkpoint of one setup does not resume another.
"${TRAIN[@]}" --out "$TMP/combined.A" --resume "$TMP/combined.A/run0/checkpoint.ckpt" \
    >/dev/null 2>"$TMP/X.err"
rc=$?; [ "$rc" -eq 1 ]; check "resume without --elr exits 1" $? "got $rc: $(cat "$TMP/X.err")"
grep -q "elr" "$TMP/X.err"; check "the mismatch is named" $? "$(cat "$TMP/X.err")"

# Usage errors.
usage() {   # usage NAME FLAGS...
    local name=$1
    shift
    "$NOISETTE" train fashion-mnist "$@" >/dev/null 2>"$TMP/U.err"
    local rc=$?
    [ "$rc" -eq 2 ]; check "$name exits 2" $? "got $rc: $(cat "$TMP/U.err")"
}
usage "co-teaching with mixup" --co-teaching --mixup 0.4
usage "co-teaching with SAM" --co-teaching --sam 0.05
usage "forget rate without co-teaching" --forget-rate 0.2
usage "negative mixup" --mixup -1
usage "SAM radius 0" --sam 0
usage "ELR beta 1" --elr 3 --elr-beta 1
usage "--sam-no-wd alone" --sam-no-wd

finish
