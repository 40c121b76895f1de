/* Versioned binary checkpoints; see checkpoint.h and docs/training.md.
 *
 * Layout (little-endian): magic, u32 version, architecture string, u64
 * epoch, u64 step, the Rng state, u32 record count, the records (role,
 * name, shape, data), and a CRC-32 of every byte before it. A load reads
 * the file up to three times: a checksum pass, a pass that checks every
 * record against the model, and the pass that copies, so a bad file never
 * leaves the model half overwritten. */
#include "train/checkpoint.h"

#include "util/err.h"
#include "util/fileio.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <zlib.h>

#define CKPT_MAX_DIMS    4
#define CKPT_CRC_BYTES   4
#define CKPT_PREAMBLE    (CKPT_MAGIC_LEN + 4)   /* magic and version */
#define IO_CHUNK         (1 << 16)
#define CRC_CHUNK_MAX    (1u << 30)             /* zlib's crc32 takes a uInt length */

/* ---- Byte order ---- */

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

static void put_le(uint8_t *b, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *b, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

/* Reverses the bytes of each of numel elements of size bytes, in place. */
static void swap_elems(void *data, size_t numel, size_t size) {
    uint8_t *b = data;
    for (size_t i = 0; i < numel; i++, b += size)
        for (size_t lo = 0, hi = size - 1; lo < hi; lo++, hi--) {
            uint8_t t = b[lo];
            b[lo] = b[hi];
            b[hi] = t;
        }
}

static uint32_t crc_update(uint32_t crc, const void *data, size_t n) {
    const Bytef *b = data;
    while (n > 0) {
        uInt chunk = n > CRC_CHUNK_MAX ? CRC_CHUNK_MAX : (uInt)n;
        crc = (uint32_t)crc32(crc, b, chunk);
        b += chunk;
        n -= chunk;
    }
    return crc;
}

static const char *role_name(uint32_t role) {
    switch (role) {
    case CKPT_PARAM:
        return "parameter";
    case CKPT_BUFFER:
        return "buffer";
    case CKPT_OPT_ARRAY:
        return "optimizer array";
    case CKPT_OPT_COUNT:
        return "optimizer counter";
    }
    return "unknown role";
}

/* ---- Writing ---- */

typedef struct {
    FILE    *fp;
    uint32_t crc;
} Writer;

/* Write errors stick in the stream; atomic_commit reports them. */
static void put_bytes(Writer *w, const void *data, size_t n) {
    w->crc = crc_update(w->crc, data, n);
    fwrite(data, 1, n, w->fp);
}

static void put_uint(Writer *w, uint64_t v, int bytes) {
    uint8_t b[8];
    put_le(b, v, bytes);
    put_bytes(w, b, (size_t)bytes);
}

/* numel elements of size bytes, little-endian whatever the host. */
static void put_array(Writer *w, const void *data, size_t numel, size_t size) {
    if (host_is_little_endian()) {
        put_bytes(w, data, numel * size);
        return;
    }
    uint8_t buf[IO_CHUNK];
    const uint8_t *src = data;
    size_t per_chunk = sizeof buf / size;
    for (size_t done = 0; done < numel; done += per_chunk) {
        size_t n = numel - done < per_chunk ? numel - done : per_chunk;
        memcpy(buf, src + done * size, n * size);
        swap_elems(buf, n, size);
        put_bytes(w, buf, n * size);
    }
}

/* One record: u32 role, u32 name length, name, u32 ndim, u32 dims, data. */
static void put_record(Writer *w, CkptRole role, const char *name, int ndim, const int *shape,
                       const void *data, size_t numel) {
    size_t name_len = strlen(name);
    put_uint(w, (uint64_t)role, 4);
    put_uint(w, name_len, 4);
    put_bytes(w, name, name_len);
    put_uint(w, (uint64_t)ndim, 4);
    for (int d = 0; d < ndim; d++)
        put_uint(w, (uint64_t)shape[d], 4);
    put_array(w, data, numel, role == CKPT_OPT_COUNT ? sizeof(uint64_t) : sizeof(float));
}

/* The header and every record, in role order. */
static void put_contents(Writer *w, const Checkpoint *ck) {
    const ParamList *pl = ck->model;
    const Optimizer *opt = ck->opt;
    int n_states = opt ? optimizer_state_count(opt) : 0;

    /* Header. */
    put_bytes(w, CKPT_MAGIC, CKPT_MAGIC_LEN);
    put_uint(w, CKPT_VERSION, 4);
    put_uint(w, strlen(ck->arch), 4);
    put_bytes(w, ck->arch, strlen(ck->arch));
    put_uint(w, ck->epoch, 8);
    put_uint(w, ck->step, 8);
    for (int i = 0; i < 4; i++)
        put_uint(w, ck->rng.s[i], 8);
    put_uint(w, (uint64_t)pl->n + (uint64_t)n_states, 4);

    /* Parameters, then buffers, then the optimizer's arrays and counters. */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < pl->n; i++) {
            const Param *p = pl->items[i];
            if ((p->grad != NULL) == (pass == 0))
                put_record(w, pass == 0 ? CKPT_PARAM : CKPT_BUFFER, p->name, p->ndim, p->shape,
                           p->data, p->numel);
        }
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n_states; i++) {
            const OptState *st = optimizer_state_at(opt, i);
            if ((st->type == OPT_STATE_F32) == (pass == 0))
                put_record(w, pass == 0 ? CKPT_OPT_ARRAY : CKPT_OPT_COUNT, st->name, st->ndim,
                           st->shape, st->data, st->numel);
        }
}

