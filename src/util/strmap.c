/* Open-addressing string map with linear probing; see strmap.h. The table
 * doubles when it is more than half full, so probes stay short. */
#include "util/strmap.h"

#include "util/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void strmap_init(StrMap *m) {
    memset(m, 0, sizeof *m);
}

void strmap_free(StrMap *m) {
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof *m);
}

static uint64_t hash_fnv1a(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static size_t slot_of(char *const *keys, size_t cap, const char *key) {
    size_t i = (size_t)hash_fnv1a(key) & (cap - 1);
    while (keys[i] && strcmp(keys[i], key) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

int strmap_get(const StrMap *m, const char *key) {
    if (m->cap == 0)
        return -1;
    size_t i = slot_of(m->keys, m->cap, key);
    return m->keys[i] ? m->values[i] : -1;
}

static int grow(StrMap *m) {
    size_t cap = m->cap ? 2 * m->cap : 64;
    char **keys = calloc(cap, sizeof *keys);
    int *values = calloc(cap, sizeof *values);
    if (!keys || !values) {
        free(keys);
        free(values);
        return err_set(ERR_NOMEM, "out of memory");
    }

    /* Re-insert every key; the strings move, they are not copied. */
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = slot_of(keys, cap, m->keys[i]);
        keys[j] = m->keys[i];
        values[j] = m->values[i];
    }
    free(m->keys);
    free(m->values);
    m->keys = keys;
    m->values = values;
    m->cap = cap;
    return ERR_OK;
}

int strmap_put(StrMap *m, const char *key, int value) {
    if (2 * (m->count + 1) > m->cap) {
        int rc = grow(m);
        if (rc < 0)
            return rc;
    }

    size_t i = slot_of(m->keys, m->cap, key);
    if (!m->keys[i]) {
        m->keys[i] = strdup(key);
        if (!m->keys[i])
            return err_set(ERR_NOMEM, "out of memory");
        m->count++;
    }
    m->values[i] = value;
    return ERR_OK;
}
