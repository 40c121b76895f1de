/* noisette get without a network: dataset names and the size rule, the
 * cache folder from the environment, addresses, size and MD5 checks
 * (fastai's first-megabyte MD5 included), the path and link rules of safe
 * unpacking, all-or-nothing unpacking of archives made here with
 * libarchive, and what a DATA argument resolves to. The downloads
 * themselves are tested against a loopback server in tests/cli/test_get.sh. */
#include "test_util.h"

#include "get/datasets.h"
#include "get/extract.h"
#include "get/get.h"
#include "get/verify.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/log.h"

#include <archive.h>
#include <archive_entry.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Runs each test with a clean environment for the cache variables. */
static int clear_env(void **state) {
    (void)state;
    unsetenv("NOISETTE_DATA");
    unsetenv("NOISETTE_MIRROR");
    unsetenv("NOISETTE_GET_TIMEOUT");
    unsetenv("XDG_CACHE_HOME");
    return 0;
}

static const char *find_name(const char *name, int size) {
    const GetDataset *d = get_dataset_find(name, size);
    return d ? d->name : "(none)";
}

static void test_names_and_size_rule(void **state) {
    (void)state;
    assert_int_equal(get_dataset_count(), 6);
    assert_string_equal(find_name("imagewoof2-160", 0), "imagewoof2-160");
    assert_string_equal(find_name("imagenette2", 128), "imagenette2");

    /* The reference: up to 224 px from the 320-px JPEGs, above from full size. */
    assert_string_equal(find_name("imagenette", 0), "imagenette2-320");
    assert_string_equal(find_name("imagenette", 128), "imagenette2-320");
    assert_string_equal(find_name("imagenette", 192), "imagenette2-320");
    assert_string_equal(find_name("imagenette", 224), "imagenette2-320");
    assert_string_equal(find_name("imagenette", 225), "imagenette2");
    assert_string_equal(find_name("imagewoof", 256), "imagewoof2");
    assert_string_equal(find_name("imagewoof", 128), "imagewoof2-320");

    assert_string_equal(find_name("imagenet", 128), "(none)");
    assert_string_equal(find_name("imagenette2-", 128), "(none)");
    assert_string_equal(find_name("", 128), "(none)");

    const GetDataset *d = get_dataset_find("imagewoof2-320", 0);
    assert_string_equal(d->label_csv, "noisy_imagewoof.csv");
    assert_true(d->size > 0);
    assert_true(get_md5_is_valid(d->md5_head));
    for (int i = 0; i < get_dataset_count(); i++) {
        const GetDataset *k = get_dataset_at(i);
        assert_true(!k->md5_full || get_md5_is_valid(k->md5_full));
    }
}

static void test_cache_dir(void **state) {
    (void)state;
    char buf[4096];
    const char *home = getenv("HOME");
    char *saved_home = home ? strdup(home) : NULL;

    setenv("HOME", "/home/someone", 1);
    assert_int_equal(get_cache_dir(NULL, buf, sizeof buf), 0);
    assert_string_equal(buf, "/home/someone/.cache/noisette");

    /* XDG ignores a relative XDG_CACHE_HOME. */
    setenv("XDG_CACHE_HOME", "relative", 1);
    assert_int_equal(get_cache_dir(NULL, buf, sizeof buf), 0);
    assert_string_equal(buf, "/home/someone/.cache/noisette");
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    assert_int_equal(get_cache_dir(NULL, buf, sizeof buf), 0);
    assert_string_equal(buf, "/xdg/noisette");

    setenv("NOISETTE_DATA", "/data/sets/", 1);
    assert_int_equal(get_cache_dir(NULL, buf, sizeof buf), 0);
    assert_string_equal(buf, "/data/sets");
    assert_int_equal(get_cache_dir("/given", buf, sizeof buf), 0);
    assert_string_equal(buf, "/given");

    unsetenv("NOISETTE_DATA");
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    assert_int_equal(get_cache_dir(NULL, buf, sizeof buf), ERR_USAGE);
    assert_contains(err_msg(), "NOISETTE_DATA");
    assert_int_equal(get_cache_dir("/a/long/path", buf, 5), ERR_USAGE);

    if (saved_home)
        setenv("HOME", saved_home, 1);
    free(saved_home);
}

