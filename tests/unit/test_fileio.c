/* Files: whole reads with a size limit, atomic writes that never leave a
 * partial target or a temporary file, even when a signal ends the process. */
#include "test_util.h"

#include "util/err.h"
#include "util/fileio.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_read_all_and_limit(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), path[4096];
    snprintf(path, sizeof path, "%s/f.txt", dir);
    test_write_str(path, "hello");

    char *data;
    size_t len;
    assert_int_equal(file_read_all(path, 100, &data, &len), 0);
    assert_int_equal(len, 5);
    assert_string_equal(data, "hello");
    free(data);
    assert_int_equal(file_read_all(path, 4, &data, &len), ERR_IO);
    assert_contains(err_msg(), "larger than the 4-byte limit");
    test_rmtree(dir);
    free(dir);
}

static void test_atomic_commit_and_refuse(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), path[4096];
    snprintf(path, sizeof path, "%s/out.csv", dir);
    AtomicFile af;

    assert_int_equal(atomic_open(&af, path, 0), 0);
    fputs("one\n", af.fp);
    assert_false(file_exists(path));            /* nothing at the target yet */
    assert_int_equal(atomic_commit(&af), 0);
    assert_int_equal(test_count_entries(dir), 1);

    assert_int_equal(atomic_open(&af, path, 0), ERR_EXISTS);
    assert_contains(err_msg(), "already exists (use --force");

    assert_int_equal(atomic_open(&af, path, 1), 0);
    fputs("two\n", af.fp);
    atomic_abort(&af);
    char *data;
    size_t len;
    assert_int_equal(file_read_all(path, 100, &data, &len), 0);
    assert_string_equal(data, "one\n");       /* the abort left the old file */
    free(data);
    assert_int_equal(test_count_entries(dir), 1);
    test_rmtree(dir);
    free(dir);
}

/* A child opens an atomic file, writes, and is killed by SIGTERM before
 * committing: neither the target nor the temporary file may remain. */
static void test_signal_removes_temporary(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), path[4096];
    snprintf(path, sizeof path, "%s/out.csv", dir);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        AtomicFile af;
        atomic_install_signal_cleanup();
        if (atomic_open(&af, path, 0) != 0)
            _exit(3);
        fputs("partial", af.fp);
        fflush(af.fp);
        raise(SIGTERM);
        _exit(4);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGTERM);
    assert_int_equal(test_count_entries(dir), 0);
    test_rmtree(dir);
    free(dir);
}

static void test_missing_folder(void **state) {
    (void)state;
    AtomicFile af;
    assert_int_equal(atomic_open(&af, "/nonexistent/dir/out.csv", 0), ERR_IO);
    assert_contains(err_msg(), "/nonexistent/dir/out.csv: cannot create a temporary file");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_all_and_limit),
        cmocka_unit_test(test_atomic_commit_and_refuse),
        cmocka_unit_test(test_signal_removes_temporary),
        cmocka_unit_test(test_missing_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
