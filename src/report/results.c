/* Reading results files (JSON lines of `noisette train`); see results.h.
 * Each line is checked field by field, so a note can say which field is
 * wrong; nothing a user can put in a file makes this fail, only I/O and
 * memory do. */
#include "report/results.h"

#include "util/err.h"
#include "util/fileio.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHY_MAX 320             /* one reason, without FILE:LINE */
#define SHOWN_MAX 40            /* characters of an offending value quoted */
#define RESULTS_JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10))

/* Keys of config that change from run to run of one configuration, or that
 * name places on one machine: left out of the signature. */
static const char *const PER_RUN_KEYS[] = {
    "seed", "run", "data", "labels", "threads", "results", "out", "backend", "fold",
};

/* Keys whose absence marks a line written before the format had them. */
static const char *const NEW_KEYS[] = {"dataset", "woof", "loss_params", "methods"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

void results_init(RunSet *set) {
    memset(set, 0, sizeof *set);
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- notes --------------------------------------------------------------- */

/* Records "FILE:LINE: why" (or "FILE:LINE:COL: why" when col > 0). */
static int add_note_at(RunSet *set, int warning, const char *file, long line, int col,
                       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int add_note_at(RunSet *set, int warning, const char *file, long line, int col,
                       const char *fmt, ...) {
    char why[WHY_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);

    if (set->n_notes == set->cap_notes) {
        int cap = set->cap_notes ? 2 * set->cap_notes : 16;
        ResultNote *grown = realloc(set->notes, (size_t)cap * sizeof *grown);
        if (!grown)
            return err_set(ERR_NOMEM, "out of memory");
        set->notes = grown;
        set->cap_notes = cap;
    }
    size_t n = strlen(file) + strlen(why) + 32;
    char *text = malloc(n);
    if (!text)
        return err_set(ERR_NOMEM, "out of memory");
    if (col > 0)
        snprintf(text, n, "%s:%ld:%d: %s", file, line, col, why);
    else
        snprintf(text, n, "%s:%ld: %s", file, line, why);
    set->notes[set->n_notes].warning = warning;
    set->notes[set->n_notes].text = text;
    set->n_notes++;
    return ERR_OK;
}

#define add_note(set, warning, file, line, ...) \
    add_note_at(set, warning, file, line, 0, __VA_ARGS__)

/* ---- field checks -------------------------------------------------------- */

/* The value v as short JSON for a message ("\"128\"", "null"). */
static void show_value(const json_t *v, char *buf, size_t cap) {
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (!s) {
        snprintf(buf, cap, "nothing");
        return;
    }
    if (strlen(s) > SHOWN_MAX)
        snprintf(buf, cap, "%.*s...", SHOWN_MAX, s);
    else
        snprintf(buf, cap, "%s", s);
    free(s);
}

/* Each check returns 0 with the value, or -1 with a reason in why. A field
 * that is absent and not required leaves *v as it was. */
static int want_number(const json_t *obj, const char *where, const char *key, int required,
                       double *v, char *why) {
    const json_t *x = json_object_get(obj, key);
    if (!x && !required)
        return 0;
    if (!json_is_number(x)) {
        char shown[SHOWN_MAX + 8];
        show_value(x, shown, sizeof shown);
        snprintf(why, WHY_MAX, "%s%s: expected a number, got %s", where, key, shown);
        return -1;
    }
    *v = json_number_value(x);
    return 0;
}

static int want_int(const json_t *obj, const char *where, const char *key, int required,
                    long lo, long hi, long *v, char *why) {
    const json_t *x = json_object_get(obj, key);
    if (!x && !required)
        return 0;
    if (!json_is_integer(x) || json_integer_value(x) < lo || json_integer_value(x) > hi) {
        char shown[SHOWN_MAX + 8];
        show_value(x, shown, sizeof shown);
        snprintf(why, WHY_MAX, "%s%s: expected an integer in [%ld, %ld], got %s", where, key,
                 lo, hi, shown);
        return -1;
    }
    *v = (long)json_integer_value(x);
    return 0;
}

static int want_string(const json_t *obj, const char *where, const char *key,
                       const char **v, char *why) {
    const json_t *x = json_object_get(obj, key);
    if (!x)
        return 0;
    if (!json_is_string(x)) {
        char shown[SHOWN_MAX + 8];
        show_value(x, shown, sizeof shown);
        snprintf(why, WHY_MAX, "%s%s: expected a string, got %s", where, key, shown);
        return -1;
    }
    *v = json_string_value(x);
    return 0;
}

/* ---- the flattened configuration ----------------------------------------- */

typedef struct {
    ResultField *items;
    int          n, cap;
} FieldList;

static int fields_push(FieldList *f, const char *key, const json_t *value) {
    if (f->n == f->cap) {
        int cap = f->cap ? 2 * f->cap : 32;
        ResultField *grown = realloc(f->items, (size_t)cap * sizeof *grown);
        if (!grown)
            return ERR_NOMEM;
        f->items = grown;
        f->cap = cap;
    }
    char *k = dup_str(key);
    char *j = json_dumps(value, RESULTS_JSON_FLAGS | JSON_ENCODE_ANY);
    if (!k || !j) {
        free(k);
        free(j);
        return ERR_NOMEM;
    }
    f->items[f->n].key = k;
    f->items[f->n].json = j;
    f->n++;
    return ERR_OK;
}

static int is_per_run_key(const char *key) {
    for (size_t i = 0; i < COUNT(PER_RUN_KEYS); i++)
        if (strcmp(key, PER_RUN_KEYS[i]) == 0)
            return 1;
    return 0;
}

/* Adds obj's members under prefix; non-empty objects are opened, so two
 * configurations differ by leaf ("methods.sam.rho"), not by whole object. */
static int flatten(FieldList *f, const char *prefix, const json_t *obj, int top) {
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value) {
        if (top && is_per_run_key(key))
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key);
        int rc = json_is_object(value) && json_object_size(value) > 0
                     ? flatten(f, path, value, 0)
                     : fields_push(f, path, value);
        if (rc < 0)
            return rc;
    }
    return ERR_OK;
}

static int cmp_field(const void *a, const void *b) {
    return strcmp(((const ResultField *)a)->key, ((const ResultField *)b)->key);
}

/* Sorted fields and their signature "key=json\n..." into r. */
static int make_fields(RunRecord *r, const json_t *config) {
    FieldList f = {0};
    if (flatten(&f, "", config, 1) < 0)
        goto nomem;
    if (f.n > 1)
        qsort(f.items, (size_t)f.n, sizeof *f.items, cmp_field);
    r->fields = f.items;
    r->n_fields = f.n;

    size_t len = 1;
    for (int i = 0; i < f.n; i++)
        len += strlen(f.items[i].key) + strlen(f.items[i].json) + 2;
    if (!(r->signature = malloc(len)))
        return err_set(ERR_NOMEM, "out of memory");
    char *p = r->signature;
    for (int i = 0; i < f.n; i++)
        p += sprintf(p, "%s=%s\n", f.items[i].key, f.items[i].json);
    *p = '\0';
    return ERR_OK;

nomem:
    r->fields = f.items;
    r->n_fields = f.n;
    return err_set(ERR_NOMEM, "out of memory");
}

/* "mixup+sam" from the methods object's keys, sorted. */
static char *methods_summary(const json_t *methods) {
    const char *names[64];
    size_t n = 0, len = 1;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)methods, key, value) {
        if (n < COUNT(names)) {
            names[n++] = key;
            len += strlen(key) + 1;
        }
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    char *s = malloc(len);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(s, "+");
        strcat(s, names[i]);
    }
    return s;
}

