#!/usr/bin/env bash
# Command-line tests for noisette mislabeled: the worked K = 3 example of
# tests/unit/test_confident.c as two PROBS files gives the expected suspects
# CSV and detection report (in either file order), each filter and ranking,
# -o - and --force, files without the truth, malformed PROBS files (one
# error line naming file:line), and usage errors.
# Usage: test_mislabeled.sh NOISETTE_BINARY. Prints "N passed, M failed".
set -u
source "$(dirname "$0")/lib.sh"

if [ $# -ne 1 ]; then
    echo "usage: $0 NOISETTE_BINARY" >&2
    exit 2
fi
NOISETTE=$1

TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM HUP
OUT=$TMP/stdout
ERR=$TMP/stderr
cd "$TMP" || exit 1

HEADER='path,given,truth,a,b,c'

# The worked example, rows split between two folds out of path order.
cat >fold0.csv <<EOF
$HEADER
train/c/s12.png,c,a,0.50,0.03,0.47
train/a/s00.png,a,a,0.90,0.05,0.05
train/a/s02.png,a,b,0.10,0.80,0.10
train/a/s04.png,a,a,0.28,0.30,0.42
train/b/s06.png,b,b,0.20,0.70,0.10
train/b/s08.png,b,b,0.10,0.60,0.30
train/c/s10.png,c,c,0.05,0.25,0.70
EOF
cat >fold1.csv <<EOF
$HEADER
train/a/s01.png,a,a,0.62,0.33,0.05
train/a/s03.png,a,a,0.45,0.50,0.05
train/b/s05.png,b,b,0.05,0.90,0.05
train/b/s07.png,b,a,0.75,0.20,0.05
train/c/s09.png,c,c,0.10,0.30,0.60
train/c/s11.png,c,a,0.55,0.35,0.10
EOF

# expect_file FILE EXPECTED: FILE's content is exactly EXPECTED (+ newline).
expect_file() {
    local want got
    want=$(printf '%s\n' "$2")
    got=$(cat "$1")
    [ "$got" = "$want" ] ||
        problem "$(basename "$1"): expected '${want//$'\n'/|}', got '${got//$'\n'/|}'"
}

# expect_row FILE WORDS: FILE has a line whose blank-separated words are WORDS.
expect_row() {
    awk -v want="$2" '{$1 = $1} $0 == want {found = 1} END {exit !found}' "$1" ||
        problem "$(basename "$1"): no row '$2' in: $(tr '\n' '|' <"$1")"
}

# ---- the worked example ------------------------------------------------------

SUSPECTS='path,given,suggested,score
train/a/s02.png,a,b,0.1
train/c/s11.png,c,a,0.1
train/b/s07.png,b,a,0.2
train/a/s03.png,a,b,0.45
train/c/s12.png,c,a,0.47'

run mislabeled fold0.csv fold1.csv
expect_rc 0
expect_file suspects.csv "$SUSPECTS"
expect_in "$OUT" "images 13  classes 3  filter prune_by_noise_rate  rank self_confidence"
expect_in "$OUT" "flagged 5  estimated 4  changed 4  tp 4  precision 0.8000  recall 1.0000  \
f1 0.8889"
expect_in "$OUT" "suggested label = truth on 4 of 4 true positives"
expect_in "$OUT" "ranking all images by self_confidence: precision_at_4 0.7500 (3 of 4)  \
auroc 0.9444  average_precision 0.9167"
expect_row "$OUT" "given_class images changed flagged tp precision recall f1"
expect_row "$OUT" "a 5 1 2 1 0.5000 1.0000 0.6667"
expect_row "$OUT" "b 4 1 1 1 1.0000 1.0000 1.0000"
expect_row "$OUT" "c 4 2 2 2 1.0000 1.0000 1.0000"
expect_in "$ERR" "suspects.csv: 5 of 13 images flagged (prune_by_noise_rate), \
4 label issues estimated"
done_case "worked example: suspects and report"

cp "$OUT" report_first.txt
run mislabeled --force fold1.csv fold0.csv
expect_rc 0
expect_file suspects.csv "$SUSPECTS"
cmp -s "$OUT" report_first.txt || problem "the report depends on the file order"
done_case "the file order changes nothing"

run mislabeled fold0.csv fold1.csv
expect_error "suspects.csv: already exists" "--force"
done_case "an existing output needs --force"

run mislabeled --filter prune_by_class -o by_class.csv fold0.csv fold1.csv
expect_rc 0
expect_file by_class.csv 'path,given,suggested,score
train/a/s02.png,a,b,0.1
train/c/s11.png,c,a,0.1
train/b/s07.png,b,a,0.2
train/a/s04.png,a,c,0.28
train/c/s12.png,c,a,0.47'
expect_in "$OUT" "flagged 5  estimated 4  changed 4  tp 4  precision 0.8000  recall 1.0000"
done_case "--filter prune_by_class"

# flagged sets by filter, as the unit test works them out
for pair in "both:s02 s07 s11 s12" "confident_learning:s02 s07 s11 s12" \
            "predicted_neq_given:s02 s03 s04 s07 s11 s12" "low_self_confidence:s02 s04 s07 s11" \
            "low_normalized_margin:s02 s04 s07 s11"; do
    filter=${pair%%:*}
    run mislabeled --filter "$filter" -o - -q fold0.csv fold1.csv
    expect_rc 0
    got=$(tail -n +2 "$OUT" | cut -d, -f1 | sed 's|.*/||; s|\.png||' | sort | tr '\n' ' ')
    expect_eq "flagged by $filter" "${pair#*:} " "$got"
    expect_empty "$ERR"
    done_case "--filter $filter"
done

run mislabeled --rank normalized_margin -o - fold0.csv fold1.csv
expect_rc 0
expect_file "$OUT" 'path,given,suggested,score
train/a/s02.png,a,b,0.15
train/b/s07.png,b,a,0.225
train/c/s11.png,c,a,0.275
train/a/s03.png,a,b,0.475
train/c/s12.png,c,a,0.485'
expect_in "$ERR" "ranking all images by normalized_margin:"
expect_in "$ERR" "flagged 5  estimated 4"
done_case "--rank normalized_margin, -o - puts the report on stderr"

run mislabeled --frac-noise 0.5 -o - -v fold0.csv fold1.csv
expect_rc 0
expect_file "$OUT" 'path,given,suggested,score
train/a/s02.png,a,b,0.1
train/c/s11.png,c,a,0.1'
expect_in "$ERR" "class 0 a: 5 images, threshold 0.470000"
expect_in "$ERR" "prune counts, rows = given label, columns = guessed true label:"
done_case "--frac-noise 0.5 and -v"

# ---- without the truth ------------------------------------------------------

sed 's/^\([^,]*,[^,]*\),[^,]*,/\1,,/' fold0.csv | sed '1s/.*/'"$HEADER"'/' >notruth0.csv
sed 's/^\([^,]*,[^,]*\),[^,]*,/\1,,/' fold1.csv | sed '1s/.*/'"$HEADER"'/' >notruth1.csv
run mislabeled -o nt.csv notruth0.csv notruth1.csv
expect_rc 0
expect_file nt.csv "$SUSPECTS"
expect_empty "$OUT"
expect_in "$ERR" "nt.csv: 5 of 13 images flagged"
done_case "no truth: suspects only"

run mislabeled -o nt2.csv fold0.csv notruth1.csv
expect_error "notruth1.csv:2: truth is empty, but fold0.csv:2 has one" "(7 of 13 rows have it)"
expect_absent nt2.csv
done_case "truth in some files only"

# ---- malformed PROBS files ----------------------------------------------------

# bad_case NAME CONTENT WHERE TEXT: fold0.csv then CONTENT as bad.csv fails
# with one error line naming WHERE and saying TEXT; nothing is written.
bad_case() {
    printf '%s' "$2" >bad.csv
    run mislabeled -o never.csv fold0.csv bad.csv
    expect_error "$3" "$4"
    expect_empty "$OUT"
    expect_absent never.csv
    done_case "$1"
}

bad_case "probabilities not summing to 1" "$HEADER
x/1,a,,0.5,0.3,0.1
" "bad.csv:2:" "probabilities sum to 0.9, expected 1 (within 0.001)"
bad_case "a path in two files" "$HEADER
x/1,a,,1,0,0
train/a/s04.png,a,,1,0,0
" "bad.csv:3:1:" "path \"train/a/s04.png\" already on fold0.csv:5"
bad_case "other classes" "path,given,truth,a,b,d
x/1,a,,1,0,0
" "bad.csv:1:22:" "class 2 is \"d\", but in fold0.csv it is \"c\""
bad_case "fewer classes" "path,given,truth,a,b
x/1,a,,1,0
" "bad.csv:1:" "2 class columns, but fold0.csv has 3"
bad_case "a given label not in the classes" "$HEADER
x/1,a,,1,0,0
x/2,n01440764,,1,0,0
" "bad.csv:3:5:" "given: \"n01440764\" is not one of the 3 classes of the header"
bad_case "a truth not in the classes" "$HEADER
x/1,a,z,1,0,0
" "bad.csv:2:7:" "truth: \"z\" is not one of the 3 classes"
bad_case "not a number" "$HEADER
x/1,a,,1,0,abc
" "bad.csv:2:12:" "probability of class c: expected a number in [0,1], got \"abc\""
bad_case "a probability above 1" "$HEADER
x/1,a,,1.2,-0.2,0
" "bad.csv:2:8:" "got \"1.2\""
bad_case "a short row" "$HEADER
x/1,a,,1,0
" "bad.csv:2:" "5 fields, expected 6 as in the header"
bad_case "a wrong fixed column" "path,label,truth,a,b,c
" "bad.csv:1:6:" "column 2 is \"label\", expected \"given\""
bad_case "a header only" "$HEADER
" "bad.csv:2:" "no data rows after the header"
bad_case "an empty file" "" "bad.csv:" "empty file"
bad_case "an unclosed quote" "$HEADER
\"x/1,a,,1,0,0
" "bad.csv:2:" "quoted field never closed"

printf 'path,given,truth,a\nx,a,,1\n' >one_class.csv
run mislabeled one_class.csv
expect_error "one_class.csv:1:" "1 class column; a PROBS file has path,given,truth and then"
done_case "a single class"

run mislabeled missing.csv
expect_error "missing.csv" ""
done_case "a missing file"

# ---- usage ---------------------------------------------------------------------

usage_case "no PROBS file" mislabeled
usage_case "unknown filter" mislabeled --filter prune fold0.csv
usage_case "unknown rank" mislabeled --rank margin fold0.csv
run mislabeled --rank confidence_weighted_entropy fold0.csv
expect_rc 2
expect_in "$ERR" "--rank: \"confidence_weighted_entropy\" is not offered (docs/mislabeled.md"
done_case "the rank not offered says so"
usage_case "--frac-noise 0" mislabeled --frac-noise 0 fold0.csv
usage_case "--frac-noise above 1" mislabeled --frac-noise 1.5 fold0.csv
usage_case "--min-per-class negative" mislabeled --min-per-class -1 fold0.csv
usage_case "unknown option" mislabeled --bogus fold0.csv

run mislabeled --help
expect_rc 0
expect_in "$OUT" "Usage: noisette mislabeled [OPTIONS] PROBS.csv..."
expect_in "$OUT" "Exit codes: 0 done, 1 failed"
done_case "--help"

run --help
expect_in "$OUT" "mislabeled"
done_case "listed in noisette --help"

finish
