/* Label audit: counting and the printed report; see audit.h. */
#include "labels/audit.h"

#include "labels/class_names.h"
#include "labels/noise.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

void audit_free(const LabelTable *t, LabelAudit *a) {
    free(a->class_train);
    free(a->class_valid);
    for (int l = 0; l < t->n_levels; l++)
        free(a->levels[l].transitions);
    memset(a, 0, sizeof *a);
}

/* 1 if every row changed at level lo is changed at hi to the same label. */
static int level_contains(const LabelTable *t, int lo, int hi) {
    const int32_t *a = labels_noisy(t, lo), *b = labels_noisy(t, hi);
    for (int i = 0; i < t->n_rows; i++)
        if (a[i] != t->truth[i] && a[i] != b[i])
            return 0;
    return 1;
}

int audit_compute(const LabelTable *t, LabelAudit *a) {
    memset(a, 0, sizeof *a);
    int k = t->n_classes, nn = t->n_names;
    a->class_train = calloc((size_t)k + 1, sizeof *a->class_train);
    a->class_valid = calloc((size_t)k + 1, sizeof *a->class_valid);
    if (!a->class_train || !a->class_valid)
        goto nomem;

    /* Classes: the truth of every row is a class by construction. */
    for (int i = 0; i < t->n_rows; i++)
        (t->is_valid[i] ? a->class_valid : a->class_train)[t->truth[i]]++;

    /* Levels: changed rows, outsiders, transitions over training rows. */
    for (int l = 0; l < t->n_levels; l++) {
        LevelAudit *la = &a->levels[l];
        const int32_t *col = labels_noisy(t, l);
        la->transitions = calloc((size_t)k * (size_t)nn + 1, sizeof *la->transitions);
        if (!la->transitions)
            goto nomem;
        la->uniform_count = noise_uniform_count(t->levels[l], t->n_train);
        for (int i = 0; i < t->n_rows; i++) {
            int changed = col[i] != t->truth[i];
            la->outside += col[i] >= k;
            if (t->is_valid[i]) {
                la->changed_valid += changed;
            } else {
                la->changed_train += changed;
                la->transitions[(size_t)t->truth[i] * (size_t)nn + (size_t)col[i]]++;
            }
        }
        a->problems += la->changed_valid + la->outside;
    }

    /* Nested only if each level's changes survive into the next higher
     * level (columns may come in any order in the file). */
    int order[LABELS_MAX_LEVELS];
    for (int l = 0; l < t->n_levels; l++) {
        int at = l;
        while (at > 0 && t->levels[order[at - 1]] > t->levels[l]) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = l;
    }
    a->nested = t->n_levels >= 2;
    for (int r = 0; r + 1 < t->n_levels && a->nested; r++)
        a->nested = level_contains(t, order[r], order[r + 1]);
    return ERR_OK;

nomem:
    audit_free(t, a);
    return err_set(ERR_NOMEM, "out of memory");
}

static void print_classes(const LabelTable *t, const LabelAudit *a, FILE *out) {
    fprintf(out, "\n  idx  class            train  valid\n");
    for (int c = 0; c < t->n_classes; c++) {
        const char *human = class_display_name(t->names[c]);
        fprintf(out, "  %3d  %-15s %6ld %6ld%s%s\n", c, t->names[c], a->class_train[c],
                a->class_valid[c], human ? "  " : "", human ? human : "");
    }
}

static void print_levels(const LabelTable *t, const LabelAudit *a, FILE *out) {
    fprintf(out, "\n  level    changed  of train      rate  ceil(P*N)  valid changed  "
                 "outside classes\n");
    for (int l = 0; l < t->n_levels; l++) {
        const LevelAudit *la = &a->levels[l];
        double rate = t->n_train ? 100.0 * (double)la->changed_train / t->n_train : 0.0;
        fprintf(out, "  %5s%% %9ld %9d %8.4f%% %10ld %14ld %15ld\n", t->level_text[l],
                la->changed_train, t->n_train, rate, la->uniform_count, la->changed_valid,
                la->outside);
    }
    if (t->n_levels >= 2)
        fprintf(out, "  levels nested: %s\n", a->nested
                ? "yes (each level's changed rows, with their labels, contain the lower's)"
                : "no (levels drawn independently)");
}

/* Lists the first few rows behind each problem, with their source line. */
static void print_problems(const LabelTable *t, const LabelAudit *a, const char *name,
                           FILE *out) {
    if (a->problems == 0) {
        fprintf(out, "\n  problems: none\n");
        return;
    }
    fprintf(out, "\n  problems: %ld\n", a->problems);
    for (int l = 0; l < t->n_levels; l++) {
        const int32_t *col = labels_noisy(t, l);
        int shown = 0;
        for (int i = 0; i < t->n_rows && shown < AUDIT_SHOW_MAX; i++) {
            int bad_valid = t->is_valid[i] && col[i] != t->truth[i];
            int outside = col[i] >= t->n_classes;
            if (!bad_valid && !outside)
                continue;
            fprintf(out, "  %s:%ld: noisy_labels_%s = \"%s\": %s\n", name,
                    t->lines ? t->lines[i] : 0L, t->level_text[l], t->names[col[i]],
                    outside ? "not a class (no row has it as its true label)"
                            : "validation row differs from its true label");
            shown++;
        }
        long total = a->levels[l].changed_valid + a->levels[l].outside;
        if (total > shown)
            fprintf(out, "  ... and %ld more at noisy_labels_%s\n", total - shown,
                    t->level_text[l]);
    }
}

static void print_matrix(const LabelTable *t, const LevelAudit *la, int l, FILE *out,
                         int normalize) {
    int k = t->n_classes, nn = t->n_names;
    fprintf(out, "\n  noisy_labels_%s, training rows: true label (row) -> noisy label "
                 "(column)%s\n      ", t->level_text[l], normalize ? ", row rates" : "");
    for (int j = 0; j < nn; j++)
        fprintf(out, " %6d", j);
    fputc('\n', out);

    for (int i = 0; i < k; i++) {
        const long *row = la->transitions + (size_t)i * (size_t)nn;
        long sum = 0;
        for (int j = 0; j < nn; j++)
            sum += row[j];
        fprintf(out, "  %3d ", i);
        for (int j = 0; j < nn; j++) {
            if (normalize)
                fprintf(out, " %6.4f", sum ? (double)row[j] / (double)sum : 0.0);
            else
                fprintf(out, " %6ld", row[j]);
        }
        fputc('\n', out);
    }
}

void audit_print(const LabelTable *t, const LabelAudit *a, const char *name, FILE *out,
                 int normalize) {
    fprintf(out, "%s: %d rows (%d train, %d valid), %d classes, %d noise level%s\n", name,
            t->n_rows, t->n_train, t->n_valid, t->n_classes, t->n_levels,
            t->n_levels == 1 ? "" : "s");
    print_classes(t, a, out);
    if (t->n_names > t->n_classes) {
        fprintf(out, "  labels outside the class set:");
        for (int j = t->n_classes; j < t->n_names; j++)
            fprintf(out, " %d=%s", j, t->names[j]);
        fputc('\n', out);
    }
    if (t->n_levels > 0)
        print_levels(t, a, out);
    print_problems(t, a, name, out);
    for (int l = 0; l < t->n_levels; l++)
        print_matrix(t, &a->levels[l], l, out, normalize);
}