/* ---- one line -------------------------------------------------------------- */

static void run_free(RunRecord *r) {
    free(r->dataset);
    free(r->data);
    free(r->labels);
    free(r->arch);
    free(r->loss);
    free(r->methods);
    free(r->history);
    for (int i = 0; i < r->n_fields; i++) {
        free(r->fields[i].key);
        free(r->fields[i].json);
    }
    free(r->fields);
    free(r->signature);
    free(r->identity);
    memset(r, 0, sizeof *r);
}

/* The scalar fields of config and final into r; -1 with why if one is bad. */
static int read_scalars(const json_t *root, const json_t *config, RunRecord *r, char *why) {
    const char *dataset = NULL, *data = "", *arch = "?", *loss = "?", *labels = NULL;
    long size = 0, epochs = 0, limit = 0, folds = 0;
    const json_t *woof = json_object_get(config, "woof");
    const json_t *final = json_object_get(root, "final");

    if (want_number(config, "config.", "pct_noise", 1, &r->pct_noise, why) < 0 ||
        want_int(config, "config.", "size", 1, 1, 1 << 20, &size, why) < 0 ||
        want_int(config, "config.", "epochs", 1, 1, 1 << 20, &epochs, why) < 0 ||
        want_int(config, "config.", "limit", 0, 0, 1L << 40, &limit, why) < 0 ||
        want_int(config, "config.", "folds", 0, 0, 1 << 20, &folds, why) < 0 ||
        want_string(config, "config.", "dataset", &dataset, why) < 0 ||
        want_string(config, "config.", "data", &data, why) < 0 ||
        (!json_is_null(json_object_get(config, "labels")) &&
         want_string(config, "config.", "labels", &labels, why) < 0) ||
        want_string(config, "config.", "arch", &arch, why) < 0 ||
        want_string(config, "config.", "loss", &loss, why) < 0)
        return -1;
    if (!(r->pct_noise >= 0 && r->pct_noise < 100))
        return snprintf(why, WHY_MAX, "config.pct_noise: %g is not in [0, 100)", r->pct_noise),
               -1;
    if (woof && !json_is_boolean(woof))
        return snprintf(why, WHY_MAX, "config.woof: expected true or false"), -1;
    if (!json_is_object(final))
        return snprintf(why, WHY_MAX, "final: expected an object"), -1;
    if (want_number(final, "final.", "accuracy", 1, &r->accuracy, why) < 0)
        return -1;
    if (!(r->accuracy >= 0 && r->accuracy <= 1))
        return snprintf(why, WHY_MAX, "final.accuracy: %g is not a fraction in [0, 1]",
                        r->accuracy), -1;

    r->size = (int)size;
    r->epochs = (int)epochs;
    r->limit = limit;
    r->folds = (int)folds;
    r->woof = json_is_true(woof);
    r->dataset = dataset ? dup_str(dataset) : NULL;
    r->data = dup_str(data);
    r->labels = labels ? dup_str(labels) : NULL;
    r->arch = dup_str(arch);
    r->loss = dup_str(loss);
    return 0;
}

