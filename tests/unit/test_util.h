/* Helpers shared by the unit tests: temporary folders and files, and the
 * cmocka includes in the order cmocka needs them. */
#ifndef NOISETTE_TEST_UTIL_H
#define NOISETTE_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "labels/label_table.h"

/* A new empty folder under $TMPDIR (or /tmp); the caller frees the string
 * and may remove the folder with test_rmtree. */
char *test_mkdtemp(void);

/* Writes len bytes to path (creating folders above it); fails the test on
 * any error. */
void test_write(const char *path, const void *data, size_t len);

/* Same, for a NUL-terminated string. */
void test_write_str(const char *path, const char *s);

/* Number of entries in dir besides . and .. */
int test_count_entries(const char *dir);

/* Removes a folder and everything under it. */
void test_rmtree(const char *path);

/* The table as labels_write writes it, in a new string (free()); *len
 * receives its length when len is not NULL. */
char *test_table_bytes(const LabelTable *t, size_t *len);

/* Asserts that haystack contains needle, printing both if not. */
#define assert_contains(haystack, needle) \
    test_assert_contains((haystack), (needle), __FILE__, __LINE__)
void test_assert_contains(const char *haystack, const char *needle, const char *file, int line);

/* Fails unless |got - want| <= rel * max|want| everywhere (what names the
 * array); returns the largest difference over max|want|. */
double test_expect_close_to_max(const char *what, const float *got, const float *want,
                                size_t n, double rel);

/* xresnet18 at 1/8 width, 64 px, batch 2, built from seed with the
 * reference backend and with be: the logits of a training-mode forward and
 * every gradient of the backward from the same dlogits agree within 1e-3
 * of each array's largest element (test_util.c says why that bound).
 * Returns the worst difference in those units. */
double test_whole_model_vs_reference(const void *be, uint64_t seed);

#endif
