#!/usr/bin/env bash
# noisette board: the Markdown and CSV boards of the synthetic results files
# in tests/golden/board/ byte for byte (cells, several runs per cell, two
# configurations in one cell, runs apart, and every kind of skipped line
# with its FILE:LINE note), -o written atomically, the default URL, another
# baseline, malformed baselines (file:line, exit 1) and usage errors.
# Usage: test_board.sh NOISETTE GOLDEN_BOARD_DIR. Prints "N passed, M failed".
set -u
if [ $# -ne 2 ]; then
    echo "usage: $0 NOISETTE GOLDEN_BOARD_DIR" >&2
    exit 2
fi
NOISETTE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
GOLDEN=$2
URL=https://github.com/example/noisette/tree/0123abc
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
OUT=$TMP/stdout
ERR=$TMP/stderr

passed=0
failed=0
problems=()

# run ARGS...: noisette from the golden folder (file names in notes stay
# relative); stdout in $OUT, stderr in $ERR, exit code in $rc.
run() {
    (cd "$GOLDEN" && "$NOISETTE" "$@") >"$OUT" 2>"$ERR"
    rc=$?
}
problem() { problems+=("$1"); }
expect_rc() {
    [ "$rc" = "$1" ] || problem "exit code: expected $1, got $rc ($(head -n 2 "$ERR"))"
}
expect_same() {     # expect_same EXPECTED_FILE GOT_FILE
    cmp -s "$1" "$2" || problem "$(basename "$1") differs: $(diff "$1" "$2" | head -n 8)"
}
expect_in() {
    grep -qF -- "$2" "$1" || problem "$(basename "$1"): no '$2' in: $(head -n 3 "$1")"
}
expect_lines() {
    [ "$(wc -l <"$1")" -eq "$2" ] || problem "$(basename "$1"): expected $2 lines, got: $(cat "$1")"
}
done_case() {
    if [ ${#problems[@]} -eq 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $1"
        printf '    %s\n' "${problems[@]}"
    fi
    problems=()
}

# ---- the golden boards --------------------------------------------------

run board --url "$URL" runs_a.jsonl runs_b.jsonl
expect_rc 0
expect_same "$GOLDEN/board.md" "$OUT"
expect_same "$GOLDEN/board.stderr" "$ERR"
done_case "markdown board and its notes"

run board --format csv runs_a.jsonl runs_b.jsonl
expect_rc 0
expect_same "$GOLDEN/board.csv" "$OUT"
done_case "csv board"

run board -q --url "$URL" runs_a.jsonl runs_b.jsonl
expect_rc 0
expect_same "$GOLDEN/board.md" "$OUT"
[ -s "$ERR" ] && problem "-q: stderr not empty: $(head -n 2 "$ERR")"
done_case "-q keeps stderr quiet"

# The same runs in another order give the same board (rows are sorted).
tac "$GOLDEN/runs_a.jsonl" | grep -v '^{"version":"0.1.0","config":{"data"' >"$TMP/rev.jsonl"
run board --format csv "$TMP/rev.jsonl"
expect_rc 0
grep -v '0.845000' "$GOLDEN/board.csv" >"$TMP/expected.csv"
expect_same "$TMP/expected.csv" "$OUT"
done_case "order of the lines does not matter"

# ---- output files --------------------------------------------------------

mkdir "$TMP/outdir"
echo "old board" >"$TMP/outdir/board.md"
run board --url "$URL" -o "$TMP/outdir/board.md" runs_a.jsonl runs_b.jsonl
expect_rc 0
expect_same "$GOLDEN/board.md" "$TMP/outdir/board.md"
[ -s "$OUT" ] && problem "-o: stdout not empty"
[ "$(ls "$TMP/outdir" | wc -l)" -eq 1 ] || problem "-o left files: $(ls "$TMP/outdir")"
done_case "-o replaces the file atomically"

run board --format csv -o - runs_a.jsonl runs_b.jsonl
expect_rc 0
expect_same "$GOLDEN/board.csv" "$OUT"
done_case "-o - is stdout"

run board -o "$TMP/missing/board.md" runs_a.jsonl
expect_rc 1
expect_in "$ERR" "$TMP/missing"
done_case "-o into a missing folder fails"

# ---- URL and baseline ------------------------------------------------------

version=$("$NOISETTE" --version)
run board runs_a.jsonl
expect_rc 0
expect_in "$OUT" "| 128 | 20 | $version | 90.00% | 1 | +0.47 |"
done_case "default URL is the program's version"

run board --url 'a|b' runs_a.jsonl
expect_rc 0
expect_in "$OUT" '| 128 | 20 | a\|b | 90.00% |'
done_case "a | in the URL is escaped"

printf 'pct_noise,imagewoof,size,epochs,accuracy\r\n5,0,128,20,0.850000\r\n' >"$TMP/base.csv"
run board --url U --baseline "$TMP/base.csv" runs_a.jsonl
expect_rc 0
expect_in "$OUT" "| 128 | 20 | U | 90.00% | 1 | +5.00 |"
expect_in "$OUT" "| 128 | 5 | U | 85.00 ± 1.00% | 3, mean±std | n/a |"
expect_in "$OUT" "in percentage points ($TMP/base.csv)."
done_case "--baseline another file (CRLF accepted)"

# bad_baseline NAME CONTENT WHERE TEXT: --baseline with CONTENT fails with
# exit 1 and one error line naming WHERE and saying TEXT.
bad_baseline() {
    printf '%b' "$2" >"$TMP/$1.csv"
    run board --baseline "$TMP/$1.csv" runs_a.jsonl
    expect_rc 1
    expect_lines "$ERR" 1
    expect_in "$ERR" "noisette: error: $TMP/$1.csv$3"
    expect_in "$ERR" "$4"
    [ -s "$OUT" ] && problem "stdout not empty"
    done_case "malformed baseline: $1"
}
H='pct_noise,imagewoof,size,epochs,accuracy\n'
bad_baseline empty '' ':' 'empty'
bad_baseline header 'pct,woof,size,epochs,acc\n1,0,128,5,0.8\n' ':1:' 'header'
bad_baseline fields "${H}1,0,128,5\n" ':2:' '4 fields, expected 5'
bad_baseline number "${H}1,0,128,5,0.8\n5,0,128,20,high\n" ':3:' 'accuracy'
bad_baseline woof "${H}1,2,128,5,0.8\n" ':2:3:' 'imagewoof'
bad_baseline range "${H}1,0,128,5,1.5\n" ':2:' 'accuracy'
bad_baseline size "${H}1,0,12.5,5,0.5\n" ':2:' 'size'
bad_baseline twice "${H}1,0,128,5,0.8\n1,0,128,5,0.9\n" ':3:' 'also on line 2'
bad_baseline quote "${H}1,0,128,5,\"0.8\n" ':2:' 'quoted field never closed'

run board --baseline "$TMP/none.csv" runs_a.jsonl
expect_rc 1
expect_in "$ERR" "$TMP/none.csv"
done_case "missing baseline file"

# ---- results that cannot be used --------------------------------------------

run board "$TMP/none.jsonl"
expect_rc 1
expect_in "$ERR" "$TMP/none.jsonl: cannot open"
done_case "missing results file"

run board "$TMP"
expect_rc 1
expect_in "$ERR" "$TMP"
done_case "a folder as results file"

: >"$TMP/empty.jsonl"
sed -n '19,22p' "$GOLDEN/runs_a.jsonl" >"$TMP/unusable.jsonl"
run board "$TMP/empty.jsonl" "$TMP/unusable.jsonl"
expect_rc 1
expect_in "$ERR" "noisette: error: no finished run in $TMP/empty.jsonl and the other files"
expect_in "$ERR" "unusable.jsonl:3: interrupted run"
done_case "no usable run"

printf '[1,2]\n{"config":3}\n{"config":{"pct_noise":5}}\n' >"$TMP/shapes.jsonl"
run board "$TMP/shapes.jsonl" runs_a.jsonl
expect_rc 0
expect_in "$ERR" "shapes.jsonl:1: expected a JSON object: skipped"
expect_in "$ERR" "shapes.jsonl:2: config: expected an object: skipped"
expect_in "$ERR" "shapes.jsonl:3: config.size: expected an integer"
done_case "lines of the wrong shape are skipped with FILE:LINE"

# A training appending in place (not noisette's way, which renames): lines
# arrive in two writes while boards are read in a loop. A read may see a
# cut last line: a note, never a warning or a failure.
head -n 3 "$GOLDEN/runs_a.jsonl" >"$TMP/live.jsonl"
(while IFS= read -r line; do
     printf '%s' "${line:0:200}" >>"$TMP/live.jsonl"
     printf '%s\n' "${line:200}" >>"$TMP/live.jsonl"
 done < <(head -n 14 "$GOLDEN/runs_a.jsonl"; head -n 14 "$GOLDEN/runs_a.jsonl")) &
writer=$!
bad=0
for i in $(seq 30); do
    "$NOISETTE" board --format csv "$TMP/live.jsonl" >/dev/null 2>"$TMP/live.err" ||
        bad=$((bad + 1))
    grep -q warning "$TMP/live.err" && bad=$((bad + 1))
done
wait "$writer"
[ "$bad" -eq 0 ] || problem "$bad of 30 reads failed or warned while lines were appended"
run board --format csv "$TMP/live.jsonl"
expect_rc 0
expect_lines "$OUT" 7
done_case "a results file appended to while it is read"

sed -n '4s/"labels":null/"labels":"pairflip.csv"/p' "$GOLDEN/runs_a.jsonl" >"$TMP/lab.jsonl"
run board "$TMP/lab.jsonl"
expect_rc 0
expect_in "$ERR" "lab.jsonl:1: trained with --labels pairflip.csv: counted as the published labels"
expect_in "$ERR" "labels at 5% noise"
expect_in "$OUT" "| 128 | 20 | $version | 90.00% | 1 | +0.47 |"
done_case "a run with --labels: on the board, with a note"

# ---- usage --------------------------------------------------------------------

run board
expect_rc 2
expect_in "$ERR" "missing RESULTS file"
done_case "no file: usage error"

run board --format html runs_a.jsonl
expect_rc 2
expect_in "$ERR" '--format: "html" is not md or csv'
done_case "bad --format: usage error"

run board --help
expect_rc 0
expect_in "$OUT" "Usage: noisette board"
done_case "--help"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
