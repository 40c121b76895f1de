#!/usr/bin/env bash
# noisette train and eval end to end on a Fashion-MNIST subset (a label CSV
# of 3,000 training and 300 validation rows at 25% noise, a 1/16-width
# xresnet18): the table, the results file, a resumed run that ends exactly
# as an uninterrupted one, eval of the checkpoint, a diverging run stopped
# with a message, and usage errors.
# Usage: test_train.sh NOISETTE. Exit 77 (skipped) without Fashion-MNIST.
set -u
source "$(dirname "$0")/lib.sh"
NOISETTE=$1
# A subset CSV: 3,000 training rows, 300 validation rows.
fmnist_subset 3000
TRAIN=("$NOISETTE" train fashion-mnist --labels "$TMP/sub.csv" --pct-noise 25
       --arch xresnet18 --width-div 16 --epochs 3 --bs 32 --threads 2)

# An uninterrupted run: the table, the results line, the checkpoint.
"${TRAIN[@]}" --out "$TMP/A" >"$TMP/A.out" 2>"$TMP/A.err"
check "train exit code" $? "$(cat "$TMP/A.err")"
head -n 1 "$TMP/A.out" | grep -q '^epoch     train_loss  valid_loss  accuracy  top_k_accuracy  time'
check "table header" $? "$(head -n 1 "$TMP/A.out")"
[ "$(rows "$TMP/A.out" | wc -l)" -eq 3 ]; check "three rows" $? "$(cat "$TMP/A.out")"
last_acc=$(rows "$TMP/A.out" | tail -n 1 | awk '{print $4}')
awk "BEGIN {exit !($last_acc > 0.3)}"; check "learns (accuracy > 0.3)" $? "$last_acc"
[ "$(wc -l <"$TMP/A/results.jsonl")" -eq 1 ]; check "one results line" $? ""
grep -q '"history":\[{"epoch":0' "$TMP/A/results.jsonl"; check "history in results" $? ""
grep -q '"pct_noise":25' "$TMP/A/results.jsonl"; check "config in results" $? ""
[ -f "$TMP/A/run0/checkpoint.ckpt" ]; check "checkpoint written" $? ""

# Interrupted with Ctrl-C, then resumed: the same rows as uninterrupted.
"${TRAIN[@]}" --out "$TMP/B" >"$TMP/B1.out" 2>"$TMP/B1.err" &
pid=$!
sleep 2
kill -INT "$pid" 2>/dev/null
wait "$pid"
check "interrupted run exits 0" $? "$(cat "$TMP/B1.err")"
"${TRAIN[@]}" --out "$TMP/B" --resume "$TMP/B/run0/checkpoint.ckpt" >"$TMP/B2.out" 2>"$TMP/B2.err"
check "resume exit code" $? "$(cat "$TMP/B2.err")"
diff <(rows "$TMP/A.out") <(rows "$TMP/B2.out") >"$TMP/diff"
check "resumed run equals the uninterrupted one" $? "$(cat "$TMP/diff")"
grep -q "interrupted at epoch" "$TMP/B1.err" || echo "note: the run finished before the interrupt"

# eval of the checkpoint gives the last row's accuracy.
"$NOISETTE" eval "$TMP/A/run0/checkpoint.ckpt" fashion-mnist --labels "$TMP/sub.csv" \
    >"$TMP/eval.out" 2>"$TMP/eval.err"
check "eval exit code" $? "$(cat "$TMP/eval.err")"
grep -q "accuracy $last_acc" "$TMP/eval.out"; check "eval accuracy" $? "$(head -n 1 "$TMP/eval.out")"
grep -q "tshirt_top" "$TMP/eval.out"; check "eval per-class table" $? ""

# A diverging run stops with a message and exit 1; the checkpoint stays.
"${TRAIN[@]}" --out "$TMP/N" --opt sgd --lr 10 --mom 0.99 >/dev/null 2>"$TMP/N.err"
rc=$?
[ "$rc" -eq 1 ]; check "diverging run exits 1" $? "got $rc"
grep -q "the training loss became" "$TMP/N.err"; check "divergence message" $? "$(cat "$TMP/N.err")"

# --folds 2: each fold's probabilities, together every training row once,
# each row's probabilities summing to 1; a second call skips the done folds.
"${TRAIN[@]}" --epochs 1 --folds 2 --out "$TMP/F" >/dev/null 2>"$TMP/F.err"
check "folds exit code" $? "$(cat "$TMP/F.err")"
cat "$TMP/F/fold0/probs.csv" "$TMP/F/fold1/probs.csv" | grep -v '^path,' | cut -d, -f1 |
    sort >"$TMP/F.paths"
