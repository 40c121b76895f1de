#!/usr/bin/env bash
# Command-line tests for noisette: exit codes, usage errors, one-line error
# messages that name file:line:column for every kind of malformed label CSV,
# the audit of the published files, and `labels` end to end on a small
# generated image folder (defaults, seeds, --force, -o -, pairflip, nested,
# matrices). Fashion-MNIST is checked when its files are installed.
# Usage: test_cli.sh NOISETTE_BINARY TEST_DATA_DIR. Prints "N passed, M failed".
set -u
source "$(dirname "$0")/lib.sh"

if [ $# -ne 2 ]; then
    echo "usage: $0 NOISETTE_BINARY TEST_DATA_DIR" >&2
    exit 2
fi
NOISETTE=$1
DATA=$2
PUBLISHED=$DATA/published
FMNIST_DIR=/usr/share/datasets/fashion-mnist

TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM HUP
OUT=$TMP/stdout
ERR=$TMP/stderr

# malformed_case NAME FILE WHERE TEXT: audit FILE (in $TMP) fails with one
# error line naming $TMP/FILE:WHERE and saying TEXT; nothing on stdout.
malformed_case() {
    run audit "$TMP/$2"
    expect_error "$TMP/$2:$3" "$4"
    expect_empty "$OUT"
    done_case "$1"
}

# level_column FILE N: field N of the level lines of an audit report
# (lines whose first field ends in %), space-separated. Field 2 is the
# changed count, 5 the ceil(P*N/100) count.
level_column() {
    awk -v n="$2" '$1 ~ /%$/ { printf "%s%s", sep, $n; sep = " " }' "$1"
}

# ceil_counts N P...: ceil(P*N/100) for each P, space-separated.
ceil_counts() {
    local n=$1
    shift
    local p out=""
    for p in "$@"; do
        out="$out${out:+ }$(awk -v p="$p" -v n="$n" \
            'BEGIN { x = p * n / 100; c = int(x); if (c < x) c++; print c }')"
    done
    echo "$out"
}

# ---- help, version, usage errors -----------------------------------------

run --help
expect_rc 0
expect_in "$OUT" "Usage: noisette COMMAND"
done_case "--help"

run --version
expect_rc 0
[[ $(cat "$OUT") == "noisette "[0-9]* ]] ||
    problem "stdout: expected 'noisette X.Y.Z', got '$(first_lines "$OUT")'"
done_case "--version"

run labels --help
expect_rc 0
expect_in "$OUT" "Usage: noisette labels"
expect_empty "$ERR"
done_case "labels --help"

run audit --help
expect_rc 0
expect_in "$OUT" "Usage: noisette audit"
expect_empty "$ERR"
done_case "audit --help"

# A dataset folder that really exists, so only the options can be at fault.
TINY=$TMP/tiny2-320
make_tiny() {
    local cls i
    for cls in n001 n002 n003; do
        mkdir -p "$TINY/train/$cls" "$TINY/val/$cls"
        for i in 01 02 03; do
            : >"$TINY/val/$cls/${cls}_v$i.JPEG"
        done
    done
    # 40 training images: 14, 13 and 13 per class; one holds a few bytes.
    for i in $(seq -w 1 14); do : >"$TINY/train/n001/n001_$i.JPEG"; done
    for i in $(seq -w 1 13); do : >"$TINY/train/n002/n002_$i.JPEG"; done
    for i in $(seq -w 1 13); do : >"$TINY/train/n003/n003_$i.jpg"; done
    printf 'not really a JPEG' >"$TINY/train/n001/n001_01.JPEG"
}
make_tiny
TINY_TRAIN=40
TINY_ROWS=49

usage_case "no arguments"
usage_case "unknown command" frobnicate
usage_case "labels: unknown option" labels --frobnicate "$TINY"
usage_case "audit: unknown option" audit --frobnicate "$PUBLISHED/noisy_imagenette.csv"
usage_case "labels: no DATA" labels
usage_case "labels: two DATA" labels "$TINY" "$TINY"
usage_case "audit: no CSV" audit
usage_case "--levels 0" labels --levels 0 "$TINY"
usage_case "--levels 100" labels --levels 100 "$TINY"
usage_case "--levels abc" labels --levels abc "$TINY"
usage_case "--levels duplicates" labels --levels 5,25,5 "$TINY"
usage_case "--levels empty" labels --levels "" "$TINY"
usage_case "--levels -5" labels --levels -5 "$TINY"
usage_case "--seed -1" labels --seed -1 "$TINY"
usage_case "--seed abc" labels --seed abc "$TINY"
usage_case "--seed 2^64" labels --seed 18446744073709551616 "$TINY"
usage_case "--noise foo" labels --noise foo "$TINY"
usage_case "--matrix with --nested" labels --matrix "$TMP/none.csv" --nested "$TINY"
usage_case "--matrix with pairflip" labels --matrix "$TMP/none.csv" --noise pairflip "$TINY"

run frobnicate
expect_in "$ERR" "frobnicate"
done_case "unknown command is named"

run labels --levels 5,5 "$TINY"
expect_in "$ERR" "given twice"
done_case "--levels duplicates message"

# ---- malformed label CSVs --------------------------------------------------

H="path,noisy_labels_0,noisy_labels_5,is_valid"     # 43 columns, 4 fields
R1="train/a/1.JPEG,a,a,False"
R2="train/b/2.JPEG,b,b,False"
R3="val/a/3.JPEG,a,a,True"

# put NAME LINE...: writes the lines, each ending in LF, to $TMP/NAME.
put() {
    local name=$1
    shift
    printf '%s\n' "$@" >"$TMP/$name"
}

: >"$TMP/empty.csv"
malformed_case "empty file" empty.csv "" "empty file"

put header_only.csv "$H"
malformed_case "header only" header_only.csv 2 "no data rows"

put missing_column.csv "path,noisy_labels_0,noisy_labels_5" "train/a/1.JPEG,a,a"
malformed_case "missing column" missing_column.csv "1:" 'missing column "is_valid"'

put duplicate_column.csv "path,noisy_labels_0,path,is_valid" "$R1"
malformed_case "duplicate column" duplicate_column.csv "1:21:" 'duplicate column "path"'

put duplicate_level.csv "path,noisy_labels_0,noisy_labels_5,noisy_labels_5.0,is_valid" \
    "train/a/1.JPEG,a,a,a,False"
malformed_case "duplicate level" duplicate_level.csv "1:36:" "appears twice"

put unknown_column.csv "path,noisy_labels_0,label,is_valid" "$R1"
malformed_case "unknown column" unknown_column.csv "1:21:" 'unknown column "label"'

put long_level.csv "path,noisy_labels_0,noisy_labels_0.000000000000000000000000001,is_valid" \
    "$R1"
malformed_case "level column name too long" long_level.csv "1:21:" "too long"

put too_few.csv "$H" "$R1" "train/b/2.JPEG,b,b"
malformed_case "ragged row, too few fields" too_few.csv "3:" "3 fields, expected 4"

put too_many.csv "$H" "$R1,x" "$R2"
malformed_case "ragged row, too many fields" too_many.csv "2:" "5 fields, expected 4"

put unterminated.csv "$H" "$R1" 'train/b/2.JPEG,"b,b,False' "$R3"
malformed_case "unterminated quote" unterminated.csv "3:16:" "quoted field never closed"

put quote_inside.csv "$H" 'train/a/1"x.JPEG,a,a,False'
malformed_case "quote inside an unquoted field" quote_inside.csv "2:10:" \
    "quote inside an unquoted field"

put after_quote.csv "$H" '"train/a/1.JPEG"x,a,a,False'
malformed_case "character after a closing quote" after_quote.csv "2:17:" \
    "after a closing quote"

put is_valid_yes.csv "$H" "$R1" "train/b/2.JPEG,b,b,yes"
malformed_case "is_valid yes" is_valid_yes.csv "3:20:" \
    'is_valid: expected True or False, got "yes"'

put duplicate_path.csv "$H" "$R1" "$R2" "train/a/1.JPEG,a,b,False"
malformed_case "duplicate path" duplicate_path.csv "4:1:" \
    '"train/a/1.JPEG" already on line 2'

{ printf '\357\273\277'; printf '%s\n' "$H" "$R1"; } >"$TMP/bom.csv"
malformed_case "UTF-8 byte-order mark" bom.csv "1:1:" "byte-order mark"

printf '%s\r\n' "$H" "$R1" >"$TMP/crlf.csv"
malformed_case "CRLF line ends" crlf.csv "1:44:" "CRLF"

put cr_inside.csv "$H" "$R1" "$(printf 'train/b/2\r.JPEG,b,b,False')"
malformed_case "carriage return inside a field" cr_inside.csv "3:10:" "carriage return"

# A 10 MB line: refused at the 1 MiB record limit, 1048577 bytes into line 3.
{ printf '%s\n' "$H" "$R1"; head -c 10485760 /dev/zero | tr '\0' 'x'; echo; } >"$TMP/long.csv"
malformed_case "10 MB line" long.csv "3:1048578:" "longer than 1 MiB"

put empty_line.csv "$H" "$R1" "" "$R2"
malformed_case "empty line in the middle" empty_line.csv "3:" "empty line"

put trailing_empty_line.csv "$H" "$R1" "$R2" ""
malformed_case "empty line at the end" trailing_empty_line.csv "4:" "empty line"

{ printf '%s\n' "$H"; printf 'train/a/1\000.JPEG,a,a,False\n'; } >"$TMP/nul.csv"
malformed_case "NUL byte" nul.csv "2:10:" "NUL byte"

put empty_label.csv "$H" "$R1" "train/b/2.JPEG,b,,False"
malformed_case "empty label" empty_label.csv "3:18:" "empty label in column noisy_labels_5"

put empty_truth.csv "$H" "train/a/1.JPEG,,a,False"
malformed_case "empty true label" empty_truth.csv "2:16:" "empty label in column noisy_labels_0"

put empty_path.csv "$H" ",a,a,False"
malformed_case "empty path" empty_path.csv "2:1:" "path: empty"

put absolute.csv "$H" "$R1" "/data/b/2.JPEG,b,b,False"
malformed_case "absolute path" absolute.csv "3:1:" '"/data/b/2.JPEG" is absolute'

# A quoted path spanning two lines: later lines are still counted right.
put multiline.csv "$H" '"train/a/1' '.JPEG",a,a,False' "train/b/2.JPEG,b,b,maybe"
malformed_case "line numbers after a quoted newline" multiline.csv "4:20:" '"maybe"'

run audit "$TMP/no_such_file.csv"
expect_error "$TMP/no_such_file.csv" "cannot open"
done_case "missing file"

# ---- label CSVs that parse but have problems -------------------------------

put valid_differs.csv "$H" "$R1" "$R2" "val/a/3.JPEG,a,b,True"
run audit "$TMP/valid_differs.csv"
expect_rc 1
expect_in "$OUT" "problems: 1"
expect_in "$OUT" "$TMP/valid_differs.csv:4: noisy_labels_5 = \"b\""
expect_in "$OUT" "validation row differs"
done_case "validation row differs from its truth"

put outside.csv "$H" "train/a/1.JPEG,a,zz,False" "$R2" "$R3"
run audit "$TMP/outside.csv"
expect_rc 1
expect_in "$OUT" "$TMP/outside.csv:2: noisy_labels_5 = \"zz\""
expect_in "$OUT" "not a class"
expect_eq "outside count" "1" "$(level_column "$OUT" 7)"
done_case "noisy label outside the class set"

put clean.csv "$H" "$R1" "train/b/2.JPEG,b,a,False" "$R3"
run audit "$TMP/clean.csv"
expect_rc 0
expect_in "$OUT" "problems: none"
expect_eq "changed" "1" "$(level_column "$OUT" 2)"
expect_empty "$ERR"
done_case "clean small CSV"

run audit --normalize "$TMP/clean.csv"
expect_rc 0
expect_in "$OUT" "row rates"
done_case "audit --normalize"

run audit "$TMP/clean.csv" "$TMP/outside.csv" "$TMP/clean.csv"
expect_rc 1
expect_in "$OUT" "$TMP/outside.csv: 3 rows"
done_case "several files: the worst exit code"

run audit "$TMP/clean.csv" "$TMP/crlf.csv"
expect_rc 1
expect_in "$OUT" "$TMP/clean.csv: 3 rows"
expect_error "$TMP/crlf.csv:1:44:" "CRLF"
done_case "several files: a malformed one after a good one"

# ---- the published files ---------------------------------------------------

# published_case NAME FILE TRAIN COUNTS: audit exits 0 and the level table
# shows COUNTS changed, equal to ceil(P*TRAIN/100).
published_case() {
    run audit "$PUBLISHED/$2"
    expect_rc 0
    expect_empty "$ERR"
    expect_eq "levels" "1% 5% 25% 50%" "$(level_column "$OUT" 1)"
    expect_eq "changed counts" "$4" "$(level_column "$OUT" 2)"
    expect_eq "ceil(P*N/100) counts" "$4" "$(level_column "$OUT" 5)"
    expect_eq "training rows" "$3 $3 $3 $3" "$(level_column "$OUT" 3)"
    expect_in "$OUT" "problems: none"
    done_case "$1"
}
published_case "published Imagenette" noisy_imagenette.csv 9469 "95 474 2368 4735"
published_case "published Imagewoof" noisy_imagewoof.csv 9025 "91 452 2257 4513"

# ---- labels end to end on a small image folder -----------------------------

# audit_counts CSV COUNTS: the audit of CSV exits 0, finds no problem, and
# its level table shows COUNTS changed training labels.
audit_counts() {
    run audit "$1"
    expect_rc 0
    expect_in "$OUT" "problems: none"
    expect_eq "changed counts in $(basename "$1")" "$2" "$(level_column "$OUT" 2)"
}

DEFAULT_CSV=$TINY/noisy_tiny.csv
DEFAULT_HEADER="path,noisy_labels_0,noisy_labels_1,noisy_labels_5,noisy_labels_25"
DEFAULT_HEADER+=",noisy_labels_50,is_valid"
run labels "$TINY"
expect_rc 0
expect_empty "$OUT"
if [ -f "$DEFAULT_CSV" ]; then
    expect_eq "lines" $((TINY_ROWS + 1)) "$(wc -l <"$DEFAULT_CSV")"
    expect_eq "header" "$DEFAULT_HEADER" "$(head -n 1 "$DEFAULT_CSV")"
    expect_in "$DEFAULT_CSV" "train/n003/n003_13.jpg,n003,"
    expect_not_in "$DEFAULT_CSV" "README"
    expect_eq "validation rows" 9 "$(grep -c ',True$' "$DEFAULT_CSV")"
    audit_counts "$DEFAULT_CSV" "$(ceil_counts $TINY_TRAIN 1 5 25 50)"
else
    problem "expected $DEFAULT_CSV to be written; found: $(ls "$TINY" | tr '\n' ' ')"
fi
done_case "labels FOLDER writes FOLDER/noisy_tiny.csv"

cp "$DEFAULT_CSV" "$TMP/first.csv" 2>/dev/null
# Validation rows keep their true label at every level.
bad_valid=$(awk -F, '$NF == "True" { for (i = 3; i < NF; i++) if ($i != $2) n++ }
    END { print n + 0 }' "$DEFAULT_CSV" 2>/dev/null)
expect_eq "validation rows changed" 0 "$bad_valid"
done_case "labels leaves validation rows clean"

run labels "$TINY"
expect_error "$DEFAULT_CSV" "already exists"
cmp -s "$DEFAULT_CSV" "$TMP/first.csv" || problem "the existing file was changed"
done_case "labels refuses to overwrite without --force"

run labels --force "$TINY"
expect_rc 0
done_case "labels --force overwrites"

run labels --seed 42 -o "$TMP/seed42.csv" "$TINY"
expect_rc 0
cmp -s "$TMP/seed42.csv" "$TMP/first.csv" || problem "--seed 42 differs from the default seed"
done_case "default seed is 42"

run labels --seed 7 -o "$TMP/seed7a.csv" "$TINY"
run labels --seed 7 -o "$TMP/seed7b.csv" "$TINY"
expect_rc 0
cmp -s "$TMP/seed7a.csv" "$TMP/seed7b.csv" || problem "two runs with --seed 7 differ"
done_case "same seed, byte-identical file"

run labels --seed 8 -o "$TMP/seed8.csv" "$TINY"
expect_rc 0
if cmp -s "$TMP/seed7a.csv" "$TMP/seed8.csv"; then
    problem "--seed 7 and --seed 8 gave the same file"
fi
audit_counts "$TMP/seed8.csv" "$(ceil_counts $TINY_TRAIN 1 5 25 50)"
done_case "different seed, different file"

run labels -o - "$TINY"
expect_rc 0
cmp -s "$OUT" "$TMP/first.csv" || problem "-o - output differs from the default file"
done_case "labels -o - writes to standard output"

"$NOISETTE" labels -o - "$TINY" >/dev/full 2>"$ERR"
rc=$?
expect_error "standard output" "write failed"
done_case "labels -o - to a full device fails"

run labels "$TMP/first.csv"
expect_rc 2
expect_in "$ERR" "noisette: error: "
expect_in "$ERR" "-o FILE"
expect_empty "$OUT"
done_case "label CSV as DATA without -o is a usage error"

run labels --seed 3 -o "$TMP/renoised.csv" "$TMP/first.csv"
expect_rc 0
audit_counts "$TMP/renoised.csv" "$(ceil_counts $TINY_TRAIN 1 5 25 50)"
expect_eq "truth column kept" "$(cut -d, -f1,2,7 "$TMP/first.csv" 2>&1)" \
    "$(cut -d, -f1,2,7 "$TMP/renoised.csv" 2>&1)"
done_case "label CSV as DATA with -o is noised anew"

run labels -o "$TMP/reimagenette.csv" "$PUBLISHED/noisy_imagenette.csv"
expect_rc 0
audit_counts "$TMP/reimagenette.csv" "95 474 2368 4735"
done_case "published Imagenette noised anew: the same counts"

run labels --levels 12.5,10 -o "$TMP/levels.csv" "$TINY"
expect_rc 0
expect_eq "header" "path,noisy_labels_0,noisy_labels_10,noisy_labels_12.5,is_valid" \
    "$(head -n 1 "$TMP/levels.csv" 2>&1)"
audit_counts "$TMP/levels.csv" "$(ceil_counts $TINY_TRAIN 10 12.5)"
done_case "labels --levels 12.5,10"

# Pairflip changes round(P*N_i/100) rows of each class (levels chosen so no
# class sits on a tie: 20% of 14, 13, 13 is 2.8, 2.6, 2.6; 40% is 5.6, 5.2,
# 5.2), each to the next class in sorted order.
run labels --noise pairflip --levels 20,40 -o "$TMP/pairflip.csv" "$TINY"
expect_rc 0
audit_counts "$TMP/pairflip.csv" "9 16"
per_class=$(awk -F, 'BEGIN { nx["n001"] = "n002"; nx["n002"] = "n003"; nx["n003"] = "n001" }
    NR > 1 && $NF == "False" {
        for (i = 3; i < NF; i++) if ($i != $2) { if ($i != nx[$2]) bad++; n[i, $2]++ }
    }
    END { printf "%d %d %d, %d %d %d, not next %d", n[3, "n001"], n[3, "n002"], n[3, "n003"],
                 n[4, "n001"], n[4, "n002"], n[4, "n003"], bad }' "$TMP/pairflip.csv" 2>&1)
expect_eq "changed rows per class at 20%, at 40%" "3 3 3, 6 5 5, not next 0" "$per_class"
done_case "labels --noise pairflip"

run labels --nested --seed 5 -o "$TMP/nested.csv" "$TINY"
expect_rc 0
audit_counts "$TMP/nested.csv" "$(ceil_counts $TINY_TRAIN 1 5 25 50)"
expect_in "$OUT" "levels nested: yes"
done_case "labels --nested"

printf '%s\n' "0.8,0.1,0.1" "0.1,0.8,0.1" "0,0.25,0.75" >"$TMP/matrix.csv"
run labels --matrix "$TMP/matrix.csv" -o "$TMP/matrix_labels.csv" "$TINY"
expect_rc 0
# Expected rate (14*0.2 + 13*0.2 + 13*0.25) / 40 = 21.6% names the column 22;
# by largest remainder classes change 3, 2 and 3 rows.
expect_eq "header" "path,noisy_labels_0,noisy_labels_22,is_valid" \
    "$(head -n 1 "$TMP/matrix_labels.csv" 2>/dev/null)"
audit_counts "$TMP/matrix_labels.csv" 8
done_case "labels --matrix FILE"

printf '%s\r\n' "n001,n002,n003" "0.8,0.1,0.1" "0.1,0.8,0.1" "0,0.25,0.75" \
    >"$TMP/matrix_header.csv"
run labels --matrix "$TMP/matrix_header.csv" --levels 20 -o "$TMP/matrix_named.csv" "$TINY"
expect_rc 0
expect_eq "header" "path,noisy_labels_0,noisy_labels_20,is_valid" \
    "$(head -n 1 "$TMP/matrix_named.csv" 2>/dev/null)"
done_case "labels --matrix with a class-name header, CRLF, --levels"

printf '%s\n' "0.8,0.1,0.1" "0.1,0.7,0.1" "0,0.25,0.75" >"$TMP/bad_matrix.csv"
run labels --matrix "$TMP/bad_matrix.csv" -o "$TMP/bad_matrix_labels.csv" "$TINY"
expect_error "$TMP/bad_matrix.csv" "row 2 sums to 0.9"
[ ! -e "$TMP/bad_matrix_labels.csv" ] || problem "a file was written"
done_case "labels --matrix with a row summing to 0.9"

printf '%s\n' "0.8,0.1,0.1" "0.1,0.8" "0,0.25,0.75" >"$TMP/ragged_matrix.csv"
run labels --matrix "$TMP/ragged_matrix.csv" -o "$TMP/ragged_matrix_labels.csv" "$TINY"
expect_error "$TMP/ragged_matrix.csv:2" "2 values, expected 3"
done_case "labels --matrix with a short row"

run labels --matrix "$TMP/matrix.csv" --levels 5,10 -o "$TMP/matrix2.csv" "$TINY"
expect_rc 2
expect_in "$ERR" "one value"
done_case "labels --matrix with two levels"

run labels "$TMP/no_such_folder"
expect_error "$TMP/no_such_folder" "no such file or folder"
done_case "labels on a missing DATA"

mkdir -p "$TMP/noval2-320/train/a"
: >"$TMP/noval2-320/train/a/1.JPEG"
run labels "$TMP/noval2-320"
expect_error "$TMP/noval2-320" "no val/ folder"
done_case "labels on a folder without val/"

run labels -o "$TMP/no_such_folder/x.csv" "$TINY"
expect_error "$TMP/no_such_folder/x.csv" "cannot create a temporary file"
done_case "labels -o into a missing folder"

# Files that are not images are passed over, with a note unless -q.
cp -r "$TINY" "$TMP/extra"
echo "not an image" >"$TMP/extra/train/n002/README.txt"
: >"$TMP/extra/val/n001/.hidden.JPEG"
run labels -o "$TMP/extra.csv" "$TMP/extra"
expect_rc 0
expect_in "$ERR" "passed over 1 entries that are not image files"
expect_not_in "$TMP/extra.csv" "README"
expect_not_in "$TMP/extra.csv" "hidden"
expect_eq "lines" $((TINY_ROWS + 1)) "$(wc -l 2>&1 <"$TMP/extra.csv")"
done_case "labels passes over files that are not images"

run labels -q -o "$TMP/extra_quiet.csv" "$TMP/extra"
expect_rc 0
expect_empty "$ERR"
done_case "labels -q prints nothing"

# ---- interrupt safety --------------------------------------------------------

leftover=$(find "$TMP" -name '*.tmp-*' | head -n 5 | tr '\n' ' ')
expect_eq "temporary files left behind" "" "$leftover"
done_case "no temporary files left"

# ---- Fashion-MNIST, when installed -------------------------------------------

if [ -d "$FMNIST_DIR" ]; then
    (cd "$TMP" && "$NOISETTE" labels fashion-mnist >"$OUT" 2>"$ERR")
    rc=$?
    expect_rc 0
    FM=$TMP/noisy_fashion_mnist.csv
    if [ -f "$FM" ]; then
        expect_eq "lines" 70001 "$(wc -l <"$FM")"
        audit_counts "$FM" "600 3000 15000 30000"
    else
        problem "expected ./noisy_fashion_mnist.csv to be written"
    fi
    done_case "labels fashion-mnist"
    leftover=$(find "$TMP" -name '*.tmp-*' | head -n 5 | tr '\n' ' ')
    expect_eq "temporary files left behind" "" "$leftover"
    done_case "no temporary files left after fashion-mnist"
else
    echo "skip: labels fashion-mnist ($FMNIST_DIR not installed)"
fi

# ---- bench loader ----------------------------------------------------------

usage_case "bench without a benchmark" bench
usage_case "bench with an unknown benchmark" bench nothing
usage_case "bench loader without DATA" bench loader
usage_case "bench loader --threads 0" bench loader fashion-mnist --threads 0
usage_case "bench loader --pct-noise 100" bench loader fashion-mnist --pct-noise 100

run bench loader "$TMP/no-such-dataset"
expect_error "no-such-dataset" "not a dataset folder"
done_case "bench loader on a missing folder"

run bench loader "$PUBLISHED/noisy_imagenette.csv"
expect_error "noisy_imagenette.csv" "not a dataset folder"
done_case "bench loader on a file"

if [ -d "$FMNIST_DIR" ]; then
    run bench loader fashion-mnist --batches 5 --threads 2
    expect_rc 0
    expect_in "$OUT" "loader fashion-mnist: train, size 28, batch 64, 2 threads: 320 images in"
    expect_in "$OUT" "images/s"
    expect_in "$OUT" "ms CPU per image"
    done_case "bench loader fashion-mnist"

    run bench loader fashion-mnist --valid --pct-noise 7 --bs 1000
    expect_rc 0
    expect_in "$OUT" "valid, size 28, batch 1000, 1 thread: 10000 images in"
    done_case "bench loader fashion-mnist, validation at 7% noise"
fi

finish
