#!/usr/bin/env bash
# noisette train and eval on 2 MPI ranks of 1 thread, on a Fashion-MNIST
# subset (the label CSV of test_train.sh: 3,000 training and 300
# validation rows at 25% noise, a 1/16-width xresnet18): with --sync-bn the
# run matches one process training on the same global batch; rank 0 alone
# prints and writes; an interrupted run resumes exactly with the same
# ranks; sharded eval equals eval in one process; ranks that disagree, a
# batch that does not divide and a resume with other ranks are refused.
# Usage: test_dist.sh NOISETTE MPIEXEC. Exit 77 (skipped) without
# Fashion-MNIST. The environment comes from tests/CMakeLists.txt.
set -u
source "$(dirname "$0")/lib.sh"
NOISETTE=$1
MPIEXEC=$2
fmnist_subset 3000
ARGS=(train fashion-mnist --labels "$TMP/sub.csv" --pct-noise 25 --arch xresnet18
      --width-div 16 --epochs 2 --bs 32 --threads 1 --backend blas)
MPI2=("$MPIEXEC" --oversubscribe -n 2 "$NOISETTE")

# json_field FILE KEY: the last results line's final.KEY.
final() {
    /usr/bin/python3 -c 'import json,sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
print(r["final"][sys.argv[2]])' "$1" "$2"
}

"$NOISETTE" --version >"$TMP/version"
grep -q '^MPI: Open MPI' "$TMP/version"; check "--version names MPI" $? "$(cat "$TMP/version")"

# One process on the global batch, then 2 ranks with --sync-bn.
"$NOISETTE" "${ARGS[@]}" --out "$TMP/one" >"$TMP/one.out" 2>"$TMP/one.err"
check "one process" $? "$(cat "$TMP/one.err")"
"${MPI2[@]}" "${ARGS[@]}" --sync-bn --out "$TMP/two" >"$TMP/two.out" 2>"$TMP/two.err"
check "2 ranks, --sync-bn" $? "$(tail -n 5 "$TMP/two.err")"
[ "$(grep -c '^epoch ' "$TMP/two.out")" -eq 1 ] && [ "$(rows "$TMP/two.out" | wc -l)" -eq 2 ]
check "rank 0 alone prints the table" $? "$(cat "$TMP/two.out")"
[ "$(wc -l <"$TMP/two/results.jsonl")" -eq 1 ] &&
    grep -q '"ranks":2' "$TMP/two/results.jsonl" &&
    grep -q '"sync_bn":true' "$TMP/two/results.jsonl"
check "one results line, with the ranks" $? "$(cat "$TMP/two/results.jsonl" 2>&1 | cut -c 1-300)"
[ -f "$TMP/two/run0/checkpoint.ckpt" ]; check "checkpoint written" $? ""
# Float rounding differs (sums over shards, then over ranks), so the runs
# agree closely, not bit for bit.
l1=$(final "$TMP/one/results.jsonl" valid_loss); l2=$(final "$TMP/two/results.jsonl" valid_loss)
a1=$(final "$TMP/one/results.jsonl" accuracy); a2=$(final "$TMP/two/results.jsonl" accuracy)
awk "BEGIN {d = $l1 - $l2; exit !(d < 5e-4 && d > -5e-4)}"
check "--sync-bn: valid loss of one process ($l1) within 5e-4" $? "2 ranks: $l2"
awk "BEGIN {d = $a1 - $a2; exit !(d <= 0.01 && d >= -0.01)}"
check "--sync-bn: accuracy of one process ($a1) within 1 point" $? "2 ranks: $a2"

# Per-rank statistics (the default) train too.
"${MPI2[@]}" "${ARGS[@]}" --out "$TMP/dflt" >"$TMP/dflt.out" 2>"$TMP/dflt.err"
check "2 ranks, per-rank batch norm" $? "$(tail -n 5 "$TMP/dflt.err")"
acc=$(final "$TMP/dflt/results.jsonl" accuracy)
awk "BEGIN {exit !($acc > 0.3)}"; check "per-rank batch norm learns ($acc > 0.3)" $? ""