static void test_urls(void **state) {
    (void)state;
    const GetDataset *d = get_dataset_find("imagenette2-160", 0);
    char *url = get_dataset_url(d, NULL);
    assert_string_equal(url, "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-160.tgz");
    free(url);

    url = get_dataset_url(d, "http://proxy.local/x/my.tgz");
    assert_string_equal(url, "http://proxy.local/x/my.tgz");
    free(url);
    url = get_dataset_url(d, "file:///srv/mirror/");
    assert_string_equal(url, "file:///srv/mirror/imagenette2-160.tgz");
    free(url);

    /* The mirror variable is a folder, with or without its '/'. */
    setenv("NOISETTE_MIRROR", "http://mirror.local/fastai", 1);
    url = get_dataset_url(d, NULL);
    assert_string_equal(url, "http://mirror.local/fastai/imagenette2-160.tgz");
    free(url);
    url = get_dataset_url(d, "http://given.local/a.tgz");
    assert_string_equal(url, "http://given.local/a.tgz");
    free(url);
}

/* 2 MiB + 5 bytes, byte i = i mod 256. MD5s from Python's hashlib:
 * first 2^20 bytes c35cc7d8..., whole file a79dbe61... */
#define PATTERN_BYTES ((2 << 20) + 5)
#define PATTERN_MD5_HEAD "c35cc7d8d91728a0cb052831bc4ef372"
#define PATTERN_MD5_FULL "a79dbe61046f9f7bceaeb64e138dd83f"

static char *write_pattern(const char *dir) {
    char *path = malloc(4096);
    snprintf(path, 4096, "%s/pattern.tgz", dir);
    unsigned char *buf = malloc(PATTERN_BYTES);
    for (int i = 0; i < PATTERN_BYTES; i++)
        buf[i] = (unsigned char)(i % 256);
    test_write(path, buf, PATTERN_BYTES);
    free(buf);
    return path;
}

static void test_verify(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), *path = write_pattern(dir), hex[33];

    assert_int_equal(get_md5_file(path, 1 << 20, hex), 0);
    assert_string_equal(hex, PATTERN_MD5_HEAD);
    assert_int_equal(get_md5_file(path, -1, hex), 0);
    assert_string_equal(hex, PATTERN_MD5_FULL);

    GetChecks ok = {PATTERN_BYTES, PATTERN_MD5_HEAD, "A79DBE61046F9F7BCEAEB64E138DD83F", "tests"};
    assert_int_equal(get_verify_file(path, &ok), 0);

    GetChecks c = ok;
    c.size = PATTERN_BYTES + 1;
    assert_int_equal(get_verify_file(path, &c), ERR_INVALID);
    assert_contains(err_msg(), "pattern.tgz: 2097157 bytes");
    assert_contains(err_msg(), "expected 2097158");
    assert_contains(err_msg(), "according to tests");

    c = ok;
    c.md5_head = PATTERN_MD5_FULL;
    assert_int_equal(get_verify_file(path, &c), ERR_INVALID);
    assert_contains(err_msg(), "MD5 of the first megabyte is " PATTERN_MD5_HEAD);

    c = ok;
    c.md5_full = PATTERN_MD5_HEAD;
    assert_int_equal(get_verify_file(path, &c), ERR_INVALID);
    assert_contains(err_msg(), "MD5 is " PATTERN_MD5_FULL ", expected " PATTERN_MD5_HEAD);

    GetChecks none = {0, NULL, NULL, "nothing"};
    assert_int_equal(get_verify_file(path, &none), 0);
    assert_true(file_exists(path));     /* checking never removes */

    assert_true(get_md5_is_valid(PATTERN_MD5_HEAD));
    assert_false(get_md5_is_valid("c35cc7d8"));
    assert_false(get_md5_is_valid("g35cc7d8d91728a0cb052831bc4ef372"));
    test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_path_rules(void **state) {
    (void)state;
    assert_true(get_entry_path_is_safe("imagenette2-160/train/n01/x.JPEG"));
    assert_true(get_entry_path_is_safe("./imagenette2-160/"));
    assert_true(get_entry_path_is_safe("a/..b/c..."));
    assert_false(get_entry_path_is_safe("/etc/passwd"));
    assert_false(get_entry_path_is_safe("a/../../b"));
    assert_false(get_entry_path_is_safe(".."));
    assert_false(get_entry_path_is_safe("a//.."));
    assert_false(get_entry_path_is_safe(""));

    assert_true(get_link_is_safe("d/train/l", "x.JPEG"));
    assert_true(get_link_is_safe("d/train/l", "../val/x"));
    assert_true(get_link_is_safe("d/train/n01/l", "../../val/./x"));
    assert_true(get_link_is_safe("d/l", "train"));
    assert_false(get_link_is_safe("d/l", "../d/train"));        /* via the parent */
    assert_false(get_link_is_safe("d/train/l", "../../x"));
    assert_false(get_link_is_safe("d/train/l", "/etc"));
    assert_false(get_link_is_safe("d/train/l", "a/../b"));       /* a may be a link */
    assert_false(get_link_is_safe("d/train/l", ""));
}

/* An archive entry for make_archive: a file (data), folder or link. */
typedef struct {
    const char *path;
    char        type;           /* 'f' file, 'd' folder, 's' symlink, 'h' hard link */
    const char *data;           /* file content, or link target */
} Entry;

