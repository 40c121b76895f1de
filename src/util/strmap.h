/* A string -> int map (open addressing, FNV-1a), for label vocabularies and
 * duplicate detection over tens of thousands of paths. Keys are copied. */
#ifndef NOISETTE_UTIL_STRMAP_H
#define NOISETTE_UTIL_STRMAP_H

#include <stddef.h>

typedef struct {
    char  **keys;       /* cap slots, NULL when empty */
    int    *values;
    size_t  cap, count;
} StrMap;

void strmap_init(StrMap *m);
void strmap_free(StrMap *m);

/* Value stored for key, or -1 if absent. */
int strmap_get(const StrMap *m, const char *key);

/* Stores key -> value, replacing any previous value. 0 or ERR_NOMEM. */
int strmap_put(StrMap *m, const char *key, int value);

#endif
