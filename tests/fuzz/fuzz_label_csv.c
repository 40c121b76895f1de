/* libFuzzer target for the label-CSV parser and the CSV reader under it.
 *
 * Each input is parsed strictly with labels_parse (no NUL terminator, so
 * AddressSanitizer sees any read past the end); a table that parses is
 * audited, printed and written to /dev/null, and must also survive a round
 * trip: what labels_write produces must parse back to the same table. The
 * same bytes then go through the bare CSV reader with BOM and CRLF allowed.
 * Built by `make fuzz`; tests/fuzz/replay.c runs the corpus without libFuzzer. */
#include "labels/audit.h"
#include "labels/csv.h"
#include "labels/label_table.h"
#include "util/err.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull(void) {
    static FILE *fp;
    if (!fp && !(fp = fopen("/dev/null", "w"))) {
        perror("fuzz_label_csv: /dev/null");
        abort();
    }
    return fp;
}

/* Aborts (a finding for the fuzzer) with the reason on stderr. */
static void fail(const char *what) {
    fprintf(stderr, "fuzz_label_csv: %s (%s)\n", what, err_msg());
    abort();
}

/* 1 if a and b hold the same rows, labels, levels and split. */
static int same_table(const LabelTable *a, const LabelTable *b) {
    if (a->n_rows != b->n_rows || a->n_train != b->n_train || a->n_valid != b->n_valid ||
        a->n_classes != b->n_classes || a->n_names != b->n_names ||
        a->n_levels != b->n_levels)
        return 0;
    for (int k = 0; k < a->n_names; k++)
        if (strcmp(a->names[k], b->names[k]) != 0)
            return 0;
    for (int l = 0; l < a->n_levels; l++)
        if (a->levels[l] != b->levels[l] || strcmp(a->level_text[l], b->level_text[l]) != 0)
            return 0;
    for (int i = 0; i < a->n_rows; i++) {
        if (strcmp(a->paths[i], b->paths[i]) != 0 || a->is_valid[i] != b->is_valid[i] ||
            a->truth[i] != b->truth[i])
            return 0;
        for (int l = 0; l < a->n_levels; l++)
            if (labels_noisy(a, l)[i] != labels_noisy(b, l)[i])
                return 0;
    }
    return 1;
}

/* Writes t to memory and parses it again: the result must equal t. */
static void check_round_trip(const LabelTable *t) {
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        fail("open_memstream failed");
    if (labels_write(t, mem) < 0)
        fail("labels_write to memory failed");
    if (fclose(mem) != 0)
        fail("closing the memory stream failed");

    LabelTable back;
    if (labels_parse("fuzz-rewritten.csv", buf, len, &back) < 0)
        fail("a written table does not parse back");
    if (!same_table(t, &back))
        fail("a written table parses back different");
    labels_free(&back);
    free(buf);
}

static void fuzz_label_table(const char *data, size_t size) {
    LabelTable t;
    if (labels_parse("fuzz.csv", data, size, &t) < 0)
        return;

    LabelAudit a;
    if (audit_compute(&t, &a) == ERR_OK) {
        audit_print(&t, &a, "fuzz.csv", devnull(), 0);
        audit_print(&t, &a, "fuzz.csv", devnull(), 1);
        audit_free(&t, &a);
    }
    if (labels_write(&t, devnull()) < 0)
        fail("labels_write to /dev/null failed");
    check_round_trip(&t);
    labels_free(&t);
}

static void fuzz_csv_reader(const char *data, size_t size) {
    CsvReader r;
    csv_reader_init(&r, "fuzz.csv", data, size, CSV_ALLOW_BOM | CSV_ALLOW_CRLF);
    int rc;
    size_t last_pos = 0;
    while ((rc = csv_read_row(&r)) > 0) {
        /* Every record consumes input and has at least one field. */
        if (r.n_fields < 1 || r.pos <= last_pos || r.pos > r.len)
            fail("csv_read_row made no progress or went past the end");
        last_pos = r.pos;
        for (int i = 0; i < r.n_fields; i++)
            if (r.field_col[i] < 1 || r.field_line[i] < r.row_line || strlen(r.fields[i]) > size)
                fail("a field has a bad position or length");
    }
    csv_reader_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_label_table((const char *)data, size);
    fuzz_csv_reader((const char *)data, size);
    return 0;
}
