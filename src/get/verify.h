/* Checking a downloaded archive against what is known about it: its size,
 * the MD5 of its first megabyte (fastai's check) and the MD5 of the whole
 * file, each only when known. MD5 comes from OpenSSL's libcrypto (EVP);
 * it guards against damage and stale copies, not against an attacker. */
#ifndef NOISETTE_GET_VERIFY_H
#define NOISETTE_GET_VERIFY_H

#include <stdint.h>

typedef struct {
    int64_t     size;       /* bytes; <= 0 when unknown */
    const char *md5_head;   /* hex MD5 of the first 2^20 bytes, or NULL */
    const char *md5_full;   /* hex MD5 of the whole file, or NULL */
    const char *source;     /* where the values come from, for messages */
} GetChecks;

/* 1 if s is 32 hexadecimal digits, else 0. */
int get_md5_is_valid(const char *s);

/* Reads path once and compares it with every known value of c. Fails with
 * ERR_IO when it cannot be read, and with ERR_INVALID, naming the file,
 * what was found, what was expected and c->source, on the first mismatch.
 * The file is left in place; the caller decides what to do with it. */
int get_verify_file(const char *path, const GetChecks *c);

/* The hex MD5 of the first head bytes of path (all of it when head < 0)
 * into hex[33]. For tests and messages. */
int get_md5_file(const char *path, int64_t head, char hex[33]);

#endif
