/* Checkpoints: the model's arrays, the optimizer's state, the RNG and the
 * training position in one versioned binary file.
 *
 * A save writes through AtomicFile, so a kill leaves the old checkpoint or
 * the new one, never a broken file. A load verifies the whole file (magic,
 * version, CRC-32, architecture, every array's name, role and shape)
 * before it changes anything, so a truncated, corrupt or mismatched file
 * is an error naming the file and leaves the model as it was. The format,
 * field by field, is in docs/training.md. Other precisions than float32
 * and reading older format versions are not supported. */
#ifndef NOISETTE_TRAIN_CHECKPOINT_H
#define NOISETTE_TRAIN_CHECKPOINT_H

#include "nn/tensor.h"
#include "train/optim.h"
#include "util/rng.h"

#include <stdint.h>
#include <stdio.h>

#define CKPT_MAGIC        "NOISETTE"
#define CKPT_MAGIC_LEN    8
#define CKPT_VERSION      1u
#define CKPT_ARCH_MAX     4096  /* bytes of the architecture string, NUL included */
#define CKPT_NAME_MAX     256   /* bytes of an array name, NUL included */

/* The role of each array record, in the order records are written. */
typedef enum {
    CKPT_PARAM     = 1,     /* trainable model parameter, float32 */
    CKPT_BUFFER    = 2,     /* model buffer (BN running stats, ...), float32 */
    CKPT_OPT_ARRAY = 3,     /* optimizer state array, float32 */
    CKPT_OPT_COUNT = 4      /* optimizer counter, uint64 */
} CkptRole;

/* What a checkpoint holds. For a save every field is read; for a load,
 * arch, model and opt say what the file must match, and model, opt, rng,
 * epoch and step are overwritten only when the whole file is valid. */
typedef struct {
    const char *arch;       /* describes the model, e.g. "xresnet50 c_out=10 sa=1" */
    ParamList  *model;      /* parameters and buffers */
    Optimizer  *opt;        /* NULL: save none; on load, skip the file's */
    Rng         rng;
    uint64_t    epoch;      /* epochs finished */
    uint64_t    step;       /* optimizer steps taken */
    int         model_only; /* load: skip the file's arrays that model lacks (the
                             * training state, a second network: evaluation) */
} Checkpoint;

/* Writes ck to path atomically, replacing any file there. Fails with
 * ERR_IO (nothing changed at path) when the file cannot be written, or
 * ERR_INVALID when the arch string is too long. */
int checkpoint_save(const char *path, const Checkpoint *ck);

/* Loads path into ck: its model arrays and, when ck->opt is set, the
 * optimizer state, both of which must match the file one to one by name,
 * role and shape; then rng, epoch and step. Fails, changing nothing, with
 * ERR_IO (cannot read), ERR_PARSE (not a checkpoint, truncated, checksum
 * mismatch, malformed) or ERR_INVALID (other version, other architecture,
 * a missing, extra or differently shaped array); the message names path. */
int checkpoint_load(const char *path, Checkpoint *ck);

/* checkpoint_load on an open, seekable stream; name is used in messages.
 * The entry point for fuzzing (over fmemopen). */
int checkpoint_read(FILE *fp, const char *name, Checkpoint *ck);

/* Reads only the header of path: the architecture string (into arch, cap
 * bytes), epoch and step (either may be NULL), so a caller can build the
 * right model before loading. Checks magic and version, not the checksum. */
int checkpoint_peek(const char *path, char *arch, size_t cap, uint64_t *epoch,
                    uint64_t *step);

#endif
