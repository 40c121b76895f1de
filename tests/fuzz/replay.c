/* Runs the libFuzzer target over saved inputs without libFuzzer, so the
 * seed corpus and regression files run under the normal test suite (and
 * its sanitizers). Usage: fuzz_replay FILE_OR_DIR...; a folder's regular
 * files are replayed in sorted order (not recursively). Each input gets a
 * buffer of exactly its size, so reads past the end are caught. Exit 0 when
 * every input ran, 1 when one could not be read (a finding aborts). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads path into a new buffer of exactly its size (never NUL-terminated). */
static int read_input(const char *path, uint8_t **data, size_t *size) {
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, fp);
        if (n < cap)
            break;
        uint8_t *grown = realloc(buf, 2 * cap);
        if (!grown) {
            free(buf);
            buf = NULL;
        } else {
            buf = grown;
            cap *= 2;
        }
    }
    int bad = !buf || ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return -1;
    }
    /* Shrink to the exact size; an empty input still gets a valid pointer. */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    free(buf);
    *data = exact;
    *size = n;
    return 0;
}

static int run_file(const char *path) {
    uint8_t *data;
    size_t size;
    if (read_input(path, &data, &size) < 0) {
        fprintf(stderr, "fuzz_replay: %s: cannot read\n", path);
        return -1;
    }
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file in dir; returns the number run, or -1. */
static long run_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "fuzz_replay: %s: cannot open folder\n", dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int bad = 0;
    while (!bad && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, cap * sizeof *grown);
            if (!grown) {
                bad = 1;
                break;
            }
            names = grown;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if (!(names[n] = malloc(len))) {
            bad = 1;
            break;
        }
        snprintf(names[n++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (!bad)
        qsort(names, n, sizeof *names, cmp_str);

    long ran = 0;
    struct stat st;
    for (size_t i = 0; i < n; i++) {
        if (!bad && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(names[i]) < 0)
                bad = 1;
            else
                ran++;
        }
        free(names[i]);
    }
    free(names);
    if (bad)
        fprintf(stderr, "fuzz_replay: %s: failed\n", dir);
    return bad ? -1 : ran;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz_replay FILE_OR_DIR...\n");
        return 2;
    }
    long total = 0;
    int status = 0;
    struct stat st;
    for (int i = 1; i < argc; i++) {
        long ran = -1;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            ran = run_dir(argv[i]);
        else if (run_file(argv[i]) == 0)
            ran = 1;
        if (ran < 0)
            status = 1;
        else
            total += ran;
    }
    printf("fuzz_replay: %ld input%s replayed\n", total, total == 1 ? "" : "s");
    return status;
}
