/* Size and MD5 checks of a downloaded archive; see verify.h. */
#include "get/verify.h"

#include "get/datasets.h"
#include "util/err.h"

#include <openssl/evp.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define READ_CHUNK (1 << 16)

int get_md5_is_valid(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if (!isxdigit((unsigned char)s[n]))
            return 0;
    return n == 32;
}

static void to_hex(const unsigned char *md, char hex[33]) {
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* Two digests in one pass: the first head bytes and the whole file. */
typedef struct {
    EVP_MD_CTX *head, *full;
    int64_t     head_bytes, size;
} Md5Pass;

static int md5_pass(const char *path, Md5Pass *p) {
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return err_set_errno(ERR_IO, "%s: cannot open", path);
    unsigned char buf[READ_CHUNK];
    int ok = EVP_DigestInit_ex(p->head, EVP_md5(), NULL) &&
             EVP_DigestInit_ex(p->full, EVP_md5(), NULL);

    /* One read of the file feeds both digests. */
    p->size = 0;
    size_t got;
    while (ok && (got = fread(buf, 1, sizeof buf, fp)) > 0) {
        int64_t in_head = p->head_bytes - p->size;
        if (in_head > 0)
            ok = EVP_DigestUpdate(p->head, buf, (size_t)(in_head < (int64_t)got ? in_head
                                                                               : (int64_t)got));
        ok = ok && EVP_DigestUpdate(p->full, buf, got);
        p->size += (int64_t)got;
    }
    int rc = ERR_OK;
    if (ferror(fp))
        rc = err_set_errno(ERR_IO, "%s: read failed", path);
    else if (!ok)
        rc = err_set(ERR_IO, "%s: MD5 failed in libcrypto", path);
    fclose(fp);
    return rc;
}

static int digest_hex(EVP_MD_CTX *ctx, char hex[33]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_DigestFinal_ex(ctx, md, &len) || len != 16)
        return err_set(ERR_IO, "MD5 failed in libcrypto");
    to_hex(md, hex);
    return ERR_OK;
}

static int run_pass(const char *path, int64_t head, Md5Pass *p, char head_hex[33],
                    char full_hex[33]) {
    p->head = EVP_MD_CTX_new();
    p->full = EVP_MD_CTX_new();
    p->head_bytes = head;
    int rc = p->head && p->full ? md5_pass(path, p) : err_set(ERR_NOMEM, "out of memory");
    if (rc == ERR_OK)
        rc = digest_hex(p->head, head_hex);
    if (rc == ERR_OK)
        rc = digest_hex(p->full, full_hex);
    EVP_MD_CTX_free(p->head);
    EVP_MD_CTX_free(p->full);
    return rc;
}

int get_md5_file(const char *path, int64_t head, char hex[33]) {
    Md5Pass p;
    char head_hex[33], full_hex[33];
    int rc = run_pass(path, head < 0 ? 0 : head, &p, head_hex, full_hex);
    if (rc == ERR_OK)
        memcpy(hex, head < 0 ? full_hex : head_hex, 33);
    return rc;
}

int get_verify_file(const char *path, const GetChecks *c) {
    Md5Pass p;
    char head_hex[33], full_hex[33], a[32], b[32];
    int rc = run_pass(path, GET_MD5_HEAD_BYTES, &p, head_hex, full_hex);
    if (rc < 0)
        return rc;

    /* The size first: the most common fault (a cut transfer) reads best. */
    if (c->size > 0 && p.size != c->size)
        return err_set(ERR_INVALID, "%s: %lld bytes (%s), expected %lld (%s) according to %s",
                       path, (long long)p.size, get_format_bytes(p.size, a, sizeof a),
                       (long long)c->size, get_format_bytes(c->size, b, sizeof b), c->source);
    if (c->md5_head && strcasecmp(head_hex, c->md5_head) != 0)
        return err_set(ERR_INVALID, "%s: MD5 of the first megabyte is %s, expected %s "
                       "according to %s", path, head_hex, c->md5_head, c->source);
    if (c->md5_full && strcasecmp(full_hex, c->md5_full) != 0)
        return err_set(ERR_INVALID, "%s: MD5 is %s, expected %s according to %s", path,
                       full_hex, c->md5_full, c->source);
    return ERR_OK;
}