static void make_archive(const char *path, const Entry *e, int n) {
    struct archive *a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (int i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, e[i].path);
        archive_entry_set_perm(ae, e[i].type == 'd' ? 0755 : 0644);
        archive_entry_set_filetype(ae, e[i].type == 'd' ? AE_IFDIR
                                       : e[i].type == 's' ? AE_IFLNK : AE_IFREG);
        if (e[i].type == 's')
            archive_entry_set_symlink(ae, e[i].data);
        if (e[i].type == 'h')
            archive_entry_set_hardlink(ae, e[i].data);
        size_t len = e[i].type == 'f' ? strlen(e[i].data) : 0;
        archive_entry_set_size(ae, (la_int64_t)len);
        assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
        if (len)
            assert_int_equal(archive_write_data(a, e[i].data, len), (la_ssize_t)len);
        archive_entry_free(ae);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

static const Entry GOOD[] = {
    {"ds/", 'd', NULL},
    {"ds/train/n01/a.JPEG", 'f', "train image"},
    {"ds/val/n01/b.JPEG", 'f', "valid image"},
    {"ds/noisy_ds.csv", 'f', "path,noisy_labels_0\n"},
    {"ds/train/n01/same.JPEG", 'h', "ds/train/n01/a.JPEG"},
    {"ds/train/n01/link.JPEG", 's', "../../val/n01/b.JPEG"},
};

static void test_extract_good_and_replace(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), archive[4096], path[4200];
    snprintf(archive, sizeof archive, "%s/ds.tgz", dir);
    make_archive(archive, GOOD, (int)(sizeof GOOD / sizeof GOOD[0]));

    assert_int_equal(get_extract(archive, dir, "ds", 0), 0);
    snprintf(path, sizeof path, "%s/ds/train/n01/a.JPEG", dir);
    assert_true(file_exists(path));
    snprintf(path, sizeof path, "%s/ds/train/n01/link.JPEG", dir);
    char *data;
    size_t len;
    assert_int_equal(file_read_all(path, 100, &data, &len), 0);
    assert_string_equal(data, "valid image");
    free(data);
    assert_int_equal(test_count_entries(dir), 2);      /* ds.tgz, ds: no temporary folder */

    /* Present: refused unless replacing; the archive's other name works too. */
    assert_int_equal(get_extract(archive, dir, "ds", 0), ERR_EXISTS);
    assert_int_equal(test_count_entries(dir), 2);
    snprintf(path, sizeof path, "%s/ds/extra", dir);
    test_write_str(path, "old");
    assert_int_equal(get_extract(archive, dir, "ds", 1), 0);
    assert_false(file_exists(path));
    assert_int_equal(get_extract(archive, dir, "other", 0), 0);
    snprintf(path, sizeof path, "%s/other/val/n01/b.JPEG", dir);
    assert_true(file_exists(path));
    assert_int_equal(test_count_entries(dir), 3);
    test_rmtree(dir);
    free(dir);
}

/* Each archive is GOOD plus one bad entry: refused, nothing left behind. */
static void expect_refused(const Entry *bad, int code, const char *text) {
    char *dir = test_mkdtemp(), archive[4096], cache[4096];
    snprintf(archive, sizeof archive, "%s/ds.tgz", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    assert_int_equal(mkdir(cache, 0777), 0);
    Entry e[8];
    int n = (int)(sizeof GOOD / sizeof GOOD[0]);
    memcpy(e, GOOD, sizeof GOOD);
    e[n++] = *bad;
    e[n++] = (Entry){"ds/val/n01/z.JPEG", 'f', "after the bad entry"};
    make_archive(archive, e, n);

    assert_int_equal(get_extract(archive, cache, "ds", 0), code);
    assert_contains(err_msg(), text);
    assert_int_equal(test_count_entries(cache), 0);
    assert_int_equal(test_count_entries(dir), 2);      /* ds.tgz and cache/ only */
    test_rmtree(dir);
    free(dir);
}

static void test_extract_refuses(void **state) {
    (void)state;
    expect_refused(&(Entry){"/tmp/noisette-test-abs-evil", 'f', "x"}, ERR_INVALID,
                   "refusing entry \"/tmp/noisette-test-abs-evil\": an absolute path");
    expect_refused(&(Entry){"ds/../../evil", 'f', "x"}, ERR_INVALID,
                   "refusing entry \"ds/../../evil\": a \"..\"");
    expect_refused(&(Entry){"ds/train/up", 's', "../../.."}, ERR_INVALID,
                   "a symbolic link to \"../../..\"");
    expect_refused(&(Entry){"ds/train/etc", 's', "/etc"}, ERR_INVALID,
                   "a symbolic link to \"/etc\"");
    expect_refused(&(Entry){"ds/train/h", 'h', "../outside"}, ERR_INVALID,
                   "a hard link to a path outside");
}

static void test_extract_not_a_dataset(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), archive[4096];
    snprintf(archive, sizeof archive, "%s/x.tgz", dir);
    Entry two_tops[] = {{"a/train/x", 'f', "x"}, {"b/val/y", 'f', "y"}};
    make_archive(archive, two_tops, 2);
    assert_int_equal(get_extract(archive, dir, "ds", 0), ERR_INVALID);
    assert_contains(err_msg(), "does not unpack to one folder ds/ (2 top-level entries");

    Entry no_val[] = {{"ds/train/n01/x", 'f', "x"}};
    make_archive(archive, no_val, 1);
    assert_int_equal(get_extract(archive, dir, "ds", 0), ERR_INVALID);
    assert_contains(err_msg(), "has no ds/val/ folder");

    test_write_str(archive, "<html>a proxy's error page</html>\n");
    assert_int_equal(get_extract(archive, dir, "ds", 0), ERR_PARSE);
    assert_contains(err_msg(), "x.tgz: cannot read as an archive");
    assert_int_equal(test_count_entries(dir), 1);
    test_rmtree(dir);
    free(dir);
}

