/* Image-folder datasets as the published archives unpack:
 *   ROOT/train/CLASS/FILE   ROOT/val/CLASS/FILE
 * Classes are the sub-folder names; files are image files (.jpeg, .jpg,
 * .png, any case). Everything is listed in byte order, so the same folder
 * gives the same table on every machine. Hidden entries are skipped. */
#ifndef NOISETTE_DATA_FOLDER_H
#define NOISETTE_DATA_FOLDER_H

#include "labels/label_table.h"

/* Builds the truth-only label table of the folder dataset at root: all
 * training rows, then all validation rows, paths relative to root.
 * *skipped (may be NULL) receives the count of non-image files passed over.
 * Fails if train/ or val/ is missing, or a class folder holds no image. */
int folder_label_table(const char *root, LabelTable *t, long *skipped);

/* The dataset's short name from its folder: the last path component
 * without a "-NNN" size suffix and trailing digits ("imagenette2-320" ->
 * "imagenette"). Writes at most cap bytes. */
void folder_dataset_name(const char *root, char *name, size_t cap);

#endif
