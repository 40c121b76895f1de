/* Results, baseline and board: reading lines of every kind, grouping by
 * configuration, means and sample standard deviations, the cell rules, the
 * built-in baseline and its strict reader, descriptions and the CSV. */
#include "test_util.h"

#include "report/baseline.h"
#include "report/board.h"
#include "report/results.h"
#include "util/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One results line: a run whose history of epochs epochs ends at acc. */
static char *make_line(const char *dataset, double pct, int size, int epochs, double acc,
                       int seed, const char *extra_config) {
    size_t cap = 4096 + 128 * (size_t)epochs;
    char *hist = calloc(cap, 1), *s = malloc(cap);
    assert_non_null(hist);
    assert_non_null(s);
    for (int e = 0; e < epochs; e++) {
        char one[160];
        snprintf(one, sizeof one, "%s{\"epoch\":%d,\"train_loss\":1.5,\"valid_loss\":1.2,"
                 "\"accuracy\":%.4f}", e ? "," : "", e, e == epochs - 1 ? acc : acc / 2);
        strcat(hist, one);
    }
    snprintf(s, cap,
             "{\"version\":\"0.1.0\",\"finished\":\"2026-01-0%dT00:00:00Z\",\"config\":{"
             "\"data\":\"d\",\"dataset\":\"%s\",\"woof\":%s,\"labels\":null,"
             "\"pct_noise\":%g,\"arch\":\"xresnet50\",\"size\":%d,\"epochs\":%d,"
             "\"lr\":0.008,\"loss\":\"ls\",\"loss_params\":{\"eps\":0.1},\"seed\":%d,"
             "\"run\":0,\"limit\":0,\"methods\":{}%s},\"history\":[%s],"
             "\"final\":{\"accuracy\":%.4f},\"interrupted\":false}\n",
             seed % 10, dataset, strcmp(dataset, "imagewoof") == 0 ? "true" : "false", pct,
             size, epochs, seed, extra_config, hist, acc);
    free(hist);
    return s;
}

/* Appends s to the growing buffer *buf (both malloc'd; s is freed). */
static void append(char **buf, char *s) {
    size_t n = *buf ? strlen(*buf) : 0;
    *buf = realloc(*buf, n + strlen(s) + 1);
    assert_non_null(*buf);
    strcpy(*buf + n, s);
    free(s);
}

static char *dup_text(const char *s) {
    char *d = malloc(strlen(s) + 1);
    assert_non_null(d);
    return strcpy(d, s);
}

static void test_lines_of_every_kind(void **state) {
    (void)state;
    char *buf = NULL;
    append(&buf, make_line("imagenette", 5, 128, 5, 0.8, 1, ""));
    append(&buf, dup_text("   \r\n"));                                /* a blank line */
    append(&buf, dup_text("{\"config\":\n"));                         /* line 3: not JSON */
    append(&buf, dup_text("{\"config\":{\"pct_noise\":5,\"size\":128,\"epochs\":5},"
                          "\"final\":{\"accuracy\":2},\"history\":[]}\n"));  /* 4: range */
    char *intr = make_line("imagenette", 5, 128, 5, 0.8, 2, "");
    memcpy(strstr(intr, "\"interrupted\":false"), "\"interrupted\":true ", 19);
    append(&buf, intr);                                                /* 5: interrupted */
    append(&buf, make_line("imagenette", 5, 128, 5, 0.8, 1, ""));     /* 6: line 1 again */
    append(&buf, dup_text("{\"config\":{\"pct_noise\":5,\"size\":128,\"epochs\":1},"
                          "\"final\":{\"accuracy\":0.5},\"history\":[{\"train_loss\":1,"
                          "\"valid_loss\":1,\"accuracy\":0.5}]}\n"));       /* 7: old */
    append(&buf, dup_text("{\"config\":{"));                          /* 8: no newline */

    RunSet set;
    results_init(&set);
    assert_int_equal(results_parse(&set, "r.jsonl", buf, strlen(buf)), 0);
    assert_int_equal(set.n_runs, 2);
    assert_int_equal(set.runs[0].line, 1);
    assert_int_equal(set.runs[0].n_history, 5);
    assert_false(set.runs[0].old_format);
    assert_int_equal(set.runs[1].line, 7);
    assert_true(set.runs[1].old_format);
    assert_null(set.runs[1].dataset);

    const char *expected[][2] = {
        {"1", "r.jsonl:3:10: not valid JSON"},
        {"1", "r.jsonl:4: final.accuracy: 2 is not a fraction in [0, 1]: skipped"},
        {"0", "r.jsonl:5: interrupted run (5 of 5 epochs): skipped"},
        {"0", "r.jsonl:6: the same run as r.jsonl:1: skipped"},
        {"0", "r.jsonl:8: last line has no newline"},
    };
    assert_int_equal(set.n_notes, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(set.notes[i].warning, expected[i][0][0] - '0');
        assert_contains(set.notes[i].text, expected[i][1]);
    }
    results_free(&set);
    free(buf);
}