/* history[] into r; -1 with why if it is not a list of epoch objects. */
static int read_history(const json_t *root, RunRecord *r, char *why) {
    const json_t *hist = json_object_get(root, "history");
    if (!json_is_array(hist))
        return snprintf(why, WHY_MAX, "history: expected a list of epochs"), -1;
    size_t n = json_array_size(hist);
    r->history = calloc(n + 1, sizeof *r->history);
    if (!r->history)
        return snprintf(why, WHY_MAX, "out of memory"), -1;
    for (size_t e = 0; e < n; e++) {
        const json_t *ep = json_array_get(hist, e);
        ResultEpoch *h = &r->history[e];
        char where[48];
        snprintf(where, sizeof where, "history[%zu].", e);
        if (!json_is_object(ep))
            return snprintf(why, WHY_MAX, "history[%zu]: expected an object", e), -1;
        if (want_number(ep, where, "train_loss", 1, &h->train_loss, why) < 0 ||
            want_number(ep, where, "valid_loss", 1, &h->valid_loss, why) < 0 ||
            want_number(ep, where, "accuracy", 1, &h->accuracy, why) < 0)
            return -1;
    }
    r->n_history = (int)n;
    return 0;
}

static int is_old_format(const json_t *config) {
    for (size_t i = 0; i < COUNT(NEW_KEYS); i++)
        if (!json_object_get(config, NEW_KEYS[i]))
            return 1;
    return 0;
}