static void test_extract_damaged(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), archive[4096];
    snprintf(archive, sizeof archive, "%s/ds.tgz", dir);
    make_archive(archive, GOOD, (int)(sizeof GOOD / sizeof GOOD[0]));
    char *data;
    size_t len;
    assert_int_equal(file_read_all(archive, 1 << 20, &data, &len), 0);

    /* The gzip trailer's CRC-32, which libarchive alone would not read. */
    data[len - 6] ^= 1;
    test_write(archive, data, len);
    assert_int_equal(get_extract(archive, dir, "ds", 0), ERR_PARSE);
    assert_contains(err_msg(), "its gzip check fails");

    data[len - 6] ^= 1;
    test_write(archive, data, len / 2);
    assert_int_equal(get_extract(archive, dir, "ds", 0), ERR_PARSE);
    assert_contains(err_msg(), "truncated");
    assert_int_equal(test_count_entries(dir), 1);
    free(data);
    test_rmtree(dir);
    free(dir);
}

static void test_resolve_data(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), *path, want[4200];
    setenv("NOISETTE_DATA", dir, 1);

    /* Folders, files, fashion-mnist and unknown names pass through. */
    assert_int_equal(get_resolve_data(dir, 0, 1, &path), 0);
    assert_string_equal(path, dir);
    free(path);
    assert_int_equal(get_resolve_data("fashion-mnist", 0, 1, &path), 0);
    assert_string_equal(path, "fashion-mnist");
    free(path);
    assert_int_equal(get_resolve_data("no-such-dataset", 0, 1, &path), 0);
    assert_string_equal(path, "no-such-dataset");
    free(path);

    /* A known name: its cache folder, or an error naming what to run. */
    assert_int_equal(get_resolve_data("imagewoof", 256, 1, &path), ERR_IO);
    assert_null(path);
    assert_contains(err_msg(), "imagewoof2 is not in the cache ");
    assert_contains(err_msg(), dir);
    assert_contains(err_msg(), "run `noisette get imagewoof2` first");

    snprintf(want, sizeof want, "%s/imagenette2-320", dir);
    assert_int_equal(mkdir(want, 0777), 0);
    assert_int_equal(get_resolve_data("imagenette", 192, 1, &path), 0);
    assert_string_equal(path, want);
    free(path);
    assert_int_equal(get_resolve_data("imagenette2-320", 0, 0, &path), 0);
    assert_string_equal(path, want);
    free(path);

    setenv("NOISETTE_GET_TIMEOUT", "soon", 1);
    assert_int_equal(get_resolve_data("imagenette2-160", 0, 0, &path), ERR_USAGE);
    assert_contains(err_msg(), "NOISETTE_GET_TIMEOUT: \"soon\"");
    test_rmtree(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_names_and_size_rule, clear_env),
        cmocka_unit_test_setup(test_cache_dir, clear_env),
        cmocka_unit_test_setup(test_urls, clear_env),
        cmocka_unit_test_setup(test_verify, clear_env),
        cmocka_unit_test_setup(test_path_rules, clear_env),
        cmocka_unit_test_setup(test_extract_good_and_replace, clear_env),
        cmocka_unit_test_setup(test_extract_refuses, clear_env),
        cmocka_unit_test_setup(test_extract_not_a_dataset, clear_env),
        cmocka_unit_test_setup(test_extract_damaged, clear_env),
        cmocka_unit_test_setup(test_resolve_data, clear_env),
    };
    log_set_level(LOG_LEVEL_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
