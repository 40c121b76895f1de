/* Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017) from the IDX files Debian's
 * dataset-fashion-mnist package installs: 60,000 training and 10,000 test
 * images of 28x28 grey pixels in 10 classes. noisette names rows
 * "train/00042" and "val/00042" (the test set is the clean validation set)
 * and labels them with the class names below. */
#ifndef NOISETTE_DATA_FASHION_MNIST_H
#define NOISETTE_DATA_FASHION_MNIST_H

#include "labels/label_table.h"

#define FMNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define FMNIST_CLASSES     10

/* Class names in Fashion-MNIST's own label order (0 = tshirt_top). */
extern const char *const FMNIST_CLASS_NAMES[FMNIST_CLASSES];

/* Builds the truth-only label table of Fashion-MNIST from dir (NULL: the
 * default folder): training rows, then validation rows. */
int fmnist_label_table(const char *dir, LabelTable *t);

#define FMNIST_SIDE 28

/* Reads the training and test images from dir (NULL: the default folder)
 * into one new buffer (*pixels, owned by the caller, free()): 60,000 then
 * 10,000 images of 28x28 bytes, in file order, so image r is the table
 * row r of fmnist_label_table. */
int fmnist_read_images(const char *dir, uint8_t **pixels, int *n_images);

/* Image index of a Fashion-MNIST row path: "train/00042" -> 42,
 * "val/00042" -> 60042. -1 if the path is not of that form or out of
 * range. */
int fmnist_path_index(const char *path);

#endif