int checkpoint_save(const char *path, const Checkpoint *ck) {
    if (strlen(ck->arch) >= CKPT_ARCH_MAX)
        return err_set(ERR_INVALID, "%s: architecture string of %zu bytes (limit %d)", path,
                       strlen(ck->arch), CKPT_ARCH_MAX - 1);
    AtomicFile af;
    int rc = atomic_open(&af, path, 1);
    if (rc < 0)
        return rc;

    /* Contents, then their checksum (not itself checksummed). */
    Writer w = {af.fp, 0};
    put_contents(&w, ck);
    uint8_t crc[CKPT_CRC_BYTES];
    put_le(crc, w.crc, CKPT_CRC_BYTES);
    fwrite(crc, 1, sizeof crc, af.fp);
    return atomic_commit(&af);
}

/* ---- Reading ---- */

typedef struct {
    FILE       *fp;
    const char *name;   /* for messages */
    uint64_t    off;    /* offset of the next byte */
    uint64_t    size;   /* file size */
} Reader;

static int truncated(const Reader *r, uint64_t need, const char *what) {
    return err_set(ERR_PARSE,
                   "%s: truncated or corrupt: %s needs %" PRIu64 " bytes at byte %" PRIu64
                   ", but the file ends at byte %" PRIu64, r->name, what, need, r->off, r->size);
}

static int read_bytes(Reader *r, void *buf, size_t n, const char *what) {
    if (n > r->size - r->off)
        return truncated(r, n, what);
    if (fread(buf, 1, n, r->fp) != n)
        return err_set_errno(ERR_IO, "%s: read failed at byte %" PRIu64, r->name, r->off);
    r->off += n;
    return ERR_OK;
}

static int read_uint(Reader *r, uint64_t *v, int bytes, const char *what) {
    uint8_t b[8];
    int rc = read_bytes(r, b, (size_t)bytes, what);
    *v = rc < 0 ? 0 : get_le(b, bytes);
    return rc;
}

static int skip_bytes(Reader *r, uint64_t n, const char *what) {
    if (n > r->size - r->off)
        return truncated(r, n, what);
    if (fseeko(r->fp, (off_t)(r->off + n), SEEK_SET) != 0)
        return err_set_errno(ERR_IO, "%s: seek failed at byte %" PRIu64, r->name, r->off);
    r->off += n;
    return ERR_OK;
}

static int seek_to(Reader *r, uint64_t off) {
    if (fseeko(r->fp, (off_t)off, SEEK_SET) != 0)
        return err_set_errno(ERR_IO, "%s: seek failed", r->name);
    r->off = off;
    return ERR_OK;
}

