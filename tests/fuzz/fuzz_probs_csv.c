/* libFuzzer target for the PROBS reader (report/probs.c) and the confident
 * learning that runs on what it reads (report/confident.c).
 *
 * Each input is parsed as one PROBS file (no NUL terminator, so
 * AddressSanitizer sees any read past the end). A table that parses must
 * survive a round trip through probs_write, must refuse the same bytes as
 * a second file (every path would repeat), and, when small, goes through
 * every filter and ranking, whose results must be consistent. Built by
 * `make fuzz FUZZ_TARGET=fuzz_probs_csv`; tests/fuzz/replay.c runs the
 * corpus (probs_corpus/) without libFuzzer. */
#include "report/confident.h"
#include "report/probs.h"
#include "util/err.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_N 4096     /* the method runs only on tables this small */
#define FUZZ_MAX_K 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts (a finding for the fuzzer) with the reason on stderr. */
static void fail(const char *what) {
    fprintf(stderr, "fuzz_probs_csv: %s (%s)\n", what, err_msg());
    abort();
}

static int same_table(const ProbsTable *a, const ProbsTable *b) {
    if (a->n_rows != b->n_rows || a->n_classes != b->n_classes || a->n_truth != b->n_truth)
        return 0;
    for (int j = 0; j < a->n_classes; j++)
        if (strcmp(a->class_names[j], b->class_names[j]) != 0)
            return 0;
    for (int i = 0; i < a->n_rows; i++)
        if (strcmp(a->paths[i], b->paths[i]) != 0 || a->given[i] != b->given[i] ||
            a->truth[i] != b->truth[i])
            return 0;
    size_t nk = (size_t)a->n_rows * (size_t)a->n_classes;
    for (size_t x = 0; x < nk; x++)
        if (a->probs[x] != b->probs[x])
            return 0;
    return 1;
}

static void check_round_trip(const ProbsTable *t) {
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        fail("open_memstream failed");
    if (probs_write(t, mem) < 0)
        fail("probs_write to memory failed");
    if (fclose(mem) != 0)
        fail("closing the memory stream failed");

    ProbsTable back;
    probs_init(&back);
    if (probs_parse(&back, "fuzz-rewritten.csv", buf, len) < 0)
        fail("a written table does not parse back");
    if (!same_table(t, &back))
        fail("a written table parses back different");
    probs_free(&back);
    free(buf);
}

/* The invariants of one run: counts add up, the order is by score. */
static void check_result(const ProbsTable *t, const ConfidentResult *r) {
    int n = t->n_rows, k = t->n_classes, flagged = 0;
    for (int a = 0; a < k; a++) {
        long row = 0;
        for (int j = 0; j < k; j++) {
            long c = r->calibrated[(size_t)a * (size_t)k + (size_t)j];
            if (c < 0 || r->prune[(size_t)a * (size_t)k + (size_t)j] < 0)
                fail("a negative count");
            row += c;
        }
        if (row != r->label_counts[a])
            fail("a calibrated row does not sum to its label count");
    }
    for (int i = 0; i < n; i++) {
        flagged += r->flagged[i];
        if (r->suggested[i] == t->given[i] || r->suggested[i] < 0 || r->suggested[i] >= k)
            fail("a suggestion is the given label or out of range");
        if (!(r->scores[i] >= 0 && r->scores[i] <= 1 + 1e-9))
            fail("a score outside [0,1]");
    }
    if (flagged != r->n_flagged || r->n_estimated < 0 || r->n_estimated > n)
        fail("flag counts disagree");
    for (int x = 0; x < r->n_flagged; x++) {
        if (!r->flagged[r->order[x]])
            fail("the order lists an unflagged sample");
        if (x && r->scores[r->order[x]] < r->scores[r->order[x - 1]])
            fail("the order is not by score");
    }
}

static void check_detection(const ProbsTable *t, const ConfidentResult *r) {
    ConfidentDetection d;
    if (confident_detection(r, t->given, t->truth, &d) < 0)
        fail("confident_detection failed");
    if (d.n_flagged != r->n_flagged || d.tp > d.n_flagged || d.tp > d.n_changed ||
        d.suggested_right > d.tp || d.top_hits > d.n_changed)
        fail("detection counts disagree");
    double v[5] = {d.precision, d.recall, d.f1, d.auroc, d.average_precision};
    for (int x = 0; x < 5; x++)
        if (!isnan(v[x]) && !(v[x] >= 0 && v[x] <= 1 + 1e-9))
            fail("a detection ratio outside [0,1]");
    confident_detection_free(&d);
}

static void run_method(ProbsTable *t) {
    if (t->n_rows > FUZZ_MAX_N || t->n_classes > FUZZ_MAX_K)
        return;
    if (probs_sort_by_path(t) < 0)
        fail("probs_sort_by_path failed");
    for (int f = 0; f < CONFIDENT_FILTER_COUNT; f++)
        for (int rk = 0; rk < CONFIDENT_RANK_COUNT; rk++) {
            ConfidentOptions o = confident_defaults();
            o.filter = (ConfidentFilter)f;
            o.rank = (ConfidentRank)rk;
            o.frac_noise = rk ? 0.5 : 1.0;
            ConfidentResult r;
            if (confident_find_issues(t->n_rows, t->n_classes, t->probs, t->given, &o, &r) < 0)
                fail("confident_find_issues failed on a table that parsed");
            check_result(t, &r);
            if (t->n_truth == t->n_rows)
                check_detection(t, &r);
            confident_result_free(&r);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ProbsTable t;
    probs_init(&t);
    if (probs_parse(&t, "fuzz.csv", (const char *)data, size) < 0) {
        probs_free(&t);
        return 0;
    }
    check_round_trip(&t);
    run_method(&t);

    /* The same rows again as a second file: every path repeats. */
    if (probs_parse(&t, "fuzz-again.csv", (const char *)data, size) != ERR_PARSE ||
        !strstr(err_msg(), "already on fuzz.csv:"))
        fail("a second copy of the rows was not refused");
    probs_free(&t);
    return 0;
}
