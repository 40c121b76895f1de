/* IDX reader over zlib's gz stream (which also reads plain files). */
#include "data/idx.h"

#include "util/err.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_TYPE_UBYTE 0x08
#define IDX_SIZE_MAX   ((size_t)1 << 32)

void idx_free(IdxArray *a) {
    free(a->data);
    memset(a, 0, sizeof *a);
}

static int read_exact(gzFile gz, const char *path, void *dst, size_t n, const char *what) {
    uint8_t *p = dst;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(gz, p, chunk);
        if (got <= 0) {
            int zerr;
            const char *zmsg = gzerror(gz, &zerr);
            return err_set(ERR_PARSE, "%s: truncated or corrupt while reading %s%s%s", path,
                           what, zerr ? ": " : "", zerr ? zmsg : "");
        }
        p += got;
        n -= (size_t)got;
    }
    return ERR_OK;
}

int idx_read(const char *path, IdxArray *a) {
    memset(a, 0, sizeof *a);
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return err_set_errno(ERR_IO, "%s: cannot open", path);

    /* Header: magic, type, rank, then the big-endian dimensions. */
    uint8_t head[4];
    int rc = read_exact(gz, path, head, 4, "the header");
    if (rc == ERR_OK && (head[0] || head[1] || head[3] < 1 || head[3] > IDX_MAX_DIMS))
        rc = err_set(ERR_PARSE, "%s: not an IDX file (bad magic bytes)", path);
    if (rc == ERR_OK && head[2] != IDX_TYPE_UBYTE)
        rc = err_set(ERR_PARSE, "%s: IDX value type 0x%02x, expected 0x08 (unsigned byte)",
                     path, head[2]);
    size_t size = 1;
    for (int d = 0; rc == ERR_OK && d < head[3]; d++) {
        uint8_t b[4];
        rc = read_exact(gz, path, b, 4, "the dimensions");
        if (rc < 0)
            break;
        a->dims[d] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        size *= a->dims[d];
        if (a->dims[d] == 0 || size > IDX_SIZE_MAX)
            rc = err_set(ERR_PARSE, "%s: implausible IDX dimension %u", path, a->dims[d]);
    }

    /* Values. */
    if (rc == ERR_OK) {
        a->ndim = head[3];
        a->size = size;
        a->data = malloc(size);
        rc = a->data ? read_exact(gz, path, a->data, size, "the values")
                     : err_set(ERR_NOMEM, "%s: out of memory", path);
    }
    gzclose(gz);
    if (rc < 0)
        idx_free(a);
    return rc;
}