static void test_fields_and_signature(void **state) {
    (void)state;
    char *buf = NULL;
    append(&buf, make_line("imagenette", 25, 128, 2, 0.8, 1, ",\"methods\":{\"sam\":"
                           "{\"rho\":0.05,\"wd\":true},\"mixup\":0.4}"));
    RunSet set;
    results_init(&set);
    /* "methods" twice in one object: a warning, the line skipped. */
    assert_int_equal(results_parse(&set, "r.jsonl", buf, strlen(buf)), 0);
    assert_int_equal(set.n_runs, 0);
    assert_int_equal(set.n_notes, 1);
    assert_contains(set.notes[0].text, "duplicate");
    results_free(&set);
    free(buf);

    buf = NULL;
    append(&buf, make_line("imagenette", 25, 128, 2, 0.8, 1, ""));
    char *p = strstr(buf, "\"methods\":{}");
    assert_non_null(p);
    const char *m = "\"methods\":{\"sam\":{\"rho\":0.05},\"mixup\":0.4}";
    char *line = malloc(strlen(buf) + strlen(m) + 1);
    sprintf(line, "%.*s%s%s", (int)(p - buf), buf, m, p + strlen("\"methods\":{}"));
    results_init(&set);
    assert_int_equal(results_parse(&set, "r.jsonl", line, strlen(line)), 0);
    assert_int_equal(set.n_runs, 1);
    const RunRecord *r = &set.runs[0];
    assert_string_equal(r->methods, "mixup+sam");
    assert_string_equal(results_field(r, "methods.sam.rho"), "0.05");
    assert_string_equal(results_field(r, "loss"), "\"ls\"");
    assert_null(results_field(r, "seed"));      /* per run: not in the configuration */
    assert_null(results_field(r, "data"));
    assert_contains(r->signature, "lr=0.008\n");
    results_free(&set);
    free(line);
    free(buf);
}

/* Runs of set as a board, the set kept in *set. */
static void build(RunSet *set, Board *b, char *buf) {
    results_init(set);
    assert_int_equal(results_parse(set, "r.jsonl", buf, strlen(buf)), 0);
    assert_int_equal(board_build(set, b), 0);
    free(buf);
}

static void test_groups_mean_std(void **state) {
    (void)state;
    char *buf = NULL;
    append(&buf, make_line("imagewoof", 50, 192, 2, 0.60, 1, ""));
    append(&buf, make_line("imagenette", 5, 128, 5, 0.84, 2, ""));
    append(&buf, make_line("imagenette", 5, 128, 5, 0.86, 3, ""));
    append(&buf, make_line("imagenette", 5, 128, 5, 0.85, 4, ""));
    append(&buf, make_line("imagenette", 5, 128, 5, 0.70, 5, ",\"bs\":32"));
    append(&buf, make_line("fashion-mnist", 25, 28, 3, 0.75, 6, ""));
    append(&buf, make_line("imagenette", 7, 128, 5, 0.75, 7, ""));
    RunSet set;
    Board b;
    build(&set, &b, buf);

    assert_int_equal(b.n_groups, 5);
    assert_int_equal(b.n_cells, 2);
    /* Cells: Imagenette 5% (best first), the 2-epoch Imagewoof run is apart. */
    assert_int_equal(b.groups[0].n_runs, 3);
    assert_float_equal(b.groups[0].mean, 0.85, 1e-12);
    assert_float_equal(b.groups[0].std, 0.01, 1e-12);
    assert_int_equal(b.groups[1].n_runs, 1);
    assert_float_equal(b.groups[1].mean, 0.70, 1e-12);
    assert_float_equal(b.groups[1].std, 0, 0);

    /* The others, by dataset name: why each is apart. */
    assert_string_equal(b.groups[2].apart, "dataset fashion-mnist; size 28 px; 3 epochs");
    assert_string_equal(b.groups[3].apart, "noise 7%");
    assert_string_equal(b.groups[4].apart, "2 epochs");

    /* The two configurations of the 5% cell tell themselves apart. */
    const RunRecord *reps[2] = {&set.runs[b.groups[0].runs[0]], &set.runs[b.groups[1].runs[0]]};
    char text[256];
    results_describe(reps, 2, 0, text, sizeof text);
    assert_string_equal(text, "xresnet50, ls, no method");
    results_describe(reps, 2, 1, text, sizeof text);
    assert_string_equal(text, "xresnet50, ls, no method, bs=32");

    /* CSV: the cells' means with six decimals. */
    char *csv = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&csv, &len);
    assert_non_null(fp);
    assert_int_equal(board_write_csv(&b, &set, fp), 0);
    fclose(fp);
    assert_string_equal(csv, "pct_noise,imagewoof,size,epochs,accuracy\n"
                             "5,0,128,5,0.850000\n5,0,128,5,0.700000\n");
    free(csv);
    board_free(&b);
    results_free(&set);
}

