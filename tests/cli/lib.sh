# Shared by the command-line test scripts (sourced, not run): running
# noisette with its output captured, the checks a case makes, and the count
# of passed and failed cases. The sourcing script sets NOISETTE, OUT and ERR
# (files for the last run's stdout and stderr) before calling run.

passed=0
failed=0
problems=()      # what went wrong in the current case

# run ARGS...: runs noisette; stdout in $OUT, stderr in $ERR, exit code in $rc.
run() {
    "$NOISETTE" "$@" >"$OUT" 2>"$ERR"
    rc=$?
}

# first_lines FILE: the first three lines of FILE on one line, for messages.
first_lines() {
    head -n 3 "$1" | cut -c 1-300 | tr '\n' '|'
}

# problem TEXT: records a failed check of the current case.
problem() {
    problems+=("$1")
}

# expect_rc CODE: the last run exited with CODE.
expect_rc() {
    [ "$rc" = "$1" ] || problem "exit code: expected $1, got $rc (stderr: $(first_lines "$ERR"))"
}

# expect_in FILE TEXT: FILE contains TEXT (fixed string).
expect_in() {
    grep -sqF -- "$2" "$1" ||
        problem "$(basename "$1"): expected to contain '$2', got: $(first_lines "$1")"
}

# expect_not_in FILE TEXT: FILE does not contain TEXT.
expect_not_in() {
    ! grep -sqF -- "$2" "$1" ||
        problem "$(basename "$1"): expected not to contain '$2', got: $(first_lines "$1")"
}

# expect_empty FILE / expect_nonempty FILE
expect_empty() {
    [ ! -s "$1" ] || problem "$(basename "$1"): expected empty, got: $(first_lines "$1")"
}
expect_nonempty() {
    [ -s "$1" ] || problem "$(basename "$1"): expected output, got nothing"
}

# expect_eq WHAT EXPECTED GOT
expect_eq() {
    [ "$2" = "$3" ] || problem "$1: expected '$2', got '$3'"
}

# expect_exists PATH / expect_absent PATH (a dangling link counts as there)
expect_exists() {
    [ -e "$1" ] || problem "expected $1 to exist"
}
expect_absent() {
    [ ! -e "$1" ] && [ ! -L "$1" ] || problem "expected no $1"
}

# done_case NAME: counts the case, printing its problems if it failed.
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

# expect_error WHERE TEXT: the last run failed with exit 1 and exactly one
# line on stderr, "noisette: error: ...", naming WHERE and saying TEXT.
expect_error() {
    expect_rc 1
    expect_eq "stderr lines" 1 "$(wc -l <"$ERR")"
    local first
    first=$(head -n 1 "$ERR")
    [[ $first == "noisette: error: "* ]] ||
        problem "stderr: expected to start with 'noisette: error: ', got '${first:0:200}'"
    expect_in "$ERR" "$1"
    expect_in "$ERR" "$2"
}

# usage_case NAME ARGS...: noisette ARGS exits 2, says something on stderr
# and nothing on stdout.
usage_case() {
    local name=$1
    shift
    run "$@"
    expect_rc 2
    expect_nonempty "$ERR"
    expect_empty "$OUT"
    done_case "$name"
}

# check NAME STATUS DETAIL: a one-line case, passed when STATUS is 0.
check() {
    [ "$2" -eq 0 ] || problem "$3"
    done_case "$1"
}

# rows FILE: the rows of a training table, without the time column.
rows() {
    grep -E '^[0-9]+ ' "$1" | awk '{print $1, $2, $3, $4, $5}'
}

# fmnist_subset ROWS: exits 77 (skipped) without Fashion-MNIST; else makes
# $TMP (removed at exit) and $TMP/sub.csv, a label CSV of the first ROWS
# training rows and 300 validation rows at 25% noise. Needs NOISETTE.
fmnist_subset() {
    local dir=/usr/share/datasets/fashion-mnist
    if [ ! -d "$dir" ]; then
        echo "skip: $dir missing (apt-get install dataset-fashion-mnist)"
        exit 77
    fi
    TMP=$(mktemp -d) || exit 1
    trap 'rm -rf "$TMP"' EXIT
    "$NOISETTE" labels fashion-mnist -q --levels 25 -o "$TMP/full.csv"
    { head -n "$(($1 + 1))" "$TMP/full.csv"; grep ',True$' "$TMP/full.csv" | head -n 300; } \
        >"$TMP/sub.csv"
}

# finish: prints the counts; the exit status says whether all passed.
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