# Stopped by SIGUSR1 to mpirun in the second epoch, then resumed: the rows
# of the uninterrupted 2-rank run.
"${MPI2[@]}" "${ARGS[@]}" --sync-bn --out "$TMP/stop" >"$TMP/stop1.out" 2>"$TMP/stop1.err" &
pid=$!
for _ in $(seq 600); do
    grep -qE '^0 ' "$TMP/stop1.out" 2>/dev/null && break
    sleep 0.1
done
kill -USR1 "$pid" 2>/dev/null
wait "$pid"
check "stopped run exits 0" $? "$(tail -n 5 "$TMP/stop1.err")"
grep -q "interrupted at epoch 1" "$TMP/stop1.err"
check "stopped in the second epoch" $? "$(tail -n 3 "$TMP/stop1.err")"
"${MPI2[@]}" "${ARGS[@]}" --sync-bn --out "$TMP/stop" \
    --resume "$TMP/stop/run0/checkpoint.ckpt" >"$TMP/stop2.out" 2>"$TMP/stop2.err"
check "resume on 2 ranks" $? "$(tail -n 5 "$TMP/stop2.err")"
diff <(rows "$TMP/two.out") <(rows "$TMP/stop2.out") >"$TMP/diff"
check "resumed run equals the uninterrupted one" $? "$(cat "$TMP/diff")"

# A checkpoint of 2 ranks does not resume in one process.
"$NOISETTE" "${ARGS[@]}" --sync-bn --out "$TMP/one2" --resume "$TMP/two/run0/checkpoint.ckpt" \
    >/dev/null 2>"$TMP/r1.err"
rc=$?
[ "$rc" -eq 1 ] && grep -q 'ranks=2' "$TMP/r1.err"
check "resume with other ranks refused" $? "rc $rc: $(cat "$TMP/r1.err")"

# eval on 2 ranks (each its half of the validation set) as in one process.
EVAL=(eval "$TMP/two/run0/checkpoint.ckpt" fashion-mnist --labels "$TMP/sub.csv")
"$NOISETTE" "${EVAL[@]}" >"$TMP/e1.out" 2>"$TMP/e1.err"
check "eval, one process" $? "$(cat "$TMP/e1.err")"
"${MPI2[@]}" "${EVAL[@]}" >"$TMP/e2.out" 2>"$TMP/e2.err"
check "eval, 2 ranks" $? "$(tail -n 5 "$TMP/e2.err")"
# The accuracies and the per-class table exactly; the loss to 5 decimals.
strip_loss() { sed -E 's/loss ([0-9]+\.[0-9]{5})[0-9]/loss \1/' "$1"; }
diff <(strip_loss "$TMP/e1.out") <(strip_loss "$TMP/e2.out") >"$TMP/ediff"
check "sharded eval equals eval in one process" $? "$(cat "$TMP/ediff")"

# Usage: a global batch that does not divide; ranks that disagree.
"${MPI2[@]}" "${ARGS[@]}" --bs 33 --out "$TMP/odd" >/dev/null 2>"$TMP/odd.err"
rc=$?
[ "$rc" -ne 0 ] && grep -q 'must divide among the 2 ranks' "$TMP/odd.err"
check "--bs 33 on 2 ranks refused" $? "rc $rc: $(head -n 3 "$TMP/odd.err")"
"$MPIEXEC" --oversubscribe -n 1 "$NOISETTE" "${ARGS[@]}" --lr 0.01 --out "$TMP/mm" : \
    -n 1 "$NOISETTE" "${ARGS[@]}" --lr 0.02 --out "$TMP/mm" >/dev/null 2>"$TMP/mm.err"
rc=$?
[ "$rc" -ne 0 ] && grep -q 'differs between rank 0 and rank 1' "$TMP/mm.err"
check "ranks with other options refused" $? "rc $rc: $(head -n 3 "$TMP/mm.err")"
[ ! -e "$TMP/mm/results.jsonl" ]; check "refused run writes no results" $? ""

finish
