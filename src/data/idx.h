/* IDX files (the MNIST family's format), gzip-compressed or plain.
 *
 * Layout: two zero bytes, a type byte (0x08 = unsigned byte, the only type
 * read here), the number of dimensions, each dimension as a big-endian
 * 32-bit count, then the values in row-major order. */
#ifndef NOISETTE_DATA_IDX_H
#define NOISETTE_DATA_IDX_H

#include <stddef.h>
#include <stdint.h>

#define IDX_MAX_DIMS 4

typedef struct {
    int       ndim;
    uint32_t  dims[IDX_MAX_DIMS];
    uint8_t  *data;     /* product of dims bytes, owned */
    size_t    size;
} IdxArray;

/* Reads an unsigned-byte IDX file (".gz" or not). Fails with a message
 * naming the file on a bad header, another type, or truncated data. */
int idx_read(const char *path, IdxArray *a);

void idx_free(IdxArray *a);

#endif