static int make_identity(const json_t *root, const json_t *config, RunRecord *r) {
    const char *finished = json_string_value(json_object_get(root, "finished"));
    char *seed = json_dumps(json_object_get(config, "seed"), JSON_ENCODE_ANY);
    char *run = json_dumps(json_object_get(config, "run"), JSON_ENCODE_ANY);
    size_t n = strlen(r->signature) + 128 + (finished ? strlen(finished) : 0) +
               (seed ? strlen(seed) : 0) + (run ? strlen(run) : 0);
    r->identity = malloc(n);
    if (r->identity)
        snprintf(r->identity, n, "%s\n%s\n%s\n%.17g\n%s", finished ? finished : "",
                 seed ? seed : "", run ? run : "", r->accuracy, r->signature);
    free(seed);
    free(run);
    return r->identity ? ERR_OK : err_set(ERR_NOMEM, "out of memory");
}

static int push_run(RunSet *set, RunRecord *r) {
    if (set->n_runs == set->cap_runs) {
        int cap = set->cap_runs ? 2 * set->cap_runs : 32;
        RunRecord *grown = realloc(set->runs, (size_t)cap * sizeof *grown);
        if (!grown)
            return err_set(ERR_NOMEM, "out of memory");
        set->runs = grown;
        set->cap_runs = cap;
    }
    set->runs[set->n_runs++] = *r;
    return ERR_OK;
}

/* A run that is complete and well formed goes into set; anything else
 * becomes a note. Fails only when memory runs out. */
static int parse_run(RunSet *set, const char *file, long line, const json_t *root) {
    char why[WHY_MAX] = "";
    const json_t *config = json_object_get(root, "config");
    const json_t *interrupted = json_object_get(root, "interrupted");
    RunRecord r = {0};

    /* Step 1: what the line is: an object with a config, a finished run. */
    if (!json_is_object(root))
        return add_note(set, 1, file, line, "expected a JSON object: skipped");
    if (!json_is_object(config))
        return add_note(set, 1, file, line, "config: expected an object: skipped");
    if (interrupted && !json_is_boolean(interrupted))
        return add_note(set, 1, file, line, "interrupted: expected true or false: skipped");

    /* Step 2: the fields boards and plots use. */
    r.file = file;
    r.line = line;
    r.old_format = is_old_format(config);
    if (read_scalars(root, config, &r, why) < 0 || read_history(root, &r, why) < 0) {
        run_free(&r);
        return add_note(set, 1, file, line, "%s: skipped", why);
    }
    if (!r.data || !r.arch || !r.loss || (r.dataset == NULL && !r.old_format) ||
        (r.labels == NULL && json_is_string(json_object_get(config, "labels"))))
        goto nomem;

    /* Step 3: runs that did not finish are left out, saying why. */
    int rc = ERR_OK;
    if (json_is_true(interrupted))
        rc = add_note(set, 0, file, line, "interrupted run (%d of %d epochs): skipped",
                      r.n_history, r.epochs);
    else if (r.n_history < r.epochs)
        rc = add_note(set, 0, file, line, "unfinished run (%d of %d epochs; it failed?): "
                      "skipped", r.n_history, r.epochs);
    else if (r.n_history > r.epochs)
        rc = add_note(set, 1, file, line, "history: %d epochs, config.epochs is %d: skipped",
                      r.n_history, r.epochs);
    if (rc < 0 || json_is_true(interrupted) || r.n_history != r.epochs) {
        run_free(&r);
        return rc;
    }

    /* Step 4: signature, identity, methods; the same run twice counts once. */
    const json_t *methods = json_object_get(config, "methods");
    r.methods = json_is_object(methods) ? methods_summary(methods) : dup_str("");
    if (!r.methods || make_fields(&r, config) < 0 || make_identity(root, config, &r) < 0)
        goto nomem;
    for (int i = 0; i < set->n_runs; i++)
        if (strcmp(set->runs[i].identity, r.identity) == 0) {
            rc = add_note(set, 0, file, line, "the same run as %s:%ld: skipped",
                          set->runs[i].file, set->runs[i].line);
            run_free(&r);
            return rc;
        }
    if ((rc = push_run(set, &r)) < 0)
        run_free(&r);
    return rc;

nomem:
    run_free(&r);
    return err_set(ERR_NOMEM, "out of memory");
}