grep ',False$' "$TMP/sub.csv" | cut -d, -f1 | sort >"$TMP/F.want"
cmp -s "$TMP/F.paths" "$TMP/F.want"; check "folds cover every training row once" $? \
    "$(wc -l <"$TMP/F.paths") rows vs $(wc -l <"$TMP/F.want")"
awk -F, 'NR > 1 {s = 0; for (i = 4; i <= NF; i++) s += $i; if (s < 0.999 || s > 1.001) bad++}
         END {exit bad > 0}' "$TMP/F/fold0/probs.csv"
check "probabilities sum to 1" $? "$(head -n 3 "$TMP/F/fold0/probs.csv")"
[ "$(grep -c '"folds":2' "$TMP/F/results.jsonl")" -eq 2 ]; check "a results line per fold" $? ""
"${TRAIN[@]}" --epochs 1 --folds 2 --out "$TMP/F" >/dev/null 2>"$TMP/F2.err"
grep -q "fold 2 of 2: done before" "$TMP/F2.err"; check "done folds are skipped" $? \
    "$(cat "$TMP/F2.err")"

# --save-train-probs: the model's probabilities on its own training rows.
"${TRAIN[@]}" --epochs 1 --save-train-probs 1 --out "$TMP/P" >/dev/null 2>"$TMP/P.err"
check "save-train-probs exit code" $? "$(cat "$TMP/P.err")"
[ "$(grep -vc '^path,' "$TMP/P/run0/train_probs.csv")" -eq 3000 ]
check "train_probs has every training row" $? "$(wc -l <"$TMP/P/run0/train_probs.csv")"
head -n 1 "$TMP/P/run0/train_probs.csv" | grep -q '^path,given,truth,ankle_boot,bag,'
check "train_probs header" $? "$(head -n 1 "$TMP/P/run0/train_probs.csv")"
"$NOISETTE" train fashion-mnist --folds 2 --runs 2 >/dev/null 2>&1
rc=$?; [ "$rc" -eq 2 ]; check "--folds with --runs exits 2" $? "got $rc"
"$NOISETTE" train fashion-mnist --epochs 2 --save-train-probs 3 >/dev/null 2>&1
rc=$?; [ "$rc" -eq 2 ]; check "--save-train-probs past the last epoch exits 2" $? "got $rc"

# The reference's other flags: --dump prints the model, --sh and --beta are
# recorded, the no-ops are accepted.
"$NOISETTE" train fashion-mnist --arch xresnet18 --dump 1 >"$TMP/D.out" 2>&1
check "--dump exit code" $? "$(cat "$TMP/D.out")"
grep -q "stem.0.conv" "$TMP/D.out"; check "--dump prints the model" $? "$(head -n 3 "$TMP/D.out")"
"${TRAIN[@]}" --epochs 1 --sh 0.3 --beta 1 --repro --gpu 0 --workers 2 --meta x \
    --out "$TMP/R" >/dev/null 2>"$TMP/R.err"
check "reference flags accepted" $? "$(cat "$TMP/R.err")"
grep -q '"sh":0.3' "$TMP/R/results.jsonl" && grep -q '"beta":1' "$TMP/R/results.jsonl"
check "--sh and --beta recorded" $? "$(cat "$TMP/R/results.jsonl")"

# Usage errors and bad inputs.
"$NOISETTE" train fashion-mnist --arch xresnet9 --out "$TMP/U" >/dev/null 2>"$TMP/U.err"
rc=$?; [ "$rc" -eq 2 ]; check "unknown arch exits 2" $? "got $rc: $(cat "$TMP/U.err")"
"$NOISETTE" train fashion-mnist --lr abc >/dev/null 2>&1
rc=$?; [ "$rc" -eq 2 ]; check "bad --lr exits 2" $? "got $rc"
"$NOISETTE" train >/dev/null 2>&1
rc=$?; [ "$rc" -eq 2 ]; check "missing DATA exits 2" $? "got $rc"
"$NOISETTE" eval "$TMP/sub.csv" fashion-mnist >/dev/null 2>"$TMP/E.err"
rc=$?; [ "$rc" -eq 1 ]; check "eval of a non-checkpoint exits 1" $? "got $rc: $(cat "$TMP/E.err")"

finish