/* Opens a Reader on fp: its size, then magic and version. */
static int read_preamble(Reader *r, FILE *fp, const char *name) {
    memset(r, 0, sizeof *r);
    r->fp = fp, r->name = name;
    off_t size = fseeko(fp, 0, SEEK_END) == 0 ? ftello(fp) : -1;
    if (size < 0)
        return err_set_errno(ERR_IO, "%s: cannot find the file size", name);
    r->size = (uint64_t)size;
    if (seek_to(r, 0) < 0)
        return ERR_IO;

    /* The magic; a short file that starts like one is a truncated one. */
    uint8_t pre[CKPT_PREAMBLE];
    size_t have = r->size < sizeof pre ? (size_t)r->size : sizeof pre;
    if (fread(pre, 1, have, fp) != have)
        return err_set_errno(ERR_IO, "%s: read failed", name);
    size_t magic_have = have < CKPT_MAGIC_LEN ? have : CKPT_MAGIC_LEN;
    if (have == 0)
        return err_set(ERR_PARSE, "%s: empty file, not a noisette checkpoint", name);
    if (memcmp(pre, CKPT_MAGIC, magic_have) != 0)
        return err_set(ERR_PARSE, "%s: not a noisette checkpoint (it does not start with \"%s\")",
                       name, CKPT_MAGIC);
    if (have < sizeof pre)
        return truncated(r, sizeof pre, "the magic and version");
    r->off = sizeof pre;

    uint32_t version = (uint32_t)get_le(pre + CKPT_MAGIC_LEN, 4);
    if (version != CKPT_VERSION)
        return err_set(ERR_INVALID, "%s: checkpoint format version %" PRIu32
                       ", but this noisette reads version %u only", name, version, CKPT_VERSION);
    return ERR_OK;
}

/* The CRC-32 of bytes [0, size - 4) and the one stored after them. */
static int read_checksums(Reader *r, uint32_t *stored, uint32_t *computed) {
    if (r->size < CKPT_PREAMBLE + CKPT_CRC_BYTES)
        return truncated(r, CKPT_CRC_BYTES, "the checksum");
    if (seek_to(r, 0) < 0)
        return ERR_IO;
    uint8_t buf[IO_CHUNK];
    uint32_t crc = 0;
    for (uint64_t left = r->size - CKPT_CRC_BYTES; left > 0;) {
        size_t n = left < sizeof buf ? (size_t)left : sizeof buf;
        int rc = read_bytes(r, buf, n, "data");
        if (rc < 0)
            return rc;
        crc = crc_update(crc, buf, n);
        left -= n;
    }
    uint64_t v;
    int rc = read_uint(r, &v, CKPT_CRC_BYTES, "the checksum");
    *stored = (uint32_t)v, *computed = crc;
    return rc;
}

/* What a pass over the records does. */
typedef enum {
    PASS_SCAN,      /* structure and lengths only: is the file truncated? */
    PASS_CHECK,     /* every record against the model and optimizer */
    PASS_COPY       /* the same, copying the data in */
} Pass;

typedef struct {
    Reader      r;
    Pass        pass;
    Checkpoint *ck;
    int         n_states;
    uint8_t    *seen;       /* model items, then optimizer states */
    int         hint_model, hint_state;
    uint32_t    last_role;
} Parse;

/* One record's header as read. */
typedef struct {
    uint64_t at;            /* offset of its first byte */
    uint32_t index, role, ndim, dims[CKPT_MAX_DIMS];
    char     name[CKPT_NAME_MAX];
    uint64_t numel;
    size_t   elem;
} Record;

/* "[3, 4]" */
static void format_shape(char *buf, size_t cap, uint32_t ndim, const uint32_t *dims) {
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (uint32_t d = 0; d < ndim && len < cap; d++)
        len += (size_t)snprintf(buf + len, cap - len, d ? ", %" PRIu32 : "%" PRIu32, dims[d]);
    if (len < cap)
        snprintf(buf + len, cap - len, "]");
}

static int record_error(const Parse *ps, const Record *rec, int code, const char *what) {
    return err_set(code, "%s: byte %" PRIu64 ": record %" PRIu32 " (%s \"%s\"): %s",
                   ps->r.name, rec->at, rec->index, role_name(rec->role), rec->name, what);
}