static void test_markdown_rows(void **state) {
    (void)state;
    char *buf = NULL;
    append(&buf, make_line("imagenette", 5, 128, 5, 0.84, 1, ""));
    append(&buf, make_line("imagenette", 5, 128, 5, 0.86, 2, ""));
    append(&buf, make_line("imagewoof", 1, 256, 200, 0.9, 3, ""));
    RunSet set;
    Board b;
    build(&set, &b, buf);
    Baseline base;
    assert_int_equal(baseline_builtin(&base), 0);

    char *md = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&md, &len);
    assert_non_null(fp);
    assert_int_equal(board_write_markdown(&b, &set, &base, "B", "U", fp), 0);
    fclose(fp);
    assert_contains(md, "## Imagenette w/ Label Noise = 5%\n\n"
                        "| Size (px) | Epochs | URL | Accuracy | # Runs | \xce\x94 baseline |\n"
                        "|--|--|--|--|--|--|\n"
                        "| 128 | 5 | U | 85.00 \xc2\xb1 1.41% | 2, mean\xc2\xb1std | +1.56 |\n");
    /* 0.9 - 0.883940 (Imagewoof 1%, 256 px, 200 epochs) */
    assert_contains(md, "## Imagewoof w/ Label Noise = 1%");
    assert_contains(md, "| 256 | 200 | U | 90.00% | 1 | +1.61 |\n");
    assert_null(strstr(md, "Other runs"));
    free(md);
    baseline_free(&base);
    board_free(&b);
    results_free(&set);
}

static void test_builtin_baseline(void **state) {
    (void)state;
    Baseline b;
    assert_int_equal(baseline_builtin(&b), 0);
    assert_int_equal(b.n, 96);
    const BaselineRow *r = baseline_find(&b, 5, 0, 128, 5);
    assert_non_null(r);
    assert_float_equal(r->accuracy, 0.834395, 1e-12);
    assert_int_equal(r->line, 26);
    r = baseline_find(&b, 50, 0, 128, 80);
    assert_float_equal(r->accuracy, 0.508025, 1e-12);
    assert_null(baseline_find(&b, 0, 0, 128, 5));
    assert_null(baseline_find(&b, 5, 0, 160, 5));
    baseline_free(&b);
}

static void expect_baseline_error(const char *text, const char *message) {
    Baseline b;
    int rc = baseline_parse("b.csv", text, strlen(text), &b);
    if (rc != ERR_PARSE)
        fail_msg("expected ERR_PARSE for \"%s\", got %d (%s)", text, rc, err_msg());
    assert_contains(err_msg(), message);
    assert_null(b.rows);
}

static void test_baseline_errors(void **state) {
    (void)state;
    const char *h = "pct_noise,imagewoof,size,epochs,accuracy\n";
    char text[512];
    expect_baseline_error("", "b.csv: empty");
    expect_baseline_error("pct_noise,imagewoof,size,epochs\n", "b.csv:1: header");
    snprintf(text, sizeof text, "%s1,0,128,5,0.8\n1,0,128,5\n", h);
    expect_baseline_error(text, "b.csv:3: 4 fields, expected 5");
    snprintf(text, sizeof text, "%s1,0,128,5,x\n", h);
    expect_baseline_error(text, "b.csv:2:11: accuracy: expected a number in [0, 1], got \"x\"");
    snprintf(text, sizeof text, "%s1,0,128.5,5,0.5\n", h);
    expect_baseline_error(text, "b.csv:2:5: size: expected an integer");
    snprintf(text, sizeof text, "%s1,0,128,5, 0.5\n", h);
    expect_baseline_error(text, "b.csv:2:11: accuracy");
    snprintf(text, sizeof text, "%s1,0,128,5,0.5\n1,0,128,5,0.6\n", h);
    expect_baseline_error(text, "b.csv:3: the cell 1% noise, imagewoof 0, 128 px, 5 epochs is "
                                "also on line 2");

    Baseline b;
    snprintf(text, sizeof text, "\xef\xbb\xbf%s25.0,1,192,20,0.75\r\n", h);
    assert_int_equal(baseline_parse("b.csv", text, strlen(text), &b), 0);
    assert_int_equal(b.n, 1);
    assert_non_null(baseline_find(&b, 25, 1, 192, 20));
    baseline_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_of_every_kind),
        cmocka_unit_test(test_fields_and_signature),
        cmocka_unit_test(test_groups_mean_std),
        cmocka_unit_test(test_markdown_rows),
        cmocka_unit_test(test_builtin_baseline),
        cmocka_unit_test(test_baseline_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