/* ---- files ------------------------------------------------------------------ */

static int only_space(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

int results_parse(RunSet *set, const char *name, const char *data, size_t len) {
    /* The set keeps the name: runs and notes point to it. */
    char **grown = realloc(set->files, (size_t)(set->n_files + 1) * sizeof *grown);
    if (!grown)
        return err_set(ERR_NOMEM, "out of memory");
    set->files = grown;
    const char *file = set->files[set->n_files] = dup_str(name);
    if (!file)
        return err_set(ERR_NOMEM, "out of memory");
    set->n_files++;

    long line = 0;
    for (size_t pos = 0; pos < len;) {
        const char *s = data + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + 1;
        line++;
        if (only_space(s, n))
            continue;

        /* A writer that appends in place may have written part of a line. */
        if (!nl)
            return add_note(set, 0, file, line, "last line has no newline (a run still "
                            "being written?): skipped");

        json_error_t jerr;
        json_t *root = json_loadb(s, n, JSON_REJECT_DUPLICATES, &jerr);
        int rc = root ? parse_run(set, file, line, root)
                      : add_note_at(set, 1, file, line, jerr.column, "not valid JSON (%s): "
                                    "skipped", jerr.text);
        json_decref(root);
        if (rc < 0)
            return rc;
    }
    return ERR_OK;
}

int results_read(RunSet *set, const char *path) {
    char *data;
    size_t len;
    int rc = file_read_all(path, RESULTS_FILE_MAX, &data, &len);
    if (rc < 0)
        return rc;
    rc = results_parse(set, path, data, len);
    free(data);
    return rc;
}

void results_free(RunSet *set) {
    for (int i = 0; i < set->n_runs; i++)
        run_free(&set->runs[i]);
    for (int i = 0; i < set->n_notes; i++)
        free(set->notes[i].text);
    for (int i = 0; i < set->n_files; i++)
        free(set->files[i]);
    free(set->runs);
    free(set->notes);
    free(set->files);
    memset(set, 0, sizeof *set);
}

/* ---- lookups, groups, descriptions ----------------------------------------- */

const char *results_field(const RunRecord *r, const char *key) {
    int lo = 0, hi = r->n_fields - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(key, r->fields[mid].key);
        if (c == 0)
            return r->fields[mid].json;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

int results_group(const RunSet *set, int **group, int *n_groups) {
    int *g = malloc((size_t)set->n_runs * sizeof *g + 1);
    int *first = malloc((size_t)set->n_runs * sizeof *first + 1);
    if (!g || !first) {
        free(g);
        free(first);
        return err_set(ERR_NOMEM, "out of memory");
    }

    /* Runs are few (hundreds): a linear scan over the groups so far. */
    int n = 0;
    for (int i = 0; i < set->n_runs; i++) {
        int k = 0;
        while (k < n && strcmp(set->runs[first[k]].signature, set->runs[i].signature) != 0)
            k++;
        if (k == n)
            first[n++] = i;
        g[i] = k;
    }
    free(first);
    *group = g;
    *n_groups = n;
    return ERR_OK;
}

/* Appends text to buf[0..cap) at *len, truncating. */
static void put(char *buf, size_t cap, size_t *len, const char *text) {
    if (*len + 1 >= cap)
        return;
    int n = snprintf(buf + *len, cap - *len, "%s", text);
    *len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

/* The field's value for people: strings without their quotes. */
static void put_value(char *buf, size_t cap, size_t *len, const char *json) {
    size_t n = strlen(json);
    if (n >= 2 && json[0] == '"' && !strchr(json, '\\')) {
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%.*s", (int)(n - 2 < 255 ? n - 2 : 255), json + 1);
        put(buf, cap, len, tmp);
    } else {
        put(buf, cap, len, json);
    }
}

/* 1 if key is group or lies under it ("methods", "methods.sam.rho"). */
static int under(const char *key, const char *group) {
    size_t n = strlen(group);
    return strncmp(key, group, n) == 0 && (key[n] == '\0' || key[n] == '.');
}

/* 1 if key tells reps[i] apart: its value differs among the reps. A key
 * that some reps lack counts, unless it belongs to a loss or method, which
 * the description names already. */
static int key_differs(const RunRecord *const *reps, int n, const char *key) {
    const char *v0 = results_field(reps[0], key);
    int missing = 0, differ = 0;
    for (int j = 0; j < n; j++) {
        const char *v = results_field(reps[j], key);
        missing |= v == NULL;
        differ |= (v == NULL) != (v0 == NULL) || (v && v0 && strcmp(v, v0) != 0);
    }
    if (!differ)
        return 0;
    return !missing || (!under(key, "methods") && !under(key, "loss_params"));
}

/* Keys a description leaves out: its first part names arch and loss, and
 * every table or legend shows the cell (dataset, noise, size, epochs). */
static int is_shown_elsewhere(const char *key) {
    static const char *const KEYS[] = {"arch", "loss", "dataset", "woof", "pct_noise",
                                       "size", "epochs"};
    for (size_t i = 0; i < COUNT(KEYS); i++)
        if (strcmp(key, KEYS[i]) == 0)
            return 1;
    return 0;
}

/* 1 if a and b read the same before their extras: cell, arch, loss, methods. */
static int same_base(const RunRecord *a, const RunRecord *b) {
    const char *da = a->dataset ? a->dataset : a->data, *db = b->dataset ? b->dataset : b->data;
    return strcmp(da, db) == 0 && a->pct_noise == b->pct_noise && a->size == b->size &&
           a->epochs == b->epochs && strcmp(a->arch, b->arch) == 0 &&
           strcmp(a->loss, b->loss) == 0 && strcmp(a->methods, b->methods) == 0;
}

void results_describe(const RunRecord *const *reps, int n, int i, char *buf, size_t cap) {
    const RunRecord *r = reps[i];
    size_t len = 0;
    if (cap == 0)
        return;
    buf[0] = '\0';

    /* Extras only tell apart configurations that would read the same. */
    const RunRecord **peers = malloc((size_t)n * sizeof *peers + 1);
    int n_peers = 0;
    for (int j = 0; peers && j < n; j++)
        if (same_base(reps[j], r))
            peers[n_peers++] = reps[j];

    /* What a reader scans for first: model, loss, methods. */
    put(buf, cap, &len, r->arch);
    put(buf, cap, &len, ", ");
    put(buf, cap, &len, r->loss);
    put(buf, cap, &len, ", ");
    put(buf, cap, &len, *r->methods ? r->methods : "no method");

    /* Then whatever else sets it apart from the other configurations. */
    for (int f = 0; f < r->n_fields; f++) {
        const char *key = r->fields[f].key;
        if (!peers || is_shown_elsewhere(key) || !key_differs(peers, n_peers, key))
            continue;
        put(buf, cap, &len, ", ");
        put(buf, cap, &len, key);
        put(buf, cap, &len, "=");
        put_value(buf, cap, &len, r->fields[f].json);
    }
    free(peers);
}