/* Role, name and shape of the next record, and the element count. */
static int read_record_head(Parse *ps, Record *rec) {
    Reader *r = &ps->r;
    uint64_t v, name_len;
    rec->at = r->off;
    rec->name[0] = '\0';
    int rc = read_uint(r, &v, 4, "a record's role");
    if (rc < 0)
        return rc;
    rec->role = (uint32_t)v;
    if (rec->role < CKPT_PARAM || rec->role > CKPT_OPT_COUNT || rec->role < ps->last_role)
        return record_error(ps, rec, ERR_PARSE, "unknown role or out of order");
    ps->last_role = rec->role;

    /* The name: 1..CKPT_NAME_MAX-1 bytes, no NUL inside. */
    if ((rc = read_uint(r, &name_len, 4, "a record's name length")) < 0)
        return rc;
    if (name_len == 0 || name_len >= CKPT_NAME_MAX)
        return record_error(ps, rec, ERR_PARSE, "name length out of range");
    if ((rc = read_bytes(r, rec->name, (size_t)name_len, "a record's name")) < 0)
        return rc;
    rec->name[name_len] = '\0';
    if (strlen(rec->name) != name_len)
        return record_error(ps, rec, ERR_PARSE, "NUL byte in the name");

    /* The shape, and a byte count that cannot overflow; whether the data
     * fits in the file is the caller's check. */
    if ((rc = read_uint(r, &v, 4, "a record's rank")) < 0)
        return rc;
    rec->ndim = (uint32_t)v;
    if (rec->ndim < 1 || rec->ndim > CKPT_MAX_DIMS)
        return record_error(ps, rec, ERR_PARSE, "rank not in 1..4");
    rec->elem = rec->role == CKPT_OPT_COUNT ? sizeof(uint64_t) : sizeof(float);
    rec->numel = 1;
    for (uint32_t d = 0; d < rec->ndim; d++) {
        if ((rc = read_uint(r, &v, 4, "a record's shape")) < 0)
            return rc;
        rec->dims[d] = (uint32_t)v;
        if (v != 0 && rec->numel > UINT64_MAX / rec->elem / v)
            return record_error(ps, rec, ERR_PARSE, "shape too large");
        rec->numel *= v;
    }
    return ERR_OK;
}

static int shape_equal(const Record *rec, int ndim, const int *shape) {
    if ((int)rec->ndim != ndim)
        return 0;
    for (int d = 0; d < ndim; d++)
        if (rec->dims[d] != (uint32_t)shape[d])
            return 0;
    return 1;
}

static int shape_error(const Parse *ps, const Record *rec, int ndim, const int *shape) {
    char got[96], want[96], msg[256];
    uint32_t dims[CKPT_MAX_DIMS];
    for (int d = 0; d < ndim && d < CKPT_MAX_DIMS; d++)
        dims[d] = (uint32_t)shape[d];
    format_shape(got, sizeof got, rec->ndim, rec->dims);
    format_shape(want, sizeof want, (uint32_t)ndim, dims);
    snprintf(msg, sizeof msg, "shape %s in the file, but %s in the %s", got, want,
             rec->role <= CKPT_BUFFER ? "model" : "optimizer");
    return record_error(ps, rec, ERR_INVALID, msg);
}

/* Index of the item named name among n, searching from *hint onwards (the
 * file's order usually follows the model's), or -1. */
static int find_from(int *hint, int n, const char *name, const char *(*name_at)(void *, int),
                     void *ctx) {
    for (int k = 0; k < n; k++) {
        int i = (*hint + k) % n;
        if (strcmp(name_at(ctx, i), name) == 0) {
            *hint = (i + 1) % n;
            return i;
        }
    }
    return -1;
}

static const char *model_name_at(void *ctx, int i) {
    return ((ParamList *)ctx)->items[i]->name;
}

static const char *state_name_at(void *ctx, int i) {
    return optimizer_state_at((Optimizer *)ctx, i)->name;
}

/* Where record rec goes: a model array or an optimizer state, checked for
 * role, shape and repetition. *dest stays NULL when it is to be skipped
 * (optimizer records when the caller passed no optimizer). */
static int record_dest(Parse *ps, const Record *rec, void **dest) {
    Checkpoint *ck = ps->ck;
    *dest = NULL;

    if (rec->role <= CKPT_BUFFER) {
        int i = find_from(&ps->hint_model, ck->model->n, rec->name, model_name_at, ck->model);
        if (i < 0 && ck->model_only)
            return ERR_OK;
        if (i < 0)
            return record_error(ps, rec, ERR_INVALID, "not an array of this model");
        const Param *p = ck->model->items[i];
        if ((p->grad != NULL) != (rec->role == CKPT_PARAM))
            return record_error(ps, rec, ERR_INVALID, p->grad ? "a parameter in the model"
                                                              : "a buffer in the model");
        if (!shape_equal(rec, p->ndim, p->shape))
            return shape_error(ps, rec, p->ndim, p->shape);
        if (ps->seen[i]++)
            return record_error(ps, rec, ERR_PARSE, "appears twice");
        *dest = p->data;
        return ERR_OK;
    }

    if (!ck->opt)
        return ERR_OK;
    int i = find_from(&ps->hint_state, ps->n_states, rec->name, state_name_at, ck->opt);
    if (i < 0)
        return record_error(ps, rec, ERR_INVALID, "not a state of this optimizer (saved with "
                            "another optimizer or lookahead setting?)");
    const OptState *st = optimizer_state_at(ck->opt, i);
    if ((st->type == OPT_STATE_U64) != (rec->role == CKPT_OPT_COUNT))
        return record_error(ps, rec, ERR_INVALID, "of another type in the optimizer");
    if (!shape_equal(rec, st->ndim, st->shape))
        return shape_error(ps, rec, st->ndim, st->shape);
    if (ps->seen[ck->model->n + i]++)
        return record_error(ps, rec, ERR_PARSE, "appears twice");
    *dest = st->data;
    return ERR_OK;
}

/* One record: checked (unless scanning), then copied or skipped. */
static int parse_record(Parse *ps, uint32_t index) {
    Record rec = {.index = index};
    int rc = read_record_head(ps, &rec);
    if (rc < 0)
        return rc;
    uint64_t bytes = rec.numel * rec.elem;
    if (bytes > ps->r.size - ps->r.off)
        return truncated(&ps->r, bytes, "a record's data");
    if (ps->pass == PASS_SCAN)
        return skip_bytes(&ps->r, bytes, "a record's data");

    void *dest;
    rc = record_dest(ps, &rec, &dest);
    if (rc < 0)
        return rc;
    if (ps->pass == PASS_CHECK || !dest)
        return skip_bytes(&ps->r, bytes, "a record's data");
    rc = read_bytes(&ps->r, dest, (size_t)bytes, "a record's data");
    if (rc == ERR_OK && !host_is_little_endian())
        swap_elems(dest, (size_t)rec.numel, rec.elem);
    return rc;
}

/* Every model array, and every optimizer state if asked for, was found. */
static int check_complete(const Parse *ps) {
    const Checkpoint *ck = ps->ck;
    for (int i = 0; i < ck->model->n; i++)
        if (!ps->seen[i])
            return err_set(ERR_INVALID, "%s: the model's %s \"%s\" is missing from the file",
                           ps->r.name, ck->model->items[i]->grad ? "parameter" : "buffer",
                           ck->model->items[i]->name);
    for (int i = 0; ck->opt && i < ps->n_states; i++)
        if (!ps->seen[ck->model->n + i])
            return err_set(ERR_INVALID, "%s: optimizer state \"%s\" is missing from the file "
                           "(saved without an optimizer, or with another one?)", ps->r.name,
                           optimizer_state_at(ck->opt, i)->name);
    return ERR_OK;
}

/* The header after the preamble: architecture, epoch, step, Rng, count. */
typedef struct {
    char     arch[CKPT_ARCH_MAX];
    uint64_t epoch, step, rng[4];
    uint32_t n_records;
} Header;

static int read_header(Reader *r, Header *h) {
    uint64_t arch_len = 0, count = 0;
    int rc = read_uint(r, &arch_len, 4, "the architecture's length");
    if (rc == ERR_OK && arch_len >= CKPT_ARCH_MAX)
        rc = err_set(ERR_PARSE, "%s: byte %" PRIu64 ": architecture string of %" PRIu64
                     " bytes (limit %d)", r->name, r->off - 4, arch_len, CKPT_ARCH_MAX - 1);
    if (rc == ERR_OK)
        rc = read_bytes(r, h->arch, (size_t)arch_len, "the architecture string");
    if (rc < 0)
        return rc;
    h->arch[arch_len] = '\0';

    /* Epoch, step and the four words of the Rng, then the record count. */
    uint64_t *words[6] = {&h->epoch, &h->step, &h->rng[0], &h->rng[1], &h->rng[2], &h->rng[3]};
    for (int i = 0; i < 6 && rc == ERR_OK; i++)
        rc = read_uint(r, words[i], 8, i < 2 ? "the epoch and step" : "the RNG state");
    if (rc == ERR_OK)
        rc = read_uint(r, &count, 4, "the record count");
    h->n_records = (uint32_t)count;
    return rc;
}

/* One pass from the header to the checksum. */
static int parse_pass(Parse *ps, Header *h) {
    Reader *r = &ps->r;
    int rc = seek_to(r, CKPT_PREAMBLE);
    if (rc == ERR_OK)
        rc = read_header(r, h);
    if (rc < 0)
        return rc;
    if (ps->pass != PASS_SCAN && strcmp(h->arch, ps->ck->arch) != 0)
        return err_set(ERR_INVALID, "%s: architecture \"%s\" in the file, but the model is "
                       "\"%s\"", r->name, h->arch, ps->ck->arch);

    ps->hint_model = ps->hint_state = 0;
    ps->last_role = CKPT_PARAM;
    for (uint32_t i = 0; i < h->n_records; i++)
        if ((rc = parse_record(ps, i)) < 0)
            return rc;
    if (r->size - r->off < CKPT_CRC_BYTES)
        return truncated(r, CKPT_CRC_BYTES, "the checksum");
    if (r->size - r->off > CKPT_CRC_BYTES)
        return err_set(ERR_PARSE, "%s: %" PRIu64 " unexpected bytes after the last record at "
                       "byte %" PRIu64, r->name, r->size - r->off - CKPT_CRC_BYTES, r->off);
    return ps->pass == PASS_SCAN ? ERR_OK : check_complete(ps);
}

/* The checksum first; when it fails, a structural scan tells a truncated
 * file from a corrupt one. */
static int verify_checksum(Parse *ps, Header *h) {
    uint32_t stored, computed;
    int rc = read_checksums(&ps->r, &stored, &computed);
    if (rc < 0 || stored == computed)
        return rc;
    ps->pass = PASS_SCAN;
    rc = parse_pass(ps, h);
    if (rc < 0) {
        char scan_msg[ERR_MSG_MAX];
        snprintf(scan_msg, sizeof scan_msg, "%s", err_msg());
        return err_set(rc, "%s; checksum mismatch too", scan_msg);
    }
    return err_set(ERR_PARSE, "%s: checksum mismatch (stored %08" PRIx32 ", computed %08" PRIx32
                   "): the file is corrupt", ps->r.name, stored, computed);
}

int checkpoint_read(FILE *fp, const char *name, Checkpoint *ck) {
    Parse ps = {.ck = ck, .n_states = ck->opt ? optimizer_state_count(ck->opt) : 0};
    Header *h = malloc(sizeof *h);
    if (!h)
        return err_set(ERR_NOMEM, "%s: out of memory", name);

    /* Magic, version and checksum, then all records checked before any
     * is copied. */
    int rc = read_preamble(&ps.r, fp, name);
    if (rc == ERR_OK)
        rc = verify_checksum(&ps, h);
    if (rc == ERR_OK) {
        ps.seen = calloc((size_t)ck->model->n + (size_t)ps.n_states + 1, 1);
        if (!ps.seen)
            rc = err_set(ERR_NOMEM, "%s: out of memory", name);
    }
    if (rc == ERR_OK) {
        ps.pass = PASS_CHECK;
        rc = parse_pass(&ps, h);
    }
    if (rc == ERR_OK) {
        memset(ps.seen, 0, (size_t)ck->model->n + (size_t)ps.n_states);
        ps.pass = PASS_COPY;
        rc = parse_pass(&ps, h);
    }

    /* The position and the random stream, last. */
    if (rc == ERR_OK) {
        ck->epoch = h->epoch;
        ck->step = h->step;
        memcpy(ck->rng.s, h->rng, sizeof ck->rng.s);
    }
    free(ps.seen);
    free(h);
    return rc;
}

int checkpoint_load(const char *path, Checkpoint *ck) {
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return err_set_errno(ERR_IO, "%s: cannot open the checkpoint", path);
    int rc = checkpoint_read(fp, path, ck);
    fclose(fp);
    return rc;
}

int checkpoint_peek(const char *path, char *arch, size_t cap, uint64_t *epoch,
                    uint64_t *step) {
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return err_set_errno(ERR_IO, "%s: cannot open the checkpoint", path);
    Reader r;
    Header *h = malloc(sizeof *h);
    int rc = h ? read_preamble(&r, fp, path) : err_set(ERR_NOMEM, "%s: out of memory", path);
    if (rc == ERR_OK)
        rc = read_header(&r, h);
    fclose(fp);

    if (rc == ERR_OK && strlen(h->arch) >= cap)
        rc = err_set(ERR_INVALID, "%s: architecture string longer than %zu bytes", path, cap);
    if (rc == ERR_OK) {
        memcpy(arch, h->arch, strlen(h->arch) + 1);
        if (epoch)
            *epoch = h->epoch;
        if (step)
            *step = h->step;
    }
    free(h);
    return rc;
}
